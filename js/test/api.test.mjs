// The public API in Node, beyond the vectors: the stampede, the memo, redaction,
// the browser guard, redirects, client.fetch, and the error class.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { TokenClient, AccessToken, TokenwellError, ManualClock, MemoryStore, ERROR_CODES, storeKeys, workersKvStore } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const SECRET = 'api-secret-Vb71';
let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

const grant = (token, expiresIn = 600, extra = {}) => ({
  status: 200, headers: { 'content-type': 'application/json' },
  json: { access_token: token, token_type: 'Bearer', expires_in: expiresIn }, ...extra,
});
const config = (extra = {}) => ({
  provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'api-client', clientSecret: SECRET, ...extra,
});

test('1000 concurrent token() calls on a cold cache make exactly one request', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('cold-1', 600, { delay_ms: 100 })]);
  const client = new TokenClient(config());
  const results = await Promise.all(Array.from({ length: 1000 }, () => client.token()));
  assert.ok(results.every((t) => t.accessToken === 'cold-1'));
  assert.equal(await mock.admin.count(), 1);
});

test('a failed stampede shares one error and one request', async () => {
  await mock.admin.reset();
  await mock.admin.script([{ status: 503, json: { error: 'server_error' }, delay_ms: 50 }]);
  const client = new TokenClient(config());
  const results = await Promise.allSettled(Array.from({ length: 1000 }, () => client.authorizationHeader()));
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof TokenwellError && r.reason.code === 'server_error'));
  assert.equal(await mock.admin.count(), 1);
});

test('a ManualClock without a time starts where it does in every language', () => {
  const clock = new ManualClock();
  assert.equal(clock.unixMs(), 1_767_225_600_000); // 2026-01-01T00:00:00Z
  assert.equal(clock.nowMs(), 0);
  assert.equal(new ManualClock(5).unixMs(), 5);
});

test('the memo serves the core\'s answer until its deadline, then asks again', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('memo-1', 100), grant('memo-2', 100)]);
  const clock = new ManualClock(1_767_225_600_000);
  const client = new TokenClient(config({ clock }));
  const first = await client.token(); // a fetch: reuse 0, not memoised
  const second = await client.token(); // the core: reuse until refresh-ahead (80 s)
  const third = await client.token(); // the memo: the very same object
  assert.equal(first.accessToken, 'memo-1');
  assert.equal(second, third);
  clock.advance(79_999);
  assert.equal(await client.token(), third);
  assert.equal(await mock.admin.count(), 1);
  clock.advance(1); // refresh-ahead: the current token, and one background fetch
  assert.equal((await client.token()).accessToken, 'memo-1');
  await client.settle();
  assert.equal((await client.token()).accessToken, 'memo-2');
  assert.equal(await mock.admin.count(), 2);
});

test('invalidate() clears the memo and the core\'s token; an old token keeps the new one', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('inv-1'), grant('inv-2')]);
  const client = new TokenClient(config({ clock: new ManualClock() }));
  await client.token();
  await client.token(); // memoised
  assert.equal(client.invalidate('inv-1'), true);
  assert.equal((await client.token()).accessToken, 'inv-2');
  assert.equal(client.invalidate('inv-1'), false);
  assert.equal(await client.authorizationHeader(), 'Bearer inv-2');
  assert.equal(await mock.admin.count(), 2);
});

test('clients sharing a MemoryStore share the token', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('shared-1')]);
  const store = new MemoryStore();
  const a = new TokenClient(config({ store }));
  const b = new TokenClient(config({ store }));
  assert.equal((await a.token()).accessToken, 'shared-1');
  assert.equal((await b.token()).accessToken, 'shared-1');
  assert.equal(await mock.admin.count(), 1);
});

/** A user's own store: a Map, sync methods, recording every call. */
function mapStore({ lock = true } = {}) {
  const map = new Map();
  const calls = [];
  const store = {
    map, calls,
    get(key) { calls.push(['get', key]); return map.get(key) ?? null; },
    put(key, record, ttlMs) { calls.push(['put', key, record, ttlMs]); map.set(key, record); },
    removeIf(key, record) { calls.push(['removeIf', key, record]); if (map.get(key) === record) map.delete(key); },
  };
  if (lock) {
    const locks = new Map();
    store.tryLock = (name, owner) => { calls.push(['tryLock', name]); if (locks.has(name)) return false; locks.set(name, owner); return true; };
    store.unlock = (name, owner) => { calls.push(['unlock', name]); if (locks.get(name) === owner) locks.delete(name); };
  }
  return store;
}

test('a user store (any object with get/put/removeIf, sync or async) shares the token; it sees hashed keys and sealed records only', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('own-store-1', 600, { delay_ms: 50 })]);
  const store = mapStore();
  const a = new TokenClient(config({ store }));
  const b = new TokenClient(config({ store }));
  const tokens = await Promise.all([...Array(10)].map((_, i) => (i % 2 ? a : b).token()));
  assert.ok(tokens.every((t) => t.accessToken === 'own-store-1'));
  assert.equal(await mock.admin.count(), 1);
  const { token: key, lock } = storeKeys(config());
  assert.match(key, /^tokenwell:\{[0-9a-f]{64}\}:t$/);
  assert.deepEqual([...store.map.keys()], [key]);
  assert.ok(store.calls.some(([op, name]) => op === 'tryLock' && name === lock), 'the lock was taken');
  const seen = JSON.stringify(store.calls);
  assert.ok(!seen.includes('own-store-1') && !seen.includes(SECRET) && !seen.includes('api-client'), seen);
  // invalidate() removes that record from the store (after the core checked its fingerprint).
  a.invalidate('own-store-1');
  await new Promise((resolve) => { setTimeout(resolve, 20); });
  assert.equal(store.map.size, 0);
  // A store without a lock still shares a stored token.
  await mock.admin.script([grant('own-store-2')]);
  const lockless = mapStore({ lock: false });
  assert.equal((await new TokenClient(config({ store: lockless })).token()).accessToken, 'own-store-2');
  assert.equal((await new TokenClient(config({ store: lockless })).token()).accessToken, 'own-store-2');
  assert.equal(await mock.admin.count(), 2);
});

test('a store answers as in Python: "OK" from tryLock takes the lock, a Buffer from get is a record, any other get answer is a miss that warns', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('answers-1'), grant('answers-2')]);
  // node-redis / ioredis over SET NX: "OK" when taken, null when held elsewhere.
  const map = new Map();
  const redisLike = {
    get: (key) => (map.has(key) ? Buffer.from(map.get(key)) : null),
    put: (key, record) => { map.set(key, record); },
    removeIf: (key, record) => { if (map.get(key) === record) map.delete(key); },
    tryLock: () => 'OK',
    unlock: () => 1,
  };
  const fast = config({ http: { timeoutMs: 2000, connectTimeoutMs: 2000 } });
  const started = performance.now();
  assert.equal((await new TokenClient({ ...fast, store: redisLike }).token()).accessToken, 'answers-1');
  // Had "OK" read as "held elsewhere", the client would have waited out the lock (6 s) first.
  assert.ok(performance.now() - started < 3000, `took ${performance.now() - started} ms`);
  assert.equal((await new TokenClient({ ...fast, store: redisLike }).token()).accessToken, 'answers-1', 'the Buffer was read');
  assert.equal(await mock.admin.count(), 1);

  const warnings = [];
  const saved = console.warn;
  console.warn = (...args) => warnings.push(args.map(String).join(' '));
  try {
    const numbers = { ...redisLike, get: () => 42 };
    assert.equal((await new TokenClient({ ...fast, store: numbers }).token()).accessToken, 'answers-2');
  } finally {
    console.warn = saved;
  }
  assert.equal(await mock.admin.count(), 2);
  assert.ok(warnings.some((w) => w.includes('get returned a number, not a string or null')), JSON.stringify(warnings));
});

test('a store answer over 64 KiB is a miss that warns; the next fetch replaces it', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('bounded-1')]);
  const { token: key } = storeKeys(config());
  const map = new Map([[key, 'x'.repeat(64 * 1024 + 1)]]);
  const store = {
    get: (k) => map.get(k) ?? null,
    put: (k, record) => { map.set(k, record); },
    removeIf: (k, record) => { if (map.get(k) === record) map.delete(k); },
  };
  const warnings = [];
  const saved = console.warn;
  console.warn = (...args) => warnings.push(args.map(String).join(' '));
  try {
    assert.equal((await new TokenClient(config({ store })).token()).accessToken, 'bounded-1');
  } finally {
    console.warn = saved;
  }
  assert.ok(warnings.some((w) => w.includes('over 65536 bytes')), JSON.stringify(warnings));
  assert.ok(map.get(key).length < 64 * 1024, 'replaced');
  assert.equal((await new TokenClient(config({ store })).token()).accessToken, 'bounded-1', 'shared');
  assert.equal(await mock.admin.count(), 1);
});

test('store settings ride along: { use: store, keyPrefix }', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('prefixed-1')]);
  const store = mapStore();
  await new TokenClient(config({ store: { use: store, keyPrefix: 'acme' } })).token();
  assert.deepEqual([...store.map.keys()], [storeKeys(config({ store: { keyPrefix: 'acme' } })).token]);
  assert.match([...store.map.keys()][0], /^acme:\{/);
});

test('a store without get/put/removeIf, or a waitUntil that is no function, is a config error', () => {
  for (const bad of [{ store: { get() {}, put() {} } }, { store: 42 }, { waitUntil: 'later' }]) {
    assert.throws(() => new TokenClient(config(bad)), (e) => e instanceof TokenwellError && e.code === 'config');
  }
});

test('waitUntil receives the background work: the client default, or the call\'s own', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('wait-1', 600, { delay_ms: 30 }), grant('wait-2')]);
  const handed = { client: [], call: [] };
  const client = new TokenClient(config({ store: mapStore(), waitUntil: (p) => handed.client.push(p) }));
  assert.equal((await client.token()).accessToken, 'wait-1');
  assert.equal(handed.client.length, 1, 'the fetch (store calls included) went to the client hook');
  await Promise.all(handed.client); // it settles
  client.invalidate('wait-1', { waitUntil: (p) => handed.call.push(p) });
  assert.equal(handed.call.length, 1, 'the record removal went to the call hook');
  assert.equal((await client.token({ waitUntil: (p) => handed.call.push(p) })).accessToken, 'wait-2');
  assert.equal(handed.call.length, 2, 'the fetch went to the call hook');
  assert.equal(handed.client.length, 1);
  await Promise.all(handed.call);
  // A throwing hook does not stop the work.
  const rude = new TokenClient(config({ waitUntil: () => { throw new Error('no'); } }));
  await mock.admin.script([grant('wait-3')]);
  assert.equal((await rude.token()).accessToken, 'wait-3');
});

test('workersKvStore: TTL at least 60 s, at most one write per second per key, no lock', async () => {
  const puts = [];
  const kv = { get: async () => null, put: async (k, v, o) => { puts.push([k, o.expirationTtl]); }, delete: async () => {} };
  const store = workersKvStore(kv);
  assert.equal(store.tryLock, undefined);
  await store.put('k', 'r1', 5_000);
  await store.put('k', 'r2', 5_000); // within the second: skipped
  await store.put('other', 'r3', 600_500);
  assert.deepEqual(puts, [['k', 60], ['other', 601]]);
  assert.equal(String(store), 'workersKvStore {}');
});

test('console.log / inspect / String / JSON of the client show no secret and no token', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('visible-token-never')]);
  const client = new TokenClient(config());
  await client.token();
  await client.token();
  for (const text of [inspect(client), inspect(client, { showHidden: true, depth: 10 }), String(client), JSON.stringify(client)]) {
    assert.ok(!text.includes(SECRET), text);
    assert.ok(!text.includes('visible-token-never'), text);
  }
  assert.match(String(client), /client_secret=\[redacted\]/);
});

test("a token URL's query values never show: inspect, String, errors", async () => {
  await mock.admin.reset();
  await mock.admin.script([{ status: 401, json: { error: 'invalid_client' } }]);
  const key = 'canary-query-3b7d';
  const client = new TokenClient(config({ tokenUrl: `${mock.url}/custom/token?api_key=${key}&tenant=acme` }));
  const error = await client.token().then(() => null, (e) => e);
  assert.ok(error instanceof TokenwellError);
  const shown = `${mock.url}/custom/token?api_key=[redacted]&tenant=[redacted]`;
  assert.ok(String(client).includes(shown), String(client));
  for (const text of [inspect(client), String(client), String(error), inspect(error), JSON.stringify(error)]) {
    assert.ok(!text.includes(key), text);
  }
});

test('the token object redacts the token in inspect, toString and toJSON, and still reads it', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('printed-token-never', 600, { json: { access_token: 'printed-token-never', expires_in: 600, scope: 'a b' } })]);
  const client = new TokenClient(config());
  const token = await client.token();
  assert.ok(token instanceof AccessToken);
  assert.equal(token.accessToken, 'printed-token-never');
  assert.equal(token.authorizationHeader, 'Bearer printed-token-never');
  assert.equal(token.scope, 'a b');
  const logged = [];
  const original = console.log;
  console.log = (...args) => logged.push(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' '));
  try {
    console.log(token);
    console.log('token: %o %O %s', token, token, token);
    console.log({ nested: { token } });
  } finally {
    console.log = original;
  }
  const shown = [
    ...logged, inspect(token), inspect(token, { showHidden: true, depth: 10, customInspect: true }),
    String(token), `${token}`, JSON.stringify(token), JSON.stringify({ token }),
    JSON.stringify({ ...token }), inspect(structuredClone({ ...token })), Object.keys(token).join(','),
  ];
  for (const text of shown) assert.ok(!text.includes('printed-token-never'), text);
  assert.match(String(token), /accessToken=\[redacted\]/);
  assert.equal(JSON.parse(JSON.stringify(token)).accessToken, '[redacted]');
  assert.equal(JSON.parse(JSON.stringify(token)).scope, 'a b');
  assert.throws(() => { token.tokenType = 'x'; }, TypeError); // frozen
});

test('config errors are TokenwellError with code "config" and never echo the secret', () => {
  for (const bad of [
    { provider: 'nope', clientId: 'a', clientSecret: SECRET },
    { provider: 'custom', clientId: 'a', clientSecret: SECRET },
    { provider: 'custom', tokenUrl: 'http://example.com/token', clientId: 'a', clientSecret: SECRET },
    { provider: 'custom', tokenUrl: `${mock.url}/t`, clientId: 'a', clientSecret: SECRET, unknownKey: 1 },
    { provider: 'custom', tokenUrl: `${mock.url}/t`, clientId: 'a', clientSecret: 42 },
  ]) {
    assert.throws(() => new TokenClient(bad), (e) => {
      assert.ok(e instanceof TokenwellError && e instanceof Error, String(e));
      assert.equal(e.code, 'config');
      assert.ok(!`${e.message} ${e.detail} ${inspect(e)}`.includes(SECRET));
      return true;
    });
  }
  assert.throws(() => new TokenClient(null), { code: 'config' });
  assert.throws(() => new TokenClient({ ...config(), clock: {} }), { code: 'config' });
});

test('in a browser page the constructor throws unless dangerouslyAllowBrowser is true', () => {
  globalThis.window = globalThis;
  globalThis.document = {};
  try {
    assert.throws(() => new TokenClient(config()), (e) => e instanceof TokenwellError && e.code === 'config' && /browser/.test(e.message));
    assert.ok(new TokenClient({ ...config(), dangerouslyAllowBrowser: true }));
  } finally {
    delete globalThis.window;
    delete globalThis.document;
  }
  assert.ok(new TokenClient(config()));
});

test('a redirect from the token endpoint is not followed', async () => {
  await mock.admin.reset();
  await mock.admin.script([{ status: 302, headers: { location: `${mock.url}/custom/elsewhere` }, body: '' }, grant('never')]);
  const client = new TokenClient(config());
  await assert.rejects(client.token(), (e) => e instanceof TokenwellError && e.code === 'http_error' && e.status === 302);
  assert.equal(await mock.admin.count(), 1);
});

test('client.fetch passes non-401 answers through and keeps Request bodies for the retry', async () => {
  await mock.admin.reset();
  await mock.admin.script([
    grant('f-1'),
    { status: 403, json: { error: 'forbidden' } },
    { status: 401, json: { error: 'expired' } },
    grant('f-2'),
    { status: 201, json: { created: true } },
  ]);
  const client = new TokenClient(config());
  const forbidden = await client.fetch(`${mock.url}/custom/api`, { method: 'POST', body: 'a' });
  assert.equal(forbidden.status, 403); // not retried
  await forbidden.arrayBuffer();
  const request = new Request(`${mock.url}/custom/api`, { method: 'POST', body: 'payload', headers: { 'x-trace': '7' } });
  const created = await client.fetch(request);
  assert.equal(created.status, 201);
  const { requests } = await mock.admin.requests();
  assert.equal(requests.length, 5);
  assert.equal(requests[2].headers.authorization, 'Bearer f-1');
  assert.equal(requests[4].headers.authorization, 'Bearer f-2');
  assert.equal(requests[4].body, 'payload');
  assert.equal(requests[4].headers['x-trace'], '7');
});

test('client.fetch keeps its token when a redirect to another host answers 401', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('kept-1'), grant('never')]);
  const { createServer } = await import('node:http');
  const seen = [];
  const listen = (handler) => new Promise((resolve) => {
    const server = createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
  const other = await listen((req, res) => { seen.push(req.headers.authorization ?? null); res.writeHead(401).end(); });
  const api = await listen((req, res) => {
    res.writeHead(302, { location: `http://localhost:${other.address().port}/elsewhere` }).end();
  });
  try {
    const client = new TokenClient(config());
    const response = await client.fetch(`http://127.0.0.1:${api.address().port}/orders`);
    assert.equal(response.status, 401);
    assert.deepEqual(seen, [null], 'fetch sent no token to the other host');
    assert.equal(await mock.admin.count(), 1, 'no second token: the first was not dropped');
    assert.equal((await client.token()).accessToken, 'kept-1');
  } finally {
    api.close();
    other.close();
  }
});

test('TokenwellError is exported with the stable codes', () => {
  assert.equal(ERROR_CODES.length, 17);
  const e = new TokenwellError('timeout', 'timeout: slow', { detail: 'slow' });
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'TokenwellError');
  assert.equal(e.status, null);
  assert.equal(e.retryAfterMs, null);
});
