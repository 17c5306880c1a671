import { z } from 'zod';
import { CANCEL_REASONS, CONTACT_STATUSES, QUEUE_STATUSES, TEMPLATE_TYPES } from '../../domain/types.ts';
import { counter, cursorSchema, isoInstant, limitSchema } from './common.ts';

/** The queues resource: a campaign's queue, its status, its contacts and its control actions. */

export const QUEUE_ACTIONS = ['pause', 'resume', 'cancel'] as const;

export const queueControlRequestSchema = z
  .object({ action: z.enum(QUEUE_ACTIONS).openapi({ description: 'Ação a executar.', example: 'pause' }) })
  .openapi('QueueControlRequest');

export type QueueControlRequest = z.infer<typeof queueControlRequestSchema>;

export const queueListQuerySchema = z.object({
  status: z.enum(QUEUE_STATUSES).optional(),
  template_type: z.enum(TEMPLATE_TYPES).optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const queueContactsQuerySchema = z.object({
  status: z.enum(CONTACT_STATUSES).optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

export type QueueListQuery = z.infer<typeof queueListQuerySchema>;
export type QueueContactsQuery = z.infer<typeof queueContactsQuerySchema>;

export const queueIdParamsSchema = z.object({
  queue_id: z.uuid().openapi({ example: '660e8400-e29b-41d4-a716-446655440000' }),
});

export const queueStatusSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(QUEUE_STATUSES),
    status_display: z.string().openapi({ example: 'Concluído' }),
    total_contacts: counter(),
    contacts_sent: counter(),
    contacts_delivered: counter(),
    contacts_failed: counter(),
    contacts_pending_retry: counter(),
    progress_percent: z.number().min(0).max(100),
    current_rate: z.number().openapi({ description: 'Mensagens por minuto.' }),
    eta: isoInstant().nullable(),
    started_at: isoInstant().nullable(),
    completed_at: isoInstant().nullable(),
    pause_reason: z.string().openapi({
      description:
        'Por que a fila espera, em português: fora do horário comercial, instância desconectada, ou o ' +
        'limite diário do aquecimento do número (`Aquecimento do número: limite de 30 mensagens hoje ' +
        '(dia 1) atingido; retoma quinta-feira, 17/12 às 09:00`).',
    }),
    contacts_read: counter(),
    contacts_replied: counter(),
    contacts_cancelled: counter(),
    contacts_pending: counter(),
    contacts_unknown: counter().openapi({
      description:
        'Envio com resultado desconhecido (timeout depois do pedido sair); nunca reenviado às cegas.',
    }),
    contacts_stalled: counter().openapi({
      description:
        'Enviadas sem nenhuma confirmação do WhatsApp (SERVER_ACK, entrega ou leitura) dentro de ' +
        '`delivery_timeout_minutes` do tenant (padrão 15). Conta as paradas agora: uma confirmação ' +
        'que chega depois tira o contato desta contagem.',
    }),
    contacts_deferred: counter().openapi({
      description:
        'Contatos adiados pelo limite de frequência por devedor (`max_reminders_per_debtor_per_day`, ' +
        '`min_hours_between_reminders`): o telefone recebeu um lembrete há pouco, e o contato espera ' +
        'até o próximo horário permitido dentro do horário comercial (então é enviado). Estão também ' +
        'em `contacts_pending_retry`; a fila não conclui enquanto houver algum.',
    }),
    paused_at: isoInstant().nullable(),
    next_run_at: isoInstant().nullable(),
    template_type: z.enum(TEMPLATE_TYPES),
    external_id: z.string(),
    billing_campaign_id: z.uuid(),
    created_at: isoInstant(),
    allowed_actions: z
      .array(z.enum(QUEUE_ACTIONS))
      .openapi({ description: 'As ações de `control` que a fila aceita agora.' }),
  })
  .openapi('QueueStatus', {
    example: {
      id: '660e8400-e29b-41d4-a716-446655440000',
      status: 'completed',
      status_display: 'Concluído',
      total_contacts: 1,
      contacts_sent: 1,
      contacts_delivered: 1,
      contacts_failed: 0,
      contacts_pending_retry: 0,
      progress_percent: 100.0,
      current_rate: 20.0,
      eta: null,
      started_at: '2025-12-17T10:00:00Z',
      completed_at: '2025-12-17T10:00:05Z',
      pause_reason: '',
      contacts_read: 0,
      contacts_replied: 0,
      contacts_cancelled: 0,
      contacts_pending: 0,
      contacts_unknown: 0,
      contacts_stalled: 0,
      contacts_deferred: 0,
      paused_at: null,
      next_run_at: null,
      template_type: 'overdue',
      external_id: 'fatura-67890',
      billing_campaign_id: '550e8400-e29b-41d4-a716-446655440000',
      created_at: '2025-12-17T09:59:58Z',
      allowed_actions: [],
    },
  });

export type QueueStatusBody = z.infer<typeof queueStatusSchema>;

export const queueListResponseSchema = z
  .object({
    success: z.literal(true),
    queues: z.array(queueStatusSchema),
    next_cursor: z.string().nullable(),
  })
  .openapi('QueueListResponse');

export type QueueListResponse = z.infer<typeof queueListResponseSchema>;

export const queueContactSchema = z
  .object({
    id: z.string(),
    index: z.number().int().min(0),
    telefone: z.string().openapi({ description: 'E.164.' }),
    nome_cliente: z.string(),
    status: z.enum(CONTACT_STATUSES),
    status_display: z.string(),
    attempts: counter(),
    last_error: z.string().nullable(),
    last_error_at: isoInstant().nullable(),
    provider_message_id: z.string().nullable(),
    variation_id: z.string().nullable(),
    rendered_message: z.string(),
    sent_at: isoInstant().nullable(),
    delivered_at: isoInstant().nullable(),
    read_at: isoInstant().nullable(),
    server_ack_at: isoInstant()
      .nullable()
      .openapi({ description: 'Quando o servidor do WhatsApp confirmou o recebimento (SERVER_ACK).' }),
    stalled_at: isoInstant()
      .nullable()
      .openapi({
        description:
          'Quando a mensagem foi considerada parada (sem confirmação do WhatsApp no prazo do tenant); ' +
          'continua preenchido se uma confirmação chegar depois.',
      }),
    deferred_until: isoInstant().nullable().openapi({
      description:
        'Adiado pelo limite de frequência por devedor (status `retry`): quando o lembrete pode sair.',
    }),
    numero_fatura: z.string().nullable().openapi({ description: 'A fatura do lembrete, como enviada.' }),
    cancel_reason: z
      .enum(CANCEL_REASONS)
      .nullable()
      .openapi({
        description:
          'Por que este contato foi cancelado sozinho: `paid` (fatura paga, POST /payments) ou `erased` ' +
          '(dados apagados, LGPD); null quando não foi, ou foi com a fila inteira.',
      }),
    erased_at: isoInstant()
      .nullable()
      .openapi({
        description:
          'Quando os dados pessoais do devedor foram apagados (LGPD): nome, telefone, variáveis e texto ' +
          'passam a `[apagado LGPD]`.',
      }),
  })
  .openapi('QueueContact');

export const queueContactsResponseSchema = z
  .object({
    success: z.literal(true),
    queue_id: z.uuid(),
    contacts: z.array(queueContactSchema),
    next_cursor: z.string().nullable(),
  })
  .openapi('QueueContactsResponse');

export type QueueContactsResponse = z.infer<typeof queueContactsResponseSchema>;

export const queueControlResponseSchema = z
  .object({
    success: z.literal(true),
    message: z.string().openapi({ example: 'Fila pausada' }),
    queue_id: z.uuid(),
    status: z.enum(QUEUE_STATUSES),
  })
  .openapi('QueueControlResponse');

export type QueueControlResponse = z.infer<typeof queueControlResponseSchema>;
