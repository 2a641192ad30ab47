// A secret that rotates without a restart: `credentialProvider` against a mock
// whose client secret an admin call rotates (the old one refused at once, as
// Bringg does); `clientSecretFile` is refused in WebAssembly, pointing at the provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TokenClient, TokenwellError } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const CLIENT_ID = 'js-rot-client';
let mock;
before(async () => { mock = await startMock(['--client-id', CLIENT_ID, '--client-secret', 'old-secret-aa11']); });
after(async () => { await mock?.stop(); });

const config = (extra) => ({
  provider: 'deliveroo', environment: 'sandbox', baseUrl: `${mock.url}/deliveroo`, clientId: CLIENT_ID,
  policy: { backoffInitialMs: 20, backoffMaxMs: 20 }, ...extra,
});

test('a credential provider is asked once per fetch, follows a rotation and keeps the last good secret', async () => {
  let calls = 0;
  let secret = 'old-secret-aa11';
  let fail = false;
  const client = new TokenClient(config({
    async credentialProvider() {
      calls += 1;
      if (fail) throw new Error('vault unreachable: new-secret-bb22');
      return secret;
    },
  }));
  const first = await client.token();
  for (let i = 0; i < 20; i++) await client.token();
  assert.equal(calls, 1, 'never asked on a hit');

  await mock.admin.rotate('new-secret-bb22');
  secret = 'new-secret-bb22';
  client.invalidate(first.accessToken);
  const second = await client.token();
  assert.notEqual(second.accessToken, first.accessToken);
  assert.equal(calls, 2);

  // Throwing keeps the last good secret, with a warning that names no secret.
  fail = true;
  const lines = [];
  const warn = console.warn;
  console.warn = (...args) => lines.push(args.map(String).join(' '));
  try {
    client.invalidate(second.accessToken);
    const third = await client.token();
    assert.notEqual(third.accessToken, second.accessToken);
  } finally {
    console.warn = warn;
  }
  assert.ok(lines.some((l) => l.includes('credential provider')), lines.join('\n'));
  assert.ok(lines.every((l) => !l.includes('secret-')), lines.join('\n'));
});

test('a sync provider works; one that never gave a secret fails the token with config', async () => {
  const client = new TokenClient(config({ credentialProvider: () => 'new-secret-bb22' }));
  await mock.admin.rotate('new-secret-bb22');
  assert.ok((await client.token()).accessToken);
  const broken = new TokenClient(config({ credentialProvider: () => { throw new Error('nope'); } }));
  await assert.rejects(broken.token(), (e) => e instanceof TokenwellError && e.code === 'config');
  assert.throws(() => new TokenClient(config({ credentialProvider: 'x' })), (e) => e.code === 'config');
});

test('clientSecretFile is refused in WebAssembly, pointing at credentialProvider', () => {
  assert.throws(
    () => new TokenClient(config({ clientSecretFile: '/run/secrets/client-secret' })),
    (e) => e instanceof TokenwellError && e.code === 'config' && /credentialProvider/.test(e.message)
      && !e.message.includes('/run/secrets'),
  );
});

test('invalid_client asks the provider once more and retries once, only with a new secret', async () => {
  await mock.admin.rotate('new-secret-bb22');
  const answers = ['stale-secret-00', 'new-secret-bb22'];
  let calls = 0;
  const lagging = new TokenClient(config({ credentialProvider: () => answers[Math.min(calls++, 1)] }));
  const before = await mock.admin.count();
  assert.ok((await lagging.token()).accessToken);
  assert.equal(calls, 2);
  assert.equal(await mock.admin.count() - before, 2, 'the rejected request and its one retry');

  let asked = 0;
  const stale = new TokenClient(config({ credentialProvider: () => { asked++; return 'stale-secret-00'; } }));
  const start = await mock.admin.count();
  await assert.rejects(stale.token(), (e) => e.code === 'invalid_client');
  assert.equal(asked, 2, 'asked once more after invalid_client');
  assert.equal(await mock.admin.count() - start, 1, 'no retry with the same secret');
});
