import { sendBillingRoute } from './send-billing.ts';

/** POST /api/v1/billing/send/notification */
export const sendNotificationRoute = sendBillingRoute({
  templateType: 'notification',
  summary: 'Envia notificação/aviso',
  description: 'Envia notificação/aviso (24/7, sem respeitar horário comercial). Use `titulo` e `mensagem`.',
  example: {
    external_id: 'aviso-2025-12-manutencao',
    contacts: [
      {
        nome_cliente: 'João Silva',
        telefone: '+5511999999999',
        titulo: 'Manutenção programada',
        mensagem: 'O sistema ficará indisponível no domingo das 2h às 4h.',
      },
    ],
  },
});
