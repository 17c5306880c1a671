import type { ConversationMessage, MessageRecord, TemplateType } from '../../domain/types.ts';

/** The conversation history: every message sent or received, by phone and by the gateway's id. */
export interface ConversationStore {
  /**
   * Stores a message of the conversation history unless one is already stored under its (tenant,
   * instance, id): the first write wins, so a replayed or forged webhook never replaces a record.
   * False when one was (a replay: not an error). The message expires at `expiresAt` (retention).
   */
  recordMessage(message: ConversationMessage, expiresAt: string): Promise<boolean>;
  /**
   * The history of (tenant, phone), newest first, with each message's text (a send's is its
   * contact's rendered message, read from the contact); expired messages are not in it.
   */
  listMessages(tenantId: string, phone: string, limit: number): Promise<ConversationMessage[]>;
  /** `listMessages` without the texts: one read of the history (what reply matching needs). */
  listMessageRecords(tenantId: string, phone: string, limit: number): Promise<MessageRecord[]>;
  /**
   * When (tenant, phone) was sent billing messages of `templateTypes` at or after `since` (outbound
   * only), newest first: what the per-debtor frequency cap counts. Read from the history's index,
   * so a send of the last moments may be missing (the caller remembers its own).
   */
  listRemindersSince(
    tenantId: string,
    phone: string,
    since: string,
    templateTypes: readonly TemplateType[],
  ): Promise<string[]>;
  /**
   * A tenant's message by the gateway's id on one of its instances (webhook receipts and replies find
   * their contact by it); never another tenant's, even where instance ids coincide; undefined once
   * it has expired.
   */
  getMessage(tenantId: string, instanceId: string, messageId: string): Promise<MessageRecord | undefined>;
}
