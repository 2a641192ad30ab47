// The edge stores in their real runtimes, counting token requests at the mock:
// - workerd (miniflare 4): one Miniflare running three Workers (separate
//   isolates, each its own module instance and memory) plus the coordinator's,
//   all bound to one KV namespace and one TokenwellCoordinator Durable Object
//   class (by scriptName), many concurrent requests to each;
// - Deno: two `deno` processes sharing one KV database file (the local SQLite
//   backend is shared between processes), concurrent callers in each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { startMock } from './helpers/mock.mjs';

const JS = fileURLToPath(new URL('..', import.meta.url));
const DENO = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));
const WORKERS = ['w1', 'w2', 'w3', 'w4'];
let mock;
let mf;

async function slowEndpoint() {
  await mock.admin.reset();
  // Slow enough that every isolate is waiting while the first fetch is in flight.
  const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify({ latency_ms: 300 }) });
  assert.equal(res.status, 200);
}

before(async () => {
  mock = await startMock();
  const common = {
    modules: true,
    modulesRoot: JS,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
  };
  mf = new Miniflare({
    rootPath: JS,
    workers: [
      ...WORKERS.map((name) => ({
        ...common,
        name,
        scriptPath: 'test/edge/worker.mjs',
        bindings: { MOCK_URL: mock.url },
        kvNamespaces: { KV: 'tokenwell-kv' },
        durableObjects: { TOKENWELL: { className: 'TokenwellCoordinator', scriptName: 'coordinator' } },
      })),
      { ...common, name: 'coordinator', scriptPath: 'test/edge/coordinator.mjs',
        durableObjects: { TOKENWELL: 'TokenwellCoordinator' } },
    ],
  });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  await mock?.stop();
});

/** `n` concurrent requests to each worker; their answers. */
async function burst(workers, n, query) {
  const answers = await Promise.all(workers.flatMap((name) => Array.from({ length: n }, async () => {
    const worker = await mf.getWorker(name);
    const res = await worker.fetch(`http://localhost/?${query}`);
    return res.json();
  })));
  for (const a of answers) assert.equal(a.ok, true, a.error);
  return answers;
}

test('workerd: 3 Workers with the Durable Object coordinator make exactly 1 token request', async () => {
  await slowEndpoint();
  const answers = await burst(['w1', 'w2', 'w3'], 10, 'mode=do&tenant=do');
  assert.equal(new Set(answers.map((a) => a.token)).size, 1, 'one token in every isolate');
  assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
  // A fourth isolate, cold, adopts it.
  await burst(['w4'], 5, 'mode=do&tenant=do');
  assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
  console.log('workerd + Durable Object: 1 token request for 35 requests in 4 isolates');
});

test('workerd: 3 Workers with KV alone make at most one request per isolate; a later isolate reads the token', async () => {
  await slowEndpoint();
  const answers = await burst(['w1', 'w2', 'w3'], 10, 'mode=kv&tenant=kv');
  const cold = await mock.admin.count();
  assert.ok(cold >= 1 && cold <= 3, `token requests ${cold}`);
  assert.equal(new Set(answers.map((a) => a.token)).size, cold, 'one token per fetching isolate');
  // An isolate started after the first token was written reads it instead of fetching.
  const later = await burst(['w4'], 5, 'mode=kv&tenant=kv');
  assert.equal(await mock.admin.count(), cold, 'no request from the later isolate');
  assert.ok(answers.some((a) => a.token === later[0].token), 'it adopted a stored token');
  console.log(`workerd + KV: ${cold} token request(s) for 30 cold requests in 3 isolates, 0 for a later isolate`);
});

// (Whether workerd cancels the abandoned request's own work is not observable
// through miniflare's proxy: this passes with and without waitUntil. It checks
// that nobody is stranded and the one fetch serves everyone.)
test('workerd: a caller that gives up mid-fetch strands nobody: later requests get the one token', async () => {
  await slowEndpoint();
  const worker = await mf.getWorker('w1');
  const aborted = new AbortController();
  const first = worker.fetch('http://localhost/?mode=do&tenant=cancel', { signal: aborted.signal }).catch((e) => e);
  await new Promise((resolve) => { setTimeout(resolve, 100); }); // the token request is in flight
  aborted.abort();
  assert.ok((await first) instanceof Error, 'the first request was cancelled');
  const later = await burst(['w1', 'w2'], 5, 'mode=do&tenant=cancel');
  assert.equal(new Set(later.map((a) => a.token)).size, 1);
  assert.equal(await mock.admin.count(), 1, 'the abandoned request\'s fetch served everyone');
});

function deno(args) {
  return new Promise((resolve, reject) => {
    execFile(DENO, args, { cwd: JS, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`deno failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(Object.fromEntries(stdout.trim().split(' ').slice(1).map((kv) => kv.split('='))));
    });
  });
}

test('Deno: two deno processes sharing one KV database file make 1 token request', async () => {
  await slowEndpoint();
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-kv-'));
  try {
    const kvFile = join(dir, 'kv.sqlite3');
    const startAt = Date.now() + 2_500; // after both processes have started
    const args = ['run', '--unstable-kv', '--allow-net=127.0.0.1', `--allow-read=${JS},${dir}`, `--allow-write=${dir}`,
      'test/edge/deno-probe.mjs', mock.url, kvFile, '20', String(startAt), 'kv'];
    const lines = await Promise.all([deno(args), deno(args)]);
    for (const line of lines) assert.equal(line.tokens, '1');
    assert.equal(new Set(lines.map((l) => l.token)).size, 1, 'one token for both processes');
    assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
