import { controlQueue } from '../../app/control-queue.ts';
import { DomainError } from '../../domain/errors.ts';
import { type AuthDeps, queueOwnerOf } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { queueControlRequestSchema, queueControlResponseSchema } from '../schemas/queues.ts';
import { QUEUE_ID_PARAMS } from './path-parameters.ts';

type QueueControlDeps = AuthDeps & Parameters<typeof controlQueue>[0];

/** POST /api/v1/billing/queue/{queue_id}/control {"action": "pause" | "resume" | "cancel"}. */
export const queueControlRoute: HttpRoute<QueueControlDeps> = {
  name: 'queue-control',
  operations: [
    defineOperation({
      method: 'POST',
      path: '/api/v1/billing/queue/{queue_id}/control',
      auth: 'apiKey',
      scope: 'control',
      request: {
        params: QUEUE_ID_PARAMS,
        body: {
          schema: queueControlRequestSchema,
          invalid: () => new DomainError('INVALID_ACTION'),
          example: { action: 'pause' },
        },
      },
      responses: { 200: { description: 'Ação executada.', schema: queueControlResponseSchema } },
      errors: [
        'INVALID_ACTION',
        'QUEUE_NOT_RUNNING',
        'QUEUE_ALREADY_PAUSED',
        'QUEUE_NOT_PAUSED',
        'QUEUE_ALREADY_FINISHED',
        'QUEUE_NOT_FOUND',
      ],
      openapi: {
        operationId: 'queue_control',
        tags: ['Filas'],
        summary: 'Controla fila (pause/resume/cancel)',
        description:
          '`pause` só para fila rodando; `resume` para fila pausada ou com instância fora do ar; `cancel` para fila não finalizada.',
      },
      handler: async (c: QueueControlDeps, { auth, params, body }) => {
        const { message, queue } = await controlQueue(c, queueOwnerOf(auth), params.queue_id, body.action);
        return {
          statusCode: 200,
          body: { success: true, message, queue_id: queue.id, status: queue.status },
        };
      },
    }),
  ],
};
