import { z } from 'zod';
import { TEMPLATE_TYPES } from '../../domain/types.ts';
import { isoInstant } from './common.ts';

/** The conversations resource: billing messages and replies with one phone, grouped in conversations. */

const conversationMessageSchema = z.object({
  id: z.string().openapi({ description: 'Id da mensagem no gateway (key.id).' }),
  direction: z.enum(['outbound', 'inbound']),
  text: z.string(),
  at: isoInstant(),
  queue_id: z.string().nullable(),
  external_id: z.string().nullable(),
  template_type: z.enum(TEMPLATE_TYPES).nullable(),
});

export const conversationsResponseSchema = z
  .object({
    success: z.literal(true),
    telefone: z.string().openapi({ description: 'E.164.' }),
    conversations: z.array(
      z.object({
        id: z.string(),
        status: z.enum(['open', 'closed']),
        opened_at: isoInstant(),
        closed_at: isoInstant().nullable(),
        closed_by: z.enum(['system']).nullable(),
        reopened_at: isoInstant().nullable(),
        messages: z.array(conversationMessageSchema),
      }),
    ),
  })
  .openapi('ConversationsResponse', {
    description:
      'Conversas mais recentes primeiro; cada envio de cobrança fecha a conversa, e uma mensagem menos de 24 h depois a reabre.',
  });

export type ConversationsResponse = z.infer<typeof conversationsResponseSchema>;
