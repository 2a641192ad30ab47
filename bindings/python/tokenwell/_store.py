"""Your own store: any object with ``get``, ``put`` and ``remove_if`` (and
optionally ``try_lock`` and ``unlock``), sync or ``async def``, shares tokens
between clients and processes. Every decision stays in the Rust core: the store
only keeps what it is given.

What a store sees: keys such as ``tokenwell:{<64 hex digits>}:t`` (the
configured ``store.key_prefix``, then a SHA-256 that reveals none of its inputs)
and records sealed by the core (AES-GCM, keyed from the client secret): never
the token, never the secret.

How calls run: the core queues each call, and a pool of Python daemon threads
(``tokenwell-store-*``, as many as the core's ``store_threads()``: 32) runs
them, one call at a time per thread; the core waits at most ``store.timeout_ms``
(default 300 ms) for each. Each store object has at most 16 calls in flight
(queued or running, all its clients together): past that, a call is an
immediate miss, so a store that hangs holds at most half of those threads and never
the core's own (which resolve host names).
A call that is late, raises anything (``KeyboardInterrupt`` and ``SystemExit``
included), or returns something else than expected is a cache miss (a
``tokenwell`` warning), never the caller's error. Coroutines of an ``async``
store run on a private event-loop thread of tokenwell's, so neither a blocking
``token()`` nor ``await token_async()`` ever waits on the caller's own event loop.

Only Python threads run the store's code: at interpreter exit, CPython ends the
threads still in it, which is clean for a Python thread whatever the store is
doing (a native thread ended there would abort the process).
"""

from __future__ import annotations

import inspect
import itertools
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional, Protocol, Union, runtime_checkable

if TYPE_CHECKING:  # asyncio is imported by the first async store's call, not by `import tokenwell`
    import asyncio

from ._ffi import tokenwell as _generated
from ._redacted import Redacted

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


def _failed(reason: str) -> Any:
    return _gen.StoreAnswer.FAILED(reason)


def _text(value: Any) -> Optional[str]:
    """A ``get`` answer as an exact ``str`` (a subclass's methods never run in
    the core's hands), or ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    raise TypeError


class StoreBridge:
    """The core's view of one client's user store: the pool threads look it up
    by ``id`` and run each call (``_gen.StoreCall``) on it, awaiting coroutines
    on the private loop. Every touch of the user's objects (the call, a truth
    test, a conversion) is inside one guard: any exception, ``BaseException``
    included, is a store failure naming the method and the exception's type
    only (its message could hold the store's own connection details)."""

    __slots__ = ("_store", "has_lock", "id", "__weakref__")

    def __init__(self, store: AnyStore) -> None:
        self._store = store
        try:
            self.has_lock = all(callable(getattr(store, name, None)) for name in _LOCK)
        except BaseException:  # noqa: BLE001 - a broken attribute: no lock
            self.has_lock = False
        self.id = next(_IDS)
        _BRIDGES[self.id] = self
        _POOL.ensure()

    def _run(self, name: str, *args: Any) -> Any:
        result = getattr(self._store, name)(*args)
        if inspect.isawaitable(result):
            result = _LOOP.run(result)
        return result

    def answer(self, call: Any) -> Any:
        """The store's answer to ``call``, as a ``_gen.StoreAnswer``."""
        name = "call"
        try:
            if isinstance(call, _gen.StoreCall.GET):
                name = "get"
                value = self._run(name, call.key)
                try:
                    return _gen.StoreAnswer.RECORD(_text(value))
                except TypeError:
                    return _failed(f"get returned {type(value).__name__}, not str or None")
                except UnicodeDecodeError:
                    return _failed("get returned bytes that are not UTF-8")
            if isinstance(call, _gen.StoreCall.PUT):
                name = "put"
                self._run(name, call.key, call.record, call.ttl_ms)
            elif isinstance(call, _gen.StoreCall.REMOVE_IF):
                name = "remove_if"
                self._run(name, call.key, call.record)
            elif isinstance(call, _gen.StoreCall.TRY_LOCK):
                name = "try_lock"
                # Any truthy answer means taken; its truth test is the user's code too.
                return _gen.StoreAnswer.TAKEN(bool(self._run(name, call.lock, call.owner, call.ttl_ms)))
            elif isinstance(call, _gen.StoreCall.UNLOCK):
                name = "unlock"
                self._run(name, call.lock, call.owner)
            else:
                return _failed("an unknown call")
            return _gen.StoreAnswer.DONE()
        except BaseException as e:  # noqa: BLE001 - no exception may escape the guard
            return _failed(f"{name} raised {type(e).__name__}")

    def __repr__(self) -> str:
        return f"StoreBridge({type(self._store).__name__}, lock={self.has_lock})"


class CredentialBridge:
    """The core's view of a ``credential_provider=`` callable: the pool threads
    find it by ``id`` (in the same table as the stores) and call it once per
    token fetch. Anything but a non-empty ``str`` back, or any exception, is a
    failure naming the exception's type only; the core then keeps the last good
    secret."""

    __slots__ = ("_provider", "id", "__weakref__")

    def __init__(self, provider: Callable[[], str]) -> None:
        self._provider = provider
        self.id = next(_IDS)
        _BRIDGES[self.id] = self  # type: ignore[assignment]
        _POOL.ensure()

    def answer(self, call: Any) -> Any:
        """The provider's answer to ``call``, as a ``_gen.StoreAnswer``."""
        if not isinstance(call, _gen.StoreCall.CREDENTIAL):
            return _failed("a credential provider has no store calls")
        try:
            value = self._provider()
            if inspect.isawaitable(value):
                close = getattr(value, "close", None)
                if callable(close):
                    close()
                return _failed("credential_provider returned an awaitable, not str")
            if not isinstance(value, str):
                return _failed(f"credential_provider returned {type(value).__name__}, not str")
            return _gen.StoreAnswer.SECRET(Redacted(str.__str__(value)))
        except BaseException as e:  # noqa: BLE001 - no exception may escape the guard
            return _failed(f"credential_provider raised {type(e).__name__}")

    def __repr__(self) -> str:
        return "CredentialBridge()"


_IDS = itertools.count(1)
# Held by their clients; a call for a store whose clients are all gone is a failure.
_BRIDGES: "weakref.WeakValueDictionary[int, StoreBridge]" = weakref.WeakValueDictionary()
# The same, by the store object's id(): a bridge holds its store, so the id is
# that store's while the entry lives.
_BY_STORE: "weakref.WeakValueDictionary[int, StoreBridge]" = weakref.WeakValueDictionary()
_BY_STORE_LOCK = threading.Lock()


def bridge_for(store: AnyStore) -> StoreBridge:
    """The one bridge of ``store``: clients sharing a store object share its
    bound on calls in flight."""
    with _BY_STORE_LOCK:
        bridge = _BY_STORE.get(id(store))
        if bridge is None or bridge._store is not store:
            bridge = StoreBridge(store)
            _BY_STORE[id(store)] = bridge
        return bridge


def _serve() -> None:
    """One pool thread: takes the core's store calls (waiting in the core, the
    interpreter released) and hands back the answers, forever."""
    while True:
        try:
            pending = _gen.next_store_call(60_000)
            if pending is None:
                continue
            bridge = _BRIDGES.get(pending.store_id())
            pending.answer(bridge.answer(pending.call()) if bridge is not None else _failed("the client is gone"))
        except BaseException:  # noqa: BLE001 - the thread outlives any call (unanswered: a miss)
            pass


class _Pool:
    """The pool threads of this process, started with the first store (a
    forked child of a process that had them starts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0

    def ensure(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            for i in range(_gen.store_threads()):
                threading.Thread(target=_serve, name=f"tokenwell-store-{i}", daemon=True).start()
            self._pid = os.getpid()

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        if self._pid:
            self.ensure()


_POOL = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.after_fork_in_child)
