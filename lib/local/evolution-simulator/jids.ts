import { createHash } from 'node:crypto';

/**
 * The user part of the JID Evolution builds for a number (its `createJid`/`formatBRNumber`):
 * for 55 + DDD >= 31 + one digit + 8 digits starting at 7 or more, the extra digit is dropped.
 */
export const brazilianJidUser = (digits: string): string => {
  const m = /^(55)(\d{2})\d(\d{8})$/.exec(digits);
  if (!m?.[2] || !m[3]) return digits;
  const ddd = Number(m[2]);
  const next = Number(m[3][0]);
  return ddd >= 31 && next >= 7 ? `55${m[2]}${m[3]}` : digits;
};

/** The phone JID WhatsApp resolves a number to (`key.remoteJid` of a send, `jid` of a lookup). */
export const phoneJid = (digits: string): string => `${brazilianJidUser(digits)}@s.whatsapp.net`;

/** A stable fake WhatsApp LID (the privacy id newer clients send instead of the phone) for a JID user. */
export const lidOf = (jidUser: string): string =>
  `${BigInt(`0x${createHash('sha256').update(jidUser).digest('hex').slice(0, 12)}`) % 10n ** 14n}`.padStart(
    15,
    '1',
  );
