import { z } from 'zod';
import { CALLBACK_EVENTS, CANCEL_REASONS } from '../../domain/types.ts';
import { counter, cursorSchema, isoInstant, limitSchema } from './common.ts';

/** The events resource: the callback events of the tenant's campaigns, with their delivery. */

export const CALLBACK_DELIVERY_STATUSES = ['pending', 'delivered', 'dead', 'skipped'] as const;

export const billingEventsQuerySchema = z.object({
  since: z.iso.datetime({ offset: true }).optional().openapi({
    description: 'Só eventos ocorridos a partir deste instante (ISO 8601).',
    example: '2025-12-17T00:00:00Z',
  }),
  queue_id: z.uuid().optional().openapi({ description: 'Só os eventos desta fila.' }),
  limit: limitSchema,
  cursor: cursorSchema,
});

export type BillingEventsQuery = z.infer<typeof billingEventsQuerySchema>;

export const billingEventSchema = z
  .object({
    event_id: z.string().openapi({ example: '660e8400-e29b-41d4-a716-446655440000:0:sent' }),
    event: z.enum(CALLBACK_EVENTS),
    occurred_at: isoInstant(),
    external_id: z.string(),
    billing_campaign_id: z.uuid(),
    queue_id: z.uuid(),
    contact: z
      .object({ telefone: z.string(), nome_cliente: z.string(), numero_fatura: z.string().nullable() })
      .nullable()
      .openapi({ description: 'null em eventos da fila (`queue.completed`).' }),
    message_id: z.string().nullable().openapi({ description: 'Id da mensagem no gateway.' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    reply: z.object({ text: z.string(), intent: z.string() }).nullable(),
    cancel_reason: z.enum(CANCEL_REASONS).optional().openapi({
      description:
        'Só em `cancelled`: `paid` (a fatura foi paga, POST /payments) ou `erased` (os dados do devedor foram apagados, LGPD).',
    }),
    delivery: z.object({
      status: z.enum(CALLBACK_DELIVERY_STATUSES).openapi({
        description:
          '`pending`: aguardando (nova) tentativa; `delivered`: o ERP respondeu 2xx; `dead`: tentativas esgotadas (cerca de 24 h); `skipped`: sem callback_url ou evento não pedido.',
      }),
      attempts: counter(),
      next_attempt_at: isoInstant().nullable().openapi({
        description:
          'Quando começa a próxima tentativa. null enquanto a primeira aguarda na fila de callbacks (em segundos) e depois de `delivered` ou `dead`.',
      }),
      last_attempt_at: isoInstant().nullable(),
      last_error: z.string().nullable(),
      delivered_at: isoInstant().nullable(),
    }),
  })
  .openapi('BillingEvent');

export const billingEventsResponseSchema = z
  .object({
    success: z.literal(true),
    events: z.array(billingEventSchema),
    next_cursor: z.string().nullable(),
  })
  .openapi('BillingEventsResponse');

export type BillingEventsResponse = z.infer<typeof billingEventsResponseSchema>;
