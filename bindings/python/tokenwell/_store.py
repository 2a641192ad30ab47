"""Your own store: any object with ``get``, ``put`` and ``remove_if`` (and
optionally ``try_lock`` and ``unlock``), sync or ``async def``, shares tokens
between clients and processes. Every decision stays in the Rust core: the store
only keeps what it is given.

What a store sees: keys such as ``tokenwell:{<64 hex digits>}:t`` (the
configured ``store.key_prefix``, then a SHA-256 that reveals none of its inputs)
and records sealed by the core (AES-GCM, keyed from the client secret): never
the token, never the secret.

How calls run: the core calls the store from its own worker threads, one call at
a time per thread, and waits at most ``store.timeout_ms`` (default 300 ms) for
each; a call that is late, raises, or returns something else than expected is a
cache miss (a ``tokenwell`` warning), never the caller's error. Coroutines of an
``async`` store run on a private event-loop thread of tokenwell's, so neither a
blocking ``token()`` nor ``await token_async()`` ever waits on the caller's own
event loop.
"""

from __future__ import annotations

import inspect
import os
import threading
from typing import TYPE_CHECKING, Any, Awaitable, Optional, Protocol, Union, runtime_checkable

if TYPE_CHECKING:  # asyncio is imported by the first async store's call, not by `import tokenwell`
    import asyncio

from ._ffi import tokenwell as _generated

__all__ = ["Store", "LockingStore", "AsyncStore", "AsyncLockingStore"]

_gen: Any = _generated

# How long an async store's coroutine may run before it is cancelled. The core
# stops waiting far sooner (its time-box); this only frees the thread that waits
# for a coroutine that never finishes.
_COROUTINE_CAP_S = 30.0


@runtime_checkable
class Store(Protocol):
    """A store of text records with a time-to-live (all methods may also be
    ``async def``: see :class:`AsyncStore`).

    Only ``remove_if`` needs care to be exact; see each method.
    """

    def get(self, key: str) -> Optional[str]:
        """The record stored under ``key``, or ``None`` (missing or expired)."""
        ...

    def put(self, key: str, record: str, ttl_ms: int) -> None:
        """Stores ``record`` under ``key`` for ``ttl_ms`` milliseconds
        (overwriting; round the TTL up if your store counts seconds)."""
        ...

    def remove_if(self, key: str, record: str) -> None:
        """Deletes ``key`` if it still holds exactly ``record`` (after a 401 the
        core discards the token it used, never a newer one). A get-compare-delete
        is fine for most stores; use a conditional delete where there is one."""
        ...


@runtime_checkable
class LockingStore(Store, Protocol):
    """A :class:`Store` with a lock: clients on a cold cache then make one token
    request for the whole fleet (without one, one request per process)."""

    def try_lock(self, lock: str, owner: str, ttl_ms: int) -> bool:
        """Takes ``lock`` for ``owner`` for ``ttl_ms`` ms if nobody holds it, and
        says whether it did: any truthy answer means taken (redis-py's ``True``
        from ``SET … NX``), a falsy one (``False``, ``None``) held by someone else.
        Must be atomic (set-if-absent: Django's ``cache.add``, Memcached ``add``,
        a DynamoDB conditional put)."""
        ...

    def unlock(self, lock: str, owner: str) -> None:
        """Releases ``lock`` if ``owner`` still holds it (the lock also expires
        by itself after its TTL)."""
        ...


@runtime_checkable
class AsyncStore(Protocol):
    """:class:`Store` with ``async def`` methods."""

    async def get(self, key: str) -> Optional[str]:
        """See :meth:`Store.get`."""
        ...

    async def put(self, key: str, record: str, ttl_ms: int) -> None:
        """See :meth:`Store.put`."""
        ...

    async def remove_if(self, key: str, record: str) -> None:
        """See :meth:`Store.remove_if`."""
        ...


@runtime_checkable
class AsyncLockingStore(AsyncStore, Protocol):
    """:class:`LockingStore` with ``async def`` methods."""

    async def try_lock(self, lock: str, owner: str, ttl_ms: int) -> bool:
        """See :meth:`LockingStore.try_lock`."""
        ...

    async def unlock(self, lock: str, owner: str) -> None:
        """See :meth:`LockingStore.unlock`."""
        ...


AnyStore = Union[Store, AsyncStore]

_REQUIRED = ("get", "put", "remove_if")
_LOCK = ("try_lock", "unlock")


def is_user_store(store: object) -> bool:
    """Whether ``store`` has the methods of a :class:`Store`."""
    return all(callable(getattr(store, name, None)) for name in _REQUIRED)


class _LoopThread:
    """One private event loop on a daemon thread per process (a forked child
    starts its own), where async stores' coroutines run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._pid = 0

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                import asyncio

                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="tokenwell-store-loop", daemon=True)
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, awaitable: Awaitable[Any]) -> Any:
        import asyncio
        import concurrent.futures

        async def wait() -> Any:
            return await awaitable

        future = asyncio.run_coroutine_threadsafe(wait(), self._get())
        try:
            return future.result(_COROUTINE_CAP_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise


_LOOP = _LoopThread()


class _Failed(Exception):
    """A return value of the wrong type (reported by type, never by value)."""


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    raise _Failed(f"returned {type(value).__name__}, not str or None")


class ForeignStoreBridge(_gen.ForeignStore):  # type: ignore[misc]
    """The core's view of a user store (uniffi's ``ForeignStore``): each call
    runs the user's method, awaits it on the private loop if it is a coroutine,
    and turns any exception into a store failure naming its type only (its
    message could hold the store's own connection details)."""

    __slots__ = ("_store", "_has_lock")

    def __init__(self, store: AnyStore) -> None:
        self._store = store
        self._has_lock = all(callable(getattr(store, name, None)) for name in _LOCK)

    def _call(self, name: str, *args: Any) -> Any:
        try:
            result = getattr(self._store, name)(*args)
            if inspect.isawaitable(result):
                result = _LOOP.run(result)
            return result
        except BaseException as e:  # noqa: BLE001 - no exception may reach the core
            raise _gen.ForeignStoreError.Failed(f"{name} raised {type(e).__name__}") from None

    def get(self, key: str) -> Optional[str]:
        try:
            return _text(self._call("get", key))
        except _Failed as e:
            raise _gen.ForeignStoreError.Failed(f"get {e}") from None
        except UnicodeDecodeError:
            raise _gen.ForeignStoreError.Failed("get returned bytes that are not UTF-8") from None

    def put(self, key: str, record: str, ttl_ms: int) -> None:
        self._call("put", key, record, ttl_ms)

    def remove_if(self, key: str, record: str) -> None:
        self._call("remove_if", key, record)

    def has_lock(self) -> bool:
        return self._has_lock

    def try_lock(self, lock: str, owner: str, ttl_ms: int) -> bool:
        return bool(self._call("try_lock", lock, owner, ttl_ms))

    def unlock(self, lock: str, owner: str) -> None:
        self._call("unlock", lock, owner)

    def __repr__(self) -> str:
        return f"ForeignStoreBridge({type(self._store).__name__}, lock={self._has_lock})"
