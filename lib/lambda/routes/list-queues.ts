import type { RouteFactory } from '../../composition.ts';
import { queueListQuerySchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';
import { queueStatusView } from '../../http/views.ts';

/** GET /api/v1/billing/queues?status=&limit=&cursor=: the tenant's queues, newest first. */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const query = validate(queueListQuerySchema, request.query);
    if (!query.ok) throw query.error;
    const { status, limit, cursor } = query.value;
    const page = await c.store.listQueues(auth.tenant.id, { status, limit, cursor });
    const now = c.clock.now();
    const calendar = await c.store.getCalendar(auth.tenant.id);
    return {
      statusCode: 200,
      body: {
        success: true,
        queues: page.items.map((q) => queueStatusView(q, auth.tenant.config, now, calendar)),
        next_cursor: page.nextCursor,
      },
    };
  });
