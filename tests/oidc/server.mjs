// panva's oidc-provider (an OpenID Certified server) on a free loopback port,
// knowing every client of clients.json, for the oidc tests of every language.
//
//   node tests/oidc/server.mjs [--path /prefix]   (default: clients.json's issuer_path)
//
// When it serves it prints one JSON line on stdout:
//   {"issuer", "token_endpoint", "introspection_endpoint", "admin"}
// then serves until stdin closes (the test that started it exited, crashed or
// not) or it gets SIGTERM/SIGINT. Anything else it says goes to stderr.
//
// Only the client_credentials grant is enabled; access tokens are opaque, so
// the introspection endpoint (with clients.json's `introspector`) tells whether
// a token is one the server issued and still honours.
//
// Clients marked `"rotating": true` live in the adapter instead of the static
// list, so their secret can change while the server runs:
//   PUT {admin}/clients/{client_id}/secret   (body: the new secret)
// After that the old secret gets `invalid_client`. Loopback only, like the rest.
//
// With TOKENWELL_OIDC_MTLS_DIR set (a directory holding ca.pem, server.crt and
// server.key) it also serves HTTPS on a second port, asking for a client
// certificate that CA signed, advertises that port's token endpoint as the
// metadata's `mtls_endpoint_aliases`, and knows one more client: `mtls-client`
// (`tls_client_auth`, subject `CN=mtls-client`). The line then has `mtls_origin`.
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// oidc-provider's notices (console.info, on stdout) and its warnings about
// development defaults would mix with the JSON line and the tests' output.
const quiet = () => {};
console.log = quiet;
console.info = quiet;
console.warn = quiet;
// Imported after the above: it warns as it loads.
const { default: Provider } = await import('oidc-provider');

const here = dirname(fileURLToPath(import.meta.url));
const table = JSON.parse(readFileSync(join(here, 'clients.json'), 'utf8'));

// oidc-provider finds its mount path by looking for the route in the URL: a
// path holding a route's name (`/token`, `/auth`) confuses it.
const args = process.argv.slice(2);
let prefix = table.issuer_path ?? '';
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--path' && args[i + 1]) {
    prefix = `/${args[i + 1].replace(/^\/+|\/+$/g, '')}`;
    i += 1;
  } else {
    process.stderr.write(`oidc launcher: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
}

/** A public key file of tests/oidc/keys as a JWK (with `kid`, and the
 * certificate's `x5t#S256` when one is named). */
function publicJwk({ file, kid, certificate }) {
  const jwk = createPublicKey(readFileSync(join(here, 'keys', file))).export({ format: 'jwk' });
  if (kid) jwk.kid = kid;
  if (certificate) {
    const der = new X509Certificate(readFileSync(join(here, 'keys', certificate))).raw;
    jwk['x5t#S256'] = createHash('sha256').update(der).digest('base64url');
  }
  return jwk;
}

/** oidc-provider's metadata for one row's `server` entry. */
function clientMetadata(server) {
  const { public_keys: keys, rotating, ...metadata } = server;
  if (keys) metadata.jwks = { keys: keys.map(publicJwk) };
  return {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    ...metadata,
  };
}

// The adapter: oidc-provider's models in memory; the rotating clients live here.
const storage = new Map();
class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expires = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    storage.set(this.key(id), { payload, expires });
  }

  async find(id) {
    const entry = storage.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      storage.delete(this.key(id));
      return undefined;
    }
    return structuredClone(entry.payload);
  }

  async findByUserCode() {
    return undefined;
  }

  async findByUid() {
    return undefined;
  }

  async consume(id) {
    const entry = storage.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId() {}
}

const staticClients = [];
for (const row of table.rows) {
  const metadata = clientMetadata(row.server);
  if (row.server.rotating) {
    storage.set(`Client:${metadata.client_id}`, { payload: metadata, expires: Infinity });
  } else if (!staticClients.some((c) => c.client_id === metadata.client_id)) {
    staticClients.push(metadata);
  }
}
staticClients.push(clientMetadata({
  client_id: table.introspector.client_id,
  client_secret: table.introspector.client_secret,
  token_endpoint_auth_method: 'client_secret_basic',
}));

async function listen(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server.address().port;
}

const http = createServer();
const origin = `http://127.0.0.1:${await listen(http)}`;
const issuer = `${origin}${prefix}`;

// Mutual TLS (opt-in): the socket's verified certificate authenticates the client.
const mtlsDir = process.env.TOKENWELL_OIDC_MTLS_DIR;
let https;
let mtlsOrigin;
let mtls = { enabled: false };
if (mtlsDir) {
  const file = (name) => readFileSync(join(mtlsDir, name));
  https = createHttpsServer({
    key: file('server.key'), cert: file('server.crt'), ca: file('ca.pem'),
    requestCert: true, rejectUnauthorized: false,
  });
  mtlsOrigin = `https://127.0.0.1:${await listen(https)}`;
  const peer = (ctx) => ctx.req.socket.getPeerX509Certificate?.();
  mtls = {
    enabled: true,
    tlsClientAuth: true,
    getCertificate: (ctx) => peer(ctx)?.toString(),
    certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
    certificateSubjectMatches: (ctx, property, expected) => property === 'tls_client_auth_subject_dn'
      && peer(ctx)?.subject.trim() === expected,
  };
  staticClients.push(clientMetadata({
    client_id: 'mtls-client',
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: 'CN=mtls-client',
  }));
}

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  clients: staticClients,
  features: {
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx) => ctx.oidc.client.clientId === table.introspector.client_id,
    },
    // Opaque tokens without an audience: the token endpoint needs no `resource`.
    resourceIndicators: { enabled: false },
    devInteractions: { enabled: false },
    mTLS: mtls,
  },
  ...(mtlsOrigin && {
    discovery: { mtls_endpoint_aliases: { token_endpoint: `${mtlsOrigin}${prefix}/token` } },
    clientAuthMethods: ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth'],
  }),
  scopes: ['api:read', 'api:write'],
  ttl: { ClientCredentials: 600 },
  // The launcher serves no browser: no consent, no login, no sessions.
  loadExistingGrant: async () => undefined,
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc launcher: ${err.stack}\n`));
const callback = provider.callback();

const admin = `${origin}/_admin`;
async function adminRoute(req, res) {
  const match = /^\/_admin\/clients\/([^/]+)\/secret$/.exec(req.url);
  if (req.method !== 'PUT' || !match) {
    res.writeHead(404).end();
    return;
  }
  const key = `Client:${decodeURIComponent(match[1])}`;
  const entry = storage.get(key);
  let secret = '';
  for await (const chunk of req) secret += chunk;
  if (!entry || !secret) {
    res.writeHead(entry ? 400 : 404).end();
    return;
  }
  storage.set(key, { payload: { ...entry.payload, client_secret: secret }, expires: Infinity });
  res.writeHead(204).end();
}

function serve(req, res) {
  if (req.url.startsWith('/_admin/')) {
    adminRoute(req, res).catch(() => res.writeHead(500).end());
  } else if (prefix && !(req.url === prefix || req.url.startsWith(`${prefix}/`))) {
    res.writeHead(404).end();
  } else {
    if (prefix) {
      // oidc-provider finds its mount path from originalUrl.
      req.originalUrl = req.url;
      req.url = req.url.slice(prefix.length) || '/';
    }
    callback(req, res);
  }
}
http.on('request', serve);
https?.on('request', serve);

function stop() {
  https?.closeAllConnections();
  https?.close();
  http.closeAllConnections();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

process.stdout.write(`${JSON.stringify({
  issuer,
  token_endpoint: `${issuer}/token`,
  introspection_endpoint: `${issuer}/token/introspection`,
  admin,
  ...(mtlsOrigin && { mtls_origin: mtlsOrigin }),
})}\n`);
