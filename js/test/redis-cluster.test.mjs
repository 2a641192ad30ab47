// redisStore over node-redis and ioredis cluster clients against a real Redis
// Cluster (3 primaries, 3 replicas, started here on free ports with
// `redis-cli --cluster create`), counting token requests at the mock
// provider: both cluster clients share one token, their keys land in one slot
// and the lock is released; Node and Rust processes on the cluster share one
// token request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { createCluster } from 'redis';
import Redis from 'ioredis';
import { TokenClient, redisStore, storeKeys } from 'tokenwell';
import { startMock, mockBinary } from './helpers/mock.mjs';
import { NO_REDIS, REDIS_CLI, freePort, startRedis } from './helpers/redis.mjs';

const clusterTest = (name, fn) => test(name, { skip: NO_REDIS }, fn);

const PROBE = fileURLToPath(new URL('./fleet/node-probe.mjs', import.meta.url));
const SECRET = 'cluster-secret-6Fq2';
let mock;
let dir;
const servers = [];
let ports = [];

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** Waits until every node says cluster_state:ok and every replica is in sync. */
async function healthy() {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const states = await Promise.all(ports.map(async (port) => {
      const info = await run(REDIS_CLI, ['-p', String(port), 'cluster', 'info']).catch(() => '');
      const repl = await run(REDIS_CLI, ['-p', String(port), 'info', 'replication']).catch(() => '');
      return info.includes('cluster_state:ok') && (repl.includes('role:master') || repl.includes('master_link_status:up'));
    }));
    if (states.every(Boolean)) return;
    assert.ok(Date.now() < deadline, 'the cluster is healthy within 30 s');
    await sleep(100);
  }
}

before(async () => {
  mock = await startMock();
  if (NO_REDIS) return;
  dir = mkdtempSync(join(tmpdir(), 'tokenwell-cluster-'));
  // A node's cluster bus listens 10000 higher: that port must be free too. A
  // port a parallel test takes between the check and the start: another one.
  for (let attempts = 0; servers.length < 6; attempts += 1) {
    assert.ok(attempts < 30, 'six cluster nodes start within 30 attempts');
    const port = await freePort();
    if (port > 55_535 || ports.includes(port) || (await freePort(port + 10_000)) === null) continue;
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const args = ['--dir', nodeDir, '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000',
      '--cluster-config-file', 'nodes.conf'];
    const server = await startRedis({ port, args }).catch(() => null);
    if (server === null) continue;
    servers.push(server);
    ports.push(port);
  }
  await run(REDIS_CLI, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas', '1', '--cluster-yes']);
  await healthy();
});

after(async () => {
  await mock?.stop();
  await Promise.all(servers.map((server) => server.stop('SIGKILL')));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const urls = () => ports.map((p) => `redis://127.0.0.1:${p}`);

/** A fresh tenant (its own keys) on the mock. */
function config(tenant) {
  return {
    provider: 'deliveroo', environment: 'sandbox', base_url: `${mock.url}/deliveroo`,
    client_id: `cluster-${tenant}`, client_secret: SECRET,
  };
}

async function endpointLatency(ms) {
  await mock.admin.reset();
  const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify({ latency_ms: ms }) });
  assert.equal(res.status, 200);
}

clusterTest('redisStore over node-redis createCluster and ioredis Cluster: one token, keys in one slot, lock released', async () => {
  await endpointLatency(0);
  const cfg = config('clients');
  const nodeRedis = await createCluster({ rootNodes: urls().map((url) => ({ url })) }).connect();
  const ioredis = new Redis.Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
  try {
    const a = new TokenClient({ ...cfg, store: redisStore(nodeRedis) });
    const token = await a.token();
    await a.settle();
    const { token: key, lock } = storeKeys(cfg);
    // The record is on its slot's primary (ioredis follows the slot map).
    const record = await ioredis.get(key);
    assert.match(record, /^\d+\.[0-9a-f]+\./, 'a sealed record');
    assert.equal(await ioredis.get(lock), null, 'the lock is released');
    const b = new TokenClient({ ...cfg, store: redisStore(ioredis) });
    assert.equal((await b.token()).accessToken, token.accessToken, 'adopted through ioredis Cluster');
    assert.equal(await mock.admin.count(), 1);
    // invalidate: the core's REMOVE_IF, routed by its key.
    assert.equal(b.invalidate(token.accessToken), true);
    for (let i = 0; i < 50 && (await ioredis.get(key)) !== null; i++) await sleep(10);
    assert.equal(await ioredis.get(key), null, 'removed after invalidate');
    const c = new TokenClient({ ...cfg, store: redisStore(ioredis) });
    await c.token();
    await c.settle();
    const d = new TokenClient({ ...cfg, store: redisStore(nodeRedis) });
    assert.equal((await d.token()).accessToken, (await c.token()).accessToken, 'adopted through node-redis cluster');
    assert.equal(await mock.admin.count(), 2);
    assert.equal(String(redisStore(nodeRedis)), 'redisStore(node-redis cluster) {}');
    assert.equal(inspect(redisStore(ioredis)), 'redisStore(ioredis cluster) {}');
  } finally {
    await (nodeRedis.close ?? nodeRedis.quit).call(nodeRedis);
    await ioredis.quit();
  }
});

clusterTest('Node (both cluster clients) and Rust processes on the cluster: 1 token request', async () => {
  await endpointLatency(300);
  const cfg = config('mixed');
  const startAt = Date.now() + 2_000;
  const nodeProbe = (kind) => run(process.execPath, [PROBE, JSON.stringify(cfg), urls().join(','), kind, '20', String(startAt)]);
  const file = join(dir, 'rust-probe.json');
  writeFileSync(file, JSON.stringify({
    ...cfg, store: { redis_url: urls()[0], cluster_nodes: ports.map((p) => `127.0.0.1:${p}`), timeout_ms: 2000 },
  }));
  const rustProbe = () => run(mockBinary(), ['fleet-probe', '--config', file, '--callers', '20', '--start-at-unix-ms', String(startAt)]);
  const outputs = await Promise.all([nodeProbe('redis-cluster'), nodeProbe('ioredis-cluster'), rustProbe(), rustProbe()]);
  const lines = outputs.flatMap((out) => out.trim().split('\n').filter(Boolean)).map((line) => Object.fromEntries(
    line.split(' ').slice(1).map((kv) => kv.split('='))));
  assert.equal(lines.length, 4);
  assert.equal(new Set(lines.map((l) => l.token)).size, 1, 'one token for Node and Rust');
  assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
  console.log(`cluster, 2 Node + 2 Rust processes x 20 callers: ${await mock.admin.count()} token request`);
});
