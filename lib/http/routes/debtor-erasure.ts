import { type EraseDebtorDeps, eraseDebtor } from '../../app/erase-debtor.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { debtorErasureResponseSchema } from '../schemas/debtors.ts';
import { debtorErasureView } from '../views.ts';
import { PHONE_PARAMS } from './path-parameters.ts';

type DebtorErasureDeps = AuthDeps & EraseDebtorDeps;

/** DELETE /api/v1/billing/debtors/{telefone}: erases a debtor's personal data across the tenant (LGPD). */
export const debtorErasureRoute: HttpRoute<DebtorErasureDeps> = {
  name: 'debtor-erasure',
  operations: [
    defineOperation({
      method: 'DELETE',
      path: '/api/v1/billing/debtors/{telefone}',
      auth: 'apiKey',
      // A write that changes queues and the suppression list, as control and opt-outs do.
      scope: 'control',
      request: { params: PHONE_PARAMS },
      responses: { 200: { description: 'O que foi apagado.', schema: debtorErasureResponseSchema } },
      errors: ['INVALID_PHONE', 'PHONE_MISSING_AREA_CODE'],
      openapi: {
        operationId: 'debtor_erase',
        tags: ['LGPD'],
        summary: 'Apaga os dados pessoais de um devedor (LGPD)',
        description:
          'Em todas as filas do tenant (qualquer status e tipo), os contatos deste telefone ficam com nome, telefone, ' +
          'variáveis e texto trocados por `[apagado LGPD]` (contadores, status e horários ficam); os ainda não ' +
          'enviados são cancelados (motivo `erased`). As mensagens da conversa são excluídas, eventos de callback e ' +
          'respostas de campanha perdem telefone, nome e textos, e um opt-out vira um resumo com sal do telefone: ' +
          'o número continua bloqueado. Fica um registro de auditoria sem dados pessoais. Idempotente. Um tenant ' +
          'com muito histórico pode ter mais filas do que uma requisição tem tempo de percorrer: a resposta vem ' +
          'então com `complete: false`, e cada repetição continua de onde a anterior parou.',
      },
      handler: async (c: DebtorErasureDeps, { auth, params }) => ({
        statusCode: 200,
        body: debtorErasureView(
          await eraseDebtor(c, auth.tenant, params.telefone, `api_key:${auth.apiKey.id}`),
        ),
      }),
    }),
  ],
};
