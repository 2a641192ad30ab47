// Entry for Deno: a source-phase import hands over the compiled module, so no
// --allow-read is needed (only --allow-net for the token endpoint).
import source module from './tokenwell_bg.wasm';
import { initCore } from './client.mjs';

initCore(module);

export { TokenClient, AccessToken, TokenwellError, ManualClock, MemoryStore, ERROR_CODES, EVENT_KINDS, storeKeys } from './client.mjs';
export { redisStore, upstashStore, denoKvStore, workersKvStore, durableObjectStore, TokenwellCoordinator } from './stores.mjs';
