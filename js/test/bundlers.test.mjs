// The bundler matrix: the packed tarball (tokenwell/axios and tokenwell/ky too),
// installed in a consumer project, bundled
// the ways serverless JS is shipped — esbuild ESM and CJS (--platform=node, as
// AWS CDK's NodejsFunction does), webpack 5 (CJS and ESM output), Vite SSR with
// everything bundled, @vercel/ncc, bun build (--target=node and --compile), and
// Wrangler (deploy --dry-run). Each bundle is copied alone to a fresh folder (no
// node_modules, no tokenwell_bg.wasm beside it unless the bundler emitted it) and
// run against the mock: it must fetch the token the mock was scripted to give,
// with no extra flag, plugin or copied file. Prints each bundle's size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Miniflare } from 'miniflare';
import { startMock } from './helpers/mock.mjs';

const JS = fileURLToPath(new URL('..', import.meta.url));
const BIN = (name) => join(JS, 'node_modules', '.bin', name);
const SECRET = 's3cr3t-bundled';
let mock;
let work; // the temporary root: the tarball, the consumer project, the runs
let project;

function run(cmd, args, { cwd, env = {} } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 180_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` }));
  });
}

// The consumer: what a Lambda handler or a CLI does. No top-level await (webpack's CJS output).
// It also bundles tokenwell/ky with the real ky (given a fetch of its own that answers
// with the Authorization header it was sent) and tokenwell/axios on an instance of the
// shape it uses (interceptors, getUri, request): esbuild's ESM output cannot bundle
// axios's Node build (CommonJS that requires Node built-ins), with or without tokenwell;
// the real axios runs in adapters.test.mjs and, from the tarball, in pack.test.mjs.
const APP = `import { TokenClient, TokenwellError } from 'tokenwell';
import ky from 'ky';
import { attachTokenwell } from 'tokenwell/axios';
import { tokenwellHooks } from 'tokenwell/ky';
const url = process.env.MOCK_URL;
const client = new TokenClient({ provider: 'custom', tokenUrl: url + '/custom/token', clientId: 'bundled', clientSecret: process.env.SECRET });
const chain = [];
const axiosShaped = {
  interceptors: { request: { use: (f) => chain.push(f) - 1, eject() {} }, response: { use: () => 0, eject() {} } },
  getUri: (config) => config.url,
  async request(config) { for (const f of chain) config = await f(config); return { status: 200, data: config.headers.Authorization }; },
};
attachTokenwell(axiosShaped, client);
const viaKy = ky.create({ hooks: tokenwellHooks(client), retry: 0, fetch: async (request) => new Response(request.headers.get('authorization')) });
client.authorizationHeader().then(async (header) => {
  console.log('BUNDLE OK ' + header + (new TokenwellError('timeout', 'x') instanceof Error ? '' : ' (no TokenwellError)'));
  console.log('AXIOS OK ' + (await axiosShaped.request({ url: 'http://api.invalid/orders', headers: {} })).data);
  console.log('KY OK ' + await viaKy.get('http://api.invalid/orders').text());
}).catch((e) => { console.error('BUNDLE FAILED', e); process.exitCode = 1; });
`;

const WORKER = `import { TokenClient } from 'tokenwell';
import ky from 'ky';
import { tokenwellHooks } from 'tokenwell/ky';
export default {
  async fetch(request, env) {
    try {
      const client = new TokenClient({ provider: 'custom', tokenUrl: env.MOCK_URL + '/custom/token', clientId: 'bundled', clientSecret: env.SECRET });
      const viaKy = ky.create({ hooks: tokenwellHooks(client), retry: 0, fetch: async (r) => new Response(r.headers.get('authorization')) });
      const header = await client.authorizationHeader();
      return new Response('BUNDLE OK ' + header + '\\nKY OK ' + await viaKy.get('http://api.invalid/orders').text());
    } catch (e) {
      return new Response('BUNDLE FAILED ' + (e?.stack ?? e), { status: 500 });
    }
  },
};
`;

before(async () => {
  mock = await startMock();
  work = mkdtempSync(join(tmpdir(), 'tokenwell-bundlers-'));
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: JS });
  assert.equal(packed.code, 0, packed.output);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  writeFileSync(join(project, 'app.mjs'), APP);
  writeFileSync(join(project, 'worker.mjs'), WORKER);
  writeFileSync(join(project, 'wrangler.toml'), 'name = "consumer"\nmain = "worker.mjs"\ncompatibility_date = "2025-01-01"\n');
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, tarball)], { cwd: project });
  assert.equal(installed.code, 0, installed.output);
  // The optional peer the app uses, as the app would install it (the locked version, linked).
  for (const peer of ['ky']) symlinkSync(join(JS, 'node_modules', peer), join(project, 'node_modules', peer));
});

after(async () => {
  await mock?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

// A failed bundle prints itself (minified, one line) in its stack: keep the end.
const tail = (text) => (text.length > 3000 ? `…${text.slice(-3000)}` : text);

function sizeOf(path) {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0) : st.size;
}

// Copies the bundle's output folder alone to a fresh folder; returns that folder.
function alone(name, out) {
  const dir = join(work, `run-${name}`);
  cpSync(out, dir, { recursive: true });
  return dir;
}

async function scriptToken(name) {
  await mock.admin.reset();
  const token = `bundled-${name}`;
  await mock.admin.script([{ status: 200, headers: { 'content-type': 'application/json' }, json: { access_token: token, token_type: 'Bearer', expires_in: 600 } }]);
  return token;
}

function report(name, bytes, buildMs, files) {
  console.log(`bundle ${name}: ${bytes} bytes (${files.join(', ')}), built in ${buildMs} ms`);
}

/** Builds with `build(out)`, copies `out` alone, runs `file` (in it) with node (or as an executable). */
async function matrix(name, build, { file, exec = false }) {
  const out = join(work, `out-${name}`);
  const started = Date.now();
  await build(out);
  const buildMs = Date.now() - started;
  const dir = alone(name, out);
  const token = await scriptToken(name);
  const env = { MOCK_URL: mock.url, SECRET };
  const { code, output } = exec
    ? await run(join(dir, file), [], { cwd: dir, env })
    : await run(process.execPath, [join(dir, file)], { cwd: dir, env });
  assert.equal(code, 0, tail(output));
  assert.match(output, new RegExp(`BUNDLE OK Bearer ${token}$`, 'm'));
  assert.match(output, new RegExp(`AXIOS OK Bearer ${token}$`, 'm'));
  assert.match(output, new RegExp(`KY OK Bearer ${token}$`, 'm'));
  assert.ok(!output.includes(SECRET), 'the secret stays out of the output');
  assert.equal(await mock.admin.count(), 1, 'one token request');
  report(name, sizeOf(dir), buildMs, readdirSync(dir));
}

async function ok(cmd, args, opts) {
  const r = await run(cmd, args, { cwd: project, ...opts });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}\n${tail(r.output)}`);
  return r;
}

test('esbuild, ESM output (--bundle --platform=node --format=esm)', () => matrix('esbuild-esm', (out) =>
  ok(BIN('esbuild'), ['app.mjs', '--bundle', '--platform=node', '--format=esm', '--log-level=warning', `--outfile=${join(out, 'app.mjs')}`]),
{ file: 'app.mjs' }));

test('esbuild, CJS output (--bundle --platform=node, as CDK NodejsFunction)', () => matrix('esbuild-cjs', (out) =>
  ok(BIN('esbuild'), ['app.mjs', '--bundle', '--platform=node', '--format=cjs', '--log-level=warning', `--outfile=${join(out, 'app.cjs')}`]),
{ file: 'app.cjs' }));

async function webpack(config) {
  const { default: webpackFn } = await import('webpack');
  const stats = await new Promise((resolve, reject) => webpackFn({
    mode: 'production', target: 'node', context: project, entry: './app.mjs', ...config,
  }, (err, s) => (err ? reject(err) : resolve(s))));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  assert.ok(!stats.hasWarnings(), stats.toString('errors-warnings'));
}

test('webpack 5, CJS output (target node, production)', () => matrix('webpack-cjs', (out) =>
  webpack({ output: { path: out, filename: 'app.cjs' } }), { file: 'app.cjs' }));

test('webpack 5, ESM output (experiments.outputModule)', () => matrix('webpack-esm', (out) =>
  webpack({ experiments: { outputModule: true }, output: { path: out, filename: 'app.mjs', module: true, chunkFormat: 'module' } }),
{ file: 'app.mjs' }));

test('Vite SSR, everything bundled (ssr.noExternal: true)', () => matrix('vite-ssr', async (out) => {
  const { build } = await import('vite');
  await build({
    root: project, configFile: false, logLevel: 'warn',
    ssr: { noExternal: true, target: 'node' },
    build: { ssr: 'app.mjs', outDir: out, emptyOutDir: true, rollupOptions: { output: { entryFileNames: 'app.mjs' } } },
  });
}, { file: 'app.mjs' }));

test('@vercel/ncc', () => matrix('ncc', (out) =>
  ok(BIN('ncc'), ['build', 'app.mjs', '-o', out, '--quiet']), { file: 'index.mjs' }));

test('bun build --target=node', () => matrix('bun-build', (out) =>
  ok(BIN('bun'), ['build', 'app.mjs', '--target=node', `--outfile=${join(out, 'app.mjs')}`]), { file: 'app.mjs' }));

test('bun build --compile (a single executable)', () => matrix('bun-compile', (out) =>
  ok(BIN('bun'), ['build', 'app.mjs', '--compile', `--outfile=${join(out, 'app')}`]), { file: 'app', exec: true }));

// Wrangler's upload is the script plus the modules it names (the .wasm as a
// compiled module): that folder, alone, run in workerd through miniflare.
test('Wrangler deploy --dry-run --outdir, run in workerd (miniflare)', async () => {
  const out = join(work, 'out-wrangler');
  const started = Date.now();
  await ok(BIN('wrangler'), ['deploy', '--dry-run', '--outdir', out], {
    env: { WRANGLER_SEND_METRICS: 'false', CI: 'true', WRANGLER_LOG_PATH: join(work, 'wrangler-logs'), XDG_CONFIG_HOME: join(work, 'xdg') },
  });
  const buildMs = Date.now() - started;
  const dir = alone('wrangler', out);
  const files = readdirSync(dir).filter((f) => !f.endsWith('.map') && f !== 'README.md');
  const script = files.find((f) => /\.m?js$/.test(f));
  assert.ok(script, `a script in ${files.join(', ')}`);
  const token = await scriptToken('wrangler');
  const mf = new Miniflare({
    modules: true, scriptPath: join(dir, script), modulesRoot: dir, rootPath: dir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01', bindings: { MOCK_URL: mock.url, SECRET },
  });
  try {
    const text = await (await mf.dispatchFetch('http://localhost/')).text();
    assert.equal(text, `BUNDLE OK Bearer ${token}\nKY OK Bearer ${token}`);
  } finally {
    await mf.dispose();
  }
  assert.equal(await mock.admin.count(), 1, 'one token request');
  report('wrangler', files.reduce((n, f) => n + sizeOf(join(dir, f)), 0), buildMs, files);
});

// What a bundler that drops the entry's initialisation (or a deep import of an
// internal file) leaves: a TokenwellError that says so, not a TypeError in the glue.
test('without its initialisation the package throws a TokenwellError that says so', async () => {
  const client = pathToFileURL(join(project, 'node_modules', 'tokenwell', 'dist', 'client.mjs')).href;
  const { code, output } = await run(process.execPath, ['--input-type=module', '-e', `
const { TokenClient, TokenwellError, ManualClock, storeKeys } = await import(${JSON.stringify(client)});
const config = { provider: 'custom', tokenUrl: 'https://idp.example/token', clientId: 'c', clientSecret: 's' };
for (const make of [() => new TokenClient(config), () => new ManualClock(0), () => storeKeys(config)]) {
  try { make(); console.log('NO ERROR'); } catch (e) {
    console.log(e instanceof TokenwellError ? 'TokenwellError' : e.constructor.name, e.code, e.message);
  }
}`], { cwd: work });
  assert.equal(code, 0, output);
  const lines = output.trim().split('\n');
  assert.equal(lines.length, 3, output);
  for (const line of lines) assert.match(line, /^TokenwellError internal internal: the WebAssembly core was not initialised/);
});
