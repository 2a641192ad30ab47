// Every row of clients.json against the launcher WITHOUT tokenwell: requests
// built by hand (jose signs the assertions), so a row is known to be right on
// the server's side before tokenwell's runners use it. It also checks that the
// server refuses what it must (a key it does not know, a replayed or expired
// assertion, a wrong secret, a secret replaced by rotation): a row that passes
// against it means something.
//
//   node tests/oidc/selfcheck.mjs     (starts and stops its own launcher)
//
// The JS runner (js/test/oidc.test.mjs) calls `checkRow` on its launcher.
import {
  createHash, createPrivateKey, randomUUID, X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { importPKCS8, SignJWT } from 'jose';

import { introspect, KEYS_DIR, loadTable, setSecret, startLauncher } from './launch.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const METHOD = {
  basic: 'client_secret_basic',
  client_secret_basic: 'client_secret_basic',
  body: 'client_secret_post',
  client_secret_post: 'client_secret_post',
  client_secret_jwt: 'client_secret_jwt',
  private_key_jwt: 'private_key_jwt',
};

function fail(row, what) {
  throw new Error(`${row.name}: ${what}`);
}

/** The token endpoint a row's client uses: the launcher's, or the one its
 * discovery document names (checked like a client must). */
async function tokenEndpoint(row, launcher) {
  if (!row.discovery) return launcher.token_endpoint;
  const res = await fetch(`${launcher.issuer}/.well-known/openid-configuration`);
  if (res.status !== 200) fail(row, `discovery answered ${res.status}`);
  const doc = await res.json();
  if (doc.issuer !== launcher.issuer) fail(row, 'the discovery document names another issuer');
  const method = METHOD[row.config.credentials ?? 'body'];
  if (!(doc.token_endpoint_auth_methods_supported ?? ['client_secret_basic']).includes(method)) {
    fail(row, `the server does not list ${method}`);
  }
  return doc.token_endpoint;
}

/** A client assertion as tokenwell is to build it from `config`. */
async function assertion(config, launcher, endpoint, overrides = {}) {
  const opts = config.assertion ?? {};
  let key;
  let alg;
  if (config.credentials === 'client_secret_jwt') {
    alg = opts.algorithm ?? 'HS256';
    key = new TextEncoder().encode(overrides.secret ?? config.client_secret);
  } else {
    const pem = readFileSync(join(KEYS_DIR, overrides.keyFile ?? config.private_key_file), 'utf8');
    alg = opts.algorithm ?? (createPrivateKey(pem).asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256');
    key = await importPKCS8(pem, alg);
  }
  const header = { alg, typ: 'JWT' };
  if (config.key_id) header.kid = config.key_id;
  if (config.certificate_file) {
    const der = new X509Certificate(readFileSync(join(KEYS_DIR, config.certificate_file))).raw;
    header['x5t#S256'] = createHash('sha256').update(der).digest('base64url');
  }
  const audience = opts.audience === 'issuer' ? launcher.issuer
    : (!opts.audience || opts.audience === 'token_endpoint') ? endpoint : opts.audience;
  const now = Math.floor(Date.now() / 1000) + (overrides.shift ?? 0);
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(config.client_id)
    .setSubject(config.client_id)
    .setAudience(audience)
    .setJti(overrides.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.lifetime_secs ?? 60))
    .sign(key);
}

/** One token request as `config` describes it; the HTTP status and JSON body. */
async function request(config, launcher, endpoint, { secret, assertionJwt } = {}) {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (config.scope) body.set('scope', config.scope);
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const method = METHOD[config.credentials ?? 'body'];
  const clientSecret = secret ?? config.client_secret;
  if (method === 'client_secret_basic') {
    const pair = `${encodeURIComponent(config.client_id)}:${encodeURIComponent(clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else if (method === 'client_secret_post') {
    body.set('client_id', config.client_id);
    body.set('client_secret', clientSecret);
  } else {
    body.set('client_id', config.client_id);
    body.set('client_assertion_type', ASSERTION_TYPE);
    body.set('client_assertion', assertionJwt ?? await assertion(config, launcher, endpoint));
  }
  const res = await fetch(endpoint, { method: 'POST', headers, body });
  return { status: res.status, json: await res.json() };
}

async function expectToken(row, launcher, table, endpoint, options) {
  const { status, json } = await request(row.config, launcher, endpoint, options);
  if (status !== 200) fail(row, `token endpoint answered ${status} ${json.error}`);
  if (typeof json.access_token !== 'string' || !(json.expires_in > 0)) {
    fail(row, 'the answer lacks access_token or expires_in');
  }
  if (row.expect.token_type && json.token_type !== row.expect.token_type) fail(row, `token_type ${json.token_type}`);
  const info = await introspect(launcher, table, json.access_token);
  if (info.active !== row.expect.active || info.client_id !== row.config.client_id) {
    fail(row, `introspection says active=${info.active} client_id=${info.client_id}`);
  }
  if (row.expect.scope && info.scope !== row.expect.scope) fail(row, `scope ${info.scope}`);
  return json.access_token;
}

async function expectRefused(row, launcher, endpoint, options, why) {
  const { status, json } = await request(row.config, launcher, endpoint, options);
  if (status !== 401 || json.error !== 'invalid_client') {
    fail(row, `${why}: expected 401 invalid_client, got ${status} ${json.error}`);
  }
}

/** Checks one row; resolves with the list of what was checked. */
export async function checkRow(row, launcher, table) {
  const checked = [];
  const endpoint = await tokenEndpoint(row, launcher);
  if (row.rotate) {
    const [old, next] = row.rotate.secrets;
    await setSecret(launcher, row.config.client_id, old);
    await expectToken(row, launcher, table, endpoint, { secret: old });
    await setSecret(launcher, row.config.client_id, next);
    await expectRefused(row, launcher, endpoint, { secret: old }, 'the replaced secret');
    await expectToken(row, launcher, table, endpoint, { secret: next });
    await setSecret(launcher, row.config.client_id, old);
    checked.push('old secret refused after rotation, new one accepted');
  } else {
    const first = await expectToken(row, launcher, table, endpoint);
    const second = await expectToken(row, launcher, table, endpoint);
    if (first === second) fail(row, 'the second token is the first');
    checked.push('two tokens, both active');
  }
  const { config } = row;
  if (config.credentials === 'private_key_jwt') {
    await expectRefused(row, launcher, endpoint, {
      assertionJwt: await assertion(config, launcher, endpoint, { keyFile: 'rsa2048-other.pk8.pem' }),
    }, 'an assertion signed by a key the server does not know');
    checked.push('unknown key refused');
  }
  if (config.credentials === 'client_secret_jwt') {
    await expectRefused(row, launcher, endpoint, {
      assertionJwt: await assertion(config, launcher, endpoint, { secret: `${config.client_secret}-wrong` }),
    }, 'an assertion keyed by a wrong secret');
    checked.push('wrong secret refused');
  }
  if (config.credentials === 'private_key_jwt' || config.credentials === 'client_secret_jwt') {
    const jti = randomUUID();
    const once = await assertion(config, launcher, endpoint, { jti });
    await expectToken(row, launcher, table, endpoint, { assertionJwt: once });
    await expectRefused(row, launcher, endpoint, { assertionJwt: once }, 'a replayed assertion');
    await expectRefused(row, launcher, endpoint, {
      assertionJwt: await assertion(config, launcher, endpoint, { shift: -600 }),
    }, 'an expired assertion');
    checked.push('replayed and expired assertions refused');
  } else if (!row.rotate) {
    await expectRefused(row, launcher, endpoint, { secret: `${config.client_secret}-wrong` }, 'a wrong secret');
    checked.push('wrong secret refused');
  }
  return checked;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = loadTable();
  const launcher = await startLauncher();
  let failed = 0;
  try {
    for (const row of table.rows) {
      try {
        const checked = await checkRow(row, launcher, table);
        process.stdout.write(`ok   ${row.name} (${row.feature}): ${checked.join('; ')}\n`);
      } catch (err) {
        failed += 1;
        process.stdout.write(`FAIL ${err.message}\n`);
      }
    }
  } finally {
    await launcher.stop();
  }
  process.exitCode = failed ? 1 : 0;
}
