// tokenwell/otel: OpenTelemetry metrics and traces for TokenClients, through
// @opentelemetry/api (an optional peer dependency: only this entry imports it).
//
//   import { instrument } from 'tokenwell/otel';
//   instrument(client);                       // the global meter and tracer providers
//   instrument(client, { meterProvider, tracerProvider });
//
// The instruments are built from the core's metrics table (schema/metrics.json):
// counters and the histogram are fed from the client's events, the observable
// instruments read client.lookups() and client.status() at collection time.
import { context, metrics, trace, SpanKind, SpanStatusCode, ROOT_CONTEXT } from '@opentelemetry/api';
import { METRICS, VERSION } from './tables.mjs';

const OBSERVE = Symbol.for('tokenwell.observe');
const SCOPE = 'tokenwell';

/** The core's metrics table (schema/metrics.json): `{ name, instrument, unit, description, attributes }`. */
export const METRIC_KINDS = Object.freeze(METRICS.map((m) => Object.freeze({ ...m, attributes: Object.freeze([...m.attributes]) })));

// Token fetches take milliseconds to seconds (a timeout is 30 s at most).
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BREAKER = { closed: 0, half_open: 1, open: 2 };

// What feeds each metric of the table: `event(instrument, e, client)` for the
// synchronous ones, `observe(result, instrument, client)` for the observable
// ones. A metric of the table without a feeder (or the reverse) fails
// instrument(): the table and this package cannot drift apart silently.
const ENDING = new Set(['fetched', 'fetch_failed', 'refresh_failed']);
const outcomeOf = (e) => e.error?.code ?? 'ok';
const FEEDERS = {
  'tokenwell.token.requests': {
    event(counter, e, client) {
      if (ENDING.has(e.name)) counter.add(1, { client, outcome: outcomeOf(e), reason: e.reason ?? 'refresh' });
    },
  },
  'tokenwell.token.request.duration': {
    event(histogram, e, client) {
      if (ENDING.has(e.name)) histogram.record(e.latencyMs / 1000, { client, outcome: outcomeOf(e) });
    },
  },
  'tokenwell.cache.lookups': {
    observe(result, counter, client, { lookups }) {
      result.observe(counter, lookups.hits, { client, result: 'hit' });
      result.observe(counter, lookups.stale, { client, result: 'stale' });
      result.observe(counter, lookups.misses, { client, result: 'miss' });
    },
  },
  'tokenwell.token.remaining': {
    observe(result, gauge, client, { status }) {
      if (status.tokenExpiresInMs !== null) result.observe(gauge, status.tokenExpiresInMs / 1000, { client });
    },
  },
  'tokenwell.client.healthy': {
    observe(result, gauge, client, { status }) {
      result.observe(gauge, status.healthy ? 1 : 0, { client });
    },
  },
  'tokenwell.store.lock': {
    event(counter, e, client) {
      if (e.name === 'store_lock') counter.add(1, { client, outcome: e.outcome });
    },
  },
  'tokenwell.store.failures': {
    event(counter, e, client) {
      if (e.name === 'store_failed') counter.add(1, { client });
    },
  },
  'tokenwell.store.breaker.state': {
    observe(result, gauge, client, { status }) {
      if (status.storeBreaker !== null) result.observe(gauge, BREAKER[status.storeBreaker] ?? 2, { client });
    },
  },
};

/** The names of the metrics this package feeds (the drift test holds them to the table). */
export const FED_METRICS = Object.freeze(Object.keys(FEEDERS));

const CREATE = {
  counter: (meter, name, options) => meter.createCounter(name, options),
  histogram: (meter, name, options) =>
    meter.createHistogram(name, { ...options, advice: { explicitBucketBoundaries: DURATION_BUCKETS } }),
  observable_counter: (meter, name, options) => meter.createObservableCounter(name, options),
  observable_gauge: (meter, name, options) => meter.createObservableGauge(name, options),
};

// One instrument set per meter, shared by every client it instruments (the
// `client` attribute tells them apart).
const sets = new WeakMap();

class Instruments {
  // WeakRefs: a client that is garbage-collected stops reporting.
  clients = new Set();

  constructor(meter) {
    const missing = METRICS.filter((m) => !(m.name in FEEDERS) || !(m.instrument in CREATE)).map((m) => m.name);
    const extra = FED_METRICS.filter((name) => !METRICS.some((m) => m.name === name));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(`tokenwell/otel: the metrics table and this package differ (${[...missing, ...extra].join(', ')})`);
    }
    this.sync = [];
    const observable = [];
    for (const m of METRICS) {
      const instrument = CREATE[m.instrument](meter, m.name, { description: m.description, unit: m.unit });
      const feeder = FEEDERS[m.name];
      if (feeder.event) this.sync.push([feeder.event, instrument]);
      else observable.push([feeder.observe, instrument]);
    }
    meter.addBatchObservableCallback((result) => this.#collect(result, observable), observable.map(([, i]) => i));
  }

  event(e, name) {
    for (const [feed, instrument] of this.sync) feed(instrument, e, name);
  }

  #collect(result, observable) {
    for (const ref of this.clients) {
      const client = ref.deref();
      if (client === undefined) {
        this.clients.delete(ref);
        continue;
      }
      const name = client.name;
      const read = { lookups: client.lookups(), status: client.status() };
      for (const [observe, instrument] of observable) observe(result, instrument, name, read);
    }
  }
}

function instrumentsOf(meter) {
  let set = sets.get(meter);
  if (set === undefined) {
    set = new Instruments(meter);
    sets.set(meter, set);
  }
  return set;
}

/**
 * Reports `client`'s metrics (tokenwell.* instruments, built from the core's
 * table, on `meterProvider`'s meter "tokenwell") and a CLIENT span `POST` per
 * token request (on `tracerProvider`'s tracer "tokenwell"), by default the
 * global providers. Returns a handle whose `stop()` ends both for this client.
 */
export function instrument(client, { meterProvider, tracerProvider } = {}) {
  if (client === null || typeof client !== 'object' || typeof client[OBSERVE] !== 'function') {
    throw new TypeError('tokenwell/otel: instrument() takes a TokenClient');
  }
  const name = client.name;
  const instruments = instrumentsOf((meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, VERSION));
  // Without WeakRef (workerd without its flag) a client reports until stop().
  const ref = typeof WeakRef === 'function' ? new WeakRef(client) : { deref: () => client };
  instruments.clients.add(ref);
  const tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, VERSION);
  const serverAddress = client.serverAddress;
  // fetchId -> [the context of the call that started it, its start time].
  const started = new Map();
  const remove = client[OBSERVE]({
    started(e) {
      started.set(e.fetchId, [context.active(), e.atUnixMs]);
    },
    event(e) {
      instruments.event(e, name);
      if (ENDING.has(e.name)) {
        const begun = started.get(e.fetchId);
        started.delete(e.fetchId);
        if (begun !== undefined && !e.fromStore) span(tracer, serverAddress, e, begun);
      }
    },
  });
  return {
    stop() {
      remove();
      instruments.clients.delete(ref);
      started.clear();
    },
  };
}

// The CLIENT span of a fetch that sent a token request, from its start to the
// event that ended it. A refresh-ahead runs for no caller: a root span, linked
// to the context of the call that triggered it.
function span(tracer, serverAddress, e, [parent, startTime]) {
  const refresh = e.reason === 'refresh' || e.name === 'refresh_failed';
  const linked = refresh ? trace.getSpanContext(parent) : undefined;
  const s = tracer.startSpan('POST', {
    kind: SpanKind.CLIENT,
    startTime,
    root: refresh,
    links: linked ? [{ context: linked }] : [],
    attributes: { 'http.request.method': 'POST', 'server.address': serverAddress },
  }, refresh ? ROOT_CONTEXT : parent);
  const status = e.error ? e.error.status : e.status;
  if (status !== null && status !== undefined) s.setAttribute('http.response.status_code', status);
  if (e.error) {
    s.setAttribute('error.type', e.error.code);
    s.setStatus({ code: SpanStatusCode.ERROR });
  }
  s.end(e.atUnixMs);
}
