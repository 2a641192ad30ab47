// The core's warnings reach the console. A failed fetch
// warns once (console.warn, the core's scrubbed text with the code); a cache
// hit, a successful fetch and debug records print nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TokenClient } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const SECRET = 'js-log-secret-9e17ab';
let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

/** Runs `body` with console.warn / console.error / console.log / console.debug captured. */
async function capturing(body) {
  const seen = [];
  const saved = {};
  for (const name of ['warn', 'error', 'log', 'info', 'debug']) {
    saved[name] = console[name];
    console[name] = (...args) => seen.push({ name, text: args.map(String).join(' ') });
  }
  try {
    await body();
  } finally {
    Object.assign(console, saved);
  }
  return seen;
}

const client = (name) => new TokenClient({
  provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: name, clientSecret: SECRET,
});

test('a failed fetch warns once on the console, with the code and without the secret', async () => {
  await mock.admin.reset();
  await mock.admin.script([
    { status: 401, json: { error: 'invalid_client', error_description: `secret ${SECRET} is wrong` } },
  ]);
  const seen = await capturing(async () => {
    await assert.rejects(client('warn-once').token(), (e) => e.code === 'invalid_client');
  });
  assert.equal(seen.length, 1, JSON.stringify(seen));
  assert.equal(seen[0].name, 'warn');
  assert.match(seen[0].text, /^tokenwell: token fetch failed \(invalid_client \(HTTP 401\)/);
  assert.ok(!seen[0].text.includes(SECRET), seen[0].text);
});

test('a successful fetch and cache hits print nothing', async () => {
  await mock.admin.reset();
  await mock.admin.script([
    { status: 200, json: { access_token: 'js-log-tok', token_type: 'Bearer', expires_in: 300 } },
  ]);
  const c = client('quiet');
  const seen = await capturing(async () => {
    assert.equal((await c.token()).accessToken, 'js-log-tok');
    for (let i = 0; i < 100; i++) await c.authorizationHeader();
  });
  assert.deepEqual(seen, []);
  assert.equal(await mock.admin.count(), 1);
});
