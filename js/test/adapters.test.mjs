// The JS HTTP-client integrations — client.fetch, tokenwell/axios, tokenwell/ky —
// against the real libraries, the mock provider and the shared 401-retry table
// (tests/adapters/retry-401.json, every case plus 64 concurrent calls), and what
// each integration adds beyond the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createServer } from 'node:http';
import axios from 'axios';
import ky from 'ky';
import { TokenClient } from 'tokenwell';
import { attachTokenwell } from 'tokenwell/axios';
import { tokenwellHooks } from 'tokenwell/ky';
import { tableTests } from './helpers/retry401.mjs';
import { startMock } from './helpers/mock.mjs';

const webStream = (text) => new ReadableStream({
  start(controller) { controller.enqueue(new TextEncoder().encode(text)); controller.close(); },
});
const times = (n, f) => Promise.all(Array.from({ length: n }, f));

const fetchAdapter = {
  name: 'client.fetch',
  async send(client, { method, url, body, oneShot }) {
    const init = { method };
    if (body !== null) Object.assign(init, oneShot ? { body: webStream(body), duplex: 'half' } : { body });
    const response = await client.fetch(url, init);
    await response.arrayBuffer();
    return response.status;
  },
  sendMany: (client, url, n) => times(n, async () => {
    const response = await client.fetch(url);
    await response.arrayBuffer();
    return response.status;
  }),
};

async function axiosStatus(promise) {
  try {
    return (await promise).status;
  } catch (e) {
    if (e?.response) return e.response.status;
    throw e;
  }
}

const axiosAdapter = {
  name: 'axios',
  async send(client, { method, url, body, oneShot }) {
    const api = axios.create();
    attachTokenwell(api, client);
    const data = body === null ? undefined : oneShot ? Readable.from([Buffer.from(body)]) : body;
    return axiosStatus(api.request({ method, url, data, headers: { 'content-type': 'application/json' } }));
  },
  sendMany(client, url, n) {
    const api = axios.create();
    attachTokenwell(api, client);
    return times(n, () => axiosStatus(api.get(url)));
  },
};

const kyAdapter = {
  name: 'ky',
  noOneShot: 'ky clones the Request before it sends it (for its own retries), so every body it sends can be sent again',
  async send(client, { method, url, body }) {
    const api = ky.create({ hooks: tokenwellHooks(client), throwHttpErrors: false, retry: 0 });
    const response = await api(url, { method, body: body ?? undefined });
    await response.arrayBuffer();
    return response.status;
  },
  sendMany(client, url, n) {
    const api = ky.create({ hooks: tokenwellHooks(client), throwHttpErrors: false, retry: 0 });
    return times(n, async () => {
      const response = await api.get(url);
      await response.arrayBuffer();
      return response.status;
    });
  },
};

tableTests([fetchAdapter, axiosAdapter, kyAdapter]);

// -- beyond the table

const grant = (token) => ({ status: 200, headers: { 'content-type': 'application/json' },
  json: { access_token: token, token_type: 'Bearer', expires_in: 600 } });

/** An API that answers 401 to the tokens in `rejected`; runs `body(api)` with a fresh mock. */
async function withApi(body) {
  const mock = await startMock();
  const api = { seen: [], rejected: new Set() };
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    api.seen.push(auth);
    req.resume();
    req.on('end', () => {
      const status = api.rejected.has(auth.replace(/^Bearer /, '')) ? 401 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"ok":true}' : '{"error":"invalid_token"}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${server.address().port}`;
  try {
    await mock.admin.script([grant('own-1'), grant('own-2'), grant('own-3')]);
    const client = new TokenClient({ provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'c', clientSecret: 'own-secret-7' });
    await body({ api, mock, client });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await mock.stop();
  }
}

test('axios: the token is reused, a 401 accepted by validateStatus is retried too, eject() removes the interceptors', () =>
  withApi(async ({ api, mock, client }) => {
    const http = axios.create({ baseURL: api.url, validateStatus: () => true });
    const attached = attachTokenwell(http, client);
    assert.equal((await http.get('/a')).status, 200);
    assert.equal((await http.get('/b')).status, 200);
    api.rejected.add('own-1');
    const retried = await http.post('/c', { n: 1 });
    assert.equal(retried.status, 200);
    assert.deepEqual(api.seen, ['Bearer own-1', 'Bearer own-1', 'Bearer own-1', 'Bearer own-2']);
    assert.equal(await mock.admin.count(), 2);
    attached.eject();
    assert.equal((await http.get('/d')).status, 200);
    assert.equal(api.seen.at(-1), '', 'no token once ejected');
  }));

test('axios: the retry is marked on its config and is not retried again', () =>
  withApi(async ({ api, client }) => {
    const http = axios.create({ baseURL: api.url });
    attachTokenwell(http, client);
    api.rejected.add('own-1').add('own-2');
    const error = await http.get('/x').then(() => null, (e) => e);
    assert.equal(error?.response?.status, 401);
    assert.equal(error.config.__tokenwellRetried, true);
    assert.ok(!JSON.stringify(error).includes('own-'), 'the AxiosError (its config) keeps no token');
    assert.deepEqual(api.seen, ['Bearer own-1', 'Bearer own-2']);
  }));

test('ky: hooks merge with the instance\'s own, and a 401 is retried once', () =>
  withApi(async ({ api, mock, client }) => {
    const mine = [];
    const http = ky.create({ prefixUrl: api.url, retry: 0,
      hooks: { beforeRequest: [(request) => { mine.push(request.method); }] } }).extend({ hooks: tokenwellHooks(client) });
    api.rejected.add('own-1');
    assert.deepEqual(await http.post('orders', { json: { n: 1 } }).json(), { ok: true });
    assert.deepEqual(api.seen, ['Bearer own-1', 'Bearer own-2']);
    assert.deepEqual(mine, ['POST']);
    api.rejected.add('own-2').add('own-3');
    await assert.rejects(http.get('orders'), (e) => e.name === 'HTTPError' && e.response.status === 401);
    assert.deepEqual(api.seen.slice(2), ['Bearer own-2', 'Bearer own-3']);
    assert.equal(await mock.admin.count(), 3);
  }));

test('ky: a call retries once, even when ky\'s own retries are set to retry a 401', () =>
  withApi(async ({ api, mock, client }) => {
    const http = ky.create({ prefixUrl: api.url, hooks: tokenwellHooks(client),
      retry: { limit: 1, statusCodes: [401], methods: ['get'], delay: () => 0 } });
    api.rejected.add('own-1').add('own-2').add('own-3');
    await assert.rejects(http.get('orders'), (e) => e.name === 'HTTPError' && e.response.status === 401);
    // ky's retry sends the (cached) new token again; the hooks do not retry a second time.
    assert.deepEqual(api.seen, ['Bearer own-1', 'Bearer own-2', 'Bearer own-2']);
    assert.equal(await mock.admin.count(), 2);
  }));

test('the integrations refuse what is not an axios instance or a TokenClient', () => {
  assert.throws(() => attachTokenwell({}, {}), TypeError);
  assert.throws(() => attachTokenwell(axios.create(), { token: 'x' }), TypeError);
  assert.throws(() => tokenwellHooks(null), TypeError);
});
