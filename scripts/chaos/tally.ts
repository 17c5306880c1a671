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

/** Events chaos asks every batch to call back with: one per contact outcome, one per queue. */
export const CHAOS_CALLBACK_EVENTS = ['sent', 'failed', 'unknown', 'queue.completed'] as const;
/** With `--receipts` (the gateway acknowledges every send through the webhook): the receipts' events too. */
export const CHAOS_RECEIPT_EVENTS = ['delivered', 'read'] as const;

/** One event as the ERP's endpoint received it (copies: how many signed posts carried its id). */
export interface ReceivedCallback {
  eventId: string;
  event: string;
  queueId: string;
  /** Digits of the contact's phone; null for queue events. */
  phone: string | null;
  copies: number;
}

/** An event the service owed the ERP and never posted. */
export interface MissingCallback {
  event: string;
  queueId: string;
  phone: string | null;
}

export interface CallbackTally {
  /** Events owed: each contact's outcome (sent, failed, unknown) and each completed queue's. */
  expected: number;
  /** Of those, the ones received. */
  received: number;
  missing: MissingCallback[];
  /** Events posted more than once (allowed: at least once, de-duplicated by `event_id`). */
  repeated: number;
  /** Posts whose `X-Billing-Signature` did not verify with the tenant's secret. */
  badSignatures: number;
}

/** The callbacks a contact's final status owes: a read message was sent and delivered first. */
const EVENTS_OWED_BY_STATUS: Readonly<Record<string, readonly string[]>> = {
  sent: ['sent'],
  delivered: ['sent', 'delivered'],
  read: ['sent', 'delivered', 'read'],
  failed: ['failed'],
  unknown: ['unknown'],
};

/**
 * What the ERP got against what it was owed: every contact that ended `sent`, `failed` or `unknown`
 * owes the event of that name (one that ended `delivered` or `read` also the events before it: its
 * `sent` too when a receipt moved it on from `unknown`, which the receipt announces), and
 * every `completed` queue its `queue.completed`, whatever the kills did (a sender that died before
 * announcing an event leaves it to the queue's completion).
 */
export const tallyCallbacks = (input: {
  contacts: readonly ReportedContact[];
  completedQueues: readonly string[];
  received: Iterable<ReceivedCallback>;
  badSignatures: number;
}): CallbackTally => {
  const key = (event: string, queueId: string, phone: string | null) => `${queueId} ${phone ?? '-'} ${event}`;
  const got = new Set<string>();
  let repeated = 0;
  for (const r of input.received) {
    got.add(key(r.event, r.queueId, r.phone));
    if (r.copies > 1) repeated += 1;
  }
  const owed: MissingCallback[] = [
    ...input.contacts.flatMap((c) => {
      const phone = digitsOf(c.telefone);
      return (EVENTS_OWED_BY_STATUS[c.status] ?? []).map((event) => ({ event, queueId: c.queueId, phone }));
    }),
    ...input.completedQueues.map((queueId) => ({ event: 'queue.completed', queueId, phone: null })),
  ];
  const missing = owed.filter((o) => !got.has(key(o.event, o.queueId, o.phone)));
  return {
    expected: owed.length,
    received: owed.length - missing.length,
    missing,
    repeated,
    badSignatures: input.badSignatures,
  };
};

export const describeMissingCallback = (m: MissingCallback): string =>
  `callback missing: ${m.event} of queue ${m.queueId}${m.phone ? ` for +${m.phone}` : ''}`;

/** A queue's receipt counters as its status reports them. */
export interface ReportedReceiptCounters {
  id: string;
  contacts_delivered: number;
  contacts_read: number;
}

/** How far the queues' receipt counters are from their contacts' statuses, summed over the queues. */
export interface CounterDrift {
  queues: number;
  /** Queues whose delivered or read counter differs from its contacts. */
  queuesOff: number;
  /** Counter minus contacts, summed (negative: counted short). */
  delivered: number;
  read: number;
}

/**
 * The delivered and read counters against the contacts: a contact counts as delivered once it
 * reached `delivered` or `read`, as read once it reached `read` (lib/app/apply-receipt.ts). A
 * kill, or a store lost, between a receipt's contact write and its counters' leaves them short until
 * the sweeper's recount (lib/app/receipt-recount.ts); chaos waits for it, and fails a run whose
 * counters still disagree then.
 */
export const tallyCounters = (
  queues: readonly ReportedReceiptCounters[],
  contacts: readonly ReportedContact[],
): CounterDrift => {
  const drift: CounterDrift = { queues: queues.length, queuesOff: 0, delivered: 0, read: 0 };
  for (const queue of queues) {
    const own = contacts.filter((c) => c.queueId === queue.id);
    const read = own.filter((c) => c.status === 'read').length;
    const delivered = read + own.filter((c) => c.status === 'delivered').length;
    const deliveredOff = queue.contacts_delivered - delivered;
    const readOff = queue.contacts_read - read;
    drift.delivered += deliveredOff;
    drift.read += readOff;
    if (deliveredOff !== 0 || readOff !== 0) drift.queuesOff += 1;
  }
  return drift;
};
