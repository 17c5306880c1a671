import { ownsQueue } from '../../app/get-queue-for-tenant.ts';
import { type EtaDeps, etaContextOf } from '../../app/queue-eta.ts';
import type { CampaignStore } from '../../ports/store.ts';
import { type AuthDeps, queueOwnerOf } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { queueListQuerySchema, queueListResponseSchema } from '../schemas/queues.ts';
import { queueStatusView } from '../views.ts';

type ListQueuesDeps = AuthDeps & { store: CampaignStore } & Pick<EtaDeps, 'takingTurns'>;

/**
 * GET /api/v1/billing/queues?status=&template_type=&limit=&cursor=: the tenant's queues, newest
 * first. The store pages by status only, so `template_type` filters each page: a page may hold
 * fewer than `limit` queues (even none) while `next_cursor` still leads on.
 */
export const listQueuesRoute: HttpRoute<ListQueuesDeps> = {
  name: 'list-queues',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/queues',
      auth: 'apiKey',
      scope: 'read',
      request: { query: { schema: queueListQuerySchema } },
      responses: { 200: { description: 'Uma página de filas.', schema: queueListResponseSchema } },
      errors: [],
      openapi: {
        operationId: 'queue_list',
        tags: ['Filas'],
        summary: 'Lista as filas do tenant',
        description:
          'Mais recentes primeiro, paginadas por `cursor`. Com `template_type`, cada página é filtrada: ' +
          'pode vir com menos de `limit` filas (ou nenhuma) e ainda ter `next_cursor`.',
      },
      handler: async (c: ListQueuesDeps, { auth, query }) => {
        const { status, template_type, limit, cursor } = query;
        const page = await c.store.listQueues(auth.tenant.id, { status, limit, cursor });
        const now = c.clock.now();
        // A key limited to some template types sees only their queues (a page may come out shorter).
        const queues = page.items
          .filter((q) => ownsQueue(queueOwnerOf(auth), q))
          .filter((q) => !template_type || q.templateType === template_type);
        const eta = await etaContextOf(c, auth.tenant, queues, now);
        return {
          statusCode: 200,
          body: {
            success: true,
            queues: queues.map((q) => queueStatusView(q, auth.tenant.config, now, eta)),
            next_cursor: page.nextCursor,
          },
        };
      },
    }),
  ],
};
