// Discovery in WebAssembly: `issuer` instead of `tokenUrl`, the metadata read
// with a body-less GET through the runtime's fetch (which refuses a body on a
// GET; the mock refuses a metadata request with a body or a content type).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TokenClient } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

const client = (device, extra = {}) => new TokenClient({
  provider: 'custom', issuer: `${mock.url}/${device}`, credentials: 'basic',
  clientId: 'js-client', clientSecret: 'Jm47nW8e1k', ...extra,
});

test('the token endpoint comes from the issuer\'s metadata, read once', async () => {
  await mock.admin.reset();
  const c = client('discovery/rfc8414', { discoveryTtlSecs: 3600 });
  await Promise.all(Array.from({ length: 20 }, () => c.token()));
  const seen = await mock.admin.requests();
  assert.deepEqual(seen.metadata, [
    '/discovery/rfc8414/.well-known/openid-configuration',
    '/.well-known/oauth-authorization-server/discovery/rfc8414',
  ]);
  assert.deepEqual(seen.requests.map((r) => r.path), ['/custom/token']);
});

test('discovery failures are typed errors', async () => {
  await assert.rejects(client('discovery/foreign').token(),
    (e) => e.code === 'config' && /must be equal/.test(e.message));
  await assert.rejects(client('discovery/post-only').token(),
    (e) => e.code === 'config' && /client_secret_basic is not among .*\[client_secret_post\]/.test(e.message));
  await assert.rejects(client('discovery/down').token(),
    (e) => e.code === 'server_error' && e.status === 500);
  assert.throws(() => client('custom', { tokenUrl: `${mock.url}/custom/token` }),
    (e) => e.code === 'config' && /issuer and token_url/.test(e.message));
});
