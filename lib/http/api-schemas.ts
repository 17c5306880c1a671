import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DomainError, ERROR_TABLE, type ErrorCode, type Result } from '../domain/errors.ts';
import {
  CALLBACK_EVENTS,
  type CallbackEvent,
  CONTACT_STATUSES,
  QUEUE_STATUSES,
  TEMPLATE_TYPES,
} from '../domain/types.ts';

/**
 * The HTTP API's schemas: the single source of truth for request validation, the TypeScript
 * types (`z.infer`) and the OpenAPI document (lib/http/openapi-document.ts reads them).
 * Field names are the guide's (BillingContactSerializer, SendBillingRequestSerializer,
 * QueueStatusResponseSerializer); human messages are Portuguese, codes English.
 *
 * Unknown top-level keys of a request are ignored (dropped), not refused: ERPs send extras
 * and the guide's DRF serializers ignore them too. Unknown keys of a contact are different:
 * they become template variables (see `extraVariables`), so they are validated.
 */

// Once, before any `.openapi(...)` below; a second call elsewhere is harmless.
extendZodWithOpenApi(z);

export const API_KEY_HEADER = 'X-Billing-API-Key';
export const MAX_CONTACTS = 1000;
export const MAX_EXTRA_VARIABLES = 20;
export const MAX_EXTRA_VARIABLE_LENGTH = 500;
export const MAX_METADATA_KEYS = 50;
export const MAX_METADATA_BYTES = 8192;

/** Variables the service computes from `data_vencimento`; a caller may not send them. */
export const CALCULATED_VARIABLES = ['dias_atraso', 'dias_para_vencer', 'status_vencimento'] as const;

const EXTRA_VARIABLE_NAME = /^[a-z_][a-z0-9_]{0,49}$/;
/** Names that are JavaScript object internals: as variables they would corrupt the variables map. */
const RESERVED_VARIABLE_NAMES = new Set(['constructor', '__proto__', 'prototype', '__definegetter__']);

export { CALLBACK_EVENTS, type CallbackEvent };

/**
 * Events sent when the request names none: everything but `read`, which fires once per
 * message opened and would double the ERP's traffic for little value (design section 5), and
 * `delivery_stalled`, which is opt-in (an ERP that does not know it should not start receiving it).
 */
export const DEFAULT_CALLBACK_EVENTS: CallbackEvent[] = [
  'sent',
  'delivered',
  'failed',
  'replied',
  'queue.completed',
];

const ERROR_CODES = Object.keys(ERROR_TABLE) as [ErrorCode, ...ErrorCode[]];

// ---------------------------------------------------------------------------------------------
// Building blocks

/** An http(s) URL or an empty string (the guide's `URLField(allow_blank=True)`). */
const urlOrBlank = () => z.union([z.url({ protocol: /^https?$/ }), z.literal('')]);

/** The ERP may send money as text (`"R$ 150,00"`) or as a number (`150`); both are kept as sent. */
const money = () => z.union([z.string().max(50), z.number()]);

export const errorCodeSchema = z.enum(ERROR_CODES).openapi('ErrorCode', {
  description: 'Código estável (em inglês) do erro; programas devem comparar este campo, não a mensagem.',
});

const isoInstant = () => z.string().openapi({ format: 'date-time', example: '2025-12-17T10:00:00Z' });

// ---------------------------------------------------------------------------------------------
// Requests

const CONTACT_FIELDS = {
  nome_cliente: z.string().trim().min(1).max(255).openapi({ example: 'João Silva' }),
  telefone: z
    .string()
    .trim()
    .min(1)
    .max(20)
    .openapi({ description: 'Celular; sem DDI assume Brasil (+55).', example: '+5511999999999' }),
  valor: money().optional().openapi({ example: 'R$ 150,00' }),
  data_vencimento: z
    .string()
    .max(10)
    .optional()
    .openapi({ description: 'dd/mm/aaaa ou aaaa-mm-dd.', example: '10/12/2025' }),
  valor_total: money().optional().openapi({ example: 'R$ 165,00' }),
  codigo_pix: z.string().max(500).optional().openapi({ example: '00020126580014br.gov.bcb.pix...' }),
  link_pagamento: urlOrBlank().optional().openapi({ example: 'https://pay.meu-erp.com/invoice/67890' }),
  numero_fatura: z.string().max(100).optional().openapi({ example: '2025-67890' }),
  titulo: z.string().max(200).optional().openapi({ description: 'Para notificações.' }),
  mensagem: z.string().max(1000).optional().openapi({ description: 'Para notificações.' }),
};

const KNOWN_CONTACT_FIELDS = new Set(Object.keys(CONTACT_FIELDS));

export const contactSchema = z
  .object(CONTACT_FIELDS)
  .catchall(z.string().max(MAX_EXTRA_VARIABLE_LENGTH))
  .superRefine((contact, ctx) => {
    const extras = Object.keys(contact).filter((key) => !KNOWN_CONTACT_FIELDS.has(key));
    if (extras.length > MAX_EXTRA_VARIABLES) {
      ctx.addIssue({
        code: 'custom',
        message: `Máximo de ${MAX_EXTRA_VARIABLES} variáveis extras por contato`,
      });
    }
    for (const key of extras) {
      if ((CALCULATED_VARIABLES as readonly string[]).includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} é calculada pelo sistema e não pode ser enviada`,
        });
      } else if (!EXTRA_VARIABLE_NAME.test(key) || RESERVED_VARIABLE_NAMES.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            'Nome de variável inválido: use letras minúsculas, números e _ (até 50 caracteres, sem começar por número)',
        });
      }
    }
  })
  .openapi('BillingContact', {
    description:
      'Um contato do lote. Campos extras (texto, até 20 por contato, nomes `^[a-z_][a-z0-9_]{0,49}$`) viram variáveis do template; ' +
      '`dias_atraso`, `dias_para_vencer` e `status_vencimento` são calculadas pelo sistema e não podem ser enviadas.',
  });

export type Contact = z.infer<typeof contactSchema>;

/** The contact's extra fields (beyond the guide's), which the templates see as variables. */
export const extraVariables = (contact: Contact): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(contact)) {
    if (!KNOWN_CONTACT_FIELDS.has(key) && typeof value === 'string') out[key] = value;
  }
  return out;
};

/**
 * Size of a value as JSON. JSON.stringify recurses: a value nested deeper than the stack allows
 * (the HTTP layer refuses such bodies, other callers may not) counts as too large, not as a crash.
 */
const serializedBytes = (value: unknown): number => {
  try {
    return Buffer.byteLength(JSON.stringify(value), 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
};

const metadataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((metadata, ctx) => {
    if (Object.keys(metadata).length > MAX_METADATA_KEYS) {
      ctx.addIssue({ code: 'custom', message: `metadata aceita no máximo ${MAX_METADATA_KEYS} chaves` });
    }
    if (serializedBytes(metadata) > MAX_METADATA_BYTES) {
      ctx.addIssue({ code: 'custom', message: `metadata excede ${MAX_METADATA_BYTES} bytes` });
    }
  })
  .openapi({
    description: `Objeto JSON livre devolvido nas consultas e callbacks (até ${MAX_METADATA_KEYS} chaves, ${MAX_METADATA_BYTES} bytes).`,
    example: { cliente_id: '12345', empresa: 'Empresa XYZ' },
  });

export const sendBillingRequestSchema = z
  .object({
    external_id: z.string().trim().min(1).max(255).openapi({
      description: 'ID único no sistema do cliente (chave de idempotência).',
      example: 'fatura-67890',
    }),
    contacts: z
      .array(contactSchema)
      .min(1)
      .max(MAX_CONTACTS)
      .openapi({ description: `Lista de contatos (máx. ${MAX_CONTACTS}).` }),
    callback_url: urlOrBlank().optional().openapi({
      description: 'URL para receber callbacks de eventos.',
      example: 'https://meu-erp.com/webhooks/billing',
    }),
    callback_events: z
      .array(z.enum(CALLBACK_EVENTS))
      .max(CALLBACK_EVENTS.length)
      .default(() => [...DEFAULT_CALLBACK_EVENTS])
      .openapi({
        description:
          'Eventos enviados ao callback_url. Padrão: todos menos `read` e `delivery_stalled` ' +
          '(mensagem sem confirmação do WhatsApp no prazo do tenant), que só vão quando pedidos.',
      }),
    metadata: metadataSchema.optional(),
  })
  .openapi('SendBillingRequest', {
    description: 'Campos desconhecidos no nível do corpo são ignorados.',
  });

export type SendBillingRequest = z.infer<typeof sendBillingRequestSchema>;
export type SendBillingRequestInput = z.input<typeof sendBillingRequestSchema>;

export const sendQuerySchema = z.object({
  dry_run: z.enum(['true', 'false', '1', '0']).optional().openapi({
    description: 'Se verdadeiro, valida e renderiza as mensagens sem criar campanha nem enviar nada.',
    example: 'true',
  }),
});

/** Whether the send request's query asks for a dry run (`?dry_run=true` or `?dry_run=1`). */
export const isDryRun = (query: z.infer<typeof sendQuerySchema>): boolean =>
  query.dry_run === 'true' || query.dry_run === '1';

export const QUEUE_ACTIONS = ['pause', 'resume', 'cancel'] as const;

export const queueControlRequestSchema = z
  .object({ action: z.enum(QUEUE_ACTIONS).openapi({ description: 'Ação a executar.', example: 'pause' }) })
  .openapi('QueueControlRequest');

export type QueueControlRequest = z.infer<typeof queueControlRequestSchema>;

const limitSchema = z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 });
const cursorSchema = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .openapi({ description: 'O `next_cursor` da página anterior.' });

export const queueListQuerySchema = z.object({
  status: z.enum(QUEUE_STATUSES).optional(),
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

export const externalIdParamsSchema = z.object({
  external_id: z.string().min(1).max(255).openapi({ example: 'fatura-67890' }),
});

// ---------------------------------------------------------------------------------------------
// Responses

export const rejectedContactSchema = z
  .object({
    index: z.number().int().min(0).openapi({ description: 'Posição do contato em `contacts`.' }),
    telefone: z.string().openapi({ description: 'Como enviado.' }),
    code: errorCodeSchema,
    message: z.string(),
  })
  .openapi('RejectedContact', {
    example: {
      index: 1,
      telefone: '1133334444',
      code: 'PHONE_NOT_MOBILE',
      message: 'Telefone fixo não recebe WhatsApp; informe um celular',
    },
  });

export type RejectedContact = z.infer<typeof rejectedContactSchema>;

export const sendBillingResponseSchema = z
  .object({
    success: z.literal(true),
    message: z.string().openapi({ example: 'Campanha criada com sucesso' }),
    billing_campaign_id: z.uuid(),
    queue_id: z.uuid(),
    total_contacts: z.number().int().openapi({ description: 'Contatos aceitos (igual a `accepted`).' }),
    estimated_duration_minutes: z.number().int(),
    accepted: z.number().int(),
    rejected: z.array(rejectedContactSchema),
    scheduled_start: isoInstant()
      .nullable()
      .openapi({ description: 'Início agendado (fora do horário comercial), ou null se começa já.' }),
  })
  .openapi('SendBillingResponse', {
    example: {
      success: true,
      message: 'Campanha criada com sucesso',
      billing_campaign_id: '550e8400-e29b-41d4-a716-446655440000',
      queue_id: '660e8400-e29b-41d4-a716-446655440000',
      total_contacts: 1,
      estimated_duration_minutes: 1,
      accepted: 1,
      rejected: [],
      scheduled_start: null,
    },
  });

export type SendBillingResponse = z.infer<typeof sendBillingResponseSchema>;

export const dryRunResponseSchema = z
  .object({
    success: z.literal(true),
    dry_run: z.literal(true),
    message: z.string().openapi({ example: 'Simulação concluída; nada foi enviado' }),
    total_contacts: z.number().int(),
    accepted: z.number().int(),
    rejected: z.array(rejectedContactSchema),
    messages: z.array(
      z.object({
        index: z.number().int().min(0),
        telefone: z.string().openapi({ description: 'E.164.', example: '+5511999999999' }),
        variation_id: z.string(),
        message: z.string().openapi({ description: 'Texto renderizado, como seria enviado.' }),
      }),
    ),
    estimated_duration_minutes: z.number().int(),
    scheduled_start: isoInstant().nullable(),
  })
  .openapi('DryRunResponse');

export type DryRunResponse = z.infer<typeof dryRunResponseSchema>;

const counter = () => z.number().int().min(0);

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
    pause_reason: z.string(),
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
    paused_at: isoInstant().nullable(),
    next_run_at: isoInstant().nullable(),
    template_type: z.enum(TEMPLATE_TYPES),
    external_id: z.string(),
    billing_campaign_id: z.uuid(),
    created_at: isoInstant(),
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
      paused_at: null,
      next_run_at: null,
      template_type: 'overdue',
      external_id: 'fatura-67890',
      billing_campaign_id: '550e8400-e29b-41d4-a716-446655440000',
      created_at: '2025-12-17T09:59:58Z',
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

export const campaignResponseSchema = z
  .object({
    success: z.literal(true),
    billing_campaign_id: z.uuid(),
    external_id: z.string(),
    template_type: z.enum(TEMPLATE_TYPES),
    queue_id: z.uuid(),
    callback_url: z.string().openapi({ description: 'Vazio quando não informado.' }),
    callback_events: z.array(z.enum(CALLBACK_EVENTS)),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    created_at: isoInstant(),
    accepted: counter(),
    rejected: z.array(rejectedContactSchema),
    queue: queueStatusSchema,
  })
  .openapi('CampaignResponse');

export type CampaignResponse = z.infer<typeof campaignResponseSchema>;

export const queueControlResponseSchema = z
  .object({
    success: z.literal(true),
    message: z.string().openapi({ example: 'Fila pausada' }),
    queue_id: z.uuid(),
    status: z.enum(QUEUE_STATUSES),
  })
  .openapi('QueueControlResponse');

export type QueueControlResponse = z.infer<typeof queueControlResponseSchema>;

export const phoneParamsSchema = z.object({
  telefone: z.string().min(1).max(30).openapi({ example: '5511999999999' }),
});

const conversationMessageSchema = z.object({
  id: z.string().openapi({ description: 'Id da mensagem no gateway (key.id).' }),
  direction: z.enum(['outbound', 'inbound']),
  text: z.string(),
  at: isoInstant(),
  queue_id: z.string().nullable(),
  external_id: z.string().nullable(),
  template_type: z.enum(TEMPLATE_TYPES).nullable(),
});

export const conversationsResponseSchema = z
  .object({
    success: z.literal(true),
    telefone: z.string().openapi({ description: 'E.164.' }),
    conversations: z.array(
      z.object({
        id: z.string(),
        status: z.enum(['open', 'closed']),
        opened_at: isoInstant(),
        closed_at: isoInstant().nullable(),
        closed_by: z.enum(['system']).nullable(),
        reopened_at: isoInstant().nullable(),
        messages: z.array(conversationMessageSchema),
      }),
    ),
  })
  .openapi('ConversationsResponse', {
    description:
      'Conversas mais recentes primeiro; cada envio de cobrança fecha a conversa, e uma mensagem menos de 24 h depois a reabre.',
  });

export type ConversationsResponse = z.infer<typeof conversationsResponseSchema>;

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
    delivery: z.object({
      status: z.enum(CALLBACK_DELIVERY_STATUSES).openapi({
        description:
          '`pending`: aguardando (nova) tentativa; `delivered`: o ERP respondeu 2xx; `dead`: tentativas esgotadas (cerca de 24 h); `skipped`: sem callback_url ou evento não pedido.',
      }),
      attempts: counter(),
      next_attempt_at: isoInstant().nullable(),
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

export const fieldIssueSchema = z
  .object({
    field: z.string().openapi({ example: 'contacts.0.telefone' }),
    message: z.string().openapi({ example: 'Máximo de 20 caracteres' }),
  })
  .openapi('FieldIssue');

export type FieldIssue = z.infer<typeof fieldIssueSchema>;

export const errorResponseSchema = z
  .object({
    success: z.literal(false),
    code: errorCodeSchema,
    message: z.string().openapi({ description: 'Mensagem em português.', example: 'Dados inválidos' }),
    errors: z
      .union([z.array(fieldIssueSchema), z.array(rejectedContactSchema)])
      .optional()
      .openapi({
        description:
          'VALIDATION_FAILED: um item por campo inválido. NO_VALID_CONTACTS: um item por contato recusado.',
      }),
  })
  .openapi('ErrorResponse', {
    example: {
      success: false,
      code: 'VALIDATION_FAILED',
      message: 'Dados inválidos',
      errors: [{ field: 'contacts.0.telefone', message: 'Máximo de 20 caracteres' }],
    },
  });

export type ErrorResponseBody = z.infer<typeof errorResponseSchema>;

export const healthResponseSchema = z
  .object({
    status: z
      .enum(['ok', 'degraded'])
      .openapi({ description: '`degraded` (503) quando o banco ou a fila de trabalho está fora.' }),
    store: z.enum(['ok', 'unreachable']),
    work_queue: z
      .enum(['ok', 'unreachable', 'not_configured'])
      .openapi({ description: '`not_configured`: função implantada sem fila de trabalho.' }),
    gateway: z.enum(['open', 'connecting', 'close', 'unknown', 'not_configured']).openapi({
      description:
        'Estado da instância de demonstração na Evolution; `unknown` quando o gateway não responde. Não causa 503.',
    }),
    latency_ms: z.number(),
  })
  .openapi('HealthResponse', {
    example: { status: 'ok', store: 'ok', work_queue: 'ok', gateway: 'open', latency_ms: 4 },
  });

// ---------------------------------------------------------------------------------------------
// Opt-outs and gateway webhooks

export const optOutCreateRequestSchema = z
  .object({
    telefone: z.string().trim().min(1).max(30).openapi({ example: '+5511999999999' }),
    motivo: z.string().max(500).optional().openapi({ example: 'Pediu por telefone para não receber mais' }),
  })
  .openapi('OptOutCreateRequest');

export const optOutListQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema });

const optOutSchema = z
  .object({
    telefone: z.string().openapi({ description: 'E.164.', example: '+5511999999999' }),
    origem: z
      .enum(['reply', 'api'])
      .openapi({ description: '`reply`: o cliente respondeu (ex.: SAIR); `api`: cadastrado pela API.' }),
    motivo: z.string(),
    created_at: isoInstant(),
  })
  .openapi('OptOut');

export type OptOutBody = z.infer<typeof optOutSchema>;

export const optOutListResponseSchema = z
  .object({ success: z.literal(true), opt_outs: z.array(optOutSchema), next_cursor: z.string().nullable() })
  .openapi('OptOutListResponse');

export const optOutCreateResponseSchema = z
  .object({
    success: z.literal(true),
    created: z
      .boolean()
      .openapi({ description: '`false` quando o telefone já estava na lista (nada muda).' }),
    opt_out: optOutSchema,
  })
  .openapi('OptOutCreateResponse');

export const optOutDeleteResponseSchema = z
  .object({ success: z.literal(true), message: z.string(), telefone: z.string() })
  .openapi('OptOutDeleteResponse');

export const webhookParamsSchema = z.object({
  tenant_id: z.string().min(1).max(100).openapi({ example: 'demo' }),
  instance_id: z.string().min(1).max(100).openapi({ example: 'demo' }),
  event: z
    .string()
    .max(50)
    .optional()
    .openapi({ description: 'Sufixo do modo "por eventos" da Evolution.', example: 'messages-update' }),
});

export const webhookAckSchema = z
  .object({
    success: z.literal(true),
    result: z.enum(['applied', 'ignored']).openapi({
      description:
        '`ignored`: autenticado, mas nada muda (evento repetido, eco do nosso envio, evento ou status ' +
        'desconhecido, corpo ilegível, mensagem que não enviamos); registrado em log e contado na ' +
        'métrica `billing_webhooks_ignored_total` / `WebhooksIgnored` por motivo.',
    }),
  })
  .openapi('WebhookAck');

// ---------------------------------------------------------------------------------------------
// Validation errors in Portuguese

const TYPE_NAMES: Record<string, string> = {
  string: 'texto',
  number: 'número',
  int: 'número inteiro',
  boolean: 'verdadeiro/falso',
  array: 'lista',
  object: 'objeto',
  record: 'objeto',
};

type Issue = z.core.$ZodIssue;

/** Zod drops an issue's input unless asked (`reportInput`); its default English message still tells. */
const isMissing = (issue: Issue): boolean =>
  ('input' in issue && issue.input === undefined) || / received undefined$/.test(issue.message);

const sizeMessage = (issue: Extract<Issue, { code: 'too_big' | 'too_small' }>): string => {
  const big = issue.code === 'too_big';
  const limit = Number(
    big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum,
  );
  switch (issue.origin) {
    case 'string':
      if (!big && limit === 1) return 'Campo não pode ficar em branco';
      return big ? `Máximo de ${limit} caracteres` : `Mínimo de ${limit} caracteres`;
    case 'array':
    case 'set':
      if (!big && limit === 1) return 'Informe ao menos 1 item';
      return big ? `Máximo de ${limit} itens` : `Mínimo de ${limit} itens`;
    default:
      return big ? `Valor máximo: ${limit}` : `Valor mínimo: ${limit}`;
  }
};

const FORMAT_MESSAGES: Record<string, string> = {
  url: 'URL inválida (use http:// ou https://)',
  uuid: 'UUID inválido',
  email: 'E-mail inválido',
  datetime: 'Data e hora inválidas (ISO 8601)',
};

const messageOf = (issue: Issue): { path: PropertyKey[]; message: string } => {
  switch (issue.code) {
    case 'invalid_type':
      return {
        path: issue.path,
        message: isMissing(issue)
          ? 'Campo obrigatório'
          : `Tipo inválido: esperado ${TYPE_NAMES[issue.expected] ?? issue.expected}`,
      };
    case 'too_big':
    case 'too_small':
      return { path: issue.path, message: sizeMessage(issue) };
    case 'invalid_format':
      return { path: issue.path, message: FORMAT_MESSAGES[issue.format] ?? 'Formato inválido' };
    case 'invalid_value':
      return { path: issue.path, message: `Valor inválido. Use: ${issue.values.map(String).join(', ')}` };
    case 'invalid_union': {
      // Report the branch that says most: "bad URL" beats "not the empty string" or "not a number".
      const nested = issue.errors.flat();
      const telling = nested.find((n) => n.code !== 'invalid_type' && n.code !== 'invalid_value');
      if (telling) {
        const inner = messageOf(telling);
        return { path: [...issue.path, ...inner.path], message: inner.message };
      }
      return { path: issue.path, message: 'Tipo inválido' };
    }
    case 'unrecognized_keys':
      return { path: issue.path, message: `Campos não permitidos: ${issue.keys.join(', ')}` };
    case 'invalid_key':
      return { path: issue.path, message: 'Chave inválida' };
    case 'invalid_element':
      return { path: issue.path, message: 'Item inválido' };
    case 'custom':
      // Our own refinements already speak Portuguese.
      return { path: issue.path, message: issue.message };
    default:
      return { path: issue.path, message: 'Valor inválido' };
  }
};

/** Turns zod issues into the `errors` list of a 400: `{ field: 'contacts.0.telefone', message: '<pt-BR>' }`. */
export const formatZodIssues = (error: z.ZodError): FieldIssue[] =>
  error.issues.map((issue) => {
    const { path, message } = messageOf(issue);
    return { field: path.length ? path.map(String).join('.') : 'body', message };
  });

/**
 * Parses a request part with a schema; on failure a VALIDATION_FAILED DomainError whose
 * `details` are the Portuguese field issues (the error middleware renders them as `errors`).
 */
export const validate = <S extends z.ZodType>(schema: S, input: unknown): Result<z.infer<S>> => {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: new DomainError('VALIDATION_FAILED', {}, formatZodIssues(parsed.error)) };
};
