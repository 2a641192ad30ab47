// Type declarations of `tokenwell/ky` (needs the optional peer dependency ky).
import type { AfterResponseHook, BeforeRequestHook } from 'ky';

/** A TokenClient of `tokenwell` (structurally: either build, ESM or CommonJS). */
export interface TokenSource {
  token(options?: TokenwellOptions): Promise<{ readonly accessToken: string; readonly authorizationHeader: string }>;
  invalidate(token: string, options?: TokenwellOptions): boolean;
}

export interface TokenwellOptions {
  /** Takes the background work a call starts (on Workers, `(p) => ctx.waitUntil(p)`), as for `token()`. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** ky hooks: for `ky.create({ hooks: tokenwellHooks(client) })`, `ky.extend(…)` or one call's options. */
export interface TokenwellHooks {
  beforeRequest: BeforeRequestHook[];
  afterResponse: AfterResponseHook[];
}

/**
 * Hooks that add `Authorization` to every request; on a 401 from the origin the
 * request went to, they invalidate that token and send the request once more with
 * a fresh one.
 */
export declare function tokenwellHooks(client: TokenSource, options?: TokenwellOptions): TokenwellHooks;
