import type { Result } from '../domain/errors.ts';

/**
 * SSRF check of an ERP callback URL: its syntax, then (in the DNS adapter) every address its host
 * resolves to. Run at accept time and again right before each delivery (DNS may answer differently).
 */
export interface CallbackUrlGuard {
  /** The URL when it may receive callbacks; INVALID_CALLBACK_URL (400) with a Portuguese reason otherwise. */
  check(url: string, options: { allowInsecure: boolean }): Promise<Result<URL>>;
}
