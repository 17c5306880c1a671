import type { ContactInput } from '../domain/contact-intake.ts';
import { erasedPhoneDigest } from '../domain/debtor-erasure.ts';
import { DomainError } from '../domain/errors.ts';
import { normalizePhone } from '../domain/phone.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import type { OptOut } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { CounterStore, FeedbackStore, Store } from '../ports/store.ts';
import { countTenantFigures } from './tenant-figures.ts';

/** Longest reason kept with an opt-out (a reply can be long; the list only needs a hint). */
export const MAX_OPT_OUT_REASON = 500;

/**
 * The E.164 spellings one Brazilian mobile may have: WhatsApp (and Evolution) drop the 9th digit for
 * some DDDs, so a reply's JID can lack it while our contact has it, or the other way round.
 * Other numbers have one spelling.
 */
export const phoneSpellings = (e164: string): string[] => {
  const withNine = /^\+55(\d{2})9(\d{8})$/.exec(e164);
  if (withNine) return [e164, `+55${withNine[1]}${withNine[2]}`];
  const withoutNine = /^\+55(\d{2})([6-9]\d{7})$/.exec(e164);
  if (withoutNine) return [e164, `+55${withoutNine[1]}9${withoutNine[2]}`];
  return [e164];
};

/**
 * Which of these E.164 phones opted out: stored as the phone, or, once a debtor's data was erased
 * (LGPD), as the salted digest of it under the tenant's erasure salt, so the suppression outlives the
 * number. With a salt every phone is looked up under both keys, in the same BatchGetItem calls.
 */
export const optedOutAmong = async (
  store: Pick<FeedbackStore, 'findOptedOut'>,
  tenantId: string,
  erasureSalt: string | undefined,
  phones: readonly string[],
): Promise<Set<string>> => {
  const unique = [...new Set(phones)];
  if (!erasureSalt) return store.findOptedOut(tenantId, unique);
  const phoneOfDigest = new Map(unique.map((phone) => [erasedPhoneDigest(erasureSalt, phone), phone]));
  const found = await store.findOptedOut(tenantId, [...unique, ...phoneOfDigest.keys()]);
  return new Set([...found].map((key) => phoneOfDigest.get(key) ?? key));
};

/**
 * The phones of a batch that opted out, for the Accept path's intake (`optedOut`): every phone that
 * normalizes is checked in BatchGetItem calls of 100; an invalid one is left to the intake's own error.
 */
export const optedOutPhonesOf = async (
  store: Pick<Store, 'findOptedOut' | 'hasOptOuts'>,
  tenantId: string,
  contacts: readonly ContactInput[],
  allowLandlines: boolean,
  erasureSalt: string | undefined,
): Promise<Set<string>> => {
  // Most tenants have nobody on their list: one small consistent read then saves a lookup per 100
  // phones (the sender checks again before each page of sends).
  if (!(await store.hasOptOuts(tenantId))) return new Set();
  const phones: string[] = [];
  for (const contact of contacts) {
    const phone = normalizePhone(String(contact.telefone ?? ''), { allowLandlines });
    if (phone.ok) phones.push(phone.value.e164);
  }
  return phones.length === 0 ? new Set() : optedOutAmong(store, tenantId, erasureSalt, phones);
};

const normalizedOrThrow = (telefone: string): string => {
  // Any valid number may opt out or be looked up, landline or not.
  const phone = normalizePhone(telefone, { allowLandlines: true });
  if (!phone.ok) throw new DomainError('INVALID_PHONE', { value: telefone });
  return phone.value.e164;
};

/**
 * Puts a phone on the tenant's suppression list through the API; an existing entry is kept as it
 * was. A phone put on the list counts in the tenant's figures (`opted_out`).
 */
export const addOptOut = async (
  deps: { store: FeedbackStore & CounterStore; clock: Clock },
  tenantId: string,
  input: { telefone: string; motivo?: string },
): Promise<{ optOut: OptOut; created: boolean }> => {
  const phone = normalizedOrThrow(input.telefone);
  const optOut: OptOut = {
    tenantId,
    phone,
    source: 'api',
    reason: (input.motivo ?? '').slice(0, MAX_OPT_OUT_REASON),
    at: deps.clock.now().toISOString(),
  };
  if ((await deps.store.putOptOut(optOut)) === 'created') {
    await countTenantFigures(deps, tenantId, new Date(optOut.at), { opted_out: 1 });
    return { optOut, created: true };
  }
  const existing = await deps.store.getOptOut(tenantId, phone);
  // Deleted between the put and the read: report what was asked, it is what a retry would store.
  return { optOut: existing ?? optOut, created: false };
};

/**
 * Takes a phone off the tenant's suppression list, also where an erasure kept it as a salted digest
 * (the debtor gives the number back); OPT_OUT_NOT_FOUND when it was on it neither way.
 */
export const removeOptOut = async (
  deps: { store: FeedbackStore },
  tenant: Pick<Tenant, 'id' | 'erasureSalt'>,
  telefone: string,
): Promise<string> => {
  const phone = normalizedOrThrow(telefone);
  const keys = tenant.erasureSalt ? [phone, erasedPhoneDigest(tenant.erasureSalt, phone)] : [phone];
  const removed = await Promise.all(keys.map((key) => deps.store.deleteOptOut(tenant.id, key)));
  if (!removed.includes(true)) throw new DomainError('OPT_OUT_NOT_FOUND');
  return phone;
};
