import type { ConversationMessage } from './types.ts';

/** The guide's window: a conversation closed less than this long ago is reopened, not replaced. */
export const REOPEN_WINDOW_MS = 24 * 3_600_000;

export interface Conversation {
  /** The id of its first message. */
  id: string;
  status: 'open' | 'closed';
  openedAt: string;
  closedAt: string | null;
  closedBy: 'system' | null;
  /** The last time a closed conversation was reopened (a send or a reply within 24 h). */
  reopenedAt: string | null;
  messages: ConversationMessage[];
}

/**
 * Conversations of one (tenant, phone), derived from its message log, oldest first. As in the
 * guide's BillingSendService: every billing send lands in the conversation, which is then closed
 * by the system; a message less than 24 h after the close reopens it; later ones start a new one.
 * A reply (inbound) leaves the conversation open.
 */
export const deriveConversations = (messages: readonly ConversationMessage[]): Conversation[] => {
  const ordered = [...messages].sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  const conversations: Conversation[] = [];
  let current: Conversation | undefined;
  for (const message of ordered) {
    const at = new Date(message.at).getTime();
    const continues =
      current !== undefined &&
      (current.status === 'open' ||
        (current.closedAt !== null && at - new Date(current.closedAt).getTime() < REOPEN_WINDOW_MS));
    if (!current || !continues) {
      current = {
        id: message.id,
        status: 'open',
        openedAt: message.at,
        closedAt: null,
        closedBy: null,
        reopenedAt: null,
        messages: [],
      };
      conversations.push(current);
    } else if (current.status === 'closed') {
      current.status = 'open';
      current.reopenedAt = message.at;
    }
    current.messages.push(message);
    if (message.direction === 'outbound') {
      current.status = 'closed';
      current.closedAt = message.at;
      current.closedBy = 'system';
    }
  }
  return conversations;
};
