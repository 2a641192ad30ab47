// Type declarations of the npm package `tokenwell` (hand-written; the API is
// the wrapper in client.mjs, not the generated bindings).

/** The stable error codes: the core's table (src/error.rs); js/test/errors.test.mjs checks this list against it. */
export type ErrorCode =
  | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'invalid_request'
  | 'unauthorized_client' | 'unsupported_grant_type' | 'access_denied'
  | 'rate_limited' | 'server_error' | 'http_error' | 'network' | 'timeout'
  | 'malformed_response' | 'response_too_large' | 'config' | 'store' | 'internal';

export declare const ERROR_CODES: readonly ErrorCode[];

/** Every failure of tokenwell. Never carries the client secret or a token. */
export declare class TokenwellError extends Error {
  constructor(code: ErrorCode, message: string, fields?: { status?: number | null; retryAfterMs?: number | null; detail?: string });
  readonly name: 'TokenwellError';
  /** Stable code of the failure class. */
  readonly code: ErrorCode;
  /** HTTP status of the token endpoint's answer, if it answered. */
  readonly status: number | null;
  /** The endpoint's Retry-After, in milliseconds, if it sent one. */
  readonly retryAfterMs: number | null;
  /** What went wrong (scrubbed of secrets). */
  readonly detail: string;
  /** The credentials, the request or the configuration are wrong: retrying will not help until they change. */
  readonly isCredentialError: boolean;
  /** The same request may succeed later: the server, or the way to it, failed. */
  readonly isRetryable: boolean;
}

/**
 * A clock moved by hand, for deterministic tests. Monotonic time starts at 0;
 * wall time at `unixMs`, by default 2026-01-01T00:00:00Z (the same in every language).
 */
export declare class ManualClock {
  constructor(unixMs?: number);
  advance(ms: number): void;
  shiftWall(ms: number): void;
  nowMs(): number;
  unixMs(): number;
}

/**
 * A shared token store: any object with these methods (each may return its
 * answer or a Promise of it). The core calls it and decides everything: it
 * passes hashed keys (`tokenwell:{<sha-256 hex>}:t`, `…:l` for the lock) and
 * records it sealed (AES-256-GCM: never the token, never the secret), time-boxes
 * every call (`store.timeoutMs` of the config, default 300 ms) and stops asking
 * a failing store for a while. A throw, a rejection or a hang is a cache miss
 * (a warning without the exception's text), never the caller's error.
 */
export interface Store {
  /**
   * The record under `key` (a string, or its UTF-8 bytes: a `Buffer`), or
   * null/undefined. Any other answer is a store failure (a miss and a warning).
   */
  get(key: string): string | Uint8Array | null | undefined | Promise<string | Uint8Array | null | undefined>;
  /** Stores `record` under `key`, expiring after `ttlMs`. */
  put(key: string, record: string, ttlMs: number): unknown;
  /**
   * Deletes `key` if it still holds exactly `record` (the core checked that it
   * is the token being dropped; a newer record must stay). `fingerprint` is that
   * record's token fingerprint, for stores that compare it server-side.
   */
  removeIf(key: string, record: string, fingerprint: string): unknown;
  /**
   * Optional, with `unlock`: takes `lock` for `owner` for `ttlMs` if nobody
   * holds it, atomically (set-if-absent); whether it did: any truthy answer
   * (`true`, or the `"OK"` of Redis's `SET … NX`) means taken by `owner`, a falsy
   * one (`false`, `null`) held by someone else. With a lock, the processes sharing
   * the store make one token request between them; without, one per process on a
   * cold cache.
   */
  tryLock?(lock: string, owner: string, ttlMs: number): boolean | 'OK' | null | Promise<boolean | 'OK' | null>;
  /** Releases `lock` if `owner` still holds it. */
  unlock?(lock: string, owner: string): unknown;
  /**
   * Optional: writes `record` unless the stored record expires later, then
   * releases `lock` if `owner` holds it, atomically (the Redis stores run the
   * core's script). Without it the core does get, put, unlock.
   */
  publish?(key: string, record: string, ttlMs: number, lock: string | null, owner: string | null): unknown;
  /**
   * Optional: `true` while the store knows its server refuses the core's
   * scripts (the Redis stores set it on `NOPERM`): the core then treats it as a
   * failing store at once (each process fetches its own, nobody waits on a
   * lock) and warns once with the ACL rules it needs.
   */
  readonly scriptsRefused?: boolean;
  /**
   * Optional: the request budget's counter. Counts one token request under `key`
   * if fewer than `limit` were counted in the `windowMs` before `nowUnixMs`,
   * atomically, and answers 0; else answers the ms until the oldest leaves the
   * window (nothing counted). Without it each process keeps its own budget.
   */
  spend?(key: string, limit: number, windowMs: number, nowUnixMs: number): number | Promise<number>;
}

/**
 * An in-process token store; clients given the same store share tokens. With
 * `{ clock }` its records and locks expire on that manual clock (tests).
 */
export declare class MemoryStore implements Store {
  constructor(options?: { clock?: ManualClock });
  get(key: string): string | null;
  put(key: string, record: string, ttlMs: number): void;
  removeIf(key: string, record: string): void;
  tryLock(lock: string, owner: string, ttlMs: number): boolean;
  unlock(lock: string, owner: string): void;
  spend(key: string, limit: number, windowMs: number, nowUnixMs: number): number;
  /** Test-only: simulates an outage. While `failing`, every call throws; the clients go on without the store. */
  setFailing(failing: boolean): void;
}

/** The keys a client built from `config` uses in a shared store (hashed: they reveal nothing of the config). */
export declare function storeKeys(config: TokenConfig): { token: string; lock: string };

/** The Redis commands the Redis stores need, as node-redis v4+ (`sendCommand`) or ioredis (`call`) offer them. */
export type RedisClientLike =
  | { sendCommand(args: string[]): Promise<unknown> }
  | { call(command: string, ...args: string[]): Promise<unknown>; defineCommand(...args: any[]): unknown };

/**
 * Redis through your own connected node-redis (v4+) or ioredis client: the same
 * keys, Lua scripts and sealed records as the native Redis store of the Rust,
 * Python and Kotlin packages (one token for all of them). Has the lock.
 */
export declare function redisStore(client: RedisClientLike): Store;

/** Redis over HTTP with an `@upstash/redis` `Redis` (Vercel, Netlify edge): as redisStore. */
export declare function upstashStore(redis: {
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { px: number; nx?: true }): Promise<unknown>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
}): Store;

/**
 * Deno KV (`await Deno.openKv()`): the lock by `atomic().check()` on the
 * versionstamp, each value keeping its own deadline. Keys under `prefix`
 * (default `['tokenwell']`).
 */
export declare function denoKvStore(kv: unknown, options?: { prefix?: unknown[] }): Store;

/**
 * Cloudflare Workers KV: a cache tier only (no lock, eventually consistent).
 * Cold isolates may each fetch once; a later isolate reads the stored token.
 * TTL at least 60 s; at most one write per second per key from an isolate.
 */
export declare function workersKvStore(namespace: {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}): Store;

/**
 * The Durable Object class that coordinates every isolate (export it from your
 * Worker and bind it in wrangler.toml): with durableObjectStore, exactly one
 * token request for all of them.
 */
export declare class TokenwellCoordinator {
  constructor(state: unknown, env?: unknown);
  fetch(request: Request): Promise<Response>;
}

/** The store of a TokenwellCoordinator: `durableObjectStore(env.TOKENWELL)`. Has the lock. */
export declare function durableObjectStore(namespace: {
  idFromName(name: string): unknown;
  get(id: any): { fetch(input: string, init?: RequestInit): Promise<Response> };
}, options?: { name?: string }): Store;

/** Hands work that must outlive the response to the runtime: on Workers, `(p) => ctx.waitUntil(p)`. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** Per-call options. */
export interface CallOptions {
  /**
   * Background work this call starts (a token fetch, refresh ahead, a store
   * write, a lock release) is handed to it; on Workers pass this request's
   * `(p) => ctx.waitUntil(p)`. Default: the client's `waitUntil`.
   */
  waitUntil?: WaitUntil;
}

export type Provider =
  | 'deliverect' | 'bringg' | 'passport' | 'deliveroo' | 'uber' | 'stuart' | 'toast' | 'doordash' | 'custom';

/** The config schema every tokenwell binding accepts (camelCase shown; snake_case works too). */
export interface TokenConfig {
  provider: Provider;
  /**
   * This client's name in metrics, traces and health checks (their `client`
   * attribute): 1 to 64 characters, none a control character. Default: the provider.
   */
  name?: string | null;
  environment?: string;
  region?: string;
  baseUrl?: string;
  tokenUrl?: string;
  /**
   * The authorization server's issuer (`https://host/realms/acme`): the token
   * endpoint is read from its metadata. Replaces `tokenUrl` and `baseUrl`.
   */
  issuer?: string;
  /** How long the issuer's metadata is reused, in seconds (at least 1; default 86400). */
  discoveryTtlSecs?: number;
  /** Required, except with `doordash` (which has `developerId` instead). */
  clientId?: string;
  /** Required unless `clientSecretFile` (native bindings only) or a `credentialProvider` gives it; refused with `credentials: 'private_key_jwt'`. */
  clientSecret?: string;
  /**
   * A file holding the client secret, re-read when it changes (Python, Kotlin,
   * Rust). Refused in WebAssembly: in JS pass a `credentialProvider` that reads it.
   */
  clientSecretFile?: string;
  /**
   * `private_key_jwt`: the PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`, RSA of at
   * least 2048 bits or EC P-256); never printed. PKCS#1, SEC1 and encrypted keys are refused
   * with the `openssl` command that converts them. (`privateKeyFile` and `certificateFile`
   * are native only: WebAssembly has no file system.)
   */
  privateKey?: string;
  privateKeyFile?: string;
  certificateFile?: string;
  /** The client assertion's `kid` header. */
  keyId?: string;
  /** The client assertion: algorithm (default from the key; HS256 for `client_secret_jwt`), `aud` and lifetime (1 to 300 s, default 60). */
  assertion?: {
    algorithm?: 'RS256' | 'PS256' | 'ES256' | 'HS256';
    audience?: 'token_endpoint' | 'issuer' | string;
    lifetimeSecs?: number;
  };
  audience?: string;
  scope?: string;
  ttl?: number;
  grantType?: string;
  encoding?: 'json' | 'form' | 'multipart';
  /**
   * How the client authenticates: its secret in the body (`body`, alias
   * `client_secret_post`), in HTTP Basic (`basic`, alias `client_secret_basic`) or
   * both; or a signed client assertion (RFC 7523): `client_secret_jwt` (HS256 with
   * the secret) or `private_key_jwt` (RS256, PS256 or ES256 with `privateKey`).
   */
  credentials?: 'body' | 'basic' | 'both' | 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';
  /** How HTTP Basic credentials are written: form-encoded first (RFC 6749, the default) or raw. */
  basicEncoding?: 'form' | 'raw';
  fieldNames?: { clientId?: string; clientSecret?: string; grantType?: string; audience?: string; scope?: string; ttl?: string };
  extraParams?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  response?: {
    accessToken?: string; tokenType?: string; scope?: string; expiresIn?: string;
    expiresAt?: string; createdAt?: string; success?: { path: string; equals: unknown };
  };
  policy?: {
    refreshRatio?: number; skewRatio?: number; maxSkewSecs?: number; defaultLifetimeSecs?: number;
    backoffInitialMs?: number; backoffMaxMs?: number; refreshJitterRatio?: number;
    /** Refresh ahead only within this many seconds of the expiry (Toast's preset: 60). */
    refreshWindowSecs?: number;
    /** At most this many token requests in any sliding hour (default: the preset's documented limit). */
    maxRequestsPerHour?: number;
  };
  /**
   * Timeouts in ms, each 1 to 2147483647 (defaults 5000 and 15000; `fetch` has no connect timeout).
   * `proxy`, `noProxy`, `caFile`, `caOnly`, `clientCertFile` and `clientKeyFile` are native only
   * (Python, Kotlin, Rust): in JS each is a config error ("not available in JS; pass a `fetch`
   * that does it"): the `fetch` you pass holds the proxy, the CAs and the client certificate.
   */
  http?: {
    connectTimeoutMs?: number; timeoutMs?: number;
    proxy?: never; noProxy?: never; caFile?: never; caOnly?: never; clientCertFile?: never; clientKeyFile?: never;
  };
  /**
   * The shared store's settings: `keyPrefix` (default `tokenwell`), `timeoutMs`
   * (each store call's time-box, default 300) and `lockWaitMs` (how long a cold
   * client waits for another's fetch before fetching itself, default 5000) apply
   * to JS stores too. `redisUrl`
   * `caFile`, `clusterNodes` and `sentinel` are native only (Python, Kotlin, Rust): a
   * Redis URL is refused in WebAssembly; in JS pass `redisStore(client)` (a node-redis
   * or ioredis client, single or cluster) as the client option `store`.
   */
  store?: {
    redisUrl?: string; keyPrefix?: string; timeoutMs?: number; lockWaitMs?: number; caFile?: string;
    clusterNodes?: string[]; sentinel?: { nodes: string[]; service: string };
  };
  /** `doordash`: the developer id (the JWT's `iss`); the key id is `keyId`. */
  developerId?: string;
  /**
   * `doordash`: the signing secret as DoorDash shows it (base64url); never printed. The
   * client mints its own JWT (HS256, lifetime `assertion.lifetimeSecs`, 60 to 1800 s,
   * default 1800); a store is not used (each process mints its own).
   */
  signingSecret?: string;
}

/** The config's store settings (see TokenConfig.store) with the store itself as `use`. */
export interface StoreSettings {
  use?: MemoryStore | Store;
  keyPrefix?: string;
  timeoutMs?: number;
  lockWaitMs?: number;
  redisUrl?: string;
  caFile?: string;
}

export interface TokenClientOptions extends Omit<TokenConfig, 'store'> {
  /** A manual clock (tests). Default: the runtime's `performance.now()`. */
  clock?: ManualClock;
  /**
   * Share tokens with other clients (and processes) given the same store: a
   * MemoryStore or any `Store`, or `{ use: store, keyPrefix?, timeoutMs? }` to
   * set the store settings of the config too.
   */
  store?: MemoryStore | Store | StoreSettings;
  /** The default `waitUntil` for background work (see CallOptions); per call wins. */
  waitUntil?: WaitUntil;
  /** Allow construction in a browser page (a `window` and a `document`). Client secrets do not belong in browsers. */
  dangerouslyAllowBrowser?: boolean;
  /**
   * Called with each event of the client (see `TokenwellEvent`), in a microtask,
   * never on the fetch path. Events arrive in order, one at a time: if it returns
   * a promise, the next event waits until it settles; at most 4096 wait, later
   * ones are dropped and counted (`lookups().dropped`). Whatever it throws is
   * logged once (`console.warn`, the error's class name only) and ignored.
   */
  onEvent?: (event: TokenwellEvent) => void | Promise<void>;
  /**
   * Gives the client secret instead of `clientSecret` (e.g. read from a
   * secrets manager or a mounted file): called when a call has no usable token
   * to return (the first, after `invalidate`, after expiry), and once more after
   * an `invalid_client` answer (one retry, only with a new secret); never on a
   * cache hit, within `http.timeoutMs`. A new secret acts as a new client (the
   * cached token is dropped, the cache key follows it); if it throws, rejects or
   * times out, the last good secret is kept and a warning logged (the error's
   * class only). With none ever, `token()` rejects with `config`.
   */
  credentialProvider?: () => string | Promise<string>;
  /**
   * The application's own fetch-compatible function, instead of the global
   * `fetch`: undici's `fetch` with a `dispatcher` (a proxy, a CA, a client
   * certificate), a Workers mTLS certificate binding's `fetch` (bound:
   * `(url, init) => env.CERT.fetch(url, init)`), a test double returning a
   * `Response`. Called with the core's request (`method`, `headers`, `body`,
   * `redirect: "manual"`, an abort `signal`): its `authorization` header or
   * its body carries the client secret, so an instrumented fetch must redact
   * them. The core keeps its timeout and limits. Required (a `config` error
   * without it) with `credentials: "tls_client_auth"` or
   * `"self_signed_tls_client_auth"`.
   */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** Why a fetch ran: a first token, refresh-ahead, after an API's 401, an expired token, or adopted from the shared store. */
export type FetchReason = 'first' | 'refresh' | 'after_401' | 'expired' | 'adopted';
/** The shared store's lock, for a fetch: won it, waited for the holder, adopted the holder's token, or gave up waiting. */
export type LockOutcome = 'won' | 'waited' | 'adopted' | 'gave_up';
/** A failure, in an event or a status: the error's code, the endpoint's HTTP status, and its description (no secret). */
export interface EventError {
  readonly code: ErrorCode;
  readonly status: number | null;
  readonly detail: string;
}

// The events, one interface per row of the core's event table
// (schema/events.json; js/test/events.test.mjs holds these to it): the table's
// fields in camelCase, plus `atUnixMs`, when it happened (the client's clock).
/** A fetch began (joiners of a fetch in flight start none). */
export interface FetchStartedEvent { readonly name: 'fetch_started'; readonly fetchId: number; readonly reason: FetchReason; readonly atUnixMs: number }
/** A new token arrived: from the endpoint, or adopted from the shared store (`fromStore`). */
export interface FetchedEvent {
  readonly name: 'fetched'; readonly fetchId: number; readonly reason: FetchReason;
  /** The token's lifetime from now, in ms. */
  readonly lifetimeMs: number;
  readonly fromStore: boolean;
  /** How long the fetch took, in ms (store and endpoint). */
  readonly latencyMs: number;
  /** The endpoint's HTTP status (null when adopted from the store). */
  readonly status: number | null;
  readonly atUnixMs: number;
}
/** Refresh-ahead started in the background; callers keep the current token. */
export interface RefreshStartedEvent { readonly name: 'refresh_started'; readonly fetchId: number; readonly atUnixMs: number }
/** A background refresh failed; the current token is still served (`lifetimeMs` more). */
export interface RefreshFailedEvent {
  readonly name: 'refresh_failed'; readonly fetchId: number; readonly error: EventError;
  readonly latencyMs: number; readonly lifetimeMs: number; readonly atUnixMs: number;
}
/** A fetch failed: its callers got the error. */
export interface FetchFailedEvent {
  readonly name: 'fetch_failed'; readonly fetchId: number; readonly reason: FetchReason; readonly error: EventError;
  readonly latencyMs: number; readonly atUnixMs: number;
}
/** A shared-store call failed or timed out (a cache miss, never the caller's error). */
export interface StoreFailedEvent { readonly name: 'store_failed'; readonly error: EventError; readonly atUnixMs: number }
/** The shared store's lock, for a fetch. */
export interface StoreLockEvent {
  readonly name: 'store_lock'; readonly fetchId: number; readonly outcome: LockOutcome;
  /** How long it waited, in ms. */
  readonly waitedMs: number;
  readonly atUnixMs: number;
}
/** Counted, never delivered (they happen on every call): see `lookups()`. */
export interface HitEvent { readonly name: 'hit'; readonly stale: boolean; readonly atUnixMs: number }
/** Counted, never delivered: see `lookups()`. */
export interface MissEvent { readonly name: 'miss'; readonly atUnixMs: number }
/** Every event of the table, discriminated by `name` (`hit` and `miss` are only counted). */
export type TokenwellEvent =
  | HitEvent | MissEvent | FetchStartedEvent | FetchedEvent | RefreshStartedEvent | RefreshFailedEvent
  | FetchFailedEvent | StoreFailedEvent | StoreLockEvent;

/** The core's event table (schema/events.json): each event's name and fields (snake_case). */
export declare const EVENT_KINDS: readonly { readonly name: TokenwellEvent['name']; readonly fields: readonly string[] }[];

/**
 * A client's health, read without I/O. For a readiness probe: unhealthy only
 * when `health === 'down'` (`healthy` false: no usable token, and the last
 * fetch failed). A failing endpoint while the token is still valid is
 * `degraded`: a warning, not an outage. Never use it for liveness: a restart
 * does not fix a token endpoint.
 */
export interface ClientStatus {
  /** `up` (usable token, last fetch ok), `degraded` (usable token, last fetch failed), `down` (no usable token, last fetch failed), `idle` (no token yet, no failure). */
  readonly health: 'up' | 'degraded' | 'down' | 'idle';
  /** `health !== 'down'`. */
  readonly healthy: boolean;
  /** Whether a token is held that callers are given now. */
  readonly tokenUsable: boolean;
  /** The held token's remaining lifetime to its expiry, in ms (0 once expired; null without a token). */
  readonly tokenExpiresInMs: number | null;
  /** The last fetch's error, if the last fetch failed. */
  readonly lastError: EventError | null;
  /** When it failed (Unix ms). */
  readonly lastErrorAtUnixMs: number | null;
  /** How long before the next fetch may start, in ms, while backing off. */
  readonly backoffMs: number | null;
  /** Whether a fetch is in flight. */
  readonly fetching: boolean;
  /** The shared store's circuit breaker (null without a store). */
  readonly storeBreaker: 'closed' | 'half_open' | 'open' | null;
  /** While the breaker is open: how long before it lets a call through, in ms. */
  readonly storeOpenForMs: number | null;
}

/** The lookup counters (for metrics): fresh hits (the memo's once observed), stale hits, misses, and events dropped. */
export interface Lookups {
  readonly hits: number;
  readonly stale: number;
  readonly misses: number;
  /** Events not delivered to `onEvent` (too many waited for it). */
  readonly dropped: number;
}

export interface Token {
  readonly accessToken: string;
  readonly tokenType: string;
  /** When the server considers the token expired (local wall clock). */
  readonly expiresAt: Date;
  readonly expiresAtUnixMs: number;
  readonly scope: string | null;
}

/**
 * A token as `TokenClient.token()` returns it. `accessToken` is readable, but
 * `toString`, `toJSON` (so `JSON.stringify`) and `console.log` show `[redacted]`.
 */
export declare class AccessToken implements Token {
  private constructor();
  readonly accessToken: string;
  /** The `Authorization` header value, e.g. `"Bearer eyJ…"`. */
  readonly authorizationHeader: string;
  readonly tokenType: string;
  readonly expiresAt: Date;
  readonly expiresAtUnixMs: number;
  readonly scope: string | null;
  toString(): string;
  toJSON(): { accessToken: '[redacted]'; tokenType: string; expiresAt: string; expiresAtUnixMs: number; scope: string | null };
}

export declare class TokenClient {
  /** @throws {TokenwellError} with code `config` on an invalid config. */
  constructor(options: TokenClientOptions);
  /** A valid token: the cached one while fresh, else one shared fetch for all callers. */
  token(options?: CallOptions): Promise<AccessToken>;
  /** `"Bearer …"` for a valid token. */
  authorizationHeader(options?: CallOptions): Promise<string>;
  /** Drops the cached token if it is still `token` (and its record in a shared store). Returns whether it did. */
  invalidate(token: string, options?: CallOptions): boolean;
  /**
   * `fetch` with the Authorization header; on a 401 from the origin asked, invalidates and retries once with a
   * fresh token (not when `init.body` is a stream: it was read, and cannot be sent again).
   */
  fetch(input: string | URL | Request, init?: RequestInit, options?: CallOptions): Promise<Response>;
  /** Resolves once no token fetch is in flight and the store removals of earlier `invalidate` calls are done. */
  settle(): Promise<void>;
  /** The client's health, without I/O: for readiness, unhealthy only when `health === 'down'`; never for liveness. */
  status(): ClientStatus;
  /** The lookup counters (what the `tokenwell.cache.lookups` metric reports). */
  lookups(): Lookups;
  /** The client's name in metrics and traces: the config's `name`, else the provider. */
  readonly name: string;
  /** The token endpoint's host (a span's `server.address`). */
  readonly serverAddress: string;
  toString(): string;
}
