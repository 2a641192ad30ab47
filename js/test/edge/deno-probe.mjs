// One Deno process of edge.test.mjs: a TokenClient sharing tokens through
// denoKvStore over a local KV database file (SQLite), N concurrent token()
// calls at a given instant, then `ok callers=N tokens=<distinct> token=<digest>`.
// deno run --unstable-kv --allow-net=127.0.0.1 --allow-read --allow-write deno-probe.mjs MOCK KV_FILE CALLERS START_AT
import { TokenClient, denoKvStore } from '../../dist/deno.mjs';

const [mockUrl, kvFile, callers, startAt, tenant] = Deno.args;
const kv = await Deno.openKv(kvFile);
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
