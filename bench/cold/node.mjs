// The cold path of the npm package against @badgateway/oauth2-client (issue 14,
// item 4), every figure in one run, in fresh processes, the sides interleaved:
//   1. Node: process start → first token from the mock (spawn of `node probe.mjs`
//      until its line arrives), vs the peer and a plain `fetch` POST;
//   2. Node: memory per client (V8 heap + external, which holds the wasm linear
//      memory) over 1,000 clients with distinct ids, fresh and holding a token;
//   3. workerd (miniflare 4): a fresh workerd with one Worker, from
//      `new Miniflare` to its first token, tokenwell vs the peer vs a plain fetch.
// Medians of RUNS (default 7) per side. Prints a markdown table.
//
// Run: node bench/cold/node.mjs   (after bash js/scripts/build.sh and cargo build --features cli)
// Env: RUNS=n (fresh processes per side and figure), COLD_SKIP=workerd to skip 3.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
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

async function workerdFirstToken(side, mockUrl) {
  const t0 = performance.now();
  const mf = new Miniflare({
    rootPath: ROOT,
    modules: true,
    modulesRoot: ROOT,
    scriptPath: `bench/cold/worker-${side}.mjs`,
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

const mock = await startMock();
const rows = [];
const row = (figure, ours, peer, fmt, extra = '') =>
  rows.push(`| ${figure} | ${fmt(ours)} | ${fmt(peer)} | ${(ours / peer).toFixed(2)} | ${extra} |`);
const ms = (x) => `${x.toFixed(1)} ms`;
const kib = (x) => `${(x / 1024).toFixed(2)} KiB`;
try {
  const first = await interleaved(['tokenwell', 'badgateway', 'fetch'], (side) => probe([], ['first', side, mock.url]));
  const wall = (side) => median(first[side].map((r) => r.wallMs));
  const imported = (side) => median(first[side].map((r) => r.out.importMs));
  row('Node: process start → first token', wall('tokenwell'), wall('badgateway'), ms,
    `plain fetch ${ms(wall('fetch'))} (tokenwell ${(wall('tokenwell') / wall('fetch')).toFixed(2)}×)`);
  row('Node: import of the library', imported('tokenwell'), imported('badgateway'), ms);

  const memory = await interleaved(['tokenwell', 'badgateway'], (side) => probe(['--expose-gc'], ['memory', side, mock.url]));
  const perClient = (side) => median(memory[side].map((r) => r.out.bytesPerClient));
  row('Node: memory per client (1,000 clients)', perClient('tokenwell'), perClient('badgateway'), kib);
  const held = await interleaved(['tokenwell', 'badgateway'], (side) => probe(['--expose-gc'], ['memory-token', side, mock.url]));
  const perHolder = (side) => median(held[side].map((r) => r.out.bytesPerClient));
  row('Node: memory per client holding a token', perHolder('tokenwell'), perHolder('badgateway'), kib);

  if (process.env.COLD_SKIP !== 'workerd') {
    const cold = await interleaved(['tokenwell', 'badgateway', 'fetch'], (side) => workerdFirstToken(side, mock.url));
    const of = (side, key) => median(cold[side].map((r) => r[key]));
    row('workerd: new Miniflare → first token', of('tokenwell', 'totalMs'), of('badgateway', 'totalMs'), ms,
      `plain fetch ${ms(of('fetch', 'totalMs'))} (tokenwell ${(of('tokenwell', 'totalMs') / of('fetch', 'totalMs')).toFixed(2)}×)`);
    row('workerd: startup (Worker loaded)', of('tokenwell', 'readyMs'), of('badgateway', 'readyMs'), ms,
      `plain fetch ${ms(of('fetch', 'readyMs'))}`);
    row('workerd: first request (token)', of('tokenwell', 'requestMs'), of('badgateway', 'requestMs'), ms,
      `plain fetch ${ms(of('fetch', 'requestMs'))}`);
  }
} finally {
  await mock.stop();
}

console.log(`Cold path, medians of ${RUNS} fresh processes per side, sides interleaved (node ${process.version})\n`);
console.log('| figure | tokenwell | @badgateway/oauth2-client | ratio | baseline |');
console.log('|---|---|---|---|---|');
for (const line of rows) console.log(line);
