// The client's events (onEvent), its lookups and status(), against the core's
// event table: the delivered events and the declarations (index.d.ts) have the
// table's names and fields; callbacks run in a microtask, off the fetch path;
// one that throws is logged once, one that never returns holds no fetch back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenClient, ManualClock, MemoryStore, EVENT_KINDS } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const JS = fileURLToPath(new URL('..', import.meta.url));
const TABLE = JSON.parse(readFileSync(new URL('../../schema/events.json', import.meta.url), 'utf8')).events;
const SECRET = 'events-secret-5f0e21';
const T0 = 1_767_225_600_000;
let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

const grant = (token, expiresIn = 100) => ({
  status: 200, json: { access_token: token, token_type: 'Bearer', expires_in: expiresIn },
});
const config = (extra = {}) => ({
  provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'events-client', clientSecret: SECRET, ...extra,
});
const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const keysOf = (name) => ['name', ...TABLE.find((e) => e.name === name).fields.map(camel), 'atUnixMs'];
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test('EVENT_KINDS is the core\'s table (schema/events.json)', () => {
  assert.deepEqual(EVENT_KINDS.map((e) => ({ name: e.name, fields: [...e.fields] })), TABLE);
  assert.ok(Object.isFrozen(EVENT_KINDS) && Object.isFrozen(EVENT_KINDS[0]));
});

test('the delivered events have exactly the table\'s fields, in camelCase, frozen', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('ev-1'), { status: 503, json: { error: 'server_error' } }, grant('ev-2'),
    { status: 400, json: { error: 'invalid_scope', error_description: `no ${SECRET}` } }]);
  const clock = new ManualClock(T0);
  const store = new MemoryStore({ clock });
  const events = [];
  const client = new TokenClient(config({ clock, store, onEvent: (e) => events.push(e) }));
  await client.token(); // fetch_started, store_lock (won), fetched
  clock.advance(80_000); // refresh-ahead: refresh_started, then the 503: refresh_failed
  await client.token();
  await client.settle();
  clock.advance(30_000); // expired: a fetch that gets ev-2
  await client.token();
  store.setFailing(true); // a store failure, then invalid_scope: fetch_failed
  client.invalidate('ev-2');
  await assert.rejects(client.token(), (e) => e.code === 'invalid_scope');
  await client.settle();
  await tick();
  const names = new Set(events.map((e) => e.name));
  for (const name of ['fetch_started', 'fetched', 'refresh_started', 'refresh_failed', 'fetch_failed', 'store_failed', 'store_lock']) {
    assert.ok(names.has(name), `no ${name} among ${[...names]}`);
  }
  for (const event of events) {
    assert.deepEqual(Object.keys(event), keysOf(event.name), event.name);
    assert.ok(Object.isFrozen(event), event.name);
    for (const [key, value] of Object.entries(event)) assert.notEqual(value, undefined, `${event.name}.${key}`);
    assert.ok(!JSON.stringify(event).includes(SECRET), JSON.stringify(event));
  }
  const failed = events.find((e) => e.name === 'fetch_failed');
  assert.equal(failed.error.code, 'invalid_scope');
  assert.equal(failed.error.status, 400);
  assert.ok(Object.isFrozen(failed.error));
  const refreshFailed = events.find((e) => e.name === 'refresh_failed');
  assert.equal(refreshFailed.error.code, 'server_error');
  assert.equal(refreshFailed.lifetimeMs, 20_000);
  const fetched = events.find((e) => e.name === 'fetched');
  assert.deepEqual([fetched.reason, fetched.fromStore, fetched.status, fetched.lifetimeMs], ['first', false, 200, 100_000]);
  assert.equal(fetched.atUnixMs, T0);
  assert.equal(events.find((e) => e.name === 'store_lock').outcome, 'won');
  assert.deepEqual(events.filter((e) => e.name === 'fetch_started').map((e) => e.reason), ['first', 'refresh', 'expired', 'after_401']);
  // Every fetch is named by its id, from its start to its end.
  const ended = events.filter((e) => ['fetched', 'fetch_failed', 'refresh_failed'].includes(e.name)).map((e) => e.fetchId);
  assert.deepEqual(ended, events.filter((e) => e.name === 'fetch_started').map((e) => e.fetchId));
});

test('events arrive in a microtask, never during the call that caused them', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('micro-1')]);
  const events = [];
  let inCall = false;
  const client = new TokenClient(config({ onEvent: (e) => events.push([e.name, inCall]) }));
  const pending = client.token();
  inCall = true; // the fetch started synchronously above if it was to be delivered synchronously
  await Promise.resolve();
  inCall = false;
  await pending;
  await tick();
  assert.deepEqual(events.map(([name]) => name), ['fetch_started', 'fetched']);
  assert.ok(events.every(([, during]) => !during), JSON.stringify(events));
});

// index.d.ts: tsc proves that TokenwellEvent's names are the table's and each
// variant's keys its fields (camelCase) plus name and atUnixMs.
function tsc(source) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-events-'));
  writeFileSync(join(dir, 'check.ts'), source);
  return new Promise((done) => {
    execFile(join(JS, 'node_modules', '.bin', 'tsc'),
      ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(dir, 'check.ts')],
      { cwd: dir, timeout: 120_000 }, (error, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        done({ ok: !error, output: `${stdout}${stderr}` });
      });
  });
}

function checkSource(table) {
  const decl = join(JS, 'dist', 'index.mjs');
  const union = (keys) => keys.map((k) => JSON.stringify(k)).join(' | ');
  const lines = [
    `import type { TokenwellEvent, TokenClientOptions } from ${JSON.stringify(decl)};`,
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
    `const names: Same<TokenwellEvent['name'], ${union(table.map((e) => e.name))}> = true;`,
    'const callback: Same<Parameters<NonNullable<TokenClientOptions[\'onEvent\']>>[0], TokenwellEvent> = true;',
  ];
  table.forEach((e, i) => {
    lines.push(`const keys${i}: Same<keyof Extract<TokenwellEvent, { name: ${JSON.stringify(e.name)} }>, ${union(['name', ...e.fields.map(camel), 'atUnixMs'])}> = true;`);
  });
  return lines.join('\n') + '\n';
}

test('index.d.ts declares the table\'s events, field by field', async () => {
  const good = await tsc(checkSource(TABLE));
  assert.ok(good.ok, good.output);
  // The check can fail: a field the declarations lack, or an event, is caught.
  const [first, ...rest] = TABLE;
  const badField = await tsc(checkSource([{ ...first, fields: [...first.fields, 'not_declared'] }, ...rest]));
  assert.ok(!badField.ok, 'tsc should refuse a field set that differs');
  const badEvent = await tsc(checkSource([...TABLE, { name: 'not_declared', fields: [] }]));
  assert.ok(!badEvent.ok, 'tsc should refuse an event the declarations lack');
});

test('a callback that throws is logged once, by its class name, and ignored', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('throw-1'), grant('throw-2')]);
  const warned = [];
  const saved = console.warn;
  console.warn = (...args) => warned.push(args.map(String).join(' '));
  let calls = 0;
  try {
    class LeakyError extends Error {}
    const client = new TokenClient(config({
      onEvent: () => { calls++; throw new LeakyError(`callback saw ${SECRET}`); },
    }));
    assert.equal((await client.token()).accessToken, 'throw-1');
    client.invalidate('throw-1');
    assert.equal((await client.token()).accessToken, 'throw-2');
    await tick();
  } finally {
    console.warn = saved;
  }
  assert.equal(calls, 4); // every event still reaches the callback
  assert.equal(warned.length, 1, JSON.stringify(warned));
  assert.match(warned[0], /LeakyError/);
  assert.ok(!warned[0].includes(SECRET), warned[0]);
});

test('token() from inside a callback', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('inner-1')]);
  let inner;
  let client;
  const done = new Promise((resolve, reject) => {
    client = new TokenClient(config({
      onEvent: async (e) => {
        if (e.name === 'fetched') client.token().then((t) => { inner = t; resolve(); }, reject);
      },
    }));
  });
  assert.equal((await client.token()).accessToken, 'inner-1');
  await done;
  assert.equal(inner.accessToken, 'inner-1');
  assert.equal(await mock.admin.count(), 1);
});

test('a callback stuck for 10 s holds no fetch back; the events beyond 4096 waiting are dropped and counted', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('stuck-1'), grant('stuck-2')]);
  const clock = new ManualClock(T0);
  let release;
  let timer;
  const stuck = new Promise((resolve) => { release = resolve; timer = setTimeout(resolve, 10_000); });
  const seen = [];
  const client = new TokenClient(config({ clock, onEvent: (e) => { seen.push(e.name); return stuck; } }));
  const t0 = performance.now();
  assert.equal((await client.token()).accessToken, 'stuck-1');
  clock.advance(80_000); // refresh-ahead in the background
  assert.equal((await client.token()).accessToken, 'stuck-1');
  await client.settle();
  assert.equal((await client.token()).accessToken, 'stuck-2');
  assert.ok(performance.now() - t0 < 2_000, `took ${performance.now() - t0} ms`);
  await tick();
  assert.deepEqual(seen, ['fetch_started']); // the rest wait for the stuck callback
  assert.equal(client.lookups().dropped, 0);
  // 2 events a fetch: the queue (4096) fills up, the rest are dropped.
  for (let i = 0; i < 2_100; i++) {
    client.invalidate((await client.token()).accessToken);
  }
  await client.token();
  await tick();
  // The first fetch's two events, the refresh's three, then 2,100 fetches' two
  // (the loop's first token() is the cached stuck-2).
  const total = 2 + 3 + 2 * 2_100;
  assert.equal(client.lookups().dropped, total - 1 - 4_096);
  clearTimeout(timer);
  release();
  await tick();
  assert.equal(seen.length, 1 + 4_096); // the queue drains, in order, once the callback returns
  assert.deepEqual(seen.slice(1, 4), ['fetched', 'fetch_started', 'refresh_started']);
});

test('status(): idle, up, degraded while the token lasts, down once it is gone', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('status-1'), { status: 503, json: { error: 'server_error' } },
    { status: 503, json: { error: 'server_error' } }, { status: 503, json: { error: 'server_error' } }]);
  const clock = new ManualClock(T0);
  const client = new TokenClient(config({ clock, name: 'orders-api' }));
  assert.equal(client.name, 'orders-api');
  assert.equal(client.serverAddress, '127.0.0.1');
  let s = client.status();
  assert.deepEqual([s.health, s.healthy, s.tokenUsable, s.tokenExpiresInMs, s.lastError], ['idle', true, false, null, null]);
  assert.ok(Object.isFrozen(s));
  await client.token();
  s = client.status();
  assert.deepEqual([s.health, s.healthy, s.tokenUsable, s.tokenExpiresInMs, s.storeBreaker], ['up', true, true, 100_000, null]);
  clock.advance(80_000);
  await client.token(); // refresh-ahead fails: the token still serves
  await client.settle();
  s = client.status();
  assert.deepEqual([s.health, s.healthy, s.lastError.code, s.lastError.status, s.lastErrorAtUnixMs],
    ['degraded', true, 'server_error', 503, T0 + 80_000]);
  clock.advance(30_000); // the token is gone and the endpoint still fails
  await assert.rejects(client.token(), (e) => e.code === 'server_error');
  s = client.status();
  assert.deepEqual([s.health, s.healthy, s.tokenUsable], ['down', false, false]);
  assert.ok(s.backoffMs === null || s.backoffMs >= 0);
  assert.ok(!JSON.stringify(s).includes(SECRET));
});

test('lookups(): the memo\'s hits are counted once observed, the core\'s hits and misses always', async () => {
  await mock.admin.reset();
  await mock.admin.script([grant('lookups-1', 600), grant('lookups-2', 600)]);
  const quiet = new TokenClient(config({ clientId: 'quiet' }));
  for (let i = 0; i < 10; i++) await quiet.token();
  assert.deepEqual({ ...quiet.lookups() }, { hits: 1, stale: 0, misses: 1, dropped: 0 }); // the memo's 8 not counted
  const observed = new TokenClient(config({ clientId: 'observed', onEvent: () => {} }));
  for (let i = 0; i < 10; i++) await observed.token();
  for (let i = 0; i < 5; i++) await observed.authorizationHeader();
  assert.deepEqual({ ...observed.lookups() }, { hits: 14, stale: 0, misses: 1, dropped: 0 });
});

test('onEvent must be a function', () => {
  assert.throws(() => new TokenClient(config({ onEvent: 'log' })), (e) => e.code === 'config' && /onEvent/.test(e.message));
});
