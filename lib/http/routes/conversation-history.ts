import { deriveConversations } from '../../domain/conversation.ts';
import { normalizePhone } from '../../domain/phone.ts';
import type { ConversationStore } from '../../ports/store.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { type ConversationsResponse, conversationsResponseSchema } from '../schemas/conversations.ts';
import { PHONE_PARAMS } from './path-parameters.ts';

type ConversationHistoryDeps = AuthDeps & { store: ConversationStore };

const HISTORY_LIMIT = 200;

/** GET /api/v1/billing/conversations/{telefone}: the tenant's conversation history with one phone. */
export const conversationHistoryRoute: HttpRoute<ConversationHistoryDeps> = {
  name: 'conversation-history',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/conversations/{telefone}',
      auth: 'apiKey',
      scope: 'read',
      request: { params: PHONE_PARAMS },
      responses: { 200: { description: 'As conversas do telefone.', schema: conversationsResponseSchema } },
      errors: ['INVALID_PHONE'],
      openapi: {
        operationId: 'conversation_history',
        tags: ['Conversas'],
        summary: 'Histórico de conversas de um telefone',
        description:
          'Mensagens de cobrança enviadas e respostas recebidas, agrupadas em conversas (como no guia).',
      },
      handler: async (c: ConversationHistoryDeps, { auth, params, request }) => {
        // Any valid number can be looked up, landline or not: it is a read.
        const phone = normalizePhone(params.telefone, { allowLandlines: true });
        if (!phone.ok) throw PHONE_PARAMS.invalid(request);
        // A key limited to some template types sees only messages of those types (and replies).
        const allowed = auth.apiKey.allowedTemplateTypes;
        const messages = (await c.store.listMessages(auth.tenant.id, phone.value.e164, HISTORY_LIMIT)).filter(
          (m) => m.templateType === null || allowed.includes(m.templateType),
        );
        const body: ConversationsResponse = {
          success: true,
          telefone: phone.value.e164,
          conversations: deriveConversations(messages)
            .reverse()
            .map((conv) => ({
              id: conv.id,
              status: conv.status,
              opened_at: conv.openedAt,
              closed_at: conv.closedAt,
              closed_by: conv.closedBy,
              reopened_at: conv.reopenedAt,
              messages: conv.messages.map((m) => ({
                id: m.id,
                direction: m.direction,
                text: m.text,
                at: m.at,
                queue_id: m.queueId,
                external_id: m.externalId,
                template_type: m.templateType,
              })),
            })),
        };
        return { statusCode: 200, body };
      },
    }),
  ],
};
