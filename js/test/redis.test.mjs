// redisStore over node-redis and ioredis against a real redis-server (started
// here on a free port), counting token requests at the mock provider: several
// Node processes, and Node with Rust processes (`tokenwell fleet-probe`, the
// native Redis store) on one Redis, share exactly one token. And a store that
// throws, rejects or hangs never fails a caller. upstashStore runs the same
// checks through @upstash/redis, whose HTTP commands a small server here
// executes on the same redis-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { Redis as Upstash } from '@upstash/redis';
import { TokenClient, redisStore, upstashStore, storeKeys } from 'tokenwell';
import { startMock, mockBinary } from './helpers/mock.mjs';
import { NO_REDIS, redisTest, startRedis } from './helpers/redis.mjs';

const PROBE = fileURLToPath(new URL('./fleet/node-probe.mjs', import.meta.url));
const SECRET = 'redis-secret-Q81x';
let mock;
let redis;
let redisUrl;
let dir;

before(async () => {
  mock = await startMock();
  if (NO_REDIS) return;
  redis = await startRedis();
  redisUrl = redis.url;
  dir = mkdtempSync(join(tmpdir(), 'tokenwell-redis-'));
});

after(async () => {
  await mock?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh tenant (its own keys) on the mock, so tests never share a record. */
function config(tenant) {
  return {
    provider: 'deliveroo', environment: 'sandbox', base_url: `${mock.url}/deliveroo`,
    client_id: `redis-${tenant}`, client_secret: SECRET,
  };
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} failed: ${error.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n').filter(Boolean).map((line) => Object.fromEntries(
        line.split(' ').slice(1).map((kv) => kv.split('=')))));
    });
  });
}

const nodeProbe = (cfg, kind, callers, startAt) =>
  run(process.execPath, [PROBE, JSON.stringify(cfg), redisUrl, kind, String(callers), String(startAt)]);

function rustProbe(cfg, callers, startAt) {
  const file = join(dir, `${cfg.client_id}-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ ...cfg, store: { redis_url: redisUrl, timeout_ms: 2000 } }));
  return run(mockBinary(), ['fleet-probe', '--config', file, '--callers', String(callers), '--start-at-unix-ms', String(startAt)]);
}

async function endpointLatency(ms) {
  await mock.admin.reset();
  const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify({ latency_ms: ms }) });
  assert.equal(res.status, 200);
}
// Slow enough that every process is waiting while the one fetch is in flight.
const slowEndpoint = () => endpointLatency(300);

redisTest('4 Node processes (node-redis and ioredis) on one redis-server: 1 token request', async () => {
  await slowEndpoint();
  const cfg = config('node4');
  const startAt = Date.now() + 1_500; // after every process has started
  const lines = (await Promise.all(['redis', 'ioredis', 'redis', 'ioredis']
    .map((kind) => nodeProbe(cfg, kind, 20, startAt)))).flat();
  assert.equal(lines.length, 4);
  for (const line of lines) assert.equal(line.tokens, '1');
  assert.equal(new Set(lines.map((l) => l.token)).size, 1, 'one token for the fleet');
  assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
  console.log(`node x4: ${await mock.admin.count()} token request for 80 callers`);
});

redisTest('Node and Rust processes on one redis-server: 1 token request (same keys, scripts, sealed records)', async () => {
  await slowEndpoint();
  const cfg = config('mixed');
  const startAt = Date.now() + 1_500;
  const lines = (await Promise.all([
    nodeProbe(cfg, 'redis', 20, startAt), nodeProbe(cfg, 'ioredis', 20, startAt),
    rustProbe(cfg, 20, startAt), rustProbe(cfg, 20, startAt),
  ])).flat();
  assert.equal(lines.length, 4);
  assert.equal(new Set(lines.map((l) => l.token)).size, 1, 'one token for Node and Rust');
  assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
});

redisTest('redisStore: a record over 64 KiB is refused inside Redis (a miss) and the next fetch replaces it', async () => {
  await endpointLatency(0);
  const cfg = config('oversized');
  const redis = await createClient({ url: redisUrl }).connect();
  const ioredis = new Redis(redisUrl);
  try {
    const { token: key } = storeKeys(cfg);
    await ioredis.set(key, 'x'.repeat(64 * 1024 + 1));
    for (const store of [redisStore(redis), redisStore(ioredis)]) {
      await assert.rejects(store.get(key), /65536/, 'refused by the GET script, not transferred');
    }
    const a = new TokenClient({ ...cfg, store: redisStore(ioredis) });
    const token = await a.token();
    await a.settle();
    assert.equal(await mock.admin.count(), 1);
    const record = await ioredis.get(key);
    assert.match(record, /^\d+\.[0-9a-f]+\./, 'replaced by a sealed record');
    const b = new TokenClient({ ...cfg, store: redisStore(redis) });
    assert.equal((await b.token()).accessToken, token.accessToken, 'the replacement is shared');
    assert.equal(await mock.admin.count(), 1);
  } finally {
    await (redis.close ?? redis.quit).call(redis);
    await ioredis.quit();
  }
});

redisTest('redisStore: a record sealed in Node is in Redis under the core keys, sealed; remove-if and unlock by the core scripts', async () => {
  await endpointLatency(0);
  const cfg = config('keys');
  const redis = await createClient({ url: redisUrl }).connect();
  const ioredis = new Redis(redisUrl);
  try {
    const a = new TokenClient({ ...cfg, store: redisStore(redis) });
    const token = await a.token();
    await a.settle();
    const { token: key, lock } = storeKeys(cfg);
    const record = await ioredis.get(key);
    assert.match(record, /^\d+\.[0-9a-f]+\./, 'a sealed record');
    assert.ok(!record.includes(token.accessToken) && !record.includes(SECRET), 'sealed');
    assert.equal(await ioredis.get(lock), null, 'the lock is released');
    assert.ok((await ioredis.pttl(key)) > 0, 'with a TTL');
    // Another client (ioredis) adopts it: no request.
    const b = new TokenClient({ ...cfg, store: redisStore(ioredis) });
    assert.equal((await b.token()).accessToken, token.accessToken);
    assert.equal(await mock.admin.count(), 1);
    // invalidate removes that record (the core's REMOVE_IF by fingerprint).
    assert.equal(b.invalidate(token.accessToken), true);
    for (let i = 0; i < 50 && (await ioredis.get(key)) !== null; i++) await new Promise((r) => { setTimeout(r, 10); });
    assert.equal(await ioredis.get(key), null, 'removed after invalidate');
    assert.equal(String(redisStore(redis)), 'redisStore(node-redis) {}');
    assert.equal(inspect(redisStore(ioredis)), 'redisStore(ioredis) {}');
  } finally {
    await (redis.close ?? redis.quit).call(redis);
    await ioredis.quit();
  }
});

test('redisStore refuses what is not a Redis client', () => {
  assert.throws(() => redisStore({}), TypeError);
  assert.throws(() => redisStore(null), TypeError);
});

/** A store whose every method fails in the given way, counting calls. */
function brokenStore(how) {
  const store = { calls: 0 };
  const fail = () => {
    store.calls++;
    if (how === 'throw') throw new Error(`boom ${SECRET}`);
    if (how === 'reject') return Promise.reject(new Error(`boom ${SECRET}`));
    return new Promise(() => {}); // hangs
  };
  for (const m of ['get', 'put', 'removeIf', 'tryLock', 'unlock']) store[m] = fail;
  return store;
}

for (const how of ['throw', 'reject', 'hang']) {
  test(`a store that ${how}s never fails a caller (time-boxed; the breaker stops asking)`, async () => {
    await endpointLatency(0);
    const store = brokenStore(how);
    const events = [];
    const warn = console.warn;
    console.warn = (...args) => { events.push(args.join(' ')); };
    try {
      const client = new TokenClient({ ...config(`broken-${how}`), store: { use: store, timeoutMs: 100 } });
      const started = Date.now();
      const token = await client.token();
      assert.ok(token.accessToken.length > 0);
      // Past its refresh point nothing is fresh: more calls, still no error.
      client.invalidate(token.accessToken);
      await client.token();
      client.invalidate((await client.token()).accessToken);
      await client.token();
      await client.settle();
      const elapsed = Date.now() - started;
      // 3 failures open the breaker: later calls do not reach the store.
      assert.ok(store.calls <= 4, `store calls ${store.calls}`);
      // Each hang costs the 100 ms time-box, and only until the breaker opens.
      if (how === 'hang') assert.ok(elapsed < 900, `the hang cost ${elapsed} ms`);
    } finally {
      console.warn = warn;
    }
    assert.ok(events.some((e) => /token store failed/.test(e)), 'a warning');
    assert.ok(!events.some((e) => e.includes(SECRET) || e.includes('boom')), 'no exception text in the logs');
  });
}

// A cold client on a store that fails after the lock is taken: one time-box,
// a few round trips on loopback, and its own fetch (instant here): far below the
// lock's lapse (11 s), which a cold client that waited for the lock would take twice.
const COLD_BUDGET_MS = 300 + 1_000;

/** Three cold clients in a row, each a process of its own, on stores from `makeStore`. */
async function threeColdClients(cfg, makeStore, admin) {
  const { lock } = storeKeys(cfg);
  for (let n = 1; n <= 3; n++) {
    const started = Date.now();
    const client = new TokenClient({ ...cfg, store: makeStore() });
    const token = await client.token();
    const took = Date.now() - started;
    console.log(`cold client ${n}: ${took} ms, endpoint requests so far ${await mock.admin.count()}`);
    assert.ok(token.accessToken.length > 0);
    assert.ok(took < COLD_BUDGET_MS, `cold client ${n} took ${took} ms`);
    assert.equal(await admin.get(lock), null, 'the lock was released');
  }
}

redisTest('redisStore with a Redis user without scripting: every cold client gets its token at once, reported once with the ACL rules', async () => {
  await endpointLatency(0);
  const admin = await createClient({ url: redisUrl }).connect();
  const password = 'noscript-pw-8e2f';
  await admin.sendCommand(['ACL', 'SETUSER', 'noscript', 'on', `>${password}`, '~*', '+@all', '-@scripting']);
  const url = redisUrl.replace('redis://', `redis://noscript:${password}@`);
  const redis = await createClient({ url }).connect();
  const ioredis = new Redis(url);
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => { warnings.push(args.join(' ')); };
  try {
    await threeColdClients(config('noscript-redis'), () => redisStore(redis), admin);
    await threeColdClients(config('noscript-ioredis'), () => redisStore(ioredis), admin);
  } finally {
    console.warn = warn;
    await (redis.close ?? redis.quit).call(redis);
    await ioredis.quit();
    await (admin.close ?? admin.quit).call(admin);
  }
  assert.equal(await mock.admin.count(), 6);
  const acl = warnings.filter((w) => /refuses to run scripts/.test(w));
  assert.equal(acl.length, 1, `reported once: ${warnings.join('\n')}`);
  assert.match(acl[0], /\+get \+set \+del \+eval \+evalsha \+script\|load ~tokenwell:\*/);
  assert.ok(!warnings.some((w) => w.includes(password)), 'no password in the warnings');
});

redisTest('redisStore with a record key of another type (WRONGTYPE): every cold client gets its token at once', async () => {
  await endpointLatency(0);
  const admin = await createClient({ url: redisUrl }).connect();
  const ioredis = new Redis(redisUrl);
  const warn = console.warn;
  console.warn = () => {};
  try {
    const cfg = config('wrongtype');
    await admin.sendCommand(['RPUSH', storeKeys(cfg).token, 'not-a-record']);
    await threeColdClients(cfg, () => redisStore(ioredis), admin);
  } finally {
    console.warn = warn;
    await ioredis.quit();
    await (admin.close ?? admin.quit).call(admin);
  }
  assert.equal(await mock.admin.count(), 3);
});

redisTest('redisStore: a record that does not open (a forged far-future header) is replaced, and sharing resumes', async () => {
  await endpointLatency(0);
  const admin = await createClient({ url: redisUrl }).connect();
  const ioredis = new Redis(redisUrl);
  try {
    const cfg = config('unreadable');
    const { token: key } = storeKeys(cfg);
    let requests = 0;
    for (const junk of ['99999999999999999999.deadbeef.AAAA', '9999999999999999.deadbeef.AAAA']) {
      await admin.set(key, junk);
      const a = new TokenClient({ ...cfg, store: redisStore(ioredis) });
      const token = await a.token();
      await a.settle();
      assert.equal(await mock.admin.count(), ++requests, `${junk}: one fetch`);
      const b = new TokenClient({ ...cfg, store: redisStore(admin) });
      assert.equal((await b.token()).accessToken, token.accessToken, `${junk}: shared again`);
      assert.equal(await mock.admin.count(), requests, `${junk}: adopted`);
    }
  } finally {
    await ioredis.quit();
    await (admin.close ?? admin.quit).call(admin);
  }
});

test('an own store whose get throws inside the publish releases the lock before the caller gets its token', async () => {
  await endpointLatency(0);
  const records = new Map();
  const locks = new Map();
  let gets = 0;
  const store = {
    get(key) {
      // The holder reads twice (before the lock, holding it); the third read is the publish's.
      if (++gets >= 3) throw new Error(`boom ${SECRET}`);
      return records.get(key) ?? null;
    },
    put(key, record) { records.set(key, record); },
    removeIf(key, record) { if (records.get(key) === record) records.delete(key); },
    tryLock(lock, owner) {
      if (locks.has(lock)) return false;
      locks.set(lock, owner);
      return true;
    },
    unlock(lock, owner) { if (locks.get(lock) === owner) locks.delete(lock); },
  };
  const warn = console.warn;
  console.warn = () => {};
  try {
    const client = new TokenClient({ ...config('publish-throws'), store });
    const token = await client.token();
    assert.ok(token.accessToken.length > 0);
    assert.equal(gets, 3, 'the publish read and failed');
    assert.equal(locks.size, 0, 'the lock was released');
  } finally {
    console.warn = warn;
  }
});

/**
 * A stand-in for Upstash's REST API (no Upstash account is reachable here):
 * each POSTed command array runs on the redis-server; replies base64-encoded
 * as @upstash/redis asks by default.
 */
async function upstashServer(redis) {
  const http = createHttpServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const encode = (v) => (typeof v === 'string' ? Buffer.from(v).toString('base64')
      : Array.isArray(v) ? v.map(encode) : v);
    const one = async (command) => {
      const result = await redis.sendCommand(command.map(String));
      return { result: req.headers['upstash-encoding'] === 'base64' ? encode(result) : result };
    };
    try {
      // POST / runs one command; POST /pipeline (the client's auto-pipelining) a list.
      const parsed = JSON.parse(body);
      const reply = req.url.startsWith('/pipeline') ? await Promise.all(parsed.map(one)) : await one(parsed);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(reply));
    } catch (e) {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: String(e.message) }));
    }
  });
  await new Promise((resolve) => { http.listen(0, '127.0.0.1', resolve); });
  return { url: `http://127.0.0.1:${http.address().port}`, close: () => new Promise((r) => { http.close(r); }) };
}

redisTest('upstashStore over @upstash/redis (commands on the real redis-server): clients share one token, with a Rust process', async () => {
  await slowEndpoint();
  const redis = await createClient({ url: redisUrl }).connect();
  const rest = await upstashServer(redis);
  try {
    const cfg = config('upstash');
    const clients = Array.from({ length: 3 }, () => new TokenClient({
      ...cfg, store: upstashStore(new Upstash({ url: rest.url, token: 'test-token' })),
    }));
    const startAt = Date.now() + 500;
    const [rust, ...tokens] = await Promise.all([
      rustProbe(cfg, 10, startAt),
      ...clients.map(async (c) => {
        await new Promise((r) => { setTimeout(r, startAt - Date.now()); });
        return Promise.all(Array.from({ length: 10 }, () => c.token()));
      }),
    ]);
    const distinct = new Set(tokens.flat().map((t) => t.accessToken));
    assert.equal(distinct.size, 1, 'one token');
    assert.equal(rust.length, 1);
    assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
    assert.equal(await redis.get(storeKeys(cfg).lock), null, 'the lock is released');
  } finally {
    await rest.close();
    await (redis.close ?? redis.quit).call(redis);
  }
});
