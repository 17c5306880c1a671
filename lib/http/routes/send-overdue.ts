import { sendBillingRoute } from './send-billing.ts';

/** The guide's "Exemplo 1" request body, verbatim. */
export const GUIDE_EXAMPLE_1 = {
  external_id: 'fatura-67890',
  callback_url: 'https://meu-erp.com/webhooks/billing',
  contacts: [
    {
      nome_cliente: 'João Silva',
      telefone: '+5511999999999',
      valor: 'R$ 150,00',
      data_vencimento: '10/12/2025',
      valor_total: 'R$ 165,00',
      codigo_pix: '00020126580014br.gov.bcb.pix...',
      link_pagamento: 'https://pay.meu-erp.com/invoice/67890',
      numero_fatura: '2025-67890',
    },
  ],
  metadata: { cliente_id: '12345', empresa: 'Empresa XYZ' },
};

/** POST /api/v1/billing/send/overdue */
export const sendOverdueRoute = sendBillingRoute({
  templateType: 'overdue',
  summary: 'Envia cobrança atrasada',
  description:
    'Cria uma campanha de cobrança atrasada (`data_vencimento` no passado) e enfileira o envio, respeitando o horário comercial do tenant. ' +
    'Variáveis calculadas: `dias_atraso`, `status_vencimento`.',
  example: GUIDE_EXAMPLE_1,
});
