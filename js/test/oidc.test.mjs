// Every row of tests/oidc/clients.json against panva's oidc-provider (an
// OpenID Certified server), started once for this file by tests/oidc/server.mjs:
//   - the self-check (tests/oidc/selfcheck.mjs): each row's requests built by
//     hand (jose signs the assertions), pending rows included, so every row is
//     known to be right on the server's side;
//   - tokenwell: a token, which the server's introspection endpoint reports
//     active for the row's client; invalidated; a second, different one, also
//     active. A rotation row changes the client's secret on the server and in
//     its file in between. Rows whose feature is in tests/oidc/pending.json are
//     skipped, saying so.
// Without the launcher's packages (bash tests/oidc/setup.sh) or when it does not
// start, the tests skip saying why, unless CI is set: then they fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenClient, TokenwellError } from 'tokenwell';
import {
  KEYS_DIR, introspect, loadPending, loadTable, missingDependencies, setSecret, startLauncher,
} from '../../tests/oidc/launch.mjs';

const CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const table = loadTable();
const pending = process.env.TOKENWELL_OIDC_ALL === '1' ? new Set() : loadPending();

let launcher;
let unavailable = missingDependencies();
let checkRow;
let scratch;
let startedIn;
before(async () => {
  if (unavailable) return;
  const started = performance.now();
  try {
    launcher = await startLauncher();
    ({ checkRow } = await import('../../tests/oidc/selfcheck.mjs'));
  } catch (err) {
    unavailable = `the oidc launcher did not start: ${err.message}`;
  }
  startedIn = Math.round(performance.now() - started);
  scratch = mkdtempSync(join(tmpdir(), 'tokenwell-oidc-'));
});
after(async () => {
  await launcher?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (startedIn !== undefined) process.stderr.write(`oidc: launcher ready in ${startedIn} ms\n`);
});

/** Whether the test may go on; skips (or, with CI set, fails) otherwise. */
function available(t) {
  if (!unavailable) return true;
  assert.ok(!CI, `${unavailable} (CI is set: the oidc tests may not skip)`);
  t.skip(unavailable);
  return false;
}

/** Replaces a file's content at once (a new file renamed over it), as a
 * Kubernetes secret volume does. */
function replaceFile(path, text) {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

/** A row's tokenwell config for the launcher (see clients.json's description).
 * WebAssembly has no files: the key goes inline, as a JS application gives it,
 * and a rotating secret comes from a credentialProvider that reads the file. */
function rowConfig(row, secretFile) {
  const config = { ...row.config };
  if (row.discovery) config.issuer = launcher.issuer;
  else config.token_url = launcher.token_endpoint;
  if (typeof config.private_key_file === 'string') {
    config.private_key = readFileSync(join(KEYS_DIR, config.private_key_file), 'utf8');
    delete config.private_key_file;
  }
  if (secretFile) {
    delete config.client_secret_file;
    config.credentialProvider = () => readFileSync(secretFile, 'utf8').trimEnd();
  }
  return config;
}

async function expectHonoured(row, token) {
  if (row.expect.token_type) assert.equal(token.tokenType.toLowerCase(), row.expect.token_type.toLowerCase());
  const info = await introspect(launcher, table, token.accessToken);
  assert.equal(info.active, row.expect.active, 'introspection: active');
  assert.equal(info.client_id, row.config.client_id, 'introspection: client_id');
  if (row.expect.scope) assert.equal(info.scope, row.expect.scope, 'introspection: scope');
}

for (const row of table.rows) {
  test(`oidc-provider self-check: ${row.name}`, async (t) => {
    if (!available(t)) return;
    await checkRow(row, launcher, table);
  });

  const skip = pending.has(row.feature)
    ? `feature ${row.feature} is pending (tests/oidc/pending.json)`
    : row.config.certificate_file
      ? 'certificate_file (x5t#S256) is native only: WebAssembly has no files'
      : false;
  test(`tokenwell against oidc-provider: ${row.name}`, { skip }, async (t) => {
    if (!available(t)) return;
    const clientId = row.config.client_id;
    let secretFile;
    if (row.rotate) {
      secretFile = join(scratch, `${clientId}.secret`);
      replaceFile(secretFile, row.rotate.secrets[0]);
      await setSecret(launcher, clientId, row.rotate.secrets[0]);
    }
    const client = new TokenClient(rowConfig(row, secretFile));
    const first = await client.token();
    await expectHonoured(row, first);
    if (row.rotate) {
      await setSecret(launcher, clientId, row.rotate.secrets[1]);
      client.invalidate(first.accessToken);
      await assert.rejects(client.token(), (err) => err instanceof TokenwellError && err.code === row.rotate.stale);
      replaceFile(secretFile, row.rotate.secrets[1]);
      // The row's backoff is 1 ms: past it, the next call fetches again.
      await new Promise((resolve) => { setTimeout(resolve, 50); });
    } else {
      assert.equal(client.invalidate(first.accessToken), true, 'invalidate dropped the token');
    }
    const second = await client.token();
    await expectHonoured(row, second);
    // A boolean: a failure never prints a token.
    assert.ok(second.accessToken !== first.accessToken, 'a second, different token');
  });
}
