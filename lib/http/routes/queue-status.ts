import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import { type EtaDeps, etaContextOf } from '../../app/queue-eta.ts';
import type { CampaignStore } from '../../ports/store.ts';
import { type AuthDeps, queueOwnerOf } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { queueStatusSchema } from '../schemas/queues.ts';
import { queueStatusView } from '../views.ts';
import { QUEUE_ID_PARAMS } from './path-parameters.ts';

type QueueStatusDeps = AuthDeps & { store: CampaignStore } & Pick<EtaDeps, 'takingTurns'>;

/** GET /api/v1/billing/queue/{queue_id}/status: the guide's status body (another tenant's queue is a 404). */
export const queueStatusRoute: HttpRoute<QueueStatusDeps> = {
  name: 'queue-status',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/queue/{queue_id}/status',
      auth: 'apiKey',
      scope: 'read',
      request: { params: QUEUE_ID_PARAMS },
      responses: { 200: { description: 'Status da fila.', schema: queueStatusSchema } },
      errors: ['QUEUE_NOT_FOUND'],
      openapi: {
        operationId: 'queue_status',
        tags: ['Filas'],
        summary: 'Consulta status da fila',
        description: 'Progresso e contadores de uma fila de envio.',
      },
      handler: async (c: QueueStatusDeps, { auth, params }) => {
        const queue = await getQueueForTenant(c, queueOwnerOf(auth), params.queue_id);
        const now = c.clock.now();
        const eta = await etaContextOf(c, auth.tenant, [queue], now);
        return { statusCode: 200, body: queueStatusView(queue, auth.tenant.config, now, eta) };
      },
    }),
  ],
};
