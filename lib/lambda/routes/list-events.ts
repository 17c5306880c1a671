import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import type { RouteFactory } from '../../composition.ts';
import { billingEventsQuerySchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';
import type { StoredCallbackEvent } from '../../ports/store.ts';

const eventView = (e: StoredCallbackEvent) => ({
  ...e.payload,
  delivery: {
    status: e.delivery.status,
    attempts: e.delivery.attempts,
    next_attempt_at: e.delivery.nextAttemptAt,
    last_attempt_at: e.delivery.lastAttemptAt,
    last_error: e.delivery.lastError,
    delivered_at: e.delivery.deliveredAt,
  },
});

/** GET /api/v1/billing/events?since=&queue_id=&limit=&cursor=: the tenant's callback events with their delivery. */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const query = validate(billingEventsQuerySchema, request.query);
    if (!query.ok) throw query.error;
    const { since, queue_id, limit, cursor } = query.value;
    // Another tenant's queue is a 404, as everywhere else.
    const queue = queue_id ? await getQueueForTenant(c, auth.tenant.id, queue_id) : undefined;
    const page = await c.store.listCallbackEvents(auth.tenant.id, {
      queueId: queue?.id,
      since: since ? new Date(since).toISOString() : undefined,
      limit,
      cursor,
    });
    return {
      statusCode: 200,
      body: { success: true, events: page.items.map(eventView), next_cursor: page.nextCursor },
    };
  });
