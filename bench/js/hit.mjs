// One side of the bench's "cache hit with a store vs without", in a fresh
// process (so neither side inherits the other's JIT state): prints the
// fastest of several samples of authorizationHeader() on a cached token, and
// of the core's lease() each call, in ns/call, as JSON.
// Usage: node hit.mjs MOCK_URL with|without
const DIST = new URL('../../js/dist/', import.meta.url);
const { TokenClient, MemoryStore } = await import(new URL('index.mjs', DIST));
const { coreGlue } = await import(new URL('core.mjs', import.meta.url));
const { WasmClient } = await coreGlue(DIST);

const [url, side] = process.argv.slice(2);
const config = { provider: 'custom', tokenUrl: `${url}/custom/token`, clientId: `bench-hit-${side}`, clientSecret: 'bench-secret' };
const withStore = side === 'with';
const client = new TokenClient({ ...config, ...(withStore ? { store: new MemoryStore() } : {}) });
// The core alone, with a JS store bridge (what client.mjs hands it) or none.
const bridge = { hasLock: false, hasPublish: false, get: async () => null, put: async () => {}, removeIf: async () => {},
  tryLock: async () => false, unlock: async () => {}, publish: async () => {} };
const core = new WasmClient({ ...config, clientId: `${config.clientId}-core` }, undefined, withStore ? { jsStore: bridge } : {});
await client.token();
await client.token();
await core.lease();

async function fastest(fn, n, rounds) {
  const times = [];
  for (let r = 0; r < rounds + 1; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    if (r > 0) times.push(Number(process.hrtime.bigint() - t0) / n); // round 0 warms up
  }
  return Math.min(...times);
}
const memo = await fastest(() => client.authorizationHeader(), 200_000, 6);
const lease = await fastest(async () => (await core.lease()).authorizationHeader, 20_000, 6);
console.log(JSON.stringify({ memo, lease }));
