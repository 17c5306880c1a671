import { createHmac } from 'node:crypto';
import type { BillingContact } from './types.ts';

/**
 * LGPD erasure of a debtor (art. 18, VI: the data subject may ask for the deletion of their
 * personal data). What stays after it is what the tenant still needs without knowing who it was:
 * counters, statuses and times, and a salted digest of the phone so a suppression (opt-out) keeps
 * working. The digest is pseudonymous, not anonymous: phone numbers are few enough to be tried one
 * by one by whoever holds the salt, which is why the salt is the tenant's own and never shown.
 */

/** What replaces a name, a phone, a variable or a text of an erased debtor. */
export const ERASED_MARKER = '[apagado LGPD]';

/** How a digest that stands for an erased phone starts (where an E.164 `+...` is otherwise). */
export const ERASED_PHONE_PREFIX = 'lgpd:';

/**
 * The salted digest that stands for an erased phone: `lgpd:<hex HMAC-SHA256(salt, e164)>`. The same
 * phone and salt always give the same digest, so an opt-out kept this way is found at the next batch.
 */
export const erasedPhoneDigest = (salt: string, e164: string): string =>
  `${ERASED_PHONE_PREFIX}${createHmac('sha256', salt).update(e164).digest('hex')}`;

/** Whether a stored phone is an erased phone's digest rather than a number. */
export const isErasedPhoneDigest = (phone: string): boolean => phone.startsWith(ERASED_PHONE_PREFIX);

/**
 * The contact fields that hold personal data, as erasure leaves them: every text replaced by the
 * marker, each variable's value too (its name stays: it is the template's, not the debtor's), the
 * gateway's JID (it spells the phone) gone. The invoice number is the ERP's own reference, kept so
 * the ERP can still reconcile; counters, statuses and times stay as they were.
 */
export const erasedContactFields = (
  contact: Pick<BillingContact, 'variables' | 'lastError'>,
  at: string,
): Pick<BillingContact, 'name' | 'phone' | 'variables' | 'renderedMessage' | 'lastError' | 'erasedAt'> => ({
  name: ERASED_MARKER,
  phone: ERASED_MARKER,
  variables: Object.fromEntries(Object.keys(contact.variables ?? {}).map((name) => [name, ERASED_MARKER])),
  renderedMessage: ERASED_MARKER,
  // A gateway's refusal can quote the number it refused.
  lastError: contact.lastError === null || contact.lastError === undefined ? null : ERASED_MARKER,
  erasedAt: at,
});

/** How many items of each kind one erasure changed (the answer and the audit event). */
export interface DebtorErasureCounts {
  /** Contacts whose name, phone, variables and text were replaced by the marker (any queue, any status). */
  contacts: number;
  /** Of those, contacts that had not been sent yet and were cancelled (reason `erased`). */
  contactsCancelled: number;
  /** Conversation messages (sent reminders and replies) deleted. */
  messages: number;
  /** Callback events whose contact, reply or error text were replaced by the marker. */
  callbackEvents: number;
  /** Opt-outs replaced by the salted digest of the phone (suppression kept). */
  optOuts: number;
  /** Refused contacts in stored campaign answers whose phone was replaced by the marker. */
  campaignRejections: number;
}

export const NO_ERASURE: DebtorErasureCounts = {
  contacts: 0,
  contactsCancelled: 0,
  messages: 0,
  callbackEvents: 0,
  optOuts: 0,
  campaignRejections: 0,
};

/** The counts of two parts of one erasure (its requests), added up. */
export const addErasureCounts = (a: DebtorErasureCounts, b: DebtorErasureCounts): DebtorErasureCounts => ({
  contacts: a.contacts + b.contacts,
  contactsCancelled: a.contactsCancelled + b.contactsCancelled,
  messages: a.messages + b.messages,
  callbackEvents: a.callbackEvents + b.callbackEvents,
  optOuts: a.optOuts + b.optOuts,
  campaignRejections: a.campaignRejections + b.campaignRejections,
});
