// Source of the CommonJS entry (bundled to dist/index.cjs by esbuild): the same
// .wasm and the same wrapper as the ESM entry.
import { initSync } from './glue.mjs';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');

initSync({ module: new WebAssembly.Module(readFileSync(join(__dirname, 'tokenwell_bg.wasm'))) });

export { TokenClient, AccessToken, TokenwellError, ManualClock, MemoryStore, ERROR_CODES, storeKeys } from './client.mjs';
export { redisStore, upstashStore, denoKvStore, workersKvStore, durableObjectStore, TokenwellCoordinator } from './stores.mjs';
