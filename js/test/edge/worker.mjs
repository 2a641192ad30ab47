// A Cloudflare module worker for edge.test.mjs: several copies run in one
// workerd (separate isolates), bound to one KV namespace and one
// TokenwellCoordinator Durable Object class. `GET /?mode=do|kv&tenant=T` answers
// a digest of the token (never the token) from a module-scope client per mode
// and tenant, as a real Worker keeps one client across requests.
import { TokenClient, workersKvStore, durableObjectStore } from '../../dist/workerd.mjs';

const clients = new Map();

async function digest(text) {
  const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].slice(0, 8).map((b) => b.toString(16).padStart(2, '0')).join('');
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const mode = url.searchParams.get('mode');
    const tenant = url.searchParams.get('tenant');
    const id = `${mode}:${tenant}`;
    if (!clients.has(id)) {
      clients.set(id, new TokenClient({
        provider: 'deliveroo', environment: 'sandbox', baseUrl: `${env.MOCK_URL}/deliveroo`,
        clientId: `edge-${tenant}`, clientSecret: 'edge-secret-Zt4w',
        store: mode === 'do' ? durableObjectStore(env.TOKENWELL) : mode === 'kv' ? workersKvStore(env.KV) : undefined,
      }));
    }
    try {
      const token = await clients.get(id).token({ waitUntil: (p) => ctx.waitUntil(p) });
      return Response.json({ ok: true, token: await digest(token.accessToken) });
    } catch (e) {
      return Response.json({ ok: false, error: String(e?.message ?? e) }, { status: 500 });
    }
  },
};
