// One fresh Node process of bench/cold/node.mjs: `probe.mjs <figure> <side> <mockUrl>`
// prints one JSON line and exits.
//   first   — import the library, build a client, get one token (the parent times
//             spawn → this line; `inProcessMs` from before the import to the token,
//             without Node's own start);
//   memory  — (with --expose-gc) build 1,000 clients with distinct client ids and
//             report the growth of V8 heap + external (external counts the wasm
//             linear memory: measured) per client, after a warm-up batch of 200;
//   memory-token — the same, each client holding a token.
// Sides: tokenwell (js/dist/index.mjs), before (the same from $COLD_BEFORE), badgateway (@badgateway/oauth2-client:
// OAuth2Client + OAuth2Fetch, its caching wrapper), fetch (a plain POST; first only) and
// floor (the core compiled and instantiated, then a plain POST; first only).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [figure, side, mockUrl] = process.argv.slice(2);
const JS = new URL('../../js/', import.meta.url);
const tokenUrl = `${mockUrl}/custom/token`;
const config = (clientId) => ({ provider: 'custom', tokenUrl, clientId, clientSecret: 'cold-secret-Qv8p' });

const t0 = performance.now();
// make(id): the library's client (all that a caller keeps); token(client): one token.
let make;
let token;
if (side === 'tokenwell' || side === 'before') {
  // before: another build of the package (COLD_BEFORE, see node.mjs).
  const dist = side === 'before' ? pathToFileURL(`${process.env.COLD_BEFORE}/`) : new URL('dist/', JS);
  const { TokenClient } = await import(new URL('index.mjs', dist));
  make = (id) => new TokenClient(config(id));
  token = async (client) => (await client.token()).accessToken;
} else if (side === 'badgateway') {
  const { OAuth2Client, OAuth2Fetch } = await import(new URL('node_modules/@badgateway/oauth2-client/dist/index.js', JS));
  make = (id) => {
    const client = new OAuth2Client({ server: mockUrl, tokenEndpoint: '/custom/token', clientId: id, clientSecret: 'cold-secret-Qv8p' });
    return new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() });
  };
  token = async (cache) => (await cache.getToken()).accessToken;
} else if (side === 'fetch' || side === 'floor') {
  // floor: a plain POST after only compiling and instantiating the core (no
  // client, no config): what any design with this core in WebAssembly pays at least.
  if (side === 'floor') {
    const { initSync } = await import(new URL('dist/glue.mjs', JS));
    initSync({ module: new WebAssembly.Module(readFileSync(new URL('dist/tokenwell_bg.wasm', JS))) });
  }
  make = (id) => id;
  token = async (id) => {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa(`${id}:cold-secret-Qv8p`)}` },
      body: 'grant_type=client_credentials',
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    return (await res.json()).access_token;
  };
} else {
  throw new Error(`unknown side ${side}`);
}
const importMs = performance.now() - t0;

if (figure === 'first') {
  const got = await token(make('cold-client'));
  if (typeof got !== 'string' || got.length === 0) throw new Error('no token');
  const atMs = performance.now();
  console.log(JSON.stringify({ atMs, importMs, inProcessMs: atMs - t0 }));
} else if (figure === 'memory' || figure === 'memory-token') {
  // memory-token: each client also holds a token (fetched one by one).
  const withToken = figure === 'memory-token';
  // The wasm memory grows in 64 KiB pages: 3,000 clients keep a step under 22 bytes a client.
  const N = Number(process.env.CLIENTS ?? 3000);
  const used = () => {
    for (let i = 0; i < 4; i++) globalThis.gc();
    const { heapUsed, external } = process.memoryUsage();
    return { heapUsed, external };
  };
  const build = async (id) => {
    const client = make(id);
    if (withToken) await token(client);
    return client;
  };
  // A warm-up batch, kept (freed clients would leave reusable wasm memory):
  // the JIT's code and feedback for the loop are not a client's cost.
  const keep = [];
  for (let i = 0; i < N / 5; i++) keep.push(await build(`warm-up-${i}`));
  const before = used();
  for (let i = 0; i < N; i++) keep.push(await build(`tenant-${i}`));
  const after = used();
  if (keep.length !== N + N / 5) throw new Error('lost a client');
  const heap = (after.heapUsed - before.heapUsed) / N;
  const external = (after.external - before.external) / N;
  console.log(JSON.stringify({ bytesPerClient: heap + external, heap, external }));
} else {
  throw new Error(`unknown figure ${figure}`);
}
process.exit(0); // OAuth2Fetch leaves a refresh timer behind
