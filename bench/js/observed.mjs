// One side of the bench's "hit with observability enabled vs disabled", in a
// fresh process (so neither side inherits the other's JIT state): prints the
// fastest of several samples of authorizationHeader() on a cached token, in
// ns/call, as JSON. Enabled: an onEvent callback, and tokenwell/otel's metrics
// (the real SDK's MeterProvider with a reader) and spans (a tracer provider).
// Usage: node observed.mjs MOCK_URL enabled|disabled
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const DIST = new URL('../../js/dist/', import.meta.url);
const { TokenClient } = await import(new URL('index.mjs', DIST));
const [url, side] = process.argv.slice(2);
const config = { provider: 'custom', tokenUrl: `${url}/custom/token`, clientId: `bench-observed-${side}`, clientSecret: 'bench-secret' };

let client;
if (side === 'enabled') {
  const require = createRequire(new URL('../../js/package.json', import.meta.url));
  const load = (name) => import(pathToFileURL(require.resolve(name)).href);
  const { instrument } = await import(new URL('otel.mjs', DIST));
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await load('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = await load('@opentelemetry/sdk-trace-base');
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
  let events = 0;
  client = new TokenClient({ ...config, onEvent: () => { events++; } });
  instrument(client, { meterProvider, tracerProvider });
} else {
  client = new TokenClient(config);
}
await client.token();
await client.token();

async function fastest(fn, n, rounds) {
  const times = [];
  for (let r = 0; r < rounds + 1; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    if (r > 0) times.push(Number(process.hrtime.bigint() - t0) / n); // round 0 warms up
  }
  return Math.min(...times);
}
const memo = await fastest(() => client.authorizationHeader(), 200_000, 6);
const hits = client.lookups().hits;
console.log(JSON.stringify({ memo, hits }));
