import { sendBillingRoute } from './send-billing.ts';

/** POST /api/v1/billing/send/upcoming */
export const sendUpcomingRoute = sendBillingRoute({
  templateType: 'upcoming',
  summary: 'Envia cobrança a vencer',
  description:
    'Cria uma campanha de lembrete de vencimento (`data_vencimento` hoje ou no futuro), respeitando o horário comercial. ' +
    'Variáveis calculadas: `dias_para_vencer`, `status_vencimento`.',
  example: {
    external_id: 'fatura-67891',
    contacts: [
      {
        nome_cliente: 'Maria Souza',
        telefone: '11988887777',
        valor: 'R$ 89,90',
        data_vencimento: '2025-12-20',
        link_pagamento: 'https://pay.meu-erp.com/invoice/67891',
      },
    ],
  },
});
