// The smoke test (smoke/smoke.mjs) in every runtime, each with its own fetch
// against the same mock: Node (in process), Cloudflare workerd (a module worker
// in real workerd, through miniflare 4), Deno and Bun (from npm).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import * as tokenwell from 'tokenwell';
import { startMock } from './helpers/mock.mjs';
import { smoke } from './smoke/smoke.mjs';

const JS = fileURLToPath(new URL('..', import.meta.url));
const BIN = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: JS, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

test('smoke in Node', async () => {
  const passed = await smoke(tokenwell, mock.url);
  assert.equal(passed.length, 6);
});

test('smoke in Cloudflare workerd (miniflare 4, module worker, .wasm as compiled module)', async () => {
  const mf = new Miniflare({
    modules: true,
    scriptPath: 'test/smoke/worker.mjs',
    modulesRoot: JS,
    rootPath: JS,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
    bindings: { MOCK_URL: mock.url },
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    const body = await res.json();
    assert.equal(body.ok, true, body.error);
    assert.equal(body.passed.length, 6);
    console.log(`workerd (${body.runtime}): ${body.passed.join(', ')}`);
  } finally {
    await mf.dispose();
  }
});

test('smoke in Deno (--allow-net=127.0.0.1 only)', async () => {
  const { code, output } = await run(BIN('deno'), ['run', '--allow-net=127.0.0.1', 'test/smoke/cli.mjs', mock.url]);
  console.log(output.trim());
  assert.equal(code, 0, output);
  assert.match(output, /SMOKE OK deno/);
});

test('smoke in Bun', async () => {
  const { code, output } = await run(BIN('bun'), ['test/smoke/cli.mjs', mock.url]);
  console.log(output.trim());
  assert.equal(code, 0, output);
  assert.match(output, /SMOKE OK bun/);
});
