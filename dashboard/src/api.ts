// Types only (erased at build): the API's own schemas describe what the dashboard reads.
export type { PaymentsResponse } from '../../lib/http/schemas/debtors.ts';
export type { BillingEventsResponse } from '../../lib/http/schemas/events.ts';
export type { OptOutBody, OptOutListResponse } from '../../lib/http/schemas/optouts.ts';
export type {
  ContactDetailResponse,
  InstancesResponse,
  MeResponse,
  StatsResponse,
} from '../../lib/http/schemas/overview.ts';
export type {
  QueueContactsResponse,
  QueueListResponse,
  QueueStatusBody as Queue,
} from '../../lib/http/schemas/queues.ts';

/**
 * The only way the dashboard talks to the outside: our own API, with the key typed at login. The
 * API is the page's own origin locally, and VITE_API_URL on AWS (the static site is another origin,
 * the only one the API's CORS allows). The key lives in sessionStorage (gone with the tab; never
 * localStorage, never a URL).
 */

const KEY_ITEM = 'billing-api-key';
const BASE = `${(import.meta.env.VITE_API_URL ?? '').replace(/\/+$/, '')}/api/v1/billing`;

export const storedKey = (): string | null => sessionStorage.getItem(KEY_ITEM);
export const rememberKey = (key: string): void => sessionStorage.setItem(KEY_ITEM, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY_ITEM);

/** An error answer of the API: its Portuguese message is what the operator reads. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the API as the logged-in key (or `key`); answers the JSON body or throws ApiError. */
export const api = async <T>(
  path: string,
  options: { method?: string; body?: unknown; key?: string } = {},
): Promise<T> => {
  const headers: Record<string, string> = { 'X-Billing-API-Key': options.key ?? storedKey() ?? '' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Sem conexão com o servidor. Tente de novo em instantes.');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new ApiError(response.status, body.code ?? 'UNKNOWN', body.message ?? `Erro ${response.status}`);
  return body as T;
};

/** A query string from the defined values. */
export const query = (params: Record<string, string | number | undefined | null>): string => {
  const defined = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return defined.length ? `?${new URLSearchParams(defined.map(([k, v]) => [k, String(v)]))}` : '';
};
