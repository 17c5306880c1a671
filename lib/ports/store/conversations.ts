import type { ConversationMessage } from '../../domain/types.ts';

/** The conversation history: every message sent or received, by phone and by the gateway's id. */
export interface ConversationStore {
  /** Stores a message of the conversation history (idempotent by instance + id). */
  recordMessage(message: ConversationMessage): Promise<void>;
  /** The history of (tenant, phone), newest first. */
  listMessages(tenantId: string, phone: string, limit: number): Promise<ConversationMessage[]>;
  /** A message by the gateway's id on an instance (webhook receipts and replies find their contact by it). */
  getMessage(instanceId: string, messageId: string): Promise<ConversationMessage | undefined>;
}
