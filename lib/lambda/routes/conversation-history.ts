import type { RouteFactory } from '../../composition.ts';
import { deriveConversations } from '../../domain/conversation.ts';
import { DomainError } from '../../domain/errors.ts';
import { normalizePhone } from '../../domain/phone.ts';
import { type ConversationsResponse, phoneParamsSchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';

const HISTORY_LIMIT = 200;

/** GET /api/v1/billing/conversations/{telefone}: the tenant's conversation history with one phone. */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const params = validate(phoneParamsSchema, request.pathParameters);
    // Any valid number can be looked up, landline or not: it is a read.
    const phone = params.ok ? normalizePhone(params.value.telefone, { allowLandlines: true }) : undefined;
    if (!phone?.ok) throw new DomainError('INVALID_PHONE', { value: request.pathParameters.telefone ?? '' });
    const messages = await c.store.listMessages(auth.tenant.id, phone.value.e164, HISTORY_LIMIT);
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
  });
