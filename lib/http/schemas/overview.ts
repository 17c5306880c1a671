import { z } from 'zod';
import { FIGURES } from '../../domain/activity-figures.ts';
import { TIMELINE_STEPS } from '../../domain/contact-timeline.ts';
import { TEMPLATE_TYPES } from '../../domain/types.ts';
import { counter, isoInstant } from './common.ts';
import { queueContactSchema } from './queues.ts';

/**
 * What the operator dashboard reads beyond the queue resources, usable by ERPs too: who is calling
 * (`/me`), figures per period (`/stats`), the WhatsApp instances (`/instances`) and one contact in
 * full (rendered message, timeline, conversation).
 */

export const meResponseSchema = z
  .object({
    success: z.literal(true),
    tenant: z.object({
      id: z.string(),
      name: z.string(),
      timezone: z.string().openapi({ example: 'America/Sao_Paulo' }),
    }),
    limits: z
      .object({
        max_batch_size: z.number().int().min(1).openapi({
          description: 'Máximo de contatos por lote (`contacts`) aceito por este tenant.',
          example: 1000,
        }),
        daily_message_limit: counter().openapi({
          description: 'Mensagens por dia (no fuso do tenant) reservadas no aceite; 0 = sem limite.',
          example: 0,
        }),
      })
      .openapi({
        description: 'Os limites do tenant que um cliente precisa conhecer antes de enviar lotes.',
      }),
    api_key: z.object({
      name: z.string(),
      prefix: z.string().openapi({ description: 'Primeiros caracteres da chave, para reconhecê-la.' }),
      allowed_template_types: z.array(z.enum(TEMPLATE_TYPES)),
      expires_at: isoInstant().nullable(),
    }),
    business_hours: z
      .object({
        open_now: z.boolean(),
        next_opening: isoInstant().openapi({ description: 'Agora, se aberto; senão a próxima abertura.' }),
      })
      .nullable()
      .openapi({ description: 'null quando o tenant não tem horário comercial cadastrado.' }),
  })
  .openapi('MeResponse');

export type MeResponse = z.infer<typeof meResponseSchema>;

export const statsQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Padrão: 24 h antes de `to`.' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Padrão: agora.' }),
  bucket: z.enum(['hour', 'day']).default('hour').openapi({
    description: '`hour`: horas UTC inteiras; `day`: dias no fuso do tenant.',
  }),
});

const figureFields = Object.fromEntries(FIGURES.map((f) => [f, counter()])) as Record<
  (typeof FIGURES)[number],
  ReturnType<typeof counter>
>;

export const statsResponseSchema = z
  .object({
    success: z.literal(true),
    from: isoInstant(),
    to: isoInstant(),
    bucket: z.enum(['hour', 'day']),
    totals: z.object({ ...figureFields, failure_rate: z.number().min(0).max(1) }),
    buckets: z.array(
      z.object({
        start: isoInstant(),
        end: isoInstant(),
        ...figureFields,
        failure_rate: z
          .number()
          .min(0)
          .max(1)
          .openapi({ description: 'failed / (sent + failed); 0 sem envios.' }),
      }),
    ),
  })
  .openapi('StatsResponse', {
    description:
      'Quantos contatos foram enviados, entregues, lidos, responderam, falharam, pararam sem confirmação ' +
      'e quantos telefones pediram opt-out, em cada hora ou dia do período (no máximo 31 dias). Cada ' +
      'evento conta na hora em que aconteceu (um contato enviado e depois com falha conta nos dois). ' +
      'Os números vêm de contadores por hora, guardados por 400 dias; os envios de uma fila em ' +
      'andamento aparecem a cada 30 s, no máximo.',
  });

/** An instance's warm-up ramp as GET /instances shows it (null: no ramp, an old number). */
const warmupSchema = z
  .object({
    enabled: z.literal(true),
    start_date: z.string().openapi({ description: 'Dia 1 do aquecimento (aaaa-mm-dd, fuso do tenant).' }),
    first_day_limit: z.number().int().openapi({ example: 30 }),
    daily_growth: z.number().openapi({ description: 'Multiplicador diário (2 = dobra a cada dia).' }),
    day: z.number().int().min(1).openapi({ description: 'Dia do aquecimento hoje (1 = o primeiro).' }),
    daily_cap: counter().nullable().openapi({
      description: 'Limite de hoje; null quando o aquecimento acabou (o ritmo do tenant é o limite).',
    }),
    sent_today: counter().openapi({ description: 'Envios de hoje contados no limite do aquecimento.' }),
    complete: z
      .boolean()
      .openapi({ description: 'A rampa já passou do que o ritmo do tenant envia num dia.' }),
  })
  .nullable()
  .openapi('InstanceWarmup', {
    description:
      'Aquecimento de um número novo: no máximo `first_day_limit` mensagens no primeiro dia, ' +
      '`daily_growth` vezes mais a cada dia, até o ritmo do tenant ser o limite. null: sem aquecimento.',
  });

export const instancesResponseSchema = z
  .object({
    success: z.literal(true),
    instances: z.array(
      z.object({
        id: z.string(),
        instance_name: z.string(),
        is_active: z.boolean(),
        connection_state: z.enum(['open', 'connecting', 'close', 'unknown']),
        messages_per_minute: z
          .number()
          .openapi({ description: 'Ritmo do tenant: mensagens por minuto, no máximo (sem o jitter).' }),
        messages_today: counter().openapi({ description: 'Enviadas hoje, no fuso do tenant.' }),
        last_error: z
          .object({ message: z.string(), at: isoInstant() })
          .nullable()
          .openapi({ description: 'O último erro de envio de hoje.' }),
        warmup: warmupSchema,
      }),
    ),
  })
  .openapi('InstancesResponse', { description: 'Nunca inclui a credencial da instância.' });

export const contactParamsSchema = z.object({
  queue_id: z.uuid().openapi({ example: '660e8400-e29b-41d4-a716-446655440000' }),
  index: z.coerce.number().int().min(0).max(100_000).openapi({ description: 'Posição do contato no lote.' }),
});

export const contactDetailResponseSchema = z
  .object({
    success: z.literal(true),
    queue_id: z.uuid(),
    contact: queueContactSchema,
    variables: z.record(z.string(), z.union([z.string(), z.number()])).openapi({
      description: 'As variáveis do template, enviadas e calculadas (valor, data_vencimento, ...).',
    }),
    timeline: z
      .array(z.object({ step: z.enum(TIMELINE_STEPS), at: isoInstant() }))
      .openapi({ description: 'O que aconteceu com a mensagem, em ordem.' }),
    conversation: z
      .array(
        z.object({
          direction: z.enum(['outbound', 'inbound']),
          text: z.string(),
          at: isoInstant(),
          queue_id: z.string().nullable(),
          intent: z
            .enum(['opt_out', 'paid_claim', 'promise_to_pay', 'dispute', 'other'])
            .nullable()
            .openapi({ description: 'Intenção de uma resposta (null nas mensagens enviadas).' }),
        }),
      )
      .openapi({ description: 'Mensagens com este telefone, mais antigas primeiro (até 200).' }),
  })
  .openapi('ContactDetailResponse');

export type StatsResponse = z.infer<typeof statsResponseSchema>;
export type InstancesResponse = z.infer<typeof instancesResponseSchema>;
export type ContactDetailResponse = z.infer<typeof contactDetailResponseSchema>;
