// One cold start, in a fresh process: compile the .wasm, instantiate it, and the
// whole `import('tokenwell')` (ESM entry). Prints JSON.
//   node instantiate.mjs parts|import [DIST_DIR]   (default: js/dist)
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const DIST = process.argv[3] ? pathToFileURL(`${process.argv[3]}/`) : new URL('../../js/dist/', import.meta.url);
const which = process.argv[2];
if (which === 'parts') {
  const bytes = readFileSync(new URL('tokenwell_bg.wasm', DIST));
  const { initSync } = await import(new URL('glue.mjs', DIST));
  const t0 = performance.now();
  const module = new WebAssembly.Module(bytes);
  const t1 = performance.now();
  initSync({ module });
  const t2 = performance.now();
  console.log(JSON.stringify({ compileMs: t1 - t0, instantiateMs: t2 - t1 }));
} else {
  const t0 = performance.now();
  await import(new URL('index.mjs', DIST));
  console.log(JSON.stringify({ importMs: performance.now() - t0 }));
}
