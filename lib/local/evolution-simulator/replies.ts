import { randomBytes } from 'node:crypto';
import { SimulatorControlError } from './control-error.ts';
import { requireInstance } from './instances.ts';
import { brazilianJidUser, lidOf, phoneJid } from './jids.ts';
import type { SimulatorState } from './state.ts';
import type { SimReplyInput } from './types.ts';
import { emit } from './webhooks.ts';

/** Ids of messages typed on phones look different from ours (`3A...`, 20 hex digits). */
const newIncomingId = (): string => `3A${randomBytes(9).toString('hex').toUpperCase()}`;

/**
 * Posts a debtor's reply as `messages.upsert` to the last message sent to `number` on the instance;
 * resolves with the reply's id and the final HTTP status of its delivery (null: no webhook, or it
 * never got through).
 */
export const reply = async (
  sim: SimulatorState,
  input: SimReplyInput,
): Promise<{ id: string; status: number | null }> => {
  const record = requireInstance(sim, input.instance);
  if (typeof input.number !== 'string' || !/^\d+$/.test(input.number))
    throw new SimulatorControlError(400, 'number must be a digit string');
  if (typeof input.text !== 'string') throw new SimulatorControlError(400, 'text must be a string');
  const user = brazilianJidUser(input.number);
  const last = [...sim.log]
    .reverse()
    .find((m) => m.instance === record.name && brazilianJidUser(m.number) === user);
  if (input.quote && !last)
    throw new SimulatorControlError(400, `nothing was sent to ${input.number} to quote`);
  const jid = last?.remoteJid ?? phoneJid(input.number);
  const id = input.id ?? newIncomingId();
  const key = input.lid
    ? { remoteJid: `${lidOf(user)}@lid`, fromMe: false, id, remoteJidAlt: jid }
    : { remoteJid: jid, fromMe: false, id };
  const status = await emit(sim, record, 'messages.upsert', {
    key,
    pushName: 'Cliente',
    status: 'DELIVERY_ACK',
    message: { conversation: input.text },
    messageType: 'conversation',
    messageTimestamp: Math.floor(sim.now() / 1000),
    instanceId: record.instanceId,
    source: 'android',
    ...(input.quote && last
      ? { contextInfo: { stanzaId: last.id, participant: jid, quotedMessage: { conversation: last.text } } }
      : {}),
  });
  return { id, status };
};
