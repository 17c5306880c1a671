import { z } from 'zod';
import { CALLBACK_EVENTS, type CallbackEvent, TEMPLATE_TYPES } from '../../domain/types.ts';
import { counter, isoInstant, money, rejectedContactSchema, urlOrBlank } from './common.ts';
import { queueStatusSchema } from './queues.ts';

/**
 * The billing resource: the send request (a batch of contacts), its answers (created or dry run)
 * and the campaign looked up by `external_id`. Field names are the guide's
 * (BillingContactSerializer, SendBillingRequestSerializer). Unknown keys of a contact are not
 * dropped: they become template variables (see `extraVariables`), so they are validated.
 */

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
 * `unknown` and `delivery_stalled`, which are opt-in (an ERP that does not know them should not
 * start receiving them).
 * `cancelled` is in: it only follows the ERP's own payment notice (or an erasure it asked for).
 */
export const DEFAULT_CALLBACK_EVENTS: CallbackEvent[] = [
  'sent',
  'delivered',
  'failed',
  'replied',
  'queue.completed',
  'cancelled',
];

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

/** The guide's contact fields, in the order of the guide's serializer. */
export const CONTACT_FIELD_NAMES = Object.keys(CONTACT_FIELDS) as Array<keyof typeof CONTACT_FIELDS>;
export type ContactFieldName = (typeof CONTACT_FIELD_NAMES)[number];

const KNOWN_CONTACT_FIELDS = new Set<string>(CONTACT_FIELD_NAMES);

/** Why `name` cannot be an extra field (a template variable) of a contact, in Portuguese; null when it can. */
export const extraVariableNameProblem = (name: string): string | null => {
  if ((CALCULATED_VARIABLES as readonly string[]).includes(name))
    return `${name} é calculada pelo sistema e não pode ser enviada`;
  if (!EXTRA_VARIABLE_NAME.test(name) || RESERVED_VARIABLE_NAMES.has(name))
    return 'Nome de variável inválido: use letras minúsculas, números e _ (até 50 caracteres, sem começar por número)';
  return null;
};

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
      const problem = extraVariableNameProblem(key);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  })
  .openapi('BillingContact', {
    description:
      'Um contato do lote. Campos extras (texto, até 20 por contato, nomes `^[a-z_][a-z0-9_]{0,49}$`) viram variáveis do template; ' +
      '`dias_atraso`, `dias_para_vencer` e `status_vencimento` são calculadas pelo sistema e não podem ser enviadas. ' +
      '`empresa` e `cnpj` (o credor, CDC art. 42-A) vêm da configuração do tenant quando ele os define, e então ' +
      'prevalecem sobre o que o contato trouxer.',
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
          'Eventos enviados ao callback_url. Padrão: todos menos `read`, `unknown` (envio de resultado ' +
          'desconhecido: pode ter chegado ao telefone) e `delivery_stalled` (mensagem sem confirmação do ' +
          'WhatsApp no prazo do tenant), que só vão quando pedidos.',
      }),
    metadata: metadataSchema.optional(),
    instance: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .openapi({
        description:
          'Id da instância WhatsApp do tenant que envia este lote (uma ativa). Sem ele vale a instância ' +
          'padrão do tenant (`instance set-default`), ou a mais antiga ativa.',
        example: 'loja-centro',
      }),
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

export const externalIdParamsSchema = z.object({
  external_id: z.string().min(1).max(255).openapi({ example: 'fatura-67890' }),
});

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
