"""The public client: a thin layer over the generated uniffi module.

Every decision (cache, refresh ahead, single flight, backoff) is the Rust core's.
This layer only memoises the core's own answer: the core hands out a *lease*, a
token plus ``reuse_for_ms``, the time during which asking again would return the
same token with no side effect. Until then the answer is served from the memo,
without crossing into Rust (a uniffi call costs microseconds; the memo check
costs tens of nanoseconds).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import logging
import threading
import time
from typing import Any, Callable, Dict, Mapping, NoReturn, Optional, Tuple, Type, Union

from . import _errors, _events, _guards, _logging, _store, _transport
from ._errors import ConfigError, TokenwellError
from ._ffi import tokenwell as _generated

__all__ = ["AccessToken", "ManualClock", "MemoryStore", "TokenClient"]

_log = logging.getLogger("tokenwell")

# The generated module, untyped as far as this layer is concerned.
_gen: Any = _generated

# The core's log records reach the `tokenwell` logger; the generated handles
# refuse copy and pickle (a copy would free its native object twice).
_logging.install()
_guards.install()

# The core's one error (uniffi errors are enums: a single variant with a `kind`).
_FFI_ERROR_BASE: Type[BaseException] = _gen.TokenwellError.Failure


def _convert(err: BaseException) -> TokenwellError:
    return _errors.from_core(err)


class AccessToken:
    """An access token. ``repr`` and ``str`` never show the token itself.

    Attributes:
        access_token: the token (send it only to the API it is for).
        token_type: ``"Bearer"`` unless the server said otherwise.
        expires_at_unix_ms: the server's expiry, as Unix ms on the local clock.
        scope: the granted scope, if the server reported it.
        authorization_header: the ``Authorization`` header value.
    """

    __slots__ = ("access_token", "token_type", "expires_at_unix_ms", "scope", "authorization_header")

    access_token: str
    token_type: str
    expires_at_unix_ms: int
    scope: Optional[str]
    authorization_header: str

    def __init__(
        self,
        access_token: str,
        token_type: str,
        expires_at_unix_ms: int,
        scope: Optional[str] = None,
        authorization_header: Optional[str] = None,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "access_token", access_token)
        setattr_(self, "token_type", token_type)
        setattr_(self, "expires_at_unix_ms", expires_at_unix_ms)
        setattr_(self, "scope", scope)
        setattr_(self, "authorization_header", authorization_header or f"{token_type} {access_token}")

    @property
    def expires_at(self) -> _dt.datetime:
        """The server's expiry as an aware UTC datetime."""
        return _dt.datetime.fromtimestamp(self.expires_at_unix_ms / 1000, tz=_dt.timezone.utc)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AccessToken is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("AccessToken is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AccessToken):
            return NotImplemented
        return self.access_token == other.access_token

    def __hash__(self) -> int:
        return hash(self.access_token)

    def __repr__(self) -> str:
        return (
            f"AccessToken(access_token=[redacted], token_type={self.token_type!r}, "
            f"expires_at={self.expires_at.isoformat()!r}, scope={self.scope!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("AccessToken is not picklable (it would write the token out)")


class ManualClock:
    """A clock moved by hand, for deterministic tests: monotonic 0 and wall time
    ``unix_ms`` at creation, by default the core's 2026-01-01T00:00:00Z (the same
    in every language). Pass it to :class:`TokenClient` as ``clock=``."""

    __slots__ = ("_core",)

    def __init__(self, unix_ms: Optional[int] = None) -> None:
        self._core = _gen.CoreClock(unix_ms)

    def advance(self, ms: int) -> None:
        """Moves the monotonic and the wall clock forward by ``ms``."""
        self._core.advance(ms)

    def shift_wall(self, delta_ms: int) -> None:
        """Moves only the wall clock (may be negative)."""
        self._core.shift_wall(delta_ms)

    def now_ms(self) -> int:
        """Monotonic milliseconds."""
        return int(self._core.now_ms())

    def unix_ms(self) -> int:
        """Wall-clock Unix milliseconds."""
        return int(self._core.unix_ms())

    def __repr__(self) -> str:
        return f"ManualClock(now_ms={self.now_ms()}, unix_ms={self.unix_ms()})"


class MemoryStore:
    """An in-process token store to share between clients of the same tenant
    (same token URL, client id and secret, and parameters). With ``clock`` (a
    :class:`ManualClock`) its time-to-live and locks run on that clock."""

    __slots__ = ("_core",)

    def __init__(self, clock: Optional[ManualClock] = None) -> None:
        if clock is not None and not isinstance(clock, ManualClock):
            raise TypeError("clock must be a tokenwell.ManualClock")
        self._core = _gen.CoreStore() if clock is None else _gen.CoreStore.with_clock(clock._core)

    def __repr__(self) -> str:
        return "MemoryStore()"


# (deadline on the memo's clock, Authorization header, AccessToken)
_Entry = Tuple[Union[float, int], str, Optional[AccessToken]]
_EMPTY: _Entry = (float("-inf"), "", None)


class LeaseMemo:
    """The memo protocol of the core's ``Lease`` doc, as in every binding (Kotlin
    and JS have a ``LeaseMemo`` of the same fields and methods):

    * ``now``: the memo's clock; ``ticks_per_ms``: its ticks in one millisecond.
      With a :class:`ManualClock`, that very clock (``now_ms``, integer ms: 1).
      Otherwise ``time.monotonic`` (float seconds: 0.001), which reads
      ``CLOCK_MONOTONIC`` as the core's ``std::time::Instant`` does (on macOS
      both read ``mach_absolute_time``, on Windows ``QueryPerformanceCounter``),
      so it advances exactly as fast as the core's clock.
    * ``slack``: what float rounding may add to a deadline in seconds (0 for the
      integer manual clock). Every deadline is shortened by 1 µs, more than two
      ulps of any ``time.monotonic()`` reading below 2**30 s (34 years of uptime).
    * ``epoch``: bumped by :meth:`invalidate`; a lease begun in an earlier epoch
      is returned to its caller but not remembered.
    * ``entry``: ``(deadline, header, token)``, read without the lock.

    The hot path (:meth:`hit`) is inlined by hand in the client's four getters:
    ``entry = memo.entry; if now() < entry[0]: return entry[1]`` (a method call
    would double the cost of a hit); the rest runs only when the core is asked.
    """

    __slots__ = ("now", "ticks_per_ms", "slack", "epoch", "entry", "_lock")

    def __init__(self, clock: Optional[ManualClock]) -> None:
        self.now: Callable[[], Union[float, int]]
        if clock is not None:
            self.now, self.ticks_per_ms, self.slack = clock._core.now_ms, 1, 0
        else:
            self.now, self.ticks_per_ms, self.slack = time.monotonic, 0.001, 1e-6
        self.epoch = 0
        self.entry: _Entry = _EMPTY
        self._lock = threading.Lock()

    def hit(self, now: Union[float, int]) -> Optional[_Entry]:
        """The entry if it still stands at ``now`` (read on :attr:`now`), else None."""
        entry = self.entry
        return entry if now < entry[0] else None

    def begin(self) -> Tuple[Union[float, int], int]:
        """Read before asking the core: reuse counts from this instant."""
        return self.now(), self.epoch

    def remember(self, begun: Tuple[Union[float, int], int], token: AccessToken, reuse_for_ms: int) -> None:
        """Keeps ``token`` until ``begun + reuse_for_ms``, unless the core said 0
        or an :meth:`invalidate` came since ``begun``."""
        if reuse_for_ms <= 0:
            return
        started, epoch = begun
        deadline = started + reuse_for_ms * self.ticks_per_ms - self.slack
        with self._lock:
            if self.epoch == epoch:
                self.entry = (deadline, token.authorization_header, token)

    def invalidate(self) -> None:
        """Forgets the entry and voids every lease begun before this call."""
        with self._lock:
            self.epoch += 1
            self.entry = _EMPTY


class TokenClient:
    """Gets and caches the OAuth 2.0 client-credentials tokens of one client.

    ``TokenClient("deliveroo", environment="sandbox", client_id=..., client_secret=...)``
    takes the same configuration as every tokenwell binding (snake_case keys; the
    camelCase spellings are accepted too), e.g. ``scope=``, ``base_url=``,
    ``token_url=`` (or ``issuer=``: the token endpoint from the issuer's metadata),
    ``policy={"refresh_ratio": 0.8}``, ``http={"timeout_ms": 5000}``.
    A signed client assertion replaces the secret with
    ``credentials="private_key_jwt"`` and ``private_key=`` (PKCS#8 PEM text) or
    ``private_key_file=`` (optionally ``key_id=``, ``certificate_file=`` and
    ``assertion={"algorithm": "PS256", "audience": "token_endpoint",
    "lifetime_secs": 60}``), or with ``credentials="client_secret_jwt"`` (HS256
    keyed by ``client_secret``). DoorDash Drive has no token endpoint:
    ``TokenClient("doordash", developer_id=..., key_id=..., signing_secret=...)``
    mints its own JWT (cached and refreshed like a fetched token, never shared
    through a store; lifetime ``assertion={"lifetime_secs": 1800}``, at most 30 min).

    Thread-safe and asyncio-friendly: share one client per set of credentials.
    ``clock`` (a :class:`ManualClock`) is for tests. ``store`` shares tokens
    between clients: a :class:`MemoryStore` within this process, or your own
    store (a :class:`tokenwell.Store`: ``get``, ``put``, ``remove_if`` and
    optionally ``try_lock``/``unlock``, sync or async) across processes. A
    store's failures are cache misses, never the caller's error. A mapping is
    the config's ``store`` section instead, e.g.
    ``store={"redis_url": "rediss://…", "key_prefix": "billing"}`` (Redis).

    ``on_event`` (a callable taking a :class:`tokenwell.Event`, or a list of
    them, e.g. a :class:`tokenwell.otel.OpenTelemetry`) receives the client's
    events on a tokenwell thread, never on the fetch path; see :mod:`tokenwell._events`.

    ``credential_provider`` (a plain callable returning ``str``; an ``async def``
    is refused) gives the client secret instead of ``client_secret`` (with
    ``private_key_jwt``, the private key's PEM, and ``assertion.algorithm`` must
    be set): called on
    a tokenwell thread once per token fetch, never on a cache hit, within
    ``http.timeout_ms``. A new secret acts as a new client (the cached token is
    dropped); if it raises, the last good secret is kept and a warning logged.
    ``client_secret_file=`` is the same for a file (a Kubernetes secret volume).

    ``transport`` (an ``httpx.Client``, an ``httpx.AsyncClient`` or a
    ``requests.Session``) sends the token requests through your own HTTP client:
    its proxy, CA bundle and event hooks, never its redirects or its ``auth``.
    Its hooks see the client secret (the ``Authorization`` header or the body of
    the request to the token URL): redact them. See :mod:`tokenwell._transport`.
    """

    __slots__ = ("_core", "_now", "_memo", "_last", "_store_bridge", "_credential_bridge", "_transport_bridge", "_observed", "_memo_hits", "_listener", "__weakref__")

    def __init__(
        self,
        provider: str,
        *,
        environment: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        clock: Optional[ManualClock] = None,
        store: Union[MemoryStore, _store.Store, _store.AsyncStore, Mapping[str, Any], None] = None,
        on_event: Optional[_events.OnEvent] = None,
        credential_provider: Optional[Callable[[], str]] = None,
        transport: Any = None,
        **options: Any,
    ) -> None:
        config: Dict[str, Any] = {"provider": provider}
        if environment is not None:
            config["environment"] = environment
        if client_id is not None:
            config["client_id"] = client_id
        if client_secret is not None:
            config["client_secret"] = client_secret
        config.update(options)
        if isinstance(store, Mapping):  # the config's `store` section (Redis), not a store object
            config["store"] = dict(store)
            store = None
        self._init(config, clock, store, on_event, credential_provider, transport)

    @classmethod
    def from_config(
        cls,
        config: Union[Mapping[str, Any], str],
        *,
        clock: Optional[ManualClock] = None,
        store: Union[MemoryStore, _store.Store, _store.AsyncStore, None] = None,
        on_event: Optional[_events.OnEvent] = None,
        credential_provider: Optional[Callable[[], str]] = None,
        transport: Any = None,
    ) -> "TokenClient":
        """A client from a config mapping, or its JSON text (the schema every
        tokenwell binding accepts)."""
        self = cls.__new__(cls)
        self._init(config, clock, store, on_event, credential_provider, transport)
        return self

    def _init(
        self,
        config: Union[Mapping[str, Any], str],
        clock: Optional[ManualClock],
        store: Union[MemoryStore, _store.Store, _store.AsyncStore, None],
        on_event: Optional[_events.OnEvent] = None,
        credential_provider: Optional[Callable[[], str]] = None,
        transport: Any = None,
    ) -> None:
        self._observed = False  # with on_event: the memo's hits are counted
        self._memo_hits = 0
        self._listener: Optional[_events.Listener] = None
        if isinstance(config, str):
            config_json = config
        else:
            try:
                config_json = json.dumps(dict(config))
            except (TypeError, ValueError) as e:
                # The message names the offending type, never a value.
                raise ConfigError(f"config: the configuration is not JSON-serialisable ({type(e).__name__})") from None
            except RecursionError:
                # Nested deeper than any config can be (the core refuses such JSON text too).
                raise ConfigError("config: the configuration is nested too deeply") from None
        if clock is not None and not isinstance(clock, ManualClock):
            raise TypeError("clock must be a tokenwell.ManualClock")
        if store is not None and not isinstance(store, MemoryStore) and not _store.is_user_store(store):
            raise TypeError(
                "store must be a tokenwell.MemoryStore or a tokenwell.Store (an object with "
                "get, put and remove_if methods)"
            )
        if credential_provider is not None:
            if not callable(credential_provider):
                raise TypeError("credential_provider must be a callable returning the secret (str)")
            if inspect.iscoroutinefunction(credential_provider) or inspect.iscoroutinefunction(
                getattr(credential_provider, "__call__", None)
            ):
                raise TypeError(
                    "credential_provider must be a plain callable returning str, not an async def "
                    "(it runs on a tokenwell thread: read the secret synchronously)"
                )
        if transport is not None and not _transport.is_transport(transport):
            raise TypeError("transport must be an httpx.Client, an httpx.AsyncClient or a requests.Session")
        _logging.sync_level()  # the `tokenwell` logger's level may have changed
        clock_core = clock._core if clock is not None else None
        # The core borrows the bytes for the call. A lone surrogate in a JSON text
        # passes as bytes that are not UTF-8: the core's ConfigError, not an encoder's.
        config_utf8 = config_json.encode("utf-8", "surrogatepass")
        try:
            if on_event is not None or credential_provider is not None or transport is not None:
                core = self._init_observed(config_utf8, clock_core, store, on_event, credential_provider, transport)
            elif store is None and clock is None:
                # The one-argument constructor: each optional one costs a foreign call.
                core = _gen.CoreClient.from_config(config_utf8)
            elif store is None or isinstance(store, MemoryStore):
                core = _gen.CoreClient(config_utf8, clock_core, store._core if store is not None else None)
            else:
                bridge = _store.bridge_for(store)
                core = _gen.CoreClient.with_queued_store(config_utf8, clock_core, bridge.id, bridge.has_lock)
                self._store_bridge = bridge  # found by id while this client lives
        except _FFI_ERROR_BASE as e:
            raise _convert(e) from None
        self._core = core
        self._memo = LeaseMemo(clock)
        self._now = self._memo.now  # the memo's clock, one attribute lookup nearer
        self._last: Optional[AccessToken] = None  # one object per token, memoised or not

    # -- the hot path: a memo hit (LeaseMemo.hit, inlined) is a tuple read, one
    #    clock read and a compare.

    def token(self) -> AccessToken:
        """A valid token; blocks the calling thread only while a fetch is needed.
        Raises a :class:`TokenwellError` subclass on failure."""
        entry = self._memo.entry
        if self._now() < entry[0]:
            if self._observed:
                self._memo_hits += 1
            return entry[2]  # type: ignore[return-value]
        return self._lease()

    def authorization_header(self) -> str:
        """The ``Authorization`` header value for a valid token, e.g. ``Bearer eyJ…``."""
        entry = self._memo.entry
        if self._now() < entry[0]:
            if self._observed:
                self._memo_hits += 1
            return entry[1]
        return self._lease().authorization_header

    async def token_async(self) -> AccessToken:
        """Like :meth:`token`, without blocking the event loop."""
        entry = self._memo.entry
        if self._now() < entry[0]:
            if self._observed:
                self._memo_hits += 1
            return entry[2]  # type: ignore[return-value]
        return await self._lease_async()

    async def authorization_header_async(self) -> str:
        """Like :meth:`authorization_header`, without blocking the event loop."""
        entry = self._memo.entry
        if self._now() < entry[0]:
            if self._observed:
                self._memo_hits += 1
            return entry[1]
        return (await self._lease_async()).authorization_header

    # -- the slow path: ask the core, remember its answer for as long as it says.

    def _lease(self) -> AccessToken:
        begun = self._memo.begin()
        try:
            lease = self._core.lease_blocking()
        except _FFI_ERROR_BASE as e:
            raise _convert(e) from None
        return self._remember(begun, lease)

    async def _lease_async(self) -> AccessToken:
        begun = self._memo.begin()
        try:
            lease = await self._core.lease()
        except _FFI_ERROR_BASE as e:
            raise _convert(e) from None
        return self._remember(begun, lease)

    def _remember(self, begun: Tuple[Union[float, int], int], lease: Any) -> AccessToken:
        previous = self._last
        if (
            previous is not None
            and previous.access_token == lease.access_token.value
            and previous.expires_at_unix_ms == lease.expires_at_unix_ms
        ):
            token = previous  # the same token: keep one object
        else:
            token = AccessToken(
                lease.access_token.value,
                lease.token_type,
                lease.expires_at_unix_ms,
                lease.scope,
                lease.authorization_header.value,
            )
            self._last = token
        reuse_for_ms = lease.reuse_for_ms
        self._memo.remember(begun, token, reuse_for_ms)
        _log.debug("tokenwell: leased a token from the core, reusable for %d ms", reuse_for_ms)
        return token

    def invalidate(self, token: Union[AccessToken, str]) -> bool:
        """Drops the cached token if it is still ``token`` (say the API answered
        401 with it); a newer token is kept. Returns whether it was dropped."""
        access_token = token.access_token if isinstance(token, AccessToken) else token
        if not isinstance(access_token, str):
            raise TypeError("invalidate() takes an AccessToken or the access token string")
        self._memo.invalidate()  # stop serving it now
        dropped = bool(self._core.invalidate(access_token))
        self._memo.invalidate()  # and void every lease begun before the core dropped it
        return dropped

    def settle(self) -> None:
        """Blocks until no fetch (e.g. a background refresh) is in flight and earlier invalidations have left the store."""
        self._core.settle_blocking()

    async def settle_async(self) -> None:
        """Resolves once no fetch is in flight and earlier invalidations have left the store."""
        await self._core.settle()

    # -- observability

    def _init_observed(
        self,
        config_utf8: bytes,
        clock_core: Any,
        store: Any,
        on_event: Optional[_events.OnEvent],
        credential_provider: Optional[Callable[[], str]] = None,
        transport: Any = None,
    ) -> Any:
        listener = _events.listener_for(self, on_event) if on_event is not None else None
        self._listener = listener
        memory = store._core if isinstance(store, MemoryStore) else None
        queued = None
        if store is not None and memory is None:
            bridge = _store.bridge_for(store)
            queued = _gen.QueuedStore(store_id=bridge.id, has_lock=bridge.has_lock)
            self._store_bridge = bridge  # found by id while this client lives
        credentials_id = None
        if credential_provider is not None:
            credentials = _store.CredentialBridge(credential_provider)
            self._credential_bridge = credentials  # found by id while this client lives
            credentials_id = credentials.id
        transport_id = None
        if transport is not None:
            bridge = _transport.TransportBridge(transport)
            self._transport_bridge = bridge  # found by id while this client lives
            transport_id = bridge.id
        if credentials_id is not None or transport_id is not None:
            core = _gen.CoreClient.with_callbacks(
                config_utf8, clock_core, memory, None, queued, listener, None, credentials_id, None, transport_id
            )
        else:
            assert listener is not None
            core = _gen.CoreClient.with_listener(config_utf8, clock_core, memory, None, queued, listener)
        if listener is not None:
            _events.register(core, listener)
            self._observed = True
        return core

    @property
    def name(self) -> str:
        """The client's name in metrics and traces: the config's ``name``, else the provider."""
        return str(self._core.name())

    def status(self) -> _events.Status:
        """The client's health, without I/O (for a readiness probe: unhealthy only
        when ``status().healthy`` is false; see :class:`tokenwell.Status`)."""
        return _events.status_from_core(self._core.status())

    def lookups(self) -> _events.Lookups:
        """How lookups went since the client was built (counted only with ``on_event``)."""
        return _events.lookups(self._core, self._listener, self._memo_hits)

    def __repr__(self) -> str:
        return f"TokenClient({self._core.describe()})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("TokenClient is not picklable (it holds credentials); build one per process")
