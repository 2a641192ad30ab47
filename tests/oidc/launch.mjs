// Starts server.mjs and resolves with what it printed, plus `stop()`. Used by
// selfcheck.mjs and the JS runner (js/test/oidc.test.mjs); the other languages
// have their own few lines doing the same (spawn, read one JSON line, close
// stdin to stop).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const OIDC_DIR = dirname(fileURLToPath(import.meta.url));
export const KEYS_DIR = join(OIDC_DIR, 'keys');

export function loadTable() {
  return JSON.parse(readFileSync(join(OIDC_DIR, 'clients.json'), 'utf8'));
}

export function loadPending() {
  return new Set(JSON.parse(readFileSync(join(OIDC_DIR, 'pending.json'), 'utf8')));
}

/** Why the launcher cannot run here (its packages are not installed), or null. */
export function missingDependencies() {
  if (!existsSync(join(OIDC_DIR, 'node_modules', 'oidc-provider', 'package.json'))) {
    return `tests/oidc/node_modules is missing: run \`bash tests/oidc/setup.sh\` (make test does)`;
  }
  return null;
}

/** The launcher, serving; `stop()` closes its stdin and waits for its exit. */
export async function startLauncher({ path, timeoutMs = 20000 } = {}) {
  const args = [join(OIDC_DIR, 'server.mjs')];
  if (path) args.push('--path', path);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  let timer;
  try {
    const first = await Promise.race([
      new Promise((resolve) => lines.once('line', resolve)),
      exited.then((code) => Promise.reject(new Error(`the oidc launcher exited with ${code} before serving`))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the oidc launcher did not serve within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const info = JSON.parse(first);
    return {
      ...info,
      async stop() {
        lines.close();
        child.stdin.end();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Sets a rotating client's secret on the launcher. */
export async function setSecret(launcher, clientId, secret) {
  const res = await fetch(`${launcher.admin}/clients/${encodeURIComponent(clientId)}/secret`, {
    method: 'PUT',
    body: secret,
  });
  if (res.status !== 204) throw new Error(`the launcher's admin route answered ${res.status}`);
}

/** What the introspection endpoint says of `token` (as the table's introspector). */
export async function introspect(launcher, table, token) {
  const { client_id: id, client_secret: secret } = table.introspector;
  const res = await fetch(launcher.introspection_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
  return res.json();
}
