// What inlining the .wasm in the Node entry costs at import: `import('tokenwell')`
// in fresh Node processes, the shipped entry (one file bundled by esbuild, the
// base64 inside, decoded with Buffer) against the same bundle whose entry reads
// tokenwell_bg.wasm from disk beside it (the entry before 0.1.0 fixed bundlers),
// same glue, same .wasm. Interleaved, medians of N processes each (default 15).
// Outside make test.
//
// Run: node bench/js/import-cost.mjs [N]   (after js/scripts/build.sh)
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 15);
const DIST = fileURLToPath(new URL('../../js/dist/', import.meta.url));
const INSTANTIATE = fileURLToPath(new URL('instantiate.mjs', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The file-reading variant: the shipped dist with index.mjs replaced by the same
// bundle, reading the .wasm instead of decoding it.
const fromDisk = mkdtempSync(join(tmpdir(), 'tokenwell-import-cost-'));
try {
  cpSync(DIST, fromDisk, { recursive: true });
  writeFileSync(join(fromDisk, 'entry.mjs'), `import { readFileSync } from 'node:fs';
import { initCore } from './client.mjs';
initCore(new WebAssembly.Module(readFileSync(new URL('./tokenwell_bg.wasm', import.meta.url))));
export { TokenClient, AccessToken, TokenwellError, ManualClock, MemoryStore, ERROR_CODES, storeKeys } from './client.mjs';
export { redisStore, upstashStore, denoKvStore, workersKvStore, durableObjectStore, TokenwellCoordinator } from './stores.mjs';
`);
  execFileSync(fileURLToPath(new URL('../../js/node_modules/.bin/esbuild', import.meta.url)),
    [join(fromDisk, 'entry.mjs'), '--bundle', '--format=esm', '--platform=node', '--log-level=error',
      `--outfile=${join(fromDisk, 'index.mjs')}`, '--allow-overwrite']);
  const importMs = (dir) => JSON.parse(execFileSync(process.execPath, [INSTANTIATE, 'import', dir], { encoding: 'utf8' })).importMs;
  importMs(DIST); importMs(fromDisk); // page cache warm for both
  const inlined = [];
  const disk = [];
  for (let i = 0; i < N; i++) {
    // Alternate which goes first, so neither always follows the other.
    if (i % 2 === 0) { inlined.push(importMs(DIST)); disk.push(importMs(fromDisk)); } else { disk.push(importMs(fromDisk)); inlined.push(importMs(DIST)); }
  }
  const a = median(inlined);
  const b = median(disk);
  console.log(`import('tokenwell') in a fresh Node ${process.version} process, median of ${N} each, interleaved:`);
  console.log(`  inlined base64 (shipped): ${a.toFixed(2)} ms   [${inlined.map((x) => x.toFixed(1)).join(' ')}]`);
  console.log(`  .wasm read from disk:     ${b.toFixed(2)} ms   [${disk.map((x) => x.toFixed(1)).join(' ')}]`);
  console.log(`  ratio inlined/disk: ${(a / b).toFixed(2)} (${a - b >= 0 ? '+' : ''}${(a - b).toFixed(2)} ms)`);
} finally {
  rmSync(fromDisk, { recursive: true, force: true });
}
