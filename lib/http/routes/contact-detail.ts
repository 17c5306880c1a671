import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import { contactTimeline } from '../../domain/contact-timeline.ts';
import { DomainError } from '../../domain/errors.ts';
import { classifyReply } from '../../domain/reply-intent.ts';
import type { CampaignStore, ConversationStore } from '../../ports/store.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { contactDetailResponseSchema, contactParamsSchema } from '../schemas/overview.ts';
import { contactView } from '../views.ts';

type ContactDetailDeps = AuthDeps & { store: CampaignStore & ConversationStore };

const CONVERSATION_LIMIT = 200;

/** GET /api/v1/billing/queue/{queue_id}/contacts/{index}: one contact, its timeline and its conversation. */
export const contactDetailRoute: HttpRoute<ContactDetailDeps> = {
  name: 'contact-detail',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/queue/{queue_id}/contacts/{index}',
      auth: 'apiKey',
      scope: 'read',
      request: {
        // A malformed id or index is not found, as an unknown one: the answer reveals nothing.
        params: { schema: contactParamsSchema, invalid: () => new DomainError('CONTACT_NOT_FOUND') },
      },
      responses: { 200: { description: 'O contato.', schema: contactDetailResponseSchema } },
      errors: ['QUEUE_NOT_FOUND', 'CONTACT_NOT_FOUND'],
      openapi: {
        operationId: 'contact_detail',
        tags: ['Filas'],
        summary: 'Um contato de uma fila, com a linha do tempo e a conversa',
        description:
          'A mensagem renderizada, quando foi reservada, enviada, entregue, lida e respondida, e a conversa com ' +
          'o telefone, cada resposta com sua intenção (`opt_out`, `paid_claim`, `promise_to_pay`, `dispute`, `other`).',
      },
      handler: async (c: ContactDetailDeps, { auth, params }) => {
        const queue = await getQueueForTenant(c, auth.tenant.id, params.queue_id);
        const contact = await c.store.getContact(queue.id, params.index);
        if (!contact) throw new DomainError('CONTACT_NOT_FOUND');
        const messages = await c.store.listMessages(auth.tenant.id, contact.phone, CONVERSATION_LIMIT);
        return {
          statusCode: 200,
          body: {
            success: true,
            queue_id: queue.id,
            contact: contactView(contact),
            variables: contact.variables,
            timeline: contactTimeline(contact),
            conversation: messages
              .slice()
              .sort((a, b) => a.at.localeCompare(b.at))
              .map((m) => ({
                direction: m.direction,
                text: m.text,
                at: m.at,
                queue_id: m.queueId,
                intent: m.direction === 'inbound' ? classifyReply(m.text).intent : null,
              })),
          },
        };
      },
    }),
  ],
};
