import { z } from 'zod';
import { counter } from './common.ts';

/** The debtors resource: payments that stop reminders, and the LGPD erasure of a debtor's data. */

export const MAX_PAYMENTS = 1000;

export const paymentNoticeSchema = z
  .object({
    numero_fatura: z.string().trim().min(1).max(100).openapi({
      description: 'A fatura paga, como enviada em `contacts[].numero_fatura`.',
      example: '2025-67890',
    }),
    telefone: z.string().trim().min(1).max(30).optional().openapi({
      description: 'Só os lembretes deste telefone (qualquer grafia); sem ele, os de todos os telefones.',
      example: '+5511999999999',
    }),
  })
  .openapi('PaymentNotice');

export const paymentsRequestSchema = z
  .union([paymentNoticeSchema, z.array(paymentNoticeSchema).min(1).max(MAX_PAYMENTS)])
  .openapi('PaymentsRequest', {
    description: `Um pagamento, ou uma lista de até ${MAX_PAYMENTS}.`,
  });

export type PaymentsRequest = z.infer<typeof paymentsRequestSchema>;

const paymentCounts = {
  cancelled: counter().openapi({
    description: 'Lembretes ainda não enviados, agora `cancelled` (motivo `paid`).',
  }),
  already_sent: counter().openapi({
    description: 'Lembretes já enviados (`sent`, `delivered`, `read`, ou `unknown`: talvez enviados).',
  }),
  being_sent: counter().openapi({
    description: 'Lembretes sendo enviados naquele instante (`sending`): um envio em curso nunca é desfeito.',
  }),
};

const paymentOutcomeSchema = z
  .object({
    numero_fatura: z.string(),
    telefone: z
      .string()
      .nullable()
      .openapi({ description: 'E.164; null quando o pagamento não o informou.' }),
    ...paymentCounts,
    queue_ids: z.array(z.uuid()).openapi({ description: 'Filas abertas que tinham lembretes desta fatura.' }),
  })
  .openapi('PaymentOutcome');

export const paymentsResponseSchema = z
  .object({
    success: z.literal(true),
    message: z.string().openapi({ example: 'Pagamento registrado: 2 lembrete(s) cancelado(s)' }),
    ...paymentCounts,
    payments: z
      .array(paymentOutcomeSchema)
      .openapi({ description: 'Um item por pagamento, na ordem enviada.' }),
  })
  .openapi('PaymentsResponse');

export type PaymentsResponse = z.infer<typeof paymentsResponseSchema>;

export const debtorErasureResponseSchema = z
  .object({
    success: z.literal(true),
    message: z.string().openapi({ example: 'Dados pessoais do devedor apagados' }),
    erasure_id: z.uuid().openapi({
      description:
        'O registro de auditoria desta exclusão (sem dados pessoais); o mesmo em cada repetição até ela terminar.',
    }),
    complete: z.boolean().openapi({
      description:
        '`false` enquanto a exclusão não terminou: o tempo da requisição acabou antes de percorrer todas as ' +
        'filas (um tenant com muito histórico), algum lembrete estava sendo enviado (`in_flight`), ou outra ' +
        'requisição está apagando este telefone agora. Repita a mesma requisição até `true`: cada uma continua ' +
        'de onde a anterior parou.',
    }),
    in_flight: counter().openapi({
      description: 'Contatos sendo enviados naquele instante, deixados como estavam.',
    }),
    queues_checked: counter().openapi({
      description: 'Filas percorridas até agora por esta exclusão, somadas as repetições.',
    }),
    erased: z
      .object({
        contacts: counter().openapi({
          description:
            'Contatos (qualquer fila e status) com nome, telefone, variáveis e texto trocados por `[apagado LGPD]`.',
        }),
        contacts_cancelled: counter().openapi({
          description: 'Destes, os ainda não enviados, agora `cancelled` (motivo `erased`).',
        }),
        messages: counter().openapi({
          description: 'Mensagens da conversa (enviadas e respostas) excluídas.',
        }),
        callback_events: counter().openapi({
          description: 'Eventos de callback com telefone, nome e textos trocados pelo marcador.',
        }),
        opt_outs: counter().openapi({
          description: 'Opt-outs trocados por um resumo com sal do telefone: o telefone continua bloqueado.',
        }),
        campaign_rejections: counter().openapi({
          description:
            'Contatos recusados em respostas de campanha guardadas, com o telefone trocado pelo marcador.',
        }),
      })
      .openapi('DebtorErasureCounts', {
        description: 'Totais da exclusão até agora, somadas as repetições.',
      }),
  })
  .openapi('DebtorErasureResponse');

export type DebtorErasureResponse = z.infer<typeof debtorErasureResponseSchema>;
