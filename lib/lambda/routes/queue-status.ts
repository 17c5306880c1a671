import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import type { RouteFactory } from '../../composition.ts';
import { queueIdParamsSchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';
import { queueStatusView } from '../../http/views.ts';

/** GET /api/v1/billing/queue/{queue_id}/status: the guide's status body (another tenant's queue is a 404). */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const params = validate(queueIdParamsSchema, request.pathParameters);
    const queue = await getQueueForTenant(c, auth.tenant.id, params.ok ? params.value.queue_id : undefined);
    const calendar = await c.store.getCalendar(auth.tenant.id);
    return { statusCode: 200, body: queueStatusView(queue, auth.tenant.config, c.clock.now(), calendar) };
  });
