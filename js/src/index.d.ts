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

/** A clock moved by hand, for deterministic tests. Monotonic time starts at 0. */
export declare class ManualClock {
  constructor(unixMs?: number);
  advance(ms: number): void;
  shiftWall(ms: number): void;
  nowMs(): number;
  unixMs(): number;
}

/** An in-process token store; clients given the same store share tokens. */
export declare class MemoryStore {
  constructor();
}

export type Provider = 'deliverect' | 'bringg' | 'passport' | 'deliveroo' | 'custom';

/** The config schema every tokenwell binding accepts (camelCase shown; snake_case works too). */
export interface TokenConfig {
  provider: Provider;
  environment?: string;
  region?: string;
  baseUrl?: string;
  tokenUrl?: string;
  clientId: string;
  clientSecret: string;
  audience?: string;
  scope?: string;
  ttl?: number;
  grantType?: string;
  encoding?: 'json' | 'form' | 'multipart';
  credentials?: 'body' | 'basic' | 'both';
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
  };
  http?: { connectTimeoutMs?: number; timeoutMs?: number };
  /** Native only (Python, Kotlin, Rust): a Redis URL is refused in WebAssembly; JS stores come as objects. */
  store?: { redisUrl?: string; keyPrefix?: string; timeoutMs?: number; caFile?: string };
}

export interface TokenClientOptions extends TokenConfig {
  /** A manual clock (tests). Default: the runtime's `performance.now()`. */
  clock?: ManualClock;
  /** Share tokens with other clients given the same store. */
  store?: MemoryStore;
  /** Allow construction in a browser page (a `window` and a `document`). Client secrets do not belong in browsers. */
  dangerouslyAllowBrowser?: boolean;
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
  token(): Promise<AccessToken>;
  /** `"Bearer …"` for a valid token. */
  authorizationHeader(): Promise<string>;
  /** Drops the cached token if it is still `token`. Returns whether it did. */
  invalidate(token: string): boolean;
  /** `fetch` with the Authorization header; on a 401, invalidates and retries once with a fresh token. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Resolves once no token fetch is in flight. */
  settle(): Promise<void>;
  toString(): string;
}
