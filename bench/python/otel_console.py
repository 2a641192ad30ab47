"""tokenwell's metrics and traces, exported to the console by the OpenTelemetry SDK.

    pip install "tokenwell[otel]" opentelemetry-sdk
    python bench/python/otel_console.py --mock target/debug/tokenwell   # against the mock provider

(bindings/python/test.sh runs it once.) With your own provider, drop ``--mock``
and build the client from your config instead.
"""

from __future__ import annotations

import argparse
import threading

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from tokenwell import Event, TokenClient
from tokenwell.otel import OpenTelemetry

from mock_provider import start_mock  # bench/python/, this script's folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mock", required=True, help="path of the tokenwell binary (for `tokenwell mock`)")
    args = parser.parse_args()

    # The SDK, exporting to the console (use your OTLP exporter instead).
    reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=60_000)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(tracer_provider)

    fetched = threading.Event()

    def log_event(event: Event) -> None:  # on tokenwell's callback thread
        print(f"event: {event.name} fetch_id={event.fetch_id} reason={event.reason} latency_ms={event.latency_ms}")
        if event.name == "fetched":
            fetched.set()

    proc, url = start_mock(args.mock)
    try:
        client = TokenClient(
            "deliveroo", environment="sandbox", base_url=f"{url}/deliveroo",
            client_id="example-client", client_secret="example-secret",
            name="orders",                               # the metrics' `client` attribute
            on_event=[OpenTelemetry(), log_event],       # the global providers set above
        )
        tracer = trace.get_tracer("example")
        with tracer.start_as_current_span("handle-order"):
            client.authorization_header()                # the token request: a POST span under this one
        for _ in range(100):
            client.authorization_header()                # hits: counted, nothing more
        fetched.wait(10)                                 # events arrive off the fetch path
        status = client.status()
        print(f"status: {status.health}, healthy={status.healthy}, expires in {status.token_expires_in_ms} ms")
        reader.force_flush()                             # the metrics, now
    finally:
        proc.kill()
        proc.wait(10)


if __name__ == "__main__":
    main()
