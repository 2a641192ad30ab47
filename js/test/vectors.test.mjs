// Runs every conformance vector of tests/vectors/ through the public JS API
// (TokenClient, ManualClock, MemoryStore, TokenwellError), with real fetch to the
// mock provider on loopback — the same checks as the Rust runner tests/vectors.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { TokenClient, TokenwellError, ManualClock, MemoryStore, storeKeys } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const DIR = new URL('../../tests/vectors/', import.meta.url);
const DEFAULT_UNIX_MS = 1_767_225_600_000;
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

test('there are vectors to run', () => {
  assert.ok(files.length >= 25, `expected at least 25 vectors, found ${files.length}`);
});

// What a vector may `require` (tests/vectors/README.md), and why this runner
// lacks it: such vectors are skipped by name, with the reason in the report. A
// requirement not listed here fails the vector.
const LACKING = {};
const CAPABILITIES = new Set(['store_control']);
// The lock's other owner in the store_* steps (tests/vectors/README.md).
const FOREIGN_OWNER = 'vectors-foreign-owner';

for (const file of files) {
  const vector = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
  const lacking = (vector.requires ?? []).filter((r) => !CAPABILITIES.has(r) && r in LACKING);
  const skip = lacking.length > 0 ? lacking.map((r) => LACKING[r]).join('; ') : false;
  test(`vector ${vector.name}`, { skip }, async () => {
    assert.equal(vector.name, file.replace(/\.json$/, ''), 'name = file name');
    await run(vector);
  });
}

const VECTOR_KEYS = new Set(['name', 'description', 'requires', 'config', 'clients', 'shared_store', 'clock',
  'expect_build_error', 'script', 'steps', 'expect_requests', 'forbidden']);
// A call that has not returned by then has hung: fail rather than wait forever.
const CALL_TIMEOUT_MS = 60_000;

async function run(v) {
  for (const key of Object.keys(v)) assert.ok(VECTOR_KEYS.has(key), `unknown vector key ${key}`);
  for (const r of v.requires ?? []) assert.ok(CAPABILITIES.has(r), `unknown requirement ${r}`);
  await mock.admin.reset();
  const clock = new ManualClock(v.clock?.unix_ms ?? DEFAULT_UNIX_MS);
  // On the manual clock: records' time-to-live and locks run on vector time.
  const store = v.shared_store ? new MemoryStore({ clock }) : undefined;
  const configs = v.clients ?? { main: v.config };
  const secrets = [...(v.forbidden ?? [])]; // every form of a secret that no error text may hold
  const clients = new Map();
  const keys = new Map(); // each client's [token, lock] keys in the store (the store_* steps)
  for (const [name, raw] of Object.entries(configs)) {
    const config = mock.substitute(raw);
    if (store && !v.expect_build_error) keys.set(name, storeKeys(config));
    if (typeof config.client_secret === 'string') secrets.push(config.client_secret);
    if (typeof config.clientSecret === 'string') secrets.push(config.clientSecret);
    let client;
    try {
      // The config's own store settings go with the shared store (`{ use, ...settings }`), or alone.
      const settings = config.store;
      client = new TokenClient({ ...config, clock, store: store && settings ? { ...settings, use: store } : (store ?? settings) });
    } catch (e) {
      if (!v.expect_build_error) throw new Error(`client build failed: ${e.message}`);
      checkError(e, v.expect_build_error, secrets);
      return;
    }
    if (v.expect_build_error) assert.fail('expected the client build to fail');
    assert.ok(!secrets.some((s) => inspect(client).includes(s) || String(client).includes(s)
      || JSON.stringify(client).includes(s)), 'the client shows its secret');
    clients.set(name, client);
  }
  if (Array.isArray(v.script)) await mock.admin.script(v.script);
  const calls = new Map(); // calls started in the background, by id, until joined
  for (const [i, step] of (v.steps ?? []).entries()) {
    try {
      await runStep(step, { clients, clock, secrets, calls, store, keys, requires: v.requires ?? [] });
    } catch (e) {
      e.message = `step ${i} (${step.op}): ${e.message}`;
      throw e;
    }
  }
  for (const id of calls.keys()) assert.fail(`call ${id} was started and never joined`);
  if (Array.isArray(v.expect_requests)) await checkRequests(v.expect_requests);
}

const STEP_KEYS = {
  token: ['client', 'expect', 'expect_error'],
  concurrent: ['calls', 'client', 'expect', 'expect_error'],
  advance: ['ms'],
  shift_wall: ['ms'],
  settle: [],
  invalidate: ['token', 'expect', 'client'],
  requests: ['count'],
  script: ['responses'],
  start: ['id', 'client'],
  pending: ['id', 'ms'],
  join: ['id', 'expect', 'expect_error'],
  store_fail: ['fail'],
  store_lock: ['client', 'ms'],
  store_unlock: ['client'],
  store_put: ['client', 'record', 'record_file', 'ms'],
};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function runStep(step, { clients, clock, secrets, calls, store, keys, requires }) {
  const allowed = STEP_KEYS[step.op];
  if (!allowed) throw new Error(`unknown op ${JSON.stringify(step.op)}`);
  for (const key of Object.keys(step)) {
    if (key !== 'op' && !allowed.includes(key)) throw new Error(`unknown key ${key} for op ${step.op}`);
  }
  if (step.op.startsWith('store_')) {
    if (!requires.includes('store_control')) throw new Error(`${step.op} needs "requires": ["store_control"]`);
    if (!store) throw new Error(`${step.op} needs "shared_store": true`);
    return storeStep(step, store, keys);
  }
  const call = () => {
    if (!calls.has(step.id)) throw new Error(`no call ${step.id}`);
    return calls.get(step.id);
  };
  const client = () => {
    const name = step.client ?? 'main';
    const c = clients.get(name);
    if (!c) throw new Error(`no client ${name}`);
    return c;
  };
  switch (step.op) {
    case 'token':
      return checkResult(await settled(client().token()), step, secrets);
    case 'concurrent': {
      const c = client();
      const results = await Promise.all(Array.from({ length: step.calls ?? 1 }, () => settled(c.token())));
      for (const r of results) checkResult(r, step, secrets);
      return;
    }
    case 'advance': return clock.advance(step.ms ?? 0);
    case 'shift_wall': return clock.shiftWall(step.ms ?? 0);
    case 'settle':
      for (const c of clients.values()) await c.settle();
      return;
    case 'invalidate':
      return assert.equal(client().invalidate(step.token ?? ''), step.expect, 'invalidate');
    case 'requests':
      return assert.equal(await mock.admin.count(), step.count, 'request count');
    case 'script':
      return mock.admin.script(step.responses ?? []);
    case 'start': {
      if (calls.has(step.id)) throw new Error(`call ${step.id} started twice`);
      const c = client();
      const entry = { done: false };
      entry.result = settled(c.token()).then((r) => { entry.done = true; return r; });
      calls.set(step.id, entry);
      return;
    }
    case 'pending': {
      const entry = call();
      await sleep(step.ms);
      return assert.ok(!entry.done, `call ${step.id} has returned`);
    }
    case 'join': {
      const entry = call();
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`call ${step.id} did not return within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      });
      try {
        const result = await Promise.race([entry.result, timeout]);
        calls.delete(step.id);
        return checkResult(result, step, secrets);
      } finally {
        clearTimeout(timer);
      }
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(step.op)}`);
  }
}

/**
 * A store_* step: another process (or an outage) acting on the store. JS's
 * MemoryStore is a JS store the core drives through its JS-store adapter (the
 * core's Rust MemoryStore is not in the WebAssembly build), so these vectors
 * run the same adapter every user's store goes through.
 */
function storeStep(step, store, keys) {
  if (step.op === 'store_fail') {
    assert.equal(typeof step.fail, 'boolean', 'fail is a bool');
    return store.setFailing(step.fail);
  }
  const name = step.client ?? 'main';
  if (!keys.has(name)) throw new Error(`no client ${name}`);
  const { token, lock } = keys.get(name);
  switch (step.op) {
    case 'store_lock':
      return assert.ok(store.tryLock(lock, FOREIGN_OWNER, step.ms), 'the lock is held already');
    case 'store_unlock':
      return store.unlock(lock, FOREIGN_OWNER);
    case 'store_put': {
      if (('record' in step) === ('record_file' in step)) throw new Error('store_put takes one of record and record_file');
      const record = 'record' in step ? String(step.record)
        : JSON.parse(readFileSync(new URL(step.record_file, DIR), 'utf8')).record;
      return store.put(token, record, step.ms);
    }
    default:
      throw new Error(`unknown op ${step.op}`);
  }
}

function settled(promise) {
  return promise.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}

function checkResult(result, step, secrets) {
  if (result.ok && step.expect_error) assert.fail(`expected error ${JSON.stringify(step.expect_error)}, got a token`);
  if (!result.ok && !step.expect_error) throw new Error(`unexpected error: ${result.error?.message ?? result.error}`);
  if (!result.ok) return checkError(result.error, step.expect_error, secrets);
  const token = result.value;
  for (const [key, want] of Object.entries(step.expect ?? {})) {
    const got = {
      access_token: () => token.accessToken,
      token_type: () => token.tokenType,
      scope: () => token.scope,
      expires_at_unix_ms: () => token.expiresAtUnixMs,
    }[key];
    if (!got) throw new Error(`unknown expectation ${key}`);
    assert.deepEqual(got(), want, key);
  }
  if (step.expect?.expires_at_unix_ms !== undefined) {
    assert.equal(token.expiresAt.getTime(), step.expect.expires_at_unix_ms, 'expiresAt');
  }
}

function checkError(e, expected, secrets) {
  assert.ok(e instanceof TokenwellError, `not a TokenwellError: ${e}`);
  const text = `${e.message} ${e.detail} ${String(e)} ${inspect(e)} ${JSON.stringify(e)}`;
  const leaked = secrets.find((s) => text.includes(s));
  assert.equal(leaked, undefined, 'error text leaks the secret');
  for (const [key, want] of Object.entries(expected)) {
    switch (key) {
      case 'code': assert.equal(e.code, want, 'code'); break;
      case 'status': assert.equal(e.status, want, 'status'); break;
      case 'retry_after_ms': assert.equal(e.retryAfterMs, want, 'retry_after_ms'); break;
      case 'detail_contains': assert.ok(e.detail.includes(want), `detail ${JSON.stringify(e.detail)} lacks ${JSON.stringify(want)}`); break;
      default: throw new Error(`unknown error expectation ${key}`);
    }
  }
}

async function checkRequests(expected) {
  const { requests } = await mock.admin.requests();
  assert.equal(requests.length, expected.length, 'number of requests');
  expected.forEach((want, i) => {
    const got = requests[i];
    assert.equal(got.method, want.method, `request ${i} method`);
    assert.equal(got.path, want.path, `request ${i} path`);
    if ('body' in want) assert.equal(got.body, want.body, `request ${i} body`);
    for (const [name, value] of Object.entries(want.headers ?? {})) {
      assert.equal(got.headers[name] ?? null, value, `request ${i} header ${name}`);
    }
  });
}
