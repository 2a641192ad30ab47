// One Deno process of edge.test.mjs: a TokenClient sharing tokens through
// denoKvStore over a local KV database file (SQLite), N concurrent token()
// calls at a given instant, then `ok callers=N tokens=<distinct> token=<digest>`.
// deno run --unstable-kv --allow-net=127.0.0.1 --allow-read --allow-write deno-probe.mjs MOCK KV_FILE CALLERS START_AT
import { TokenClient, denoKvStore } from '../../dist/deno.mjs';

const [mockUrl, kvFile, callers, startAt, tenant] = Deno.args;
// Two probes opening a new database file at the same instant can both find it
// locked while SQLite sets it up (seen in CI): retry that, briefly. The token
// calls below start together at `startAt`, whenever each open succeeded.
async function openKv(path) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await Deno.openKv(path);
    } catch (e) {
      if (attempt >= 40 || !/database is locked/.test(String(e))) throw e;
      await new Promise((resolve) => { setTimeout(resolve, 25 + Math.random() * 25); });
    }
  }
}
const kv = await openKv(kvFile);
const client = new TokenClient({
  provider: 'deliveroo', environment: 'sandbox', baseUrl: `${mockUrl}/deliveroo`,
  clientId: `deno-${tenant}`, clientSecret: 'deno-secret-Hh52',
  store: denoKvStore(kv),
});
await new Promise((resolve) => { setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())); });
const got = await Promise.all(Array.from({ length: Number(callers) }, () => client.token()));
const distinct = new Set(got.map((t) => t.accessToken));
const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode([...distinct][0]));
const digest = [...new Uint8Array(hash)].slice(0, 8).map((b) => b.toString(16).padStart(2, '0')).join('');
await client.settle();
console.log(`ok callers=${callers} tokens=${distinct.size} token=${digest}`);
kv.close();
