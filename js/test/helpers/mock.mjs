// Starts `tokenwell mock --port 0` (the Rust mock provider) as a child process
// and steers it over its JSON admin routes. Node only (the other runtimes get the
// URL of a mock started by the Node side).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { adminClient } from './admin.mjs';

export { adminClient };

export function mockBinary() {
  const bin = process.env.TOKENWELL_MOCK_BIN
    ?? fileURLToPath(new URL('../../../target/debug/tokenwell', import.meta.url));
  if (!existsSync(bin)) {
    throw new Error(`mock binary ${bin} missing: run \`cargo build --features cli\` (or bash js/scripts/test.sh)`);
  }
  return bin;
}

/** Starts the mock (with `args`, e.g. its one accepted client); resolves to { url, admin, substitute, stop }. */
export async function startMock(args = []) {
  const child = spawn(mockBinary(), ['mock', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('mock did not start within 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`mock exited early (${code})`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      m ? resolve(m[1]) : reject(new Error(`unexpected mock output: ${line}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    admin: adminClient(url),
    /** `value` (a vector's or the fault catalogue's JSON) with {mock} made this mock's URL. */
    substitute: (value) => substitute(value, url),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}


function substitute(value, url) {
  if (typeof value === 'string') return value.replaceAll('{mock}', url);
  if (Array.isArray(value)) return value.map((v) => substitute(v, url));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, url)]));
  }
  return value;
}
