import { type RecordPaymentsDeps, recordPayments } from '../../app/record-payments.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { type PaymentsResponse, paymentsRequestSchema, paymentsResponseSchema } from '../schemas/debtors.ts';

type PaymentsDeps = AuthDeps & RecordPaymentsDeps;

/** POST /api/v1/billing/payments: invoices paid, so their reminders not sent yet stop. */
export const paymentsRoute: HttpRoute<PaymentsDeps> = {
  name: 'payments',
  operations: [
    defineOperation({
      method: 'POST',
      path: '/api/v1/billing/payments',
      auth: 'apiKey',
      // It stops reminders, as cancelling a queue does.
      scope: 'control',
      request: {
        body: {
          schema: paymentsRequestSchema,
          example: { numero_fatura: '2025-67890', telefone: '+5511999999999' },
        },
      },
      responses: { 200: { description: 'Pagamentos registrados.', schema: paymentsResponseSchema } },
      errors: ['INVALID_PHONE'],
      openapi: {
        operationId: 'payments_record',
        tags: ['Pagamentos'],
        summary: 'Registra faturas pagas: os lembretes ainda não enviados são cancelados',
        description:
          'Cada lembrete da fatura (do telefone, quando informado) ainda não enviado (`pending`, `retry`) nas filas ' +
          'abertas (pendente, agendada, rodando, pausada, instância fora do ar) passa a `cancelled` com motivo `paid`, ' +
          'e o ERP recebe o callback `cancelled`. Um envio já iniciado nunca é desfeito: a resposta conta os já ' +
          'enviados e os em envio. Uma fila sem mais nada a enviar é concluída. Idempotente.',
      },
      handler: async (c: PaymentsDeps, { auth, body }) => {
        const payments = await recordPayments(
          c,
          auth.tenant,
          Array.isArray(body) ? body : [body],
          auth.apiKey.allowedTemplateTypes,
        );
        const total = (field: 'cancelled' | 'already_sent' | 'being_sent') =>
          payments.reduce((sum, p) => sum + p[field], 0);
        const answer: PaymentsResponse = {
          success: true,
          message: `Pagamento registrado: ${total('cancelled')} lembrete(s) cancelado(s)`,
          cancelled: total('cancelled'),
          already_sent: total('already_sent'),
          being_sent: total('being_sent'),
          payments,
        };
        return { statusCode: 200, body: answer };
      },
    }),
  ],
};
