// Type declarations of `tokenwell/axios` (needs the optional peer dependency axios).
import type { AxiosInstance } from 'axios';

/** A TokenClient of `tokenwell` (structurally: either build, ESM or CommonJS). */
export interface TokenSource {
  token(options?: TokenwellOptions): Promise<{ readonly accessToken: string; readonly authorizationHeader: string }>;
  invalidate(token: string, options?: TokenwellOptions): boolean;
}

export interface TokenwellOptions {
  /** Takes the background work a call starts (on Workers, `(p) => ctx.waitUntil(p)`), as for `token()`. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface TokenwellAttachment {
  /** Removes the two interceptors. */
  eject(): void;
}

/**
 * Adds `Authorization` to every request of `instance` (an axios instance, or axios
 * itself); on a 401 from the origin the request went to, invalidates that token and
 * re-sends the request once with a fresh one (never a stream body, which cannot be
 * sent again).
 */
export declare function attachTokenwell(instance: AxiosInstance, client: TokenSource, options?: TokenwellOptions): TokenwellAttachment;
