"""OpenTelemetry metrics and traces for tokenwell clients (``pip install "tokenwell[otel]"``,
which adds ``opentelemetry-api``; configure the SDK and exporters as usual).

    from tokenwell import TokenClient
    from tokenwell.otel import OpenTelemetry

    telemetry = OpenTelemetry()            # the global meter and tracer providers
    client = TokenClient("deliveroo", ..., on_event=telemetry)

One :class:`OpenTelemetry` serves any number of clients (each one's ``client``
attribute is its name: the config's ``name``, else the provider); combine it
with your own callback as ``on_event=[telemetry, my_callback]``.

**Metrics**: the instruments of the core's metrics table (``metric_kinds()``),
on the meter ``tokenwell``, one set per meter. Counters and the duration
histogram are fed from the delivered events; the lookups counter, the token's
remaining lifetime, the health gauge and the breaker's state are read at
collection time from the client (a client that was garbage-collected stops
reporting). Nothing runs per cache hit but an integer increment.

**Traces**: one ``CLIENT`` span named ``POST`` per token request (none for a
token adopted from the shared store), with ``http.request.method``,
``server.address``, ``http.response.status_code`` and, on failure,
``error.type`` (the error code) and an ERROR status. Its parent is the context
of the caller whose call started the fetch; callers that join a fetch in flight
start none. A refresh ahead runs in the background: its span is a root span
with a link to the context that triggered it. Start: when the fetch started;
end: that plus the fetch's latency.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
from opentelemetry.trace import Link, SpanKind, StatusCode, TracerProvider

from . import _events
from ._events import Event

if TYPE_CHECKING:
    from ._client import TokenClient

__all__ = ["OpenTelemetry", "FED_METRICS"]

_SCOPE = "tokenwell"

# Where each metric of the core's table gets its values (a test fails when
# this and the table differ): the instruments themselves (name, kind, unit,
# description) are built from the table.
FED_METRICS = {
    "tokenwell.token.requests": "fetched, fetch_failed, refresh_failed events",
    "tokenwell.token.request.duration": "fetched, fetch_failed, refresh_failed events",
    "tokenwell.cache.lookups": "lookups() at collection",
    "tokenwell.token.remaining": "status() at collection",
    "tokenwell.client.healthy": "status() at collection",
    "tokenwell.store.lock": "store_lock events",
    "tokenwell.store.failures": "store_failed events",
    "tokenwell.store.breaker.state": "status() at collection",
}

_BREAKER = {"closed": 0, "half_open": 1, "open": 2}
# A fetch whose ending event was dropped leaves its start behind: keep at most this many.
_MAX_PENDING = 1024


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tokenwell")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "0+unknown"


class _Instruments:
    """One meter's instruments, shared by every client reporting to it."""

    def __init__(self, meter: Meter) -> None:
        self.clients: "weakref.WeakSet[_ClientTelemetry]" = weakref.WeakSet()
        observe: Dict[str, Callable[[CallbackOptions], Iterable[Observation]]] = {
            "tokenwell.cache.lookups": self._lookups,
            "tokenwell.token.remaining": self._remaining,
            "tokenwell.client.healthy": self._healthy,
            "tokenwell.store.breaker.state": self._breaker,
        }
        self.by_name: Dict[str, Any] = {}
        for kind in _events.metric_kinds():
            name, unit, description = kind.name, kind.unit, kind.description
            if kind.instrument == "counter":
                self.by_name[name] = meter.create_counter(name, unit=unit, description=description)
            elif kind.instrument == "histogram":
                self.by_name[name] = meter.create_histogram(name, unit=unit, description=description)
            elif kind.instrument == "observable_counter":
                self.by_name[name] = meter.create_observable_counter(
                    name, callbacks=[observe[name]], unit=unit, description=description)
            elif kind.instrument == "observable_gauge":
                self.by_name[name] = meter.create_observable_gauge(
                    name, callbacks=[observe[name]], unit=unit, description=description)
        self.requests = self.by_name["tokenwell.token.requests"]
        self.duration = self.by_name["tokenwell.token.request.duration"]
        self.lock = self.by_name["tokenwell.store.lock"]
        self.store_failures = self.by_name["tokenwell.store.failures"]

    def _live(self) -> Iterator[Tuple[str, "TokenClient"]]:
        for state in list(self.clients):
            client = state.client()
            if client is not None and hasattr(client, "_core"):  # built (attach runs before)
                yield state.name, client

    def _lookups(self, _: CallbackOptions) -> Iterable[Observation]:
        for name, client in self._live():
            counts = client.lookups()
            for result, value in (("hit", counts.hits), ("stale", counts.stale), ("miss", counts.misses)):
                yield Observation(value, {"client": name, "result": result})

    def _remaining(self, _: CallbackOptions) -> Iterable[Observation]:
        for name, client in self._live():
            ms = client.status().token_expires_in_ms
            if ms is not None:
                yield Observation(ms / 1000, {"client": name})

    def _healthy(self, _: CallbackOptions) -> Iterable[Observation]:
        for name, client in self._live():
            yield Observation(1 if client.status().healthy else 0, {"client": name})

    def _breaker(self, _: CallbackOptions) -> Iterable[Observation]:
        for name, client in self._live():
            state = client.status().store_breaker
            if state is not None:
                yield Observation(_BREAKER.get(state, 2), {"client": name})


_instrument_sets: "weakref.WeakKeyDictionary[Any, _Instruments]" = weakref.WeakKeyDictionary()
_instrument_lock = threading.Lock()


def _instruments_for(meter: Meter) -> _Instruments:
    with _instrument_lock:
        try:
            found = _instrument_sets.get(meter)
        except TypeError:  # a meter that cannot be weakly referenced
            return _Instruments(meter)
        if found is None:
            found = _instrument_sets[meter] = _Instruments(meter)
        return found


class OpenTelemetry:
    """Reports the clients it is given as ``on_event`` to OpenTelemetry.

    ``meter_provider`` / ``tracer_provider``: the providers to use (default: the
    global ones, read when the first client attaches). ``metrics=False`` or
    ``traces=False`` turns either off."""

    def __init__(
        self,
        meter_provider: Optional[MeterProvider] = None,
        tracer_provider: Optional[TracerProvider] = None,
        *,
        metrics: bool = True,
        traces: bool = True,
    ) -> None:
        self._meter_provider = meter_provider
        self._tracer_provider = tracer_provider
        self._metrics = metrics
        self._traces = traces
        self._lock = threading.Lock()
        self._instruments: Optional[_Instruments] = None
        self._tracer: Optional[trace.Tracer] = None

    def _setup(self) -> Tuple[Optional[_Instruments], Optional[trace.Tracer]]:
        with self._lock:
            if self._metrics and self._instruments is None:
                meter = metrics.get_meter(_SCOPE, _version(), meter_provider=self._meter_provider)
                self._instruments = _instruments_for(meter)
            if self._traces and self._tracer is None:
                self._tracer = trace.get_tracer(_SCOPE, _version(), tracer_provider=self._tracer_provider)
            return self._instruments, self._tracer

    def attach(self, client: "TokenClient") -> "_ClientTelemetry":
        """The per-client callback (called by :class:`tokenwell.TokenClient`)."""
        instruments, tracer = self._setup()
        state = _ClientTelemetry(client, instruments, tracer)
        if instruments is not None:
            instruments.clients.add(state)
        return state

    def __call__(self, event: Event) -> None:
        raise TypeError("pass an OpenTelemetry to TokenClient(on_event=...), which attaches it")

    def __repr__(self) -> str:
        return f"OpenTelemetry(metrics={self._metrics}, traces={self._traces})"


class _ClientTelemetry:
    """One client's metrics and spans. Holds the client weakly: the core holds
    this object, and the client holds the core."""

    __slots__ = ("client", "_name", "_server", "_instruments", "_tracer", "_pending", "_lock", "__weakref__")

    def __init__(self, client: "TokenClient", instruments: Optional[_Instruments], tracer: Optional[trace.Tracer]) -> None:
        self.client = weakref.ref(client)
        self._name: Optional[str] = None
        self._server: Optional[str] = None
        self._instruments = instruments
        self._tracer = tracer
        # fetch_id -> (reason, the starting caller's context, start in ns since the epoch)
        self._pending: Dict[int, Tuple[str, otel_context.Context, int]] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        if self._name is None:
            client = self.client()
            self._name = client.name if client is not None else ""
        return self._name

    def _server_address(self) -> str:
        if self._server is None:
            client = self.client()
            self._server = str(client._core.server_address()) if client is not None else ""
        return self._server

    def fetch_started(self, fetch_id: int, reason: str, at_unix_ms: int) -> None:
        """On the starting caller's thread: its context and the start instant."""
        if self._tracer is None:
            return
        entry = (reason, otel_context.get_current(), time.time_ns())
        with self._lock:
            if len(self._pending) >= _MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
            self._pending[fetch_id] = entry

    def __call__(self, event: Event) -> None:
        name = event.name
        if name in ("fetched", "fetch_failed", "refresh_failed"):
            outcome = "ok" if event.error is None else event.error.code
            reason = event.reason if event.reason is not None else "refresh"
            instruments = self._instruments
            if instruments is not None:
                client = self.name
                instruments.requests.add(1, {"client": client, "outcome": outcome, "reason": reason})
                if event.latency_ms is not None:
                    instruments.duration.record(event.latency_ms / 1000, {"client": client, "outcome": outcome})
            self._span(event)
        elif name == "store_lock" and self._instruments is not None:
            self._instruments.lock.add(1, {"client": self.name, "outcome": event.outcome or ""})
        elif name == "store_failed" and self._instruments is not None:
            self._instruments.store_failures.add(1, {"client": self.name})

    def _span(self, event: Event) -> None:
        if self._tracer is None or event.fetch_id is None:
            return
        with self._lock:
            started = self._pending.pop(event.fetch_id, None)
        if started is None or event.from_store or event.reason == "adopted":
            return  # not started here, or no token request was sent
        reason, parent, start_ns = started
        end_ns = start_ns + (event.latency_ms or 0) * 1_000_000
        attributes: Dict[str, Any] = {"http.request.method": "POST", "server.address": self._server_address()}
        # A success's status is the event's, a failure's its error's.
        status = event.error.status if event.error is not None else event.status
        if status is not None:
            attributes["http.response.status_code"] = status
        if event.error is not None:
            attributes["error.type"] = event.error.code
        links: List[Link] = []
        if reason == "refresh":
            # A refresh ahead is the client's own work: a root, linked to its trigger.
            caller = trace.get_current_span(parent).get_span_context()
            if caller.is_valid:
                links.append(Link(caller))
            parent = otel_context.Context()
        span = self._tracer.start_span(
            "POST", context=parent, kind=SpanKind.CLIENT, attributes=attributes, links=links, start_time=start_ns
        )
        if event.error is not None:
            span.set_status(StatusCode.ERROR)
        span.end(end_time=end_ns)
