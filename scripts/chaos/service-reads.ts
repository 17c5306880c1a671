import type { GatewaySend, ReportedContact } from './tally.ts';

/** What chaos reads back over HTTP: the service's own view (status, contacts) and the simulator's log. */

const API = '/api/v1/billing';

const getJson = async <T>(url: string, headers: Record<string, string> = {}): Promise<T> => {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
};

/** The fields of `GET /queue/{id}/status` chaos looks at. */
export interface QueueStatus {
  id: string;
  status: string;
  total_contacts: number;
  contacts_sent: number;
  contacts_failed: number;
  contacts_unknown: number;
  contacts_cancelled: number;
  contacts_pending: number;
  contacts_pending_retry: number;
  contacts_delivered: number;
  contacts_read: number;
}

export const FINAL_QUEUE_STATUSES = ['completed', 'cancelled', 'failed'];
/** Contact statuses a sender may still act on. */
export const SENDABLE_CONTACT_STATUSES = ['pending', 'retry', 'sending'];

export const queueStatus = (baseUrl: string, apiKey: string, queueId: string): Promise<QueueStatus> =>
  getJson(`${baseUrl}${API}/queue/${queueId}/status`, { 'x-billing-api-key': apiKey });

/** Every contact of a queue (optionally of one status), following the cursors. */
export const listContacts = async (
  baseUrl: string,
  apiKey: string,
  queueId: string,
  status?: string,
): Promise<ReportedContact[]> => {
  const out: ReportedContact[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '100' });
    if (status) query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    const page: {
      contacts: Array<{ telefone: string; status: string; attempts: number; last_error: string | null }>;
      next_cursor: string | null;
    } = await getJson(`${baseUrl}${API}/queue/${queueId}/contacts?${query}`, { 'x-billing-api-key': apiKey });
    for (const c of page.contacts)
      out.push({
        queueId,
        telefone: c.telefone,
        status: c.status,
        attempts: c.attempts,
        lastError: c.last_error,
      });
    cursor = page.next_cursor;
  } while (cursor);
  return out;
};

/** Every send the simulator accepted since it started (it runs in its own process: kills do not touch it). */
export const gatewaySends = (simulatorUrl: string): Promise<GatewaySend[]> =>
  getJson(`${simulatorUrl}/_sim/sent`);
