import { describe, expect, it } from 'vitest';
import { deriveConversations } from '../../lib/domain/conversation.ts';
import type { ConversationMessage } from '../../lib/domain/types.ts';

const msg = (
  id: string,
  at: string,
  direction: 'outbound' | 'inbound' = 'outbound',
): ConversationMessage => ({
  id,
  tenantId: 't',
  phone: '+5511999999999',
  instanceId: 'i',
  direction,
  text: id,
  at,
  queueId: null,
  contactPosition: null,
  campaignId: null,
  externalId: null,
  templateType: null,
});

describe('deriveConversations', () => {
  it('closes the conversation after a billing send', () => {
    const [only] = deriveConversations([msg('a', '2026-12-01T12:00:00Z')]);

    expect(only).toMatchObject({
      id: 'a',
      status: 'closed',
      closedBy: 'system',
      closedAt: '2026-12-01T12:00:00Z',
    });
  });

  it('reopens a conversation closed less than 24 h before the next send', () => {
    const conversations = deriveConversations([
      msg('a', '2026-12-01T12:00:00Z'),
      msg('b', '2026-12-02T11:59:59Z'),
    ]);

    expect(conversations).toHaveLength(1);
    expect(conversations[0]).toMatchObject({ status: 'closed', reopenedAt: '2026-12-02T11:59:59Z' });
    expect(conversations[0]?.messages.map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('starts a new conversation 24 h or more after the close', () => {
    const conversations = deriveConversations([
      msg('a', '2026-12-01T12:00:00Z'),
      msg('b', '2026-12-02T12:00:00Z'),
    ]);

    expect(conversations.map((c) => c.id)).toEqual(['a', 'b']);
    expect(conversations[1]?.reopenedAt).toBeNull();
  });

  it('leaves the conversation open after a reply and keeps order whatever the input order', () => {
    const conversations = deriveConversations([
      msg('r', '2026-12-01T13:00:00Z', 'inbound'),
      msg('a', '2026-12-01T12:00:00Z'),
    ]);

    expect(conversations).toHaveLength(1);
    expect(conversations[0]).toMatchObject({ status: 'open', reopenedAt: '2026-12-01T13:00:00Z' });
    expect(conversations[0]?.messages.map((m) => m.id)).toEqual(['a', 'r']);
  });
});
