// The core's own wasm-bindgen exports (WasmClient without the wrapper's memo),
// from the glue and .wasm the package is built from. The Node entry bundles its
// own copy of both, so this instance is the bench's, instantiated here.
import { readFileSync } from 'node:fs';

/** The glue module of `dist` (a URL of js/dist/), initialised. */
export async function coreGlue(dist) {
  const glue = await import(new URL('glue.mjs', dist));
  glue.initSync({ module: new WebAssembly.Module(readFileSync(new URL('tokenwell_bg.wasm', dist))) });
  // The WebCrypto calls the package's entries hand the core (signing, sealing).
  glue.setCrypto((await import(new URL('client.mjs', dist))).WEB_CRYPTO);
  return glue;
}
