// tokenwell/otel against the real OpenTelemetry SDK: the metrics of a scripted
// run (the in-memory exporter, collected by hand), the spans of token requests
// (the in-memory span exporter, the caller's context active through
// AsyncLocalStorage), and the metrics table the instruments are built from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { TokenClient, ManualClock, MemoryStore } from 'tokenwell';
import { instrument, METRIC_KINDS, FED_METRICS } from 'tokenwell/otel';
import { startMock } from './helpers/mock.mjs';

const TABLE = JSON.parse(readFileSync(new URL('../../schema/metrics.json', import.meta.url), 'utf8')).metrics;
const SECRET = 'otel-secret-77c1a0';
const T0 = 1_767_225_600_000;
let mock;
before(async () => {
  mock = await startMock();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
after(async () => {
  context.disable();
  await mock?.stop();
});

const grant = (token, expiresIn = 100, extra = {}) => ({
  status: 200, json: { access_token: token, token_type: 'Bearer', expires_in: expiresIn }, ...extra,
});
const config = (extra = {}) => ({
  provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'otel-client', clientSecret: SECRET, ...extra,
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

// Two readers: cumulative (the totals), and delta, whose observable gauges
// hold only what was observed at this collection (a cumulative reader keeps
// the last value of an attribute set no longer observed).
function metricsSdk() {
  const exporters = {};
  const readers = {};
  for (const temporality of ['CUMULATIVE', 'DELTA']) {
    exporters[temporality] = new InMemoryMetricExporter(AggregationTemporality[temporality]);
    readers[temporality] = new PeriodicExportingMetricReader({ exporter: exporters[temporality], exportIntervalMillis: 3_600_000 });
  }
  const meterProvider = new MeterProvider({ readers: Object.values(readers) });
  return {
    meterProvider,
    /** name -> data points, collected now. */
    async collect(temporality = 'CUMULATIVE') {
      // Both, each time: an observation reaches every reader that has not yet collected it.
      for (const t of Object.keys(readers)) {
        exporters[t].reset();
        await readers[t].forceFlush();
      }
      const exporter = exporters[temporality];
      const out = new Map();
      for (const rm of exporter.getMetrics()) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) out.set(m.descriptor.name, { descriptor: m.descriptor, points: m.dataPoints });
        }
      }
      return out;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

function tracingSdk() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracerProvider, exporter, tracer: tracerProvider.getTracer('caller') };
}

const point = (m, attrs) => m?.points.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));

test('METRIC_KINDS is the core\'s metrics table, and the package feeds exactly its metrics', () => {
  assert.deepEqual(METRIC_KINDS.map((m) => ({ ...m, attributes: [...m.attributes] })), TABLE);
  assert.deepEqual([...FED_METRICS].sort(), TABLE.map((m) => m.name).sort());
});

test('a scripted run: 1,000 hits, 1 fetch, 1 refresh-ahead, 1 failure, in the SDK\'s numbers', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('run-1'), grant('run-2'), { status: 503, json: { error: 'server_error' } }]);
  const sdk = metricsSdk();
  const clock = new ManualClock(T0);
  const store = new MemoryStore({ clock });
  const client = new TokenClient(config({ clock, store, name: 'orders' }));
  const handle = instrument(client, { meterProvider: sdk.meterProvider });

  await client.token(); // the fetch
  for (let i = 0; i < 1_000; i++) await client.token(); // hits: the core's, then the memo's
  clock.advance(80_000); // refresh-ahead, in the background
  await client.token();
  await client.settle();
  await tick();

  let m = await sdk.collect();
  assert.deepEqual([...m.keys()].filter((name) => !name.startsWith('tokenwell.')), []);
  const requests = m.get('tokenwell.token.requests');
  assert.equal(point(requests, { client: 'orders', outcome: 'ok', reason: 'first' }).value, 1);
  assert.equal(point(requests, { client: 'orders', outcome: 'ok', reason: 'refresh' }).value, 1);
  const lookups = m.get('tokenwell.cache.lookups');
  assert.ok(point(lookups, { client: 'orders', result: 'hit' }).value >= 1_000, JSON.stringify(lookups.points));
  assert.equal(point(lookups, { client: 'orders', result: 'miss' }).value, 1);
  assert.equal(point(lookups, { client: 'orders', result: 'stale' }).value, 1);
  assert.equal(point(m.get('tokenwell.token.remaining'), { client: 'orders' }).value, 100); // run-2, just fetched
  assert.equal(m.get('tokenwell.token.remaining').descriptor.unit, 's');
  assert.equal(point(m.get('tokenwell.client.healthy'), { client: 'orders' }).value, 1);
  assert.equal(point(m.get('tokenwell.store.breaker.state'), { client: 'orders' }).value, 0);
  assert.equal(point(m.get('tokenwell.store.lock'), { client: 'orders', outcome: 'won' }).value, 2);

  client.invalidate('run-2'); // an API's 401; the endpoint now fails
  await assert.rejects(client.token(), (e) => e.code === 'server_error');
  await tick();
  m = await sdk.collect();
  const after = m.get('tokenwell.token.requests');
  assert.equal(point(after, { outcome: 'server_error', reason: 'after_401' }).value, 1);
  assert.equal(after.points.length, 3, JSON.stringify(after.points));
  const duration = m.get('tokenwell.token.request.duration');
  assert.equal(duration.descriptor.unit, 's');
  assert.equal(point(duration, { client: 'orders', outcome: 'ok' }).value.count, 2);
  assert.equal(point(duration, { client: 'orders', outcome: 'server_error' }).value.count, 1);
  assert.equal(point(m.get('tokenwell.client.healthy'), { client: 'orders' }).value, 0);
  const now = await sdk.collect('DELTA');
  assert.equal(point(now.get('tokenwell.client.healthy'), { client: 'orders' }).value, 0);
  assert.equal(point(now.get('tokenwell.token.remaining'), { client: 'orders' }), undefined); // no token held

  // A second client on the same meter: the same instruments, its own `client`.
  const failing = new MemoryStore();
  failing.setFailing(true);
  const other = new TokenClient(config({ clientId: 'other', store: failing, name: 'billing' }));
  instrument(other, { meterProvider: sdk.meterProvider });
  await mock.admin.script([grant('other-1', 600)]);
  await other.token();
  await other.settle();
  await tick();
  m = await sdk.collect();
  assert.ok(point(m.get('tokenwell.store.failures'), { client: 'billing' }).value >= 1);
  assert.equal(point(m.get('tokenwell.token.requests'), { client: 'billing', outcome: 'ok', reason: 'first' }).value, 1);
  assert.equal(point(m.get('tokenwell.token.requests'), { client: 'orders', outcome: 'ok', reason: 'first' }).value, 1);
  // Every metric of the table, and nothing else, was reported.
  assert.deepEqual([...m.keys()].sort(), TABLE.map((t) => t.name).sort());
  for (const t of TABLE) {
    assert.equal(m.get(t.name).descriptor.unit, t.unit, t.name);
    assert.equal(m.get(t.name).descriptor.description, t.description, t.name);
  }
  assert.ok(!JSON.stringify([...m.values()]).includes(SECRET));

  // stop(): the client reports no more.
  handle.stop();
  m = await sdk.collect('DELTA');
  assert.equal(point(m.get('tokenwell.client.healthy'), { client: 'orders' }), undefined);
  assert.equal(point(m.get('tokenwell.client.healthy'), { client: 'billing' }).value, 1);
  await sdk.shutdown();
});

test('a client that is garbage-collected stops reporting (an onEvent that holds it, and instrument(), keep it no longer)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  await mock.admin.reset();
  await mock.admin.script([grant('gone-1', 600)]);
  const sdk = metricsSdk();
  let ref;
  await (async () => {
    const client = new TokenClient(config({ clientId: 'gone', name: 'gone', onEvent: () => client.name }));
    instrument(client, { meterProvider: sdk.meterProvider });
    await client.token();
    ref = new WeakRef(client);
  })();
  await tick();
  let m = await sdk.collect('DELTA');
  assert.equal(point(m.get('tokenwell.client.healthy'), { client: 'gone' }).value, 1);
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
  }
  assert.equal(ref.deref(), undefined, 'the client was not collected');
  m = await sdk.collect('DELTA');
  assert.equal(point(m.get('tokenwell.client.healthy'), { client: 'gone' }), undefined);
  await sdk.shutdown();
});

test('a span per token request, parented by the caller\'s context', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('span-1', 600, { delay_ms: 20 })]);
  const { tracerProvider, exporter, tracer } = tracingSdk();
  const client = new TokenClient(config({ clientId: 'spans' }));
  instrument(client, { tracerProvider });
  let caller;
  await tracer.startActiveSpan('caller', async (span) => {
    caller = span.spanContext();
    await client.token();
    span.end();
  });
  await tick();
  const spans = exporter.getFinishedSpans().filter((s) => s.name === 'POST');
  assert.equal(spans.length, 1);
  const [post] = spans;
  assert.equal(post.kind, SpanKind.CLIENT);
  assert.equal(post.spanContext().traceId, caller.traceId);
  assert.equal(post.parentSpanContext?.spanId, caller.spanId);
  assert.deepEqual(post.attributes, { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'http.response.status_code': 200 });
  assert.equal(post.status.code, SpanStatusCode.UNSET);
  const ms = (t) => t[0] * 1e3 + t[1] / 1e6;
  assert.ok(ms(post.endTime) - ms(post.startTime) >= 20, `${ms(post.endTime) - ms(post.startTime)} ms`);
  assert.ok(!JSON.stringify(post.attributes).includes(SECRET) && !JSON.stringify(post.attributes).includes('span-1'));
});

test('8 concurrent callers on a cold cache: exactly one span, under one of them', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('eight-1', 600, { delay_ms: 50 })]);
  const { tracerProvider, exporter, tracer } = tracingSdk();
  const client = new TokenClient(config({ clientId: 'eight' }));
  instrument(client, { tracerProvider });
  const callers = [];
  await Promise.all(Array.from({ length: 8 }, (_, i) => tracer.startActiveSpan(`caller-${i}`, async (span) => {
    callers.push(span.spanContext().spanId);
    await client.token();
    span.end();
  })));
  await tick();
  const spans = exporter.getFinishedSpans().filter((s) => s.name === 'POST');
  assert.equal(spans.length, 1);
  assert.ok(callers.includes(spans[0].parentSpanContext?.spanId));
  assert.equal(await mock.admin.count(), 1);
});

test('a refresh-ahead span is a root span linked to the call that triggered it; a failure is an error span', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('ahead-1'), { status: 503, json: { error: 'server_error' } }]);
  const { tracerProvider, exporter, tracer } = tracingSdk();
  const clock = new ManualClock(T0);
  const client = new TokenClient(config({ clientId: 'ahead', clock }));
  instrument(client, { tracerProvider });
  await client.token();
  clock.advance(80_000);
  let trigger;
  await tracer.startActiveSpan('trigger', async (span) => {
    trigger = span.spanContext();
    await client.token();
    span.end();
  });
  await client.settle();
  await tick();
  const spans = exporter.getFinishedSpans().filter((s) => s.name === 'POST');
  assert.equal(spans.length, 2);
  const [first, refresh] = spans;
  assert.equal(first.parentSpanContext, undefined); // no caller context: a root
  assert.equal(refresh.parentSpanContext, undefined);
  assert.notEqual(refresh.spanContext().traceId, trigger.traceId);
  assert.equal(refresh.links.length, 1);
  assert.equal(refresh.links[0].context.spanId, trigger.spanId);
  assert.equal(refresh.links[0].context.traceId, trigger.traceId);
  assert.equal(refresh.status.code, SpanStatusCode.ERROR);
  assert.equal(refresh.attributes['error.type'], 'server_error');
  assert.equal(refresh.attributes['http.response.status_code'], 503);
  // The span's times are the fetch's, on the client's clock.
  assert.equal(refresh.startTime[0] * 1e3 + refresh.startTime[1] / 1e6, T0 + 80_000);
});

test('a token adopted from the shared store sent no request: no span', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('shared-1', 600)]);
  const { tracerProvider, exporter } = tracingSdk();
  const store = new MemoryStore();
  const first = new TokenClient(config({ clientId: 'shared', store }));
  const second = new TokenClient(config({ clientId: 'shared', store }));
  instrument(first, { tracerProvider });
  instrument(second, { tracerProvider });
  await first.token();
  assert.equal((await second.token()).accessToken, 'shared-1');
  await tick();
  assert.equal(exporter.getFinishedSpans().length, 1);
  assert.equal(await mock.admin.count(), 1);
});

test('without providers, instrument() uses the global ones (no-ops unless registered)', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('global-1', 600)]);
  const client = new TokenClient(config({ clientId: 'global' }));
  const handle = instrument(client);
  assert.equal((await client.token()).accessToken, 'global-1');
  handle.stop();
  assert.throws(() => instrument({}), TypeError);
});

test('the console example runs', async () => {
  const example = fileURLToPath(new URL('../examples/otel-console.mjs', import.meta.url));
  await mock.admin.reset();
  const { stdout } = await new Promise((resolve, reject) => execFile(process.execPath, [example], {
    env: { ...process.env, TOKEN_URL: `${mock.url}/custom/token`, CLIENT_ID: 'example', CLIENT_SECRET: SECRET },
    timeout: 30_000,
  }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout }))));
  assert.match(stdout, /tokenwell\.token\.requests/);
  assert.match(stdout, /name: 'POST'/);
  assert.match(stdout, /health: 'up'/);
  assert.ok(!stdout.includes(SECRET));
});

test('the main entry never imports @opentelemetry/api', () => {
  for (const file of ['index.mjs', 'index.cjs', 'client.mjs', 'workerd.mjs', 'deno.mjs']) {
    const text = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');
    assert.ok(!text.includes('@opentelemetry'), file);
  }
  assert.ok(readFileSync(new URL('../dist/otel.cjs', import.meta.url), 'utf8').includes('require("@opentelemetry/api")'));
});

// The global context manager is this file's: make sure the callers' contexts
// came through it (a sanity check of the setup, not of tokenwell).
test('the test\'s context manager propagates', async () => {
  const { tracer } = tracingSdk();
  await tracer.startActiveSpan('x', async (span) => {
    await tick();
    assert.equal(trace.getActiveSpan(), span);
    span.end();
  });
});
