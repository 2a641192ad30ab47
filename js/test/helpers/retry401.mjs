// The shared 401-retry table (tests/adapters/retry-401.json), run against JS
// HTTP-client adapters: the mock provider is the token endpoint, and two loopback
// API servers ("origin" and "other", two origins) answer each case's steps.
//
// An adapter is `{ name, noOneShot?, send(client, request), sendMany(client, url, n) }`:
// `send` sends one request through its library with the tokenwell integration
// installed and resolves to the final status (or rejects with the TokenwellError);
// `request` is `{ method, url, body, oneShot }` (`body`: null or a string, to be
// sent as a one-shot stream when `oneShot`). `sendMany` sends `n` GETs at once and
// resolves to their statuses. `noOneShot` says why the library has no one-shot
// body, if it has none: those cases are skipped with that reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { TokenClient, TokenwellError } from 'tokenwell';
import { startMock } from './mock.mjs';

export const TABLE = JSON.parse(readFileSync(new URL('../../../tests/adapters/retry-401.json', import.meta.url), 'utf8'));
export const BODY = '{"order":42,"note":"sent twice if need be"}';

/** A loopback API: answers its scripted steps in order and records every request. */
async function apiServer(servers) {
  const api = { seen: [], steps: [], url: '' };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      api.seen.push({ auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString() });
      const step = api.steps.shift() ?? { status: 599 }; // unscripted: the test fails
      if (step.redirect) {
        res.writeHead(307, { location: servers[step.redirect].url + req.url, 'content-length': '0' });
        res.end();
        return;
      }
      const payload = step.status < 400 ? '{"ok":true}' : '{"error":"scripted"}';
      const headers = { 'content-type': 'application/json', 'content-length': String(payload.length) };
      if (step.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
      res.writeHead(step.status, headers);
      res.end(payload);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${server.address().port}`;
  api.load = (steps) => { api.seen = []; api.steps = [...steps]; };
  api.close = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); });
  return api;
}

const grant = (token, extra = {}) => ({
  status: 200, headers: { 'content-type': 'application/json' },
  json: { access_token: token, token_type: 'Bearer', expires_in: 600 }, ...extra,
});

/** Registers, in the calling test file, every case of the table and the concurrency case for each adapter. */
export function tableTests(adapters) {
  let mock;
  const servers = {};
  before(async () => {
    mock = await startMock();
    servers.origin = await apiServer(servers);
    servers.other = await apiServer(servers);
  });
  after(async () => {
    await servers.origin?.close();
    await servers.other?.close();
    await mock?.stop();
  });
  const newClient = () => new TokenClient({
    provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'table', clientSecret: 'table-secret-Q93',
  });

  for (const adapter of adapters) {
    for (const c of TABLE.cases) {
      test(`${adapter.name}: ${c.name}`, async (t) => {
        const oneShot = c.request.body === 'one_shot';
        if (oneShot && adapter.noOneShot) {
          t.skip(`${adapter.name}: ${adapter.noOneShot}`);
          return;
        }
        await mock.admin.reset();
        await mock.admin.script(c.token_endpoint
          ? [{ status: c.token_endpoint.status, headers: { 'content-type': 'application/json' }, json: c.token_endpoint.json }]
          : [grant('table-1'), grant('table-2'), grant('table-3')]); // the n-th token issued is table-n
        servers.origin.load(c.origin);
        servers.other.load(c.other ?? []);
        const body = c.request.body === 'none' ? null : BODY;
        const request = { method: c.request.method, url: `${servers.origin.url}/orders`, body, oneShot };
        const expect = c.expect;
        const client = newClient();
        if (expect.error_code) {
          await assert.rejects(adapter.send(client, request), (e) => e instanceof TokenwellError && e.code === expect.error_code);
        } else {
          assert.equal(await adapter.send(client, request), expect.status, c.name);
        }
        const seen = servers.origin.seen;
        const auths = seen.map((s) => s.auth);
        assert.equal(seen.length, expect.origin_requests, auths.join(' | '));
        assert.ok(auths.every((a) => a.startsWith('Bearer table-')), 'every request to the origin carries a token');
        if ('other_requests' in expect) assert.equal(servers.other.seen.length, expect.other_requests);
        if ('other_saw_token' in expect) assert.equal(servers.other.seen.some((s) => s.auth !== ''), expect.other_saw_token);
        assert.equal(await mock.admin.count(), expect.token_requests, 'token requests');
        if ('tokens_differ' in expect) assert.equal(new Set(auths).size > 1, expect.tokens_differ, auths.join(' | '));
        if ('origin_tokens' in expect) assert.deepEqual(auths, expect.origin_tokens.map((n) => `Bearer table-${n}`));
        if (expect.bodies_equal) assert.deepEqual(seen.map((s) => s.body), seen.map(() => body));
        assert.deepEqual([servers.origin.steps, servers.other.steps], [[], []], 'every scripted answer was asked for');
      });
    }

    test(`${adapter.name}: ${TABLE.concurrency.calls} concurrent calls on a cold cache make one token request`, async () => {
      const n = TABLE.concurrency.calls;
      await mock.admin.reset();
      // The token response is slow enough for every call to be waiting on it.
      await mock.admin.script([grant('table-1', { delay_ms: 300 })]);
      servers.origin.load(Array.from({ length: n }, () => ({ status: 200 })));
      servers.other.load([]);
      const statuses = await adapter.sendMany(newClient(), `${servers.origin.url}/orders`, n);
      assert.deepEqual(statuses, Array.from({ length: n }, () => TABLE.concurrency.expect.status));
      assert.equal(await mock.admin.count(), TABLE.concurrency.expect.token_requests);
      assert.deepEqual(servers.origin.seen.map((s) => s.auth), Array.from({ length: n }, () => 'Bearer table-1'));
    });
  }
}
