"""A client's events, status and lookup counters, as typed Python values.

How events travel: the core queues each event (never on the fetch path), and
two daemon threads of Python's (one pair per process) take them: one pulls
them from the core onto a bounded queue of this module's, the other turns each
into an :class:`Event` and calls the client's callbacks. So the core never
calls into Python from a thread of its own: an interpreter that finalises while
such a thread waits for the GIL would end it under Rust's frames and abort the
process. At interpreter exit (``atexit``) delivery stops.

A callback that raises is logged once per client (the exception's class only:
its message could hold anything) and ignored; events that find the queue full
are dropped and counted (:attr:`Lookups.dropped`).

A callback object may also have ``attach(client)``, called once when a client
is built with it, returning the per-client callback to use instead (so one
object can serve many clients: :class:`tokenwell.otel.OpenTelemetry` does). The
per-client callback may have ``fetch_started(fetch_id, reason, at_unix_ms)``:
it is called at once, on the thread of the caller whose call started a fetch
(to read that caller's context, e.g. its trace span), and must return at once.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Literal, Optional, Sequence, Tuple, Union

from ._ffi import tokenwell as _generated

if TYPE_CHECKING:
    from ._client import TokenClient

# The core's event table's names (a test fails when they drift from it).
EventName = Literal[
    "hit", "miss", "fetch_started", "fetched", "refresh_started", "refresh_failed",
    "fetch_failed", "store_failed", "store_lock",
]
Health = Literal["up", "degraded", "down", "idle"]

__all__ = ["ErrorInfo", "Event", "EventCallback", "EventName", "Health", "Lookups", "Status"]

_gen: Any = _generated
_log = logging.getLogger("tokenwell")

# Events waiting for the callbacks' thread, at most (the core's queue holds as many).
QUEUE_CAPACITY = 4096


@dataclass(frozen=True)
class ErrorInfo:
    """An error as an event or a status carries it (no secret in any field)."""

    code: str
    """The stable error code, e.g. ``server_error`` (the exception's ``code``)."""
    status: Optional[int]
    """The token endpoint's HTTP status, when it answered."""
    detail: str
    """What went wrong."""


@dataclass(frozen=True)
class Event:
    """One of a client's events: ``name`` is a row of the core's event table
    (``fetch_started``, ``fetched``, ``refresh_started``, ``refresh_failed``,
    ``fetch_failed``, ``store_failed``, ``store_lock``), and the fields that
    row lists are set; the others are ``None``. ``hit`` and ``miss`` are only
    counted (:meth:`tokenwell.TokenClient.lookups`), never delivered."""

    name: EventName
    fetch_id: Optional[int] = None
    """The fetch it belongs to (one id per fetch, shared by its events)."""
    reason: Optional[str] = None
    """Why the fetch ran: ``first``, ``refresh``, ``after_401``, ``expired`` or ``adopted``."""
    outcome: Optional[str] = None
    """``store_lock``: ``won``, ``waited``, ``adopted`` or ``gave_up``."""
    stale: Optional[bool] = None
    """``hit``: a token past its refresh point."""
    lifetime_ms: Optional[int] = None
    """The token's remaining lifetime, in ms."""
    from_store: Optional[bool] = None
    """``fetched``: whether the token came from the shared store."""
    latency_ms: Optional[int] = None
    """How long the fetch took, in ms."""
    status: Optional[int] = None
    """The token endpoint's HTTP status, when it answered."""
    error: Optional[ErrorInfo] = None
    """The failure (``refresh_failed``, ``fetch_failed``, ``store_failed``)."""
    waited_ms: Optional[int] = None
    """``store_lock``: how long this process waited for another's lock, in ms."""
    at_unix_ms: int = 0
    """When it happened, Unix ms on the client's clock."""


@dataclass(frozen=True)
class Status:
    """A client's health, read without I/O (:meth:`tokenwell.TokenClient.status`).

    For a readiness probe: unhealthy only when ``healthy`` is false
    (``health == "down"``: no usable token is held and the last fetch failed).
    ``degraded`` (the endpoint fails but the held token is still valid) is a
    warning, not an outage. Never use it for liveness: restarting does not mend
    a provider's outage."""

    health: Health
    """``up``, ``degraded`` (failing, still serving a valid token), ``down`` or ``idle`` (no token asked for yet)."""
    healthy: bool
    """``health != "down"``."""
    token_usable: bool
    """Whether a token is held that callers are given now."""
    token_expires_in_ms: Optional[int]
    """The held token's remaining lifetime to its expiry, in ms."""
    last_error: Optional[ErrorInfo]
    """The last fetch's error, if it failed."""
    last_error_at_unix_ms: Optional[int]
    """When the last error happened, Unix ms."""
    backoff_ms: Optional[int]
    """While backing off: how long before the next fetch may start, in ms."""
    fetching: bool
    """Whether a fetch is in flight."""
    store_breaker: Optional[str]
    """With a shared store: its breaker, ``closed``, ``half_open`` or ``open``."""
    store_open_for_ms: Optional[int]
    """While the breaker is open: how long it stays open, in ms."""


@dataclass(frozen=True)
class Lookups:
    """How a client's lookups went since it was built (counted only with ``on_event``)."""

    hits: int
    """Fresh cached tokens handed out (the core's and the client's own memo's)."""
    stale: int
    """Tokens past their refresh point handed out while a refresh runs."""
    misses: int
    """Callers that waited for a fetch."""
    dropped: int
    """Events dropped because a queue was full."""


EventCallback = Callable[[Event], None]


def _error(info: Any) -> Optional[ErrorInfo]:
    return None if info is None else ErrorInfo(info.code, info.status, info.detail)


def event_from_core(e: Any) -> Event:
    """The :class:`Event` of the core's ``CoreEvent``."""
    return Event(
        name=e.name,
        fetch_id=e.fetch_id,
        reason=e.reason,
        outcome=e.outcome,
        stale=e.stale,
        lifetime_ms=e.lifetime_ms,
        from_store=e.from_store,
        latency_ms=e.latency_ms,
        status=e.status,
        error=_error(e.error),
        waited_ms=e.waited_ms,
        at_unix_ms=e.at_unix_ms,
    )


def status_from_core(s: Any) -> Status:
    """The :class:`Status` of the core's ``CoreStatus``."""
    return Status(
        health=s.health,
        healthy=s.healthy,
        token_usable=s.token_usable,
        token_expires_in_ms=s.token_expires_in_ms,
        last_error=_error(s.last_error),
        last_error_at_unix_ms=s.last_error_at_unix_ms,
        backoff_ms=s.backoff_ms,
        fetching=s.fetching,
        store_breaker=s.store_breaker,
        store_open_for_ms=s.store_open_for_ms,
    )


class _Dispatcher:
    """The threads that take the core's events and run callbacks (one pair per
    process: a forked child starts its own), and the listeners by number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: "queue.SimpleQueue[Tuple[Listener, Any]]" = queue.SimpleQueue()
        self._pid = 0
        self.closed = False
        self._listeners: "weakref.WeakValueDictionary[int, Listener]" = weakref.WeakValueDictionary()

    def register(self, listener_id: int, listener: "Listener") -> None:
        """From now on, the core's events numbered ``listener_id`` go to ``listener``."""
        self._listeners[listener_id] = listener
        self.start()

    def start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                q = self._queue = queue.SimpleQueue()  # the parent's threads are not in a forked child
                for target, name in ((self._pull, "tokenwell-events"), (self._run, "tokenwell-callbacks")):
                    threading.Thread(target=target, args=(q,), name=name, daemon=True).start()
                self._pid = os.getpid()

    def after_fork(self) -> None:
        self._lock = threading.Lock()  # another thread may have held it at the fork
        if len(self._listeners):
            self.start()

    def _pull(self, q: "queue.SimpleQueue[Tuple[Listener, Any]]") -> None:
        # The GIL is released while the core waits for events.
        while not self.closed:
            try:
                batch = _gen.next_events(_PULL_BATCH, _PULL_WAIT_MS)
            except Exception as e:  # noqa: BLE001 - the thread must go on; never expected
                _log.warning("tokenwell: taking events failed (%s); retrying", type(e).__name__)
                time.sleep(_PULL_WAIT_MS / 1000)
                continue
            for pulled in batch:
                listener = self._listeners.get(pulled.listener_id)
                if listener is None:
                    continue
                if q.qsize() >= QUEUE_CAPACITY:
                    listener.dropped += 1
                else:
                    q.put((listener, pulled.event))

    def _run(self, q: "queue.SimpleQueue[Tuple[Listener, Any]]") -> None:
        while not self.closed:
            listener, event = q.get()
            if not self.closed:
                listener.deliver(event)


# Events taken from the core at once, at most, and how long one wait lasts.
_PULL_BATCH = 256
_PULL_WAIT_MS = 200

_gen.deliver_events_by_pull()
_DISPATCHER = _Dispatcher()
os.register_at_fork(after_in_child=_DISPATCHER.after_fork)


def register(core: Any, listener: "Listener") -> None:
    """Routes the events of ``core`` (a ``CoreClient`` built with ``listener``) to it."""
    _DISPATCHER.register(core.listener_id(), listener)


def _close() -> None:
    """At interpreter exit: nothing more is delivered, by the core or by Python."""
    _DISPATCHER.closed = True
    _gen.close_event_delivery()


atexit.register(_close)


class Listener(_gen.EventListener):  # type: ignore[misc]
    """The core's view of a client's callbacks (uniffi's ``EventListener``).

    It holds no reference to the client: the core holds it, and a cycle through
    the core would keep the client alive for ever."""

    __slots__ = ("_callbacks", "_started", "_logged", "dropped")

    def __init__(self, callbacks: Sequence[EventCallback]) -> None:
        self._callbacks = tuple(callbacks)
        self._started = tuple(
            hook for hook in (getattr(cb, "fetch_started", None) for cb in callbacks) if callable(hook)
        )
        self._logged = False
        self.dropped = 0

    # -- called by the core

    def on_event(self, event: Any) -> None:
        """Never called: this process's events are pulled (``_Dispatcher``)."""

    def on_fetch_started(self, fetch_id: int, reason: str, at_unix_ms: int) -> None:
        for hook in self._started:
            try:
                hook(fetch_id, reason, at_unix_ms)
            except Exception as e:  # noqa: BLE001 - a callback never breaks a fetch
                self._failed(e)

    # -- on the callbacks' thread

    def deliver(self, core_event: Any) -> None:
        try:
            event = event_from_core(core_event)
        except Exception as e:  # noqa: BLE001
            self._failed(e)
            return
        for callback in self._callbacks:
            try:
                callback(event)
            except Exception as e:  # noqa: BLE001 - logged once, then ignored
                self._failed(e)

    def _failed(self, e: BaseException) -> None:
        if not self._logged:
            self._logged = True
            _log.warning(
                "tokenwell: an on_event callback raised %s; it is ignored (and not logged again for this client)",
                type(e).__name__,
            )


OnEvent = Union[EventCallback, Sequence[EventCallback]]


def listener_for(client: "TokenClient", on_event: OnEvent) -> Listener:
    """The listener of ``client``'s callbacks: each one's ``attach(client)``
    if it has one, else the callback itself."""
    given: List[Any] = list(on_event) if isinstance(on_event, (list, tuple)) else [on_event]
    callbacks: List[EventCallback] = []
    for cb in given:
        attach = getattr(cb, "attach", None)
        if callable(attach):
            cb = attach(client)
        if not callable(cb):
            raise TypeError("on_event must be a callable taking a tokenwell.Event (or a list of them)")
        callbacks.append(cb)
    return Listener(callbacks)


def lookups(core: Any, listener: Optional[Listener], memo_hits: int) -> Lookups:
    counts = core.lookups()
    dropped = counts.dropped + (listener.dropped if listener is not None else 0)
    return Lookups(counts.hits + memo_hits, counts.stale, counts.misses, dropped)


def event_kinds() -> List[Tuple[str, List[str]]]:
    """The core's event table: (name, fields) rows."""
    return [(k.name, list(k.fields)) for k in _gen.event_kinds()]


def metric_kinds() -> List[Any]:
    """The core's metrics table (rows with name, instrument, unit, description, attributes)."""
    return list(_gen.metric_kinds())
