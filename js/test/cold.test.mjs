// The cold-path benchmark (bench/cold/node.mjs, outside `make test`) still runs:
// one round of every side and figure, few clients. Its figures are not checked
// here (they are measured by the bench, in one run, against the peer); only
// that each row comes out with numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../bench/cold/node.mjs', import.meta.url));

test('bench/cold/node.mjs measures every figure (one round)', async () => {
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [BENCH], { env: { ...process.env, RUNS: '1', CLIENTS: '60' }, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
  const rows = out.split('\n').filter((line) => /^\| (Node|workerd):/.test(line));
  assert.equal(rows.length, 8, out);
  for (const row of rows) {
    const [, ours, peer, ratio] = row.split('|').map((cell) => cell.trim()).slice(1);
    for (const cell of [ours, peer, ratio]) assert.ok(Number.isFinite(Number.parseFloat(cell)), row);
  }
});
