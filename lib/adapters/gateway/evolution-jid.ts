/**
 * WhatsApp addresses (JIDs) as Evolution writes them: `5511999999999@s.whatsapp.net` for a phone
 * (maybe with a device suffix `:12`), `NNN@lid` for a privacy id that hides the phone,
 * `...@g.us` for a group and `...@broadcast` for a broadcast list or status.
 */

/** The phone of a phone JID as E.164; undefined for any other kind of JID. */
export const phoneOfJid = (jid: string): string | undefined => {
  const m = /^(\d{8,15})(?::\d+)?@s\.whatsapp\.net$/.exec(jid);
  return m?.[1] ? `+${m[1]}` : undefined;
};

/** Whether a JID names a group or a broadcast rather than one person. */
export const isGroupOrBroadcastJid = (jid: string): boolean =>
  jid.endsWith('@g.us') || jid.endsWith('@broadcast');
