// Entry for Node ≥ 18, Deno and Bun (ESM): compiles the .wasm next to this file
// synchronously, so `import { TokenClient } from 'tokenwell'` needs no await.
import { readFileSync } from 'node:fs';
import { initSync } from './glue.mjs';

initSync({ module: new WebAssembly.Module(readFileSync(new URL('./tokenwell_bg.wasm', import.meta.url))) });

export { TokenClient, AccessToken, TokenwellError, ManualClock, MemoryStore, ERROR_CODES, storeKeys } from './client.mjs';
export { redisStore, upstashStore, denoKvStore, workersKvStore, durableObjectStore, TokenwellCoordinator } from './stores.mjs';
