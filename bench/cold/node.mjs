// The cold path of the npm package against @badgateway/oauth2-client, every figure
// in one run, in fresh processes, the sides interleaved:
//   1. Node: process start → first token from the mock (spawn of `node probe.mjs`
//      until its line arrives), vs the peer, a plain `fetch` POST, and the floor
//      of any design with this core in WebAssembly (the .wasm compiled and
//      instantiated, nothing run in it, then the plain POST);
//   2. Node: memory per client (V8 heap + external, which holds the wasm linear
//      memory) over 3,000 clients with distinct ids (after 600 kept as warm-up),
//      fresh and holding a token;
//   3. workerd (miniflare 4): a fresh workerd with one Worker, from
//      `new Miniflare` to its first token, tokenwell vs the peer vs a plain fetch.
// Medians of RUNS (default 7) per side. Prints a markdown table.
//
// Run: node bench/cold/node.mjs   (after bash js/scripts/build.sh and cargo build --features cli)
// Env: RUNS=n (fresh processes per side and figure), CLIENTS=n (default 3,000),
//      COLD_SKIP=workerd to skip 3 (or node to skip 1 and 2),
//      COLD_BEFORE=<another build's js/dist> to measure it too (a column `before`).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROBE = fileURLToPath(new URL('probe.mjs', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 7);
const require = createRequire(new URL('../../js/package.json', import.meta.url));
const { Miniflare } = await import(pathToFileURL(require.resolve('miniflare')));
const { startMock } = await import(new URL('../../js/test/helpers/mock.mjs', import.meta.url));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs `node [flags] probe.mjs args…`; resolves to { wallMs, out } (wall: spawn → first line). */
function probe(flags, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...flags, PROBE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let wallMs = null;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (wallMs === null && stdout.includes('\n')) wallMs = performance.now() - t0;
    });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || wallMs === null) reject(new Error(`probe ${args.join(' ')} failed (${code}): ${stderr}`));
      else resolve({ wallMs, out: JSON.parse(stdout) });
    });
  });
}

/** Runs `measure(side)` RUNS times per side, rotating the order each round. */
async function interleaved(sides, measure) {
  const samples = Object.fromEntries(sides.map((s) => [s, []]));
  for (let round = 0; round < RUNS; round++) {
    const order = sides.map((_, i) => sides[(i + round) % sides.length]);
    for (const side of order) samples[side].push(await measure(side));
  }
  return samples;
}

// COLD_BEFORE=<a js/dist of another build> adds that build as a side `before`,
// so a change is measured against its predecessor and the peer in one run.
const BEFORE = process.env.COLD_BEFORE ? resolve(process.env.COLD_BEFORE) : null;
const ours = BEFORE ? ['tokenwell', 'before'] : ['tokenwell'];

// In workerd, each build of the package runs from a copy laid out alike (the
// build as dist/, the Worker beside it): two builds differ only in themselves.
const STAGE = mkdtempSync(join(tmpdir(), 'tokenwell-cold-'));
const staged = {};
for (const [side, dist] of [['tokenwell', fileURLToPath(new URL('../../js/dist', import.meta.url))], ['before', BEFORE]]) {
  if (!dist) continue;
  staged[side] = join(STAGE, side);
  cpSync(dist, join(staged[side], 'dist'), { recursive: true });
  cpSync(fileURLToPath(new URL('worker.mjs', import.meta.url)), join(staged[side], 'worker.mjs'));
  writeFileSync(join(staged[side], 'worker-tokenwell.mjs'),
    readFileSync(fileURLToPath(new URL('worker-tokenwell.mjs', import.meta.url)), 'utf8')
      .replace("'../../js/dist/workerd.mjs'", "'./dist/workerd.mjs'"));
}

/** A fresh workerd with the Worker of `side`, to its first token: { totalMs, readyMs, requestMs }. */
async function workerdFirstToken(side, mockUrl) {
  const root = staged[side] ?? ROOT;
  const t0 = performance.now();
  const mf = new Miniflare({
    rootPath: root,
    modules: true,
    modulesRoot: root,
    scriptPath: staged[side] ? 'worker-tokenwell.mjs' : `bench/cold/worker-${side}.mjs`,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }, { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }],
    compatibilityDate: '2025-01-01',
    // The peer's authorization-code module imports `crypto` (dynamically, never
    // on this path): workerd loads it only with Node compatibility on.
    compatibilityFlags: side === 'badgateway' ? ['nodejs_compat'] : [],
    bindings: { MOCK_URL: mockUrl },
  });
  try {
    await mf.ready;
    const t1 = performance.now();
    const res = await mf.dispatchFetch('http://localhost/');
    const body = await res.json();
    if (!body.ok) throw new Error(`workerd ${side}: ${body.error}`);
    const t2 = performance.now();
    return { totalMs: t2 - t0, readyMs: t1 - t0, requestMs: t2 - t1 };
  } finally {
    await mf.dispose();
  }
}

const rows = [];
const ms = (x) => `${x.toFixed(1)} ms`;
const kib = (x) => `${(x / 1024).toFixed(2)} KiB`;
/** A table row from each side's median (`med(side)`); `floor`: a plain-fetch side was measured. */
// `core`: a `floor` side was measured (the core compiled and instantiated, then a plain fetch).
function row(figure, med, fmt, floor = false, core = false) {
  const notes = [];
  if (floor) notes.push(`plain fetch ${fmt(med('fetch'))} (tokenwell ${(med('tokenwell') / med('fetch')).toFixed(2)}×)`);
  if (core) notes.push(`core only, then plain fetch ${fmt(med('floor'))} (${(med('floor') / med('badgateway')).toFixed(2)}× the peer)`);
  if (BEFORE) notes.push(`before: ${fmt(med('before'))} (${(med('before') / med('badgateway')).toFixed(2)}× the peer)`);
  rows.push(`| ${figure} | ${fmt(med('tokenwell'))} | ${fmt(med('badgateway'))} | ` +
    `${(med('tokenwell') / med('badgateway')).toFixed(2)} | ${notes.join('; ')} |`);
}
const medianOf = (samples, pick) => (side) => median(samples[side].map(pick));

async function nodeFigures(mockUrl) {
  const first = await interleaved([...ours, 'badgateway', 'fetch', 'floor'], (side) => probe([], ['first', side, mockUrl]));
  row('Node: process start → first token', medianOf(first, (r) => r.wallMs), ms, true, true);
  row('Node: import → first token (in the process)', medianOf(first, (r) => r.out.inProcessMs), ms, true, true);
  row('Node: import of the library', medianOf(first, (r) => r.out.importMs), ms, false, true);

  const clients = Number(process.env.CLIENTS ?? 3000).toLocaleString('en');
  for (const [figure, label] of [['memory', `Node: memory per client (${clients} clients)`],
    ['memory-token', `Node: memory per client holding a token (${clients})`]]) {
    const memory = await interleaved([...ours, 'badgateway'], (side) => probe(['--expose-gc'], [figure, side, mockUrl]));
    row(label, medianOf(memory, (r) => r.out.bytesPerClient), kib);
  }
}

async function workerdFigures(mockUrl) {
  const cold = await interleaved([...ours, 'badgateway', 'fetch'], (side) => workerdFirstToken(side, mockUrl));
  row('workerd: new Miniflare → first token', medianOf(cold, (r) => r.totalMs), ms, true);
  row('workerd: startup (Worker loaded)', medianOf(cold, (r) => r.readyMs), ms, true);
  row('workerd: first request (token)', medianOf(cold, (r) => r.requestMs), ms, true);
}

const mock = await startMock();
try {
  if (process.env.COLD_SKIP !== 'node') await nodeFigures(mock.url);
  if (process.env.COLD_SKIP !== 'workerd') await workerdFigures(mock.url);
} finally {
  await mock.stop();
  rmSync(STAGE, { recursive: true, force: true });
}

console.log(`Cold path, medians of ${RUNS} fresh processes per side, sides interleaved (node ${process.version})\n`);
console.log('| figure | tokenwell | @badgateway/oauth2-client | ratio | notes |');
console.log('|---|---|---|---|---|');
for (const line of rows) console.log(line);
