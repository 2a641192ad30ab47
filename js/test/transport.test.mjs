// The application's own fetch (the `fetch` option): it carries every token
// request, exactly as the core built it, a cache hit never reaches it, and
// mutual TLS without one is a config error. The fault catalogue through it is
// in faults.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TokenClient, TokenwellError } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

const config = () => ({
  provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'echo-client', clientSecret: 's3cret-own-fetch', credentials: 'basic',
});

test('the own fetch carries the token request as the core built it, never a redirect', async () => {
  await mock.admin.reset();
  const seen = [];
  const fetch = (url, init) => { seen.push({ url, init }); return globalThis.fetch(url, init); };
  const client = new TokenClient({ ...config(), fetch, onEvent: () => {} });
  const calls = 50;
  for (let i = 0; i < calls; i++) await client.token();
  assert.equal(seen.length, 1, 'one fetch; every later call a hit');
  assert.equal(seen[0].url, `${mock.url}/custom/token`);
  assert.equal(seen[0].init.method, 'POST');
  assert.equal(seen[0].init.redirect, 'manual');
  const headers = new Headers(seen[0].init.headers);
  assert.match(headers.get('authorization'), /^Basic /, 'the secret goes in the Authorization header');
  const { requests } = await mock.admin.requests();
  assert.equal(requests.length, 1);
  const { hits, misses } = client.lookups();
  assert.equal(hits + misses, calls);
});

test('a fetch that is not a function is a config error', () => {
  assert.throws(() => new TokenClient({ ...config(), fetch: 'https://proxy' }),
    (e) => e instanceof TokenwellError && e.code === 'config' && /fetch must be a function/.test(e.message));
});

test('mutual TLS without the fetch option is a config error naming the way to give one', () => {
  for (const credentials of ['tls_client_auth', 'self_signed_tls_client_auth']) {
    const { clientSecret: _, credentials: __, ...noSecret } = config();
    assert.throws(() => new TokenClient({ ...noSecret, credentials }), (e) => {
      assert.ok(e instanceof TokenwellError, String(e));
      assert.equal(e.code, 'config');
      assert.match(e.message, /needs the fetch option/);
      assert.match(e.message, /undici/);
      return true;
    });
  }
});
