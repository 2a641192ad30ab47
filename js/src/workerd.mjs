// Entry for Cloudflare Workers (workerd) and other edge runtimes that import a
// .wasm file as a compiled WebAssembly.Module (runtime compilation is forbidden
// there; Wrangler bundles it as a module). No Node-only modules.
import module from './tokenwell_bg.wasm';
import { initCore } from './client.mjs';

initCore(module);

export { TokenClient, AccessToken, TokenwellError, ManualClock, MemoryStore, ERROR_CODES, EVENT_KINDS, storeKeys } from './client.mjs';
export { redisStore, upstashStore, denoKvStore, workersKvStore, durableObjectStore, TokenwellCoordinator } from './stores.mjs';
