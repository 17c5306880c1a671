/** One signed callback, ready to post. */
export interface CallbackRequest {
  url: string;
  /** The exact bytes that were signed. */
  body: string;
  headers: Record<string, string>;
  /** Development only: http:// and private addresses are allowed. */
  allowInsecure: boolean;
}

/** What came of one post: 2xx is delivered; anything else (3xx included, no redirects) failed. */
export type CallbackResponse =
  | { ok: true; status: number }
  /** `status` is absent when no response came (timeout, refused, forbidden address). */
  | { ok: false; status?: number; error: string };

/** Posts ERP callbacks. Expected failures (the ERP is down, answers 500) are values; bugs throw. */
export interface CallbackClient {
  /** Posts once, without following redirects, within the client's timeout. */
  post(request: CallbackRequest): Promise<CallbackResponse>;
}
