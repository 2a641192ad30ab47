"""tokenwell.otel with the real OpenTelemetry SDK: the metrics after a scripted
run (in-memory reader), the spans (in-memory exporter), and the metric names
against the core's table."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Tuple

import pytest

pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is part of the test extra")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import tokenwell
from tokenwell import ManualClock, TokenClient, _events
from tokenwell.otel import FED_METRICS, OpenTelemetry


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the events")
        time.sleep(0.01)


def points(reader: InMemoryMetricReader) -> Dict[str, List[Tuple[Dict[str, Any], Any]]]:
    """metric name -> [(attributes, value or histogram count)]"""
    out: Dict[str, List[Tuple[Dict[str, Any], Any]]] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    value = p.count if hasattr(p, "bucket_counts") else p.value
                    out.setdefault(metric.name, []).append((dict(p.attributes), value))
    return out


def test_every_metric_of_the_table_is_fed_and_built() -> None:
    names = {k.name for k in _events.metric_kinds()}
    assert set(FED_METRICS) == names
    instruments, _ = OpenTelemetry(MeterProvider(metric_readers=[InMemoryMetricReader()]))._setup()
    assert instruments is not None
    assert set(instruments.by_name) == names
    kinds = {k.name: k.instrument for k in _events.metric_kinds()}
    for name, instrument in instruments.by_name.items():
        kind = type(instrument).__name__.lower()
        assert kind.replace("_", "").endswith(kinds[name].replace("_", "")), (name, kind)


def test_metrics_after_a_scripted_run(mock: Any) -> None:
    # A first fetch, 1000 hits, a refresh ahead, a refresh ahead that fails.
    mock.script([
        mock.token_response("om-1", expires_in=300),
        mock.token_response("om-2", expires_in=300),
        {"status": 503, "json": {"error": "temporarily_unavailable"}},
    ])
    reader = InMemoryMetricReader()
    telemetry = OpenTelemetry(MeterProvider(metric_readers=[reader]), traces=False)
    clock = ManualClock()
    seen: List[str] = []
    client = TokenClient.from_config(mock.deliveroo(name="orders"), clock=clock,
                                     on_event=[telemetry, lambda e: seen.append(e.name)])
    client.token()
    for _ in range(1000):
        client.authorization_header()
    clock.advance(240_000)  # the refresh-ahead point (80 % of 300 s)
    client.token()
    client.settle()
    assert client.token().access_token == "om-2"
    clock.advance(240_000)  # om-2's refresh point: this refresh fails
    assert client.token().access_token == "om-2"
    client.settle()
    wait_for(lambda: seen.count("fetched") == 2 and "refresh_failed" in seen)
    assert mock.count() == 3

    got = points(reader)
    requests = {(a["outcome"], a["reason"]): v for a, v in got["tokenwell.token.requests"]}
    assert all(a["client"] == "orders" for a, _ in got["tokenwell.token.requests"])
    failure = client.status().last_error
    assert failure is not None
    assert requests == {("ok", "first"): 1, ("ok", "refresh"): 1, (failure.code, "refresh"): 1}
    durations = {a["outcome"]: v for a, v in got["tokenwell.token.request.duration"]}
    assert durations == {"ok": 2, failure.code: 1}
    lookups = {a["result"]: v for a, v in got["tokenwell.cache.lookups"]}
    assert lookups["hit"] >= 1000
    assert lookups["miss"] == 1
    assert lookups["stale"] >= 1
    [(_, remaining)] = got["tokenwell.token.remaining"]
    assert remaining == pytest.approx(60, abs=1)  # om-2, fetched at 240 s, expires at 540 s; now 480 s
    assert got["tokenwell.client.healthy"] == [({"client": "orders"}, 1)], "degraded: still serving om-2"
    assert "tokenwell.store.breaker.state" not in got, "no store, no breaker"


def test_a_collected_client_stops_reporting(mock: Any) -> None:
    mock.script([mock.token_response("gc-1")])
    reader = InMemoryMetricReader()
    telemetry = OpenTelemetry(MeterProvider(metric_readers=[reader]), traces=False)
    client = TokenClient.from_config(mock.deliveroo(name="gone"), on_event=telemetry)
    client.token()
    assert points(reader)["tokenwell.client.healthy"] == [({"client": "gone"}, 1)]
    del client
    import gc

    gc.collect()
    assert "tokenwell.client.healthy" not in points(reader)


def traced() -> Tuple[InMemorySpanExporter, TracerProvider, OpenTelemetry]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, provider, OpenTelemetry(tracer_provider=provider, metrics=False)


def posts(exporter: InMemorySpanExporter) -> List[Any]:
    return [s for s in exporter.get_finished_spans() if s.name == "POST"]


def test_the_callers_span_parents_the_fetch(mock: Any) -> None:
    mock.script([mock.token_response("tr-1"), {"status": 503, "json": {"error": "temporarily_unavailable"}}])
    exporter, provider, telemetry = traced()
    tracer = provider.get_tracer("test")
    client = TokenClient.from_config(mock.deliveroo(), on_event=telemetry)
    with tracer.start_as_current_span("caller") as caller:
        client.token()
    wait_for(lambda: len(posts(exporter)) == 1)
    [span] = posts(exporter)
    assert span.kind == SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == caller.get_span_context().span_id
    assert span.context.trace_id == caller.get_span_context().trace_id
    assert dict(span.attributes) == {
        "http.request.method": "POST", "server.address": "127.0.0.1", "http.response.status_code": 200,
    }
    assert span.end_time >= span.start_time
    client.invalidate(client.token())
    with pytest.raises(tokenwell.TokenwellError) as info:
        client.token()
    wait_for(lambda: len(posts(exporter)) == 2)
    failed = posts(exporter)[1]
    assert failed.parent is None
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes["error.type"] == info.value.code
    assert failed.attributes["http.response.status_code"] == 503
    for s in posts(exporter):
        assert "tr-1" not in str(dict(s.attributes)) and "py-secret" not in str(dict(s.attributes))


def test_eight_callers_on_a_cold_cache_make_one_span(mock: Any) -> None:
    mock.script([mock.token_response("tr-8", delay_ms=300)])
    exporter, provider, telemetry = traced()
    tracer = provider.get_tracer("test")
    client = TokenClient.from_config(mock.deliveroo(), on_event=telemetry)
    barrier = threading.Barrier(8)

    def caller() -> None:
        barrier.wait(10)
        with tracer.start_as_current_span("caller"):
            client.token()

    threads = [threading.Thread(target=caller, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wait_for(lambda: len(posts(exporter)) >= 1)
    time.sleep(0.3)  # any second span would have arrived by now
    assert len(posts(exporter)) == 1
    assert mock.count() == 1
    callers = {s.context.span_id for s in exporter.get_finished_spans() if s.name == "caller"}
    assert posts(exporter)[0].parent.span_id in callers


def test_a_refresh_ahead_span_is_a_root_linked_to_its_trigger(mock: Any) -> None:
    mock.script([mock.token_response("rf-1"), mock.token_response("rf-2")])
    exporter, provider, telemetry = traced()
    tracer = provider.get_tracer("test")
    clock = ManualClock()
    client = TokenClient.from_config(mock.deliveroo(), clock=clock, on_event=telemetry)
    client.token()
    clock.advance(240_000)
    with tracer.start_as_current_span("trigger") as trigger:
        assert client.token().access_token == "rf-1"
    client.settle()
    wait_for(lambda: len(posts(exporter)) == 2)
    refresh = posts(exporter)[1]
    assert refresh.parent is None
    assert refresh.context.trace_id != trigger.get_span_context().trace_id
    assert [link.context.span_id for link in refresh.links] == [trigger.get_span_context().span_id]


def test_an_async_callers_span_parents_the_fetch(mock: Any) -> None:
    import asyncio

    mock.script([mock.token_response("as-1")])
    exporter, provider, telemetry = traced()
    tracer = provider.get_tracer("test")
    seen: List[str] = []
    client = TokenClient.from_config(mock.deliveroo(), on_event=[lambda e: seen.append(e.name), telemetry])

    async def main() -> Any:
        with tracer.start_as_current_span("async-caller") as caller:
            assert (await client.token_async()).access_token == "as-1"
            return caller

    caller = asyncio.run(main())
    wait_for(lambda: len(posts(exporter)) == 1)
    assert posts(exporter)[0].parent.span_id == caller.get_span_context().span_id
    assert seen == ["fetch_started", "fetched"]
