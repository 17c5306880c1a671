import { describe, expect, it } from 'vitest';
import { SendableContacts } from '../../lib/app/sendable-contacts.ts';
import { erasedPhoneDigest } from '../../lib/domain/debtor-erasure.ts';
import { OPT_OUT_FRESH_MS } from '../../lib/domain/opt-out-recheck.ts';
import type { BillingContact, OptOut } from '../../lib/domain/types.ts';
import type { Store } from '../../lib/ports/store.ts';
import { contacts, pumpWorld } from '../support/pump-world.ts';

const PHONES = contacts(5).map((c) => c.telefone);

const optOut = (phone: string): OptOut => ({
  tenantId: 'acme',
  phone,
  source: 'api',
  reason: '',
  at: '2026-03-02T13:00:00.000Z',
});

/**
 * The pump world's queue of 5 contacts (acme) seen through SendableContacts, over a store that
 * counts the stamp readings and the phone lookups; `salt` is the erasure salt the run knows.
 */
const world = async () => {
  const w = await pumpWorld();
  const { store: base, clock } = w.base;
  const counts = { stampReads: 0, lookups: [] as string[][] };
  let failLookups = 0;
  const store: Store = {
    ...base,
    optOutStamp: async (tenantId) => {
      counts.stampReads += 1;
      return base.optOutStamp(tenantId);
    },
    findOptedOut: async (tenantId, phones) => {
      if (failLookups > 0) {
        failLookups -= 1;
        throw new Error('blip: the lookup failed');
      }
      counts.lookups.push([...phones]);
      return base.findOptedOut(tenantId, phones);
    },
  };
  let salt: string | undefined;
  const sendable = new SendableContacts({ store, clock }, { id: w.queueId, tenantId: 'acme' }, () => salt);
  const advance = (ms: number) => clock.set(new Date(clock.now().getTime() + ms).toISOString());
  /** The next contact and whether it is suppressed, as the pump asks before each claim. */
  const check = async (): Promise<{ contact: BillingContact; optedOut: boolean }> => {
    const contact = await sendable.next(clock.now());
    if (!contact) throw new Error('no contact left');
    return { contact, optedOut: await sendable.isOptedOut(contact) };
  };
  return {
    store: base,
    counts,
    advance,
    check,
    setSalt: (value: string) => (salt = value),
    failNextLookup: () => (failLookups = 1),
  };
};

describe('SendableContacts', () => {
  it('looks no phone up for a tenant that never had an opt-out, and reads its stamp once per freshness', async () => {
    // Prepare
    const w = await world();

    // Act: two checks within the freshness, one after it.
    const answers = [await w.check(), await w.check()];
    w.advance(OPT_OUT_FRESH_MS + 1);
    answers.push(await w.check());

    // Assess
    expect(answers.map((a) => a.optedOut)).toEqual([false, false, false]);
    expect(w.counts.lookups).toEqual([]);
    expect(w.counts.stampReads).toBe(2);
  });

  it('looks each phone up once (with the next ones of the page) and again only when the stamp moved', async () => {
    // Prepare: acme had an opt-out before the page was prefetched.
    const w = await world();
    await w.store.putOptOut(optOut(PHONES[1] as string));

    // Act
    const first = await w.check();
    const second = await w.check();
    w.advance(OPT_OUT_FRESH_MS + 1);
    const third = await w.check();

    // Assess: one lookup of the whole page; the later reading found the stamp where it was.
    expect([first.optedOut, second.optedOut, third.optedOut]).toEqual([false, true, false]);
    expect(w.counts.lookups).toEqual([PHONES]);
    expect(w.counts.stampReads).toBe(2);
  });

  it('finds an opt-out stored after the page was looked up at the first check after the freshness', async () => {
    // Prepare: the page is looked up (acme has an older opt-out), then a phone of it opts out.
    const w = await world();
    await w.store.putOptOut(optOut('+5511900000000'));
    await w.check();
    await w.store.putOptOut(optOut(PHONES[2] as string));

    // Act: the next contact within the freshness, the one after it beyond.
    const within = await w.check();
    w.advance(OPT_OUT_FRESH_MS + 1);
    const after = await w.check();

    // Assess
    expect(within).toMatchObject({ contact: { phone: PHONES[1] }, optedOut: false });
    expect(after).toMatchObject({ contact: { phone: PHONES[2] }, optedOut: true });
    expect(w.counts.lookups).toEqual([PHONES, PHONES.slice(2)]);
  });

  it("finds a tenant's first opt-out, stored after a page it never had to look up", async () => {
    // Prepare
    const w = await world();
    await w.check();
    await w.store.putOptOut(optOut(PHONES[1] as string));

    // Act
    w.advance(OPT_OUT_FRESH_MS + 1);
    const after = await w.check();

    // Assess
    expect(after).toMatchObject({ contact: { phone: PHONES[1] }, optedOut: true });
    expect(w.counts.lookups).toEqual([PHONES.slice(1)]);
  });

  it("looks the page up again under a new erasure salt and finds an erased debtor's digest", async () => {
    // Prepare: the page is looked up without a salt; then the debtor of the 4th contact is erased
    // (its opt-out kept as the digest under the tenant's new salt), which the run learns later.
    const w = await world();
    await w.store.putOptOut(optOut('+5511900000000'));
    await w.check();
    await w.store.putOptOut(optOut(erasedPhoneDigest('new-salt', PHONES[3] as string)));
    w.setSalt('new-salt');

    // Act
    w.advance(OPT_OUT_FRESH_MS + 1);
    const second = await w.check();
    const third = await w.check();
    const fourth = await w.check();

    // Assess
    expect([second.optedOut, third.optedOut, fourth.optedOut]).toEqual([false, false, true]);
    expect(w.counts.lookups).toHaveLength(2);
  });

  it('asks again at the next check when a lookup failed, instead of keeping an empty answer', async () => {
    // Prepare
    const w = await world();
    await w.store.putOptOut(optOut(PHONES[1] as string));
    w.failNextLookup();

    // Act
    const contact = await (async () => {
      try {
        await w.check();
        return 'answered';
      } catch {
        return 'failed';
      }
    })();
    // The pump would stop here; a caller that asks again about the page's next contact is answered.
    const next = await w.check();

    // Assess
    expect(contact).toBe('failed');
    expect(next).toMatchObject({ contact: { phone: PHONES[1] }, optedOut: true });
    expect(w.counts.lookups).toEqual([PHONES.slice(1)]);
  });

  describe('its way through the batch', () => {
    it('answers none once at the end of the batch, then starts from the top (for retries come due)', async () => {
      // Prepare: contact 1 failed for now, due again at once.
      const w = await pumpWorld();
      const { store, clock } = w.base;
      const listings: Array<number | undefined> = [];
      const counting: Store = {
        ...store,
        listSendableContacts: async (queueId, now, limit, afterPosition) => {
          listings.push(afterPosition);
          return store.listSendableContacts(queueId, now, limit, afterPosition);
        },
      };
      const sendable = new SendableContacts({ store: counting, clock }, { id: w.queueId, tenantId: 'acme' });
      const at = clock.now().toISOString();
      for (let taken = 0; taken < 5; taken++) {
        const contact = await sendable.next(clock.now());
        if (!contact) throw new Error('a contact is missing');
        await store.claimContact(w.queueId, contact.position, at);
        const result =
          contact.position === 1
            ? ({ status: 'retry', error: 'timeout', at, retryAt: at } as const)
            : ({ status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at } as const);
        await store.finishContact(w.queueId, contact.position, result, null);
      }

      // Act
      const atTheEnd = await sendable.next(clock.now());
      const fromTheTop = await sendable.next(clock.now());

      // Assess: one page of five, the empty one after it, then the top again.
      expect(atTheEnd).toBeUndefined();
      expect(fromTheTop?.position).toBe(1);
      expect(listings).toEqual([undefined, 4, undefined]);
    });

    it('starts where a clean handover left off, and tells where it is', async () => {
      // Prepare
      const w = await pumpWorld();
      const { store, clock } = w.base;
      const sendable = new SendableContacts(
        { store, clock },
        { id: w.queueId, tenantId: 'acme' },
        undefined,
        2,
      );

      // Act
      const first = await sendable.next(clock.now());

      // Assess
      expect(first?.position).toBe(3);
      expect(sendable.lastPosition).toBe(3);
    });
  });
});
