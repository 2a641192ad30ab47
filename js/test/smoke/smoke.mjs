// The smoke test every runtime runs (Node, Cloudflare workerd, Deno, Bun) through
// the package's public API, with the runtime's own fetch to the mock provider:
// a token, a cache hit, a 1000-call stampede on a cold cache (exactly one
// request), a 401 answered by client.fetch with one retry on a fresh token, a
// typed error without the secret, and a client's events and status(). Throws on
// the first failed check; returns the names of the checks that passed.
import { adminClient } from '../helpers/admin.mjs';

const SECRET = 'smoke-secret-Qx93';

function check(cond, what) {
  if (!cond) throw new Error(`smoke check failed: ${what}`);
}

function grant(token, extra = {}) {
  return { status: 200, headers: { 'content-type': 'application/json' }, json: { access_token: token, token_type: 'Bearer', expires_in: 600 }, ...extra };
}

export async function smoke({ TokenClient, TokenwellError }, mockUrl) {
  const admin = adminClient(mockUrl);
  const passed = [];
  const config = { provider: 'custom', tokenUrl: `${mockUrl}/custom/token`, clientId: 'smoke-client', clientSecret: SECRET };

  // A token, then a cache hit.
  await admin.reset();
  await admin.script([grant('smoke-1')]);
  const client = new TokenClient(config);
  const first = await client.token();
  check(first.accessToken === 'smoke-1' && first.tokenType === 'Bearer', `first token: ${first.accessToken}`);
  check(first.expiresAt instanceof Date && first.expiresAt.getTime() > Date.now(), 'expiresAt in the future');
  passed.push('token');
  const again = await client.token();
  const header = await client.authorizationHeader();
  check(again.accessToken === 'smoke-1' && header === 'Bearer smoke-1', 'cache hit returns the same token');
  check((await admin.count()) === 1, 'a cache hit makes no request');
  check(!String(client).includes(SECRET) && !JSON.stringify(client).includes(SECRET), 'the client shows no secret');
  passed.push('cache hit');

  // 1000 concurrent calls on a cold cache: one request.
  await admin.reset();
  await admin.script([grant('stampede-1', { delay_ms: 50 })]);
  const cold = new TokenClient(config);
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => cold.token()));
  check(tokens.every((t) => t.accessToken === 'stampede-1'), 'every caller gets the token');
  const stampedeRequests = await admin.count();
  check(stampedeRequests === 1, `1000 concurrent calls made ${stampedeRequests} requests`);
  passed.push('stampede: 1000 calls, 1 request');

  // client.fetch: a 401 invalidates the token and retries once with a fresh one.
  await admin.reset();
  await admin.script([
    grant('old-1'),
    { status: 401, headers: { 'content-type': 'application/json' }, json: { error: 'token expired' } },
    grant('new-2'),
    { status: 200, headers: { 'content-type': 'application/json' }, json: { ok: true } },
  ]);
  const api = new TokenClient(config);
  const res = await api.fetch(`${mockUrl}/custom/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"order":1}' });
  check(res.status === 200, `retried request status ${res.status}`);
  check((await res.json()).ok === true, 'retried request body');
  const { requests } = await admin.requests();
  check(requests.length === 4, `401 retry made ${requests.length} requests`);
  check(requests[1].path === '/custom/api' && requests[1].headers.authorization === 'Bearer old-1', 'first API call carries the first token');
  check(requests[2].path === '/custom/token', 'a fresh token was fetched after the 401');
  check(requests[3].headers.authorization === 'Bearer new-2' && requests[3].body === '{"order":1}', 'the retry carries the new token and the body');
  check((await api.authorizationHeader()) === 'Bearer new-2', 'the new token is cached');
  passed.push('401 retry via client.fetch');

  // A typed error with a stable code and no secret.
  await admin.reset();
  await admin.script([{ status: 401, headers: { 'content-type': 'application/json' }, json: { error: 'invalid_client', error_description: `bad secret ${SECRET}` } }]);
  const failing = new TokenClient(config);
  let error;
  try { await failing.token(); } catch (e) { error = e; }
  check(error instanceof TokenwellError, `error is a TokenwellError: ${error}`);
  check(error.code === 'invalid_client' && error.status === 401, `error code ${error.code} status ${error.status}`);
  check(!`${error.message} ${error.detail} ${JSON.stringify(error)}`.includes(SECRET), 'the error shows no secret');
  passed.push('typed error without the secret');

  // Events (in a microtask, after the call) and status(), in this runtime.
  await admin.reset();
  await admin.script([grant('events-1')]);
  const events = [];
  const observed = new TokenClient({ ...config, onEvent: (e) => { events.push(e.name); } });
  check(observed.status().health === 'idle', `status before: ${observed.status().health}`);
  await observed.token();
  check(events.length === 0 || events[0] === 'fetch_started', `events during the call: ${events}`);
  await new Promise((resolve) => setTimeout(resolve, 0));
  check(events.join() === 'fetch_started,fetched', `events: ${events}`);
  check(observed.status().health === 'up' && observed.status().tokenUsable, 'status after a fetch');
  passed.push('events and status');
  return passed;
}
