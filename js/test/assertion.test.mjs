// Client assertions (private_key_jwt, client_secret_jwt) through the npm package:
// WebCrypto signs RS256, PS256 and ES256 in the WebAssembly core, the mock's
// /assertion/token route verifies each, and node's own crypto verifies the
// assertion the mock recorded (header, claims and signature) independently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, verify, constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { TokenClient, TokenwellError } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

const key = (name) => readFileSync(new URL(`../../tests/oidc/keys/${name}`, import.meta.url), 'utf8');
const HS256_SECRET = 'tokenwell-mock-hs256-secret';
let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

const config = (extra) => ({
  provider: 'custom', tokenUrl: `${mock.url}/assertion/token`, clientId: 'assertion-client',
  encoding: 'form', ...extra,
});
const b64 = (part) => Buffer.from(part, 'base64url');

/** The one recorded request's assertion: [header, claims, signing input, signature]. */
async function recordedAssertion() {
  const { requests } = await mock.admin.requests();
  assert.equal(requests.length, 1);
  const body = new URLSearchParams(requests[0].body);
  assert.equal(body.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  assert.equal(body.get('client_id'), 'assertion-client');
  assert.equal(body.get('client_secret'), null);
  assert.equal(requests[0].headers.authorization, undefined);
  const [h, c, s] = body.get('client_assertion').split('.');
  return [JSON.parse(b64(h)), JSON.parse(b64(c)), Buffer.from(`${h}.${c}`), b64(s)];
}

const cases = [
  ['RS256', { privateKey: key('rsa2048.pk8.pem') }, { key: createPublicKey(key('rsa2048.pub.pem')) }],
  ['PS256', { privateKey: key('rsa2048.pk8.pem'), keyId: 'kid-1', assertion: { algorithm: 'PS256' } },
    { key: createPublicKey(key('rsa2048.pub.pem')), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  ['ES256', { privateKey: key('ec256.pk8.pem') }, { key: createPublicKey(key('ec256.pub.pem')), dsaEncoding: 'ieee-p1363' }],
];

for (const [alg, extra, publicKey] of cases) {
  test(`private_key_jwt ${alg}: the server accepts it and node's crypto verifies it`, async () => {
    await mock.admin.reset();
    const client = new TokenClient(config({ credentials: 'private_key_jwt', ...extra }));
    const before = Math.floor(Date.now() / 1000);
    await client.token();
    const [header, claims, input, signature] = await recordedAssertion();
    assert.deepEqual(header, { alg, typ: 'JWT', ...(extra.keyId ? { kid: extra.keyId } : {}) });
    assert.deepEqual(Object.keys(claims), ['iss', 'sub', 'aud', 'jti', 'iat', 'exp']);
    assert.equal(claims.iss, 'assertion-client');
    assert.equal(claims.sub, 'assertion-client');
    assert.equal(claims.aud, `${mock.url}/assertion/token`);
    assert.match(claims.jti, /^[0-9a-f]{32}$/);
    assert.ok(claims.iat >= before - 1 && claims.iat <= before + 5);
    assert.equal(claims.exp - claims.iat, 60);
    assert.ok(verify('sha256', input, publicKey, signature), 'node verifies the signature');
    const other = { ...publicKey, key: createPublicKey(key('rsa2048-other.pub.pem')) };
    if (alg !== 'ES256') assert.ok(!verify('sha256', input, other, signature));
  });
}

test('client_secret_jwt: HS256 keyed by the secret, which is never sent', async () => {
  await mock.admin.reset();
  const client = new TokenClient(config({ credentials: 'client_secret_jwt', clientSecret: HS256_SECRET }));
  await client.token();
  const [header, , input, signature] = await recordedAssertion();
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(signature, createHmac('sha256', HS256_SECRET).update(input).digest());
  const { requests } = await mock.admin.requests();
  assert.ok(!requests[0].body.includes(HS256_SECRET));
});

test('a key the server does not know is invalid_client', async () => {
  const client = new TokenClient(config({ credentials: 'private_key_jwt', privateKey: key('rsa2048-other.pk8.pem') }));
  await assert.rejects(client.token(), (e) => e instanceof TokenwellError && e.code === 'invalid_client');
});

test('refused key forms are config errors naming openssl, never quoting the key', () => {
  for (const name of ['bad-rsa2048.pkcs1.pem', 'bad-ec256.sec1.pem', 'bad-rsa2048.encrypted.pk8.pem', 'bad-rsa1024.pk8.pem', 'bad-ec384.pk8.pem', 'bad-ed25519.pk8.pem']) {
    const pem = key(name);
    assert.throws(() => new TokenClient(config({ credentials: 'private_key_jwt', privateKey: pem })), (e) => {
      assert.ok(e instanceof TokenwellError && e.code === 'config', `${name}: ${e}`);
      assert.match(e.message, /openssl (pkcs8|genpkey)/, name);
      const body = pem.split('\n').find((l) => l && !l.startsWith('-----'));
      assert.ok(!e.message.includes(body.slice(0, 40)), `${name}: the error quotes the key`);
      return true;
    });
  }
  assert.throws(() => new TokenClient(config({ credentials: 'private_key_jwt', privateKeyFile: '/tmp/key.pem' })),
    (e) => e.code === 'config' && /not available in WebAssembly/.test(e.message));
});

test('the private key never shows', () => {
  const pem = key('ec256.pk8.pem');
  const client = new TokenClient(config({ credentials: 'private_key_jwt', privateKey: pem }));
  const body = pem.split('\n').find((l) => l && !l.startsWith('-----'));
  for (const text of [String(client), inspect(client, { depth: 5 }), JSON.stringify(client) ?? '']) {
    assert.ok(!text.includes(body.slice(0, 40)), text);
  }
});

test('private_key_jwt with a credentialProvider: the provider gives the key, a new key rotates the client', async () => {
  await mock.admin.reset();
  // The key is unknown until the first fetch, so the algorithm must be configured.
  assert.throws(() => new TokenClient(config({ credentials: 'private_key_jwt', credentialProvider: () => key('rsa2048.pk8.pem') })),
    (e) => e instanceof TokenwellError && e.code === 'config' && /assertion\.algorithm/.test(e.message));
  assert.throws(() => new TokenClient(config({ credentials: 'private_key_jwt', assertion: { algorithm: 'RS256' },
    privateKey: key('rsa2048.pk8.pem'), credentialProvider: () => key('rsa2048.pk8.pem') })),
  (e) => e.code === 'config' && /replaces private_key/.test(e.message) && !e.message.includes('PRIVATE KEY'));

  let pem = null;
  let calls = 0;
  const client = new TokenClient(config({
    credentials: 'private_key_jwt', assertion: { algorithm: 'RS256' },
    credentialProvider: () => { calls++; if (pem === null) throw new Error('vault sealed'); return pem; },
  }));
  await assert.rejects(client.token(), (e) => e.code === 'config' && /no private key yet/.test(e.message));

  pem = key('rsa2048.pk8.pem');
  const first = await client.token();
  const [header] = await recordedAssertion();
  assert.equal(header.alg, 'RS256');
  assert.equal((await client.token()).accessToken, first.accessToken);

  // A key the server does not know: a new client, refused.
  pem = key('rsa2048-other.pk8.pem');
  client.invalidate(first.accessToken);
  await assert.rejects(client.token(), (e) => e.code === 'invalid_client' && !e.message.includes('PRIVATE KEY'));

  pem = key('rsa2048.pk8.pem');
  const second = await client.token();
  assert.notEqual(second.accessToken, first.accessToken);
  assert.ok(calls >= 4);
});
