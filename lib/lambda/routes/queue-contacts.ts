import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import type { RouteFactory } from '../../composition.ts';
import { queueContactsQuerySchema, queueIdParamsSchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';
import { contactView } from '../../http/views.ts';

/** GET /api/v1/billing/queue/{queue_id}/contacts?status=&limit=&cursor=: per-contact status and last error. */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const params = validate(queueIdParamsSchema, request.pathParameters);
    const queue = await getQueueForTenant(c, auth.tenant.id, params.ok ? params.value.queue_id : undefined);
    const query = validate(queueContactsQuerySchema, request.query);
    if (!query.ok) throw query.error;
    const { status, limit, cursor } = query.value;
    const page = await c.store.listContacts(queue.id, { status, limit, cursor });
    return {
      statusCode: 200,
      body: {
        success: true,
        queue_id: queue.id,
        contacts: page.items.map(contactView),
        next_cursor: page.nextCursor,
      },
    };
  });
