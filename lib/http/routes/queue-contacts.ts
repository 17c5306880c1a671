import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import type { CampaignStore } from '../../ports/store.ts';
import { type AuthDeps, queueOwnerOf } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { queueContactsQuerySchema, queueContactsResponseSchema } from '../schemas/queues.ts';
import { contactView } from '../views.ts';
import { QUEUE_ID_PARAMS } from './path-parameters.ts';

type QueueContactsDeps = AuthDeps & { store: CampaignStore };

/** GET /api/v1/billing/queue/{queue_id}/contacts?status=&limit=&cursor=: per-contact status and last error. */
export const queueContactsRoute: HttpRoute<QueueContactsDeps> = {
  name: 'queue-contacts',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/queue/{queue_id}/contacts',
      auth: 'apiKey',
      scope: 'read',
      request: { params: QUEUE_ID_PARAMS, query: { schema: queueContactsQuerySchema } },
      responses: { 200: { description: 'Uma página de contatos.', schema: queueContactsResponseSchema } },
      errors: ['QUEUE_NOT_FOUND'],
      openapi: {
        operationId: 'queue_contacts',
        tags: ['Filas'],
        summary: 'Resultado por contato de uma fila',
        description:
          'Status, tentativas, último erro e mensagem renderizada de cada contato, na ordem do lote, paginados ' +
          'por `cursor`. Filtrada por `status`, uma página pode trazer menos contatos que `limit` (até nenhum) ' +
          'e ainda ter `next_cursor`: siga-o até ele ser `null`.',
      },
      handler: async (c: QueueContactsDeps, { auth, params, query }) => {
        const queue = await getQueueForTenant(c, queueOwnerOf(auth), params.queue_id);
        const { status, limit, cursor } = query;
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
      },
    }),
  ],
};
