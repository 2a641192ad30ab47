// The Worker of bench/cold/node.mjs's workerd figure, in three builds (one per
// side, chosen by the entry files worker-*.mjs): its first request gets one token
// from the mock through a module-scope client, as a real Worker keeps one.
export function worker(make) {
  let client;
  return {
    async fetch(request, env) {
      client ??= make(env.MOCK_URL);
      try {
        const token = await client.token();
        return Response.json({ ok: typeof token === 'string' && token.length > 0 });
      } catch (e) {
        return Response.json({ ok: false, error: String(e?.message ?? e) }, { status: 500 });
      }
    },
  };
}
