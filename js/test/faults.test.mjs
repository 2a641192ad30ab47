// Runs every fault of tests/faults/catalogue.json through the public JS API over
// the runtime's fetch, against the mock provider: the error code, status and
// retryAfterMs, the time token() took, the paths the mock saw, and that no error
// text or console line holds any form of the secret. Same checks as tests/faults.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { TokenClient, TokenwellError } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const catalogue = JSON.parse(readFileSync(new URL('../../tests/faults/catalogue.json', import.meta.url), 'utf8'));
// A call that has not returned by then has hung, whatever the fault's bound.
const HANG_MS = 10_000;
const KEYS = new Set(['name', 'what', 'config', 'script', 'expect_error', 'max_ms', 'min_ms', 'paths']);

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

/** Runs `body` with the console captured: the lines the core wrote, and body's result. */
async function capturing(body) {
  const lines = [];
  const saved = {};
  for (const name of ['warn', 'error', 'log', 'info', 'debug']) {
    saved[name] = console[name];
    console[name] = (...args) => lines.push(args.map(String).join(' '));
  }
  try {
    return { result: await body(), lines };
  } finally {
    Object.assign(console, saved);
  }
}

/** The promise's outcome, or a rejection once HANG_MS pass. */
function withinHang(promise) {
  let timer;
  const hang = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`token() hung for ${HANG_MS} ms`)), HANG_MS);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

// The runtime's fetch, and the application's own (the `fetch` option): a
// fetch-compatible function that counts its calls and hands them on.
let ownCalls = 0;
const ownFetch = (url, init) => { ownCalls += 1; return globalThis.fetch(url, init); };

for (const [entry, own] of catalogue.faults.flatMap((e) => [[e, false], [e, true]])) {
  test(`fault ${entry.name}${own ? ' (own fetch)' : ''}`, async () => {
    for (const key of Object.keys(entry)) assert.ok(KEYS.has(key), `unknown key ${key}`);
    const fault = mock.substitute(entry);
    await mock.admin.reset();
    const client = new TokenClient({ ...mock.substitute(catalogue.config), ...fault.config,
      ...(own ? { fetch: ownFetch } : {}) });
    await mock.admin.script(fault.script);
    const callsBefore = ownCalls;

    const started = performance.now();
    const { result: error, lines } = await capturing(() => withinHang(client.token()).then(
      () => assert.fail('expected an error, got a token'),
      (e) => e,
    ));
    const ms = performance.now() - started;

    assert.ok(error instanceof TokenwellError, `not a TokenwellError: ${error}`);
    const text = `${error.message} ${error.detail} ${String(error)} ${inspect(error)} ${JSON.stringify(error)}`;
    const leaked = catalogue.forbidden.findIndex((form) => text.includes(form));
    assert.equal(leaked, -1, `error text leaks secret form #${leaked}`);
    const logged = catalogue.forbidden.findIndex((form) => lines.some((line) => line.includes(form)));
    assert.equal(logged, -1, `a console line leaks secret form #${logged}`);
    const want = fault.expect_error;
    assert.deepEqual(
      { code: error.code, status: error.status, retry_after_ms: error.retryAfterMs },
      { code: want.code, status: want.status, retry_after_ms: want.retry_after_ms },
    );
    assert.ok(ms >= (fault.min_ms ?? 0) && ms <= fault.max_ms,
      `took ${Math.round(ms)} ms, not within ${fault.min_ms ?? 0}..${fault.max_ms}`);
    const { requests } = await mock.admin.requests();
    assert.deepEqual(requests.map((r) => r.path), fault.paths, 'the paths the mock saw');
    assert.equal(ownCalls - callsBefore, own ? 1 : 0, 'calls of the own fetch');
  });
}
