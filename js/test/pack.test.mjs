// The packed tarball (npm pack) installed into a fresh project: imported with
// `import` and with `require` (real token fetches), from Deno through the
// package's "deno" condition, from Bun, and type-checked with tsc against index.d.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMock } from './helpers/mock.mjs';

const JS = fileURLToPath(new URL('..', import.meta.url));
const BIN = (name) => join(JS, 'node_modules', '.bin', name);
let mock;
let dir;

function run(cmd, args, cwd) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 180_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}`, stdout });
    });
  });
}

before(async () => {
  mock = await startMock();
  dir = mkdtempSync(join(tmpdir(), 'tokenwell-pack-'));
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', dir], JS);
  assert.equal(packed.code, 0, packed.output);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  const project = join(dir, 'project');
  await run('mkdir', ['-p', project], dir);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball)], project);
  assert.equal(installed.code, 0, installed.output);
});

after(async () => {
  await mock?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const body = (lib) => `
await admin('/__admin/reset');
await admin('/__admin/script', { responses: [{ json: { access_token: 'packed-1', token_type: 'Bearer', expires_in: 600 } }] });
const client = new ${lib}.TokenClient({ provider: 'custom', tokenUrl: URL + '/custom/token', clientId: 'c', clientSecret: 's3cr3t-pack' });
const header = await client.authorizationHeader();
if (header !== 'Bearer packed-1') throw new Error('header ' + header);
if (!(new ${lib}.TokenwellError('timeout', 'x') instanceof Error)) throw new Error('TokenwellError');
console.log('PACKED OK', header);`;
const admin = `const URL = ${JSON.stringify('MOCK')};
async function admin(path, json) {
  const res = await fetch(URL + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json ?? {}) });
  if (!res.ok) throw new Error('admin ' + res.status);
}`;

test('npm pack ships only dist, README, package.json and the node10 stubs of tokenwell/otel, /axios and /ky', async () => {
  const { code, output, stdout } = await run('npm', ['pack', '--dry-run', '--json'], JS);
  assert.equal(code, 0, output);
  const files = JSON.parse(stdout)[0].files.map((f) => f.path).sort();
  assert.ok(files.includes('dist/tokenwell_bg.wasm') && files.includes('dist/index.cjs') && files.includes('dist/index.mjs'));
  const stubs = ['otel/package.json', 'axios/package.json', 'ky/package.json'];
  assert.ok(files.every((f) => f.startsWith('dist/') || ['README.md', 'package.json', ...stubs].includes(f)), files.join(' '));
  for (const stub of stubs) assert.ok(files.includes(stub), stub);
  for (const entry of ['otel', 'axios', 'ky']) {
    for (const ext of ['mjs', 'cjs', 'd.mts', 'd.cts']) assert.ok(files.includes(`dist/${entry}.${ext}`), `dist/${entry}.${ext}`);
  }
});

test('the installed tarball works with import (ESM)', async () => {
  const file = join(dir, 'project', 'esm.mjs');
  writeFileSync(file, `import * as tw from 'tokenwell';\n${admin.replace('MOCK', mock.url)}\n${body('tw')}\n`);
  const { code, output } = await run(process.execPath, [file], join(dir, 'project'));
  assert.equal(code, 0, output);
  assert.match(output, /PACKED OK Bearer packed-1/);
});

test('the installed tarball works with require (CommonJS)', async () => {
  const file = join(dir, 'project', 'cjs.cjs');
  writeFileSync(file, `const tw = require('tokenwell');\n${admin.replace('MOCK', mock.url)}\n(async () => {${body('tw')}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
  const { code, output } = await run(process.execPath, [file], join(dir, 'project'));
  assert.equal(code, 0, output);
  assert.match(output, /PACKED OK Bearer packed-1/);
});

test('the installed tarball works in Deno with only --allow-net', async () => {
  const file = join(dir, 'project', 'deno.mjs');
  writeFileSync(file, `import * as tw from 'tokenwell';\n${admin.replace('MOCK', mock.url)}\n${body('tw')}\n`);
  const { code, output } = await run(BIN('deno'), ['run', '--allow-net=127.0.0.1', file], join(dir, 'project'));
  assert.equal(code, 0, output);
  assert.match(output, /PACKED OK Bearer packed-1/);
});

test('the installed tarball works in Bun', async () => {
  const file = join(dir, 'project', 'bun.mjs');
  writeFileSync(file, `import * as tw from 'tokenwell';\n${admin.replace('MOCK', mock.url)}\n${body('tw')}\n`);
  const { code, output } = await run(BIN('bun'), [file], join(dir, 'project'));
  assert.equal(code, 0, output);
  assert.match(output, /PACKED OK Bearer packed-1/);
});

test('the declarations type-check a consumer (tsc, nodenext)', async () => {
  const project = join(dir, 'project');
  writeFileSync(join(project, 'use.mts'), `
import { TokenClient, TokenwellError, ManualClock, MemoryStore, type Token, type ErrorCode, type Store, redisStore,
  workersKvStore, storeKeys, TokenwellCoordinator, durableObjectStore, denoKvStore, upstashStore } from 'tokenwell';
const client = new TokenClient({ provider: 'deliveroo', environment: 'sandbox', clientId: 'id', clientSecret: 's',
  clock: new ManualClock(0), store: new MemoryStore(), policy: { refreshRatio: 0.8 } });
export async function use(): Promise<number> {
  const token: Token = await client.token();
  const header: string = await client.authorizationHeader();
  const dropped: boolean = client.invalidate(token.accessToken);
  const res: Response = await client.fetch('https://api.example.com', { method: 'GET' });
  try { await client.token(); } catch (e) { if (e instanceof TokenwellError) { const c: ErrorCode = e.code; void c; } }
  return header.length + (dropped ? 1 : 0) + res.status + token.expiresAt.getTime();
}
// Shared stores: any object with the Store methods, and the adapters.
const own: Store = { get: async (k: string) => k, put: () => {}, removeIf: async () => {}, tryLock: () => true, unlock: () => {} };
declare const nodeRedis: { sendCommand(args: string[]): Promise<unknown> };
declare const kv: { get(k: string): Promise<string | null>; put(k: string, v: string, o?: { expirationTtl?: number }): Promise<void>; delete(k: string): Promise<void> };
declare const ctx: { waitUntil(p: Promise<unknown>): void };
const stores: Store[] = [own, redisStore(nodeRedis), workersKvStore(kv), new MemoryStore({ clock: new ManualClock(0) })];
export const shared = stores.map((store) => new TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a',
  clientSecret: 'b', store, waitUntil: (p) => ctx.waitUntil(p) }));
export const later = () => shared[0].token({ waitUntil: (p) => ctx.waitUntil(p) });
export const keys: { token: string; lock: string } = storeKeys({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b' });
export { TokenwellCoordinator, durableObjectStore, denoKvStore, upstashStore };
`);
  writeFileSync(join(project, 'use.cts'), `
import tw = require('tokenwell');
export const make = () => new tw.TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b' });
`);
  const { code, output } = await run(BIN('tsc'), ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--lib', 'es2022,dom', '--types', '', 'use.mts', 'use.cts'], project);
  assert.equal(code, 0, output);
});

// The types packages a real project would install, linked into the consumer.
function linkTypes(project, names) {
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  mkdirSync(join(project, 'node_modules', '@cloudflare'), { recursive: true });
  for (const name of names) {
    const link = join(project, 'node_modules', name);
    if (!existsSync(link)) symlinkSync(join(JS, 'node_modules', name), link);
  }
}

const tsc = (project, config) => {
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config));
  return run(BIN('tsc'), ['-p', 'tsconfig.json'], project);
};

test('the declarations type-check in a Node-only project (@types/node, no DOM lib, skipLibCheck false)', async () => {
  const project = join(dir, 'node-only');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(join(dir, 'project', 'node_modules', 'tokenwell'), join(project, 'node_modules', 'tokenwell'));
  linkTypes(project, ['@types/node']);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'node-only', private: true, type: 'module' }));
  writeFileSync(join(project, 'use.mts'), `
import { TokenClient, TokenwellError, redisStore } from 'tokenwell';
import { createServer } from 'node:http';
const client = new TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: process.env.SECRET ?? '' });
export async function call(): Promise<number> {
  const a: Response = await client.fetch('https://api.example.com');
  const b: Response = await client.fetch(new URL('https://api.example.com'), { method: 'POST', body: 'x' });
  const c: Response = await client.fetch(new Request('https://api.example.com'));
  try { await client.token(); } catch (e) { if (e instanceof TokenwellError) return e.status ?? 0; }
  return a.status + b.status + c.status;
}
declare const nodeRedis: { sendCommand(args: string[]): Promise<unknown> };
export const store = redisStore(nodeRedis);
export const server = createServer();
`);
  writeFileSync(join(project, 'use.cts'), `
import tw = require('tokenwell');
export const make = () => new tw.TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b' });
`);
  const { code, output } = await tsc(project, { compilerOptions: {
    strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext',
    target: 'es2022', lib: ['es2022'], types: ['node'] }, files: ['use.mts', 'use.cts'] });
  assert.equal(code, 0, output);
});

test('the declarations type-check in a Workers project (@cloudflare/workers-types, the workerd condition)', async () => {
  const project = join(dir, 'workers');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(join(dir, 'project', 'node_modules', 'tokenwell'), join(project, 'node_modules', 'tokenwell'));
  linkTypes(project, ['@cloudflare/workers-types']);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'workers', private: true, type: 'module' }));
  writeFileSync(join(project, 'worker.ts'), `
import { TokenClient, TokenwellCoordinator, durableObjectStore, workersKvStore } from 'tokenwell';
interface Env { SECRET: string; KV: KVNamespace; TOKENWELL: DurableObjectNamespace }
export { TokenwellCoordinator };
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const client = new TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: env.SECRET,
      store: request.url.endsWith('/kv') ? workersKvStore(env.KV) : durableObjectStore(env.TOKENWELL),
      waitUntil: (p) => ctx.waitUntil(p) });
    return client.fetch(new URL('https://api.example.com'), { headers: { accept: 'application/json' } });
  },
} satisfies ExportedHandler<Env>;
`);
  const { code, output } = await tsc(project, { compilerOptions: {
    strict: true, noEmit: true, skipLibCheck: false, module: 'esnext', moduleResolution: 'bundler',
    customConditions: ['workerd'], target: 'es2022', lib: ['es2022'], types: ['@cloudflare/workers-types'] },
  files: ['worker.ts'] });
  assert.equal(code, 0, output);
});

test('tokenwell/otel from the installed tarball: import, require and types, with @opentelemetry/api beside it', async () => {
  const project = join(dir, 'otel');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(join(dir, 'project', 'node_modules', 'tokenwell'), join(project, 'node_modules', 'tokenwell'));
  // Beside the installed package (its real path), where its import resolves, and in the project.
  for (const modules of [join(dir, 'project', 'node_modules'), join(project, 'node_modules')]) {
    mkdirSync(join(modules, '@opentelemetry'), { recursive: true });
    symlinkSync(join(JS, 'node_modules', '@opentelemetry', 'api'), join(modules, '@opentelemetry', 'api'));
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'otel', private: true, type: 'module' }));
  const use = (load) => `${load}
${admin.replace('MOCK', mock.url)}
(async () => {
  await admin('/__admin/reset');
  const client = new tw.TokenClient({ provider: 'custom', tokenUrl: URL + '/custom/token', clientId: 'c', clientSecret: 's3cr3t-pack' });
  const handle = otel.instrument(client);
  await client.token();
  handle.stop();
  if (otel.METRIC_KINDS.length < 8) throw new Error('METRIC_KINDS');
  console.log('OTEL OK', client.status().health);
})().catch((e) => { console.error(e); process.exit(1); });
`;
  writeFileSync(join(project, 'esm.mjs'), use("import * as tw from 'tokenwell';\nimport * as otel from 'tokenwell/otel';"));
  writeFileSync(join(project, 'cjs.cjs'), use("const tw = require('tokenwell');\nconst otel = require('tokenwell/otel');"));
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const { code, output } = await run(process.execPath, [file], project);
    assert.equal(code, 0, `${file}: ${output}`);
    assert.match(output, /OTEL OK up/, file);
  }
  writeFileSync(join(project, 'use.mts'), `
import { TokenClient, type TokenwellEvent, type ClientStatus } from 'tokenwell';
import { instrument, METRIC_KINDS, type Instrumentation } from 'tokenwell/otel';
import { metrics, trace } from '@opentelemetry/api';
const client = new TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b', name: 'orders',
  onEvent: (e: TokenwellEvent) => { if (e.name === 'fetched') { const ms: number = e.latencyMs; void ms; } } });
export const handle: Instrumentation = instrument(client, { meterProvider: metrics.getMeterProvider(), tracerProvider: trace.getTracerProvider() });
export const ready = (): boolean => { const s: ClientStatus = client.status(); return s.health !== 'down'; };
export const names = METRIC_KINDS.map((m) => m.name);
`);
  writeFileSync(join(project, 'use.cts'), `
import otel = require('tokenwell/otel');
import tw = require('tokenwell');
export const handle = otel.instrument(new tw.TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b' }));
`);
  const { code, output } = await tsc(project, { compilerOptions: {
    strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext',
    target: 'es2022', lib: ['es2022', 'dom'], types: [] }, files: ['use.mts', 'use.cts'] });
  assert.equal(code, 0, output);
});

test('tokenwell/axios and tokenwell/ky from the installed tarball: import, require and types, with axios and ky beside it', async () => {
  const project = join(dir, 'http');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(join(dir, 'project', 'node_modules', 'tokenwell'), join(project, 'node_modules', 'tokenwell'));
  // Beside the installed package (its real path), where its declarations resolve them, and in the project.
  for (const modules of [join(dir, 'project', 'node_modules'), join(project, 'node_modules')]) {
    for (const peer of ['axios', 'ky']) {
      if (!existsSync(join(modules, peer))) symlinkSync(join(JS, 'node_modules', peer), join(modules, peer));
    }
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'http', private: true, type: 'module' }));
  // Each library with a transport of its own that answers with the header it was sent.
  const use = (load) => `${load}
${admin.replace('MOCK', mock.url)}
(async () => {
  await admin('/__admin/reset');
  await admin('/__admin/script', { responses: [{ json: { access_token: 'packed-http', token_type: 'Bearer', expires_in: 600 } }] });
  const client = new tw.TokenClient({ provider: 'custom', tokenUrl: URL + '/custom/token', clientId: 'c', clientSecret: 's3cr3t-pack' });
  const viaAxios = axios.create({ adapter: async (config) => ({ data: String(config.headers.Authorization), status: 200, statusText: 'OK', headers: {}, config, request: {} }) });
  withAxios.attachTokenwell(viaAxios, client);
  const viaKy = ky.create({ hooks: withKy.tokenwellHooks(client), fetch: async (request) => new Response(request.headers.get('authorization')) });
  console.log('HTTP OK', (await viaAxios.get('http://api.invalid/')).data, await viaKy.get('http://api.invalid/').text());
})().catch((e) => { console.error(e); process.exit(1); });
`;
  writeFileSync(join(project, 'esm.mjs'), use(`import * as tw from 'tokenwell';
import axios from 'axios';
import ky from 'ky';
import * as withAxios from 'tokenwell/axios';
import * as withKy from 'tokenwell/ky';`));
  // (ky is ESM only: a CommonJS app imports it; the tokenwell entries are required.)
  writeFileSync(join(project, 'cjs.cjs'), use(`const tw = require('tokenwell');
const axios = require('axios');
const withAxios = require('tokenwell/axios');
const withKy = require('tokenwell/ky');
let ky;`).replace('(async () => {', "(async () => {\n  ky = (await import('ky')).default;"));
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const { code, output } = await run(process.execPath, [file], project);
    assert.equal(code, 0, `${file}: ${output}`);
    assert.match(output, /HTTP OK Bearer packed-http Bearer packed-http/, file);
  }
  writeFileSync(join(project, 'use.mts'), `
import { TokenClient } from 'tokenwell';
import axios from 'axios';
import ky from 'ky';
import { attachTokenwell, type TokenwellAttachment } from 'tokenwell/axios';
import { tokenwellHooks, type TokenwellHooks } from 'tokenwell/ky';
const client = new TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b' });
export const attached: TokenwellAttachment = attachTokenwell(axios.create(), client, { waitUntil: (p) => void p });
export const onAxios = attachTokenwell(axios, client);
const hooks: TokenwellHooks = tokenwellHooks(client);
export const api = ky.create({ hooks });
export const extended = ky.extend({ hooks: tokenwellHooks(client) });
`);
  writeFileSync(join(project, 'use.cts'), `
import withAxios = require('tokenwell/axios');
import withKy = require('tokenwell/ky');
import tw = require('tokenwell');
const client = new tw.TokenClient({ provider: 'custom', tokenUrl: 'https://x/t', clientId: 'a', clientSecret: 'b' });
export const hooks = withKy.tokenwellHooks(client);
export const attach = (instance: Parameters<typeof withAxios.attachTokenwell>[0]) => withAxios.attachTokenwell(instance, client).eject;
`);
  const { code, output } = await tsc(project, { compilerOptions: {
    strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext',
    target: 'es2022', lib: ['es2022', 'dom'], types: [] }, files: ['use.mts', 'use.cts'] });
  assert.equal(code, 0, output);
});
