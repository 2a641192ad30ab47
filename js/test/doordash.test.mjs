// provider 'doordash' through the npm package: the WebAssembly core mints the
// JWT (no token request), node's own crypto verifies its HMAC independently,
// the mock's DoorDash API route accepts it, and a 401 then invalidate() mints a
// new one; a store is never used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { TokenClient, ManualClock, MemoryStore, TokenwellError } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';

// The mock's DoorDash developer when it runs without client credentials (src/mock/doordash.rs).
const DEVELOPER_ID = 'tokenwell-mock-developer';
const KEY_ID = 'tokenwell-mock-key';
const SIGNING_SECRET = 'dG9rZW53ZWxsLW1vY2stZG9vcmRhc2gtc2lnbmluZy1zZWNyZXQ';
let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

const config = (extra) => ({
  provider: 'doordash', developerId: DEVELOPER_ID, keyId: KEY_ID, signingSecret: SIGNING_SECRET, ...extra,
});
const b64 = (part) => Buffer.from(part, 'base64url');
const call = async (token) => (await fetch(`${mock.url}/doordash/drive/v2/deliveries/js-1`, {
  headers: { authorization: `Bearer ${token}` },
})).status;
const doordash = async (body) => (await fetch(`${mock.url}/__admin/doordash`, {
  method: body ? 'POST' : 'GET', body: body && JSON.stringify(body),
})).json();

test('the minted JWT: DoorDash\'s header and claims, HS256 by the decoded secret', async () => {
  const before = Math.floor(Date.now() / 1000);
  const token = await new TokenClient(config({ assertion: { lifetimeSecs: 600 } })).token();
  const [h, c, s] = token.accessToken.split('.');
  assert.deepEqual(JSON.parse(b64(h)), { typ: 'JWT', alg: 'HS256', 'dd-ver': 'DD-JWT-V1', kid: KEY_ID });
  const claims = JSON.parse(b64(c));
  assert.deepEqual(Object.keys(claims), ['aud', 'iss', 'kid', 'exp', 'iat']);
  assert.deepEqual([claims.aud, claims.iss, claims.kid], ['doordash', DEVELOPER_ID, KEY_ID]);
  assert.ok(claims.iat >= before && claims.iat <= Math.floor(Date.now() / 1000));
  assert.equal(claims.exp - claims.iat, 600);
  const mac = createHmac('sha256', b64(SIGNING_SECRET)).update(`${h}.${c}`).digest();
  assert.deepEqual(b64(s), mac);
});

test('the mock accepts it; a 401 then invalidate() mints a new one; no request, no store', async () => {
  await mock.admin.reset();
  const events = [];
  const client = new TokenClient(config({
    clock: new ManualClock(1_767_225_600_000), store: new MemoryStore(), onEvent: (e) => events.push(e),
  }));
  const token = await client.token();
  assert.equal(await call(token.accessToken), 200);
  await doordash({ reject_next: 1 });
  assert.equal(await call(token.accessToken), 401);
  assert.equal(client.invalidate(token.accessToken), true);
  const next = await client.token();
  assert.equal(await call(next.accessToken), 200);
  await client.settle();
  await new Promise((r) => setTimeout(r, 0));
  const fetched = events.filter((e) => e.name === 'fetched');
  assert.deepEqual(fetched.map((e) => [e.status, e.fromStore, e.lifetimeMs]), [[null, false, 1_799_000], [null, false, 1_799_000]]);
  assert.equal((await doordash()).accepted, 2);
  assert.equal(await mock.admin.count(), 0);
  assert.equal(client.status().storeBreaker, null);
});

test('bad input names the key, never the secret', () => {
  const bad = 'not*base64url*secret';
  for (const [extra, key] of [[{ signingSecret: bad }, 'signing_secret'],
    [{ assertion: { lifetimeSecs: 1801 } }, 'assertion.lifetime_secs']]) {
    assert.throws(() => new TokenClient(config(extra)),
      (e) => e instanceof TokenwellError && e.code === 'config' && e.message.includes(key) && !e.message.includes(bad));
  }
  assert.ok(!inspect(new TokenClient(config())).includes(SIGNING_SECRET));
});
