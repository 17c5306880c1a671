/**
 * The verdict of a chaos run, from two independent sources: what reached "WhatsApp" (the
 * simulator's log of accepted sends, kept in another process, so it survives every kill) and what
 * the service reports per contact. Debtors are told apart by phone: every debtor of a run has
 * their own number.
 */

/** One send the gateway accepted (`GET /_sim/sent`). */
export interface GatewaySend {
  /** Digits, as the gateway got them (`5511980010001`). */
  number: string;
  id: string;
  at: string;
}

/** One contact as the API lists it (`GET /queue/{id}/contacts`). */
export interface ReportedContact {
  queueId: string;
  telefone: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

export interface DebtorFinding {
  /** Digits of the debtor's phone. */
  phone: string;
  /** The ERP batch that carried this debtor (for duplicates of an unknown number: none). */
  externalId: string | undefined;
  contact: ReportedContact | undefined;
  sends: GatewaySend[];
}

export interface Tally {
  /** Debtors the service accepted. */
  accepted: number;
  /** Debtors who got exactly one message. */
  deliveredOnce: number;
  /** Debtors who got more than one message (D). */
  duplicated: DebtorFinding[];
  /** Accepted debtors who got none and whose contact is not `unknown` (L). */
  lost: DebtorFinding[];
  /** Contacts the service counts `unknown` (the send was interrupted; never resent). */
  unknown: number;
}

export const digitsOf = (phone: string): string => phone.replace(/\D/g, '');

/**
 * D and L: a debtor with two or more gateway sends is duplicated; an accepted debtor with none is
 * lost unless the service reports the contact `unknown` (a kill between the claim and the record:
 * the service cannot know whether the message left, and says so).
 */
export const tallyRun = (input: {
  /** Every accepted debtor: phone digits -> the external_id of their batch. */
  accepted: ReadonlyMap<string, string>;
  contacts: readonly ReportedContact[];
  sends: readonly GatewaySend[];
}): Tally => {
  const sendsByPhone = new Map<string, GatewaySend[]>();
  for (const send of input.sends) {
    const phone = digitsOf(send.number);
    sendsByPhone.set(phone, [...(sendsByPhone.get(phone) ?? []), send]);
  }
  const contactByPhone = new Map(input.contacts.map((c) => [digitsOf(c.telefone), c]));
  const finding = (phone: string): DebtorFinding => ({
    phone,
    externalId: input.accepted.get(phone),
    contact: contactByPhone.get(phone),
    sends: sendsByPhone.get(phone) ?? [],
  });

  const duplicated = [...sendsByPhone.entries()].filter(([, s]) => s.length > 1).map(([p]) => finding(p));
  const lost = [...input.accepted.keys()]
    .filter((phone) => !sendsByPhone.has(phone) && contactByPhone.get(phone)?.status !== 'unknown')
    .map(finding);
  return {
    accepted: input.accepted.size,
    deliveredOnce: [...input.accepted.keys()].filter((p) => sendsByPhone.get(p)?.length === 1).length,
    duplicated,
    lost,
    unknown: input.contacts.filter((c) => c.status === 'unknown').length,
  };
};

/** One line per finding, with what an engineer needs to look it up in the stack's log. */
export const describeFinding = (kind: 'duplicated' | 'lost', f: DebtorFinding): string => {
  const contact = f.contact
    ? `queue ${f.contact.queueId}, contact ${f.contact.status}, ${f.contact.attempts} attempt(s)${f.contact.lastError ? `, last error "${f.contact.lastError}"` : ''}`
    : 'not listed by the API';
  const sends = f.sends.length
    ? `sends: ${f.sends.map((s) => `${s.id} at ${s.at}`).join(', ')}`
    : 'no send reached the gateway';
  return `${kind}: +${f.phone} (batch ${f.externalId ?? 'none'}; ${contact}; ${sends})`;
};
