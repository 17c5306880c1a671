import { describe, expect, it } from 'vitest';
import { createBillingEvents } from '../../lib/app/billing-events.ts';
import { eraseDebtor } from '../../lib/app/erase-debtor.ts';
import { optedOutPhonesOf, removeOptOut } from '../../lib/app/opt-outs.ts';
import { SendableContacts } from '../../lib/app/sendable-contacts.ts';
import {
  ERASED_MARKER,
  erasedPhoneDigest,
  isErasedPhoneDigest,
  NO_ERASURE,
} from '../../lib/domain/debtor-erasure.ts';
import type { ContactStatus, ConversationMessage } from '../../lib/domain/types.ts';
import { type DebtorDeps, debtorDeps, seedQueue } from '../support/debtor-world.ts';
import { refusalOf, tenantWith } from '../support/use-case-deps.ts';

/** Tenant acme as the debtor world stores it. */
const ACME = tenantWith();

const ANA = '+5511988880001';
const BIA = '+5511988880002';
/** Messages expire long after the test. */
const FAR = '2027-01-01T00:00:00.000Z';

const message = (id: string, overrides: Partial<ConversationMessage> = {}): ConversationMessage => ({
  id,
  tenantId: 'acme',
  phone: ANA,
  instanceId: 'inst-1',
  direction: 'outbound',
  text: 'Olá Ana, a fatura NF-1 venceu',
  at: '2026-03-02T12:30:00.000Z',
  queueId: 'qsent',
  contactPosition: 0,
  campaignId: 'camp-qsent',
  externalId: 'ext-qsent',
  templateType: 'overdue',
  ...overrides,
});

/** Ana in two queues (sent in a finished one, pending in a waiting one), her messages, reply and opt-out. */
const anaEverywhere = async (deps: DebtorDeps) => {
  await seedQueue(
    deps,
    'qsent',
    'completed',
    [
      { status: 'sent', phone: ANA, name: 'Ana Lima' },
      { status: 'sent', phone: BIA, name: 'Bia Reis' },
    ],
    { rejected: [{ index: 2, telefone: '11 98888-0001', code: 'DUPLICATE_CONTACT', message: 'Duplicado' }] },
  );
  await seedQueue(deps, 'qwait', 'scheduled', [{ status: 'pending', phone: ANA, name: 'Ana Lima' }]);
  await deps.store.recordMessage(message('m-out'), FAR);
  await deps.store.recordMessage(
    message('m-in', { direction: 'inbound', text: 'Já paguei, sou a Ana', at: '2026-03-02T12:40:00.000Z' }),
    FAR,
  );
  await deps.store.recordMessage(message('m-bia', { phone: BIA, text: 'Olá Bia' }), FAR);
  await deps.store.recordMessage(
    message('m-other', { tenantId: 'other', text: 'Olá Ana (outro tenant)' }),
    FAR,
  );
  await deps.events.emit({
    name: 'replied',
    queueId: 'qsent',
    contactPosition: 0,
    occurredAt: '2026-03-02T12:40:00.000Z',
    reply: { text: 'Já paguei, sou a Ana', intent: 'paid_claim' },
  });
  await deps.store.putOptOut({
    tenantId: 'acme',
    phone: ANA,
    source: 'reply',
    reason: 'SAIR, Ana aqui',
    at: '2026-03-02T12:50:00.000Z',
  });
};

describe('eraseDebtor', () => {
  it("erases a debtor's data in every item that held it, keeps counters and suppression, and audits without the phone", async () => {
    // Prepare
    const deps = await debtorDeps();
    await anaEverywhere(deps);

    // Act
    const answer = await eraseDebtor(deps, ACME, '(11) 98888-0001', 'api_key:key-1');

    // Assess: what the answer says.
    expect(answer.counts).toEqual({
      contacts: 2,
      contactsCancelled: 1,
      messages: 2,
      callbackEvents: 1,
      optOuts: 1,
      campaignRejections: 1,
    });
    expect(answer.inFlight).toBe(0);
    // Contacts: markers instead of personal data; status and counters kept; the unsent one cancelled.
    const sent = await deps.store.getContact('qsent', 0);
    expect(sent).toMatchObject({
      status: 'sent',
      name: ERASED_MARKER,
      phone: ERASED_MARKER,
      renderedMessage: ERASED_MARKER,
      variables: { nome_cliente: ERASED_MARKER, numero_fatura: ERASED_MARKER },
      invoiceNumber: 'NF-1',
    });
    expect(await deps.store.getContact('qwait', 0)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'erased',
      phone: ERASED_MARKER,
    });
    expect(await deps.store.getContact('qsent', 1)).toMatchObject({ phone: BIA, name: 'Bia Reis' });
    expect(await deps.store.getQueue('qsent')).toMatchObject({ status: 'completed', contactsSent: 2 });
    // The waiting queue had nothing else to send: completed.
    expect(await deps.store.getQueue('qwait')).toMatchObject({ status: 'completed', contactsCancelled: 1 });
    // Conversation: gone for this tenant only.
    expect(await deps.store.listMessages('acme', ANA, 10)).toEqual([]);
    expect((await deps.store.listMessages('acme', BIA, 10)).map((m) => m.id)).toEqual(['m-bia']);
    expect((await deps.store.listMessages('other', ANA, 10)).map((m) => m.id)).toEqual(['m-other']);
    // Callback events: no phone, name or reply text; the `cancelled` one emitted after carries the marker.
    const events = (await deps.store.listCallbackEvents('acme', { limit: 100 })).items;
    expect(JSON.stringify(events)).not.toContain('98888');
    expect(JSON.stringify(events)).not.toContain('Ana');
    expect(events.find((e) => e.eventId === 'qwait:0:cancelled')?.payload).toMatchObject({
      cancel_reason: 'erased',
      contact: { telefone: ERASED_MARKER },
    });
    // The campaign's stored answer.
    expect((await deps.store.getCampaign('acme', 'ext-qsent'))?.rejected[0]?.telefone).toBe(ERASED_MARKER);
    // Opt-out: the phone is gone, its salted digest stands in for it.
    const tenant = await deps.store.getTenant('acme');
    const salt = tenant?.erasureSalt ?? '';
    expect(salt).not.toBe('');
    expect(await deps.store.getOptOut('acme', ANA)).toBeUndefined();
    expect(await deps.store.getOptOut('acme', erasedPhoneDigest(salt, ANA))).toMatchObject({
      source: 'reply',
      reason: ERASED_MARKER,
    });
    // The audit record: counts and a digest, never the phone.
    const [record] = (await deps.store.listDebtorErasures('acme', { limit: 10 })).items;
    expect(record).toMatchObject({
      id: answer.erasureId,
      requestedBy: 'api_key:key-1',
      phoneDigest: erasedPhoneDigest(salt, ANA),
      counts: answer.counts,
    });
    expect(JSON.stringify(record)).not.toContain('98888');
  });

  it('still suppresses an erased phone that had opted out: at accept, in the pump, and until the debtor asks back', async () => {
    // Prepare
    const deps = await debtorDeps();
    await anaEverywhere(deps);
    await eraseDebtor(deps, ACME, ANA, 'cli');
    const tenant = await deps.store.getTenant('acme');
    if (!tenant) throw new Error('no tenant');
    await seedQueue(deps, 'qnew', 'running', [{ status: 'pending', phone: ANA }]);

    // Act
    const atAccept = await optedOutPhonesOf(
      deps.store,
      'acme',
      [{ nome_cliente: 'Ana', telefone: ANA }],
      false,
      tenant.erasureSalt,
    );
    const withoutSalt = await optedOutPhonesOf(
      deps.store,
      'acme',
      [{ nome_cliente: 'Ana', telefone: ANA }],
      false,
      undefined,
    );
    const pump = new SendableContacts(deps, { id: 'qnew', tenantId: 'acme' }, () => tenant.erasureSalt);
    const next = await pump.next(deps.clock.now());
    const inPump = next ? await pump.isOptedOut(next) : false;
    await removeOptOut(deps, tenant, ANA);
    const afterRemoval = await optedOutPhonesOf(
      deps.store,
      'acme',
      [{ nome_cliente: 'Ana', telefone: ANA }],
      false,
      tenant.erasureSalt,
    );

    // Assess
    expect([...atAccept]).toEqual([ANA]);
    // Without the salt the digest is not found: what a check that ignored it would let through.
    expect([...withoutSalt]).toEqual([]);
    expect(inPump).toBe(true);
    expect([...afterRemoval]).toEqual([]);
  });

  it("keeps the phone's own opt-out until the debtor's unsent contacts are cancelled", async () => {
    // Prepare: a pump that has not read the tenant's new salt yet looks up the plain phone only;
    // the store notes whether that still finds Ana at the moment each of her contacts is erased.
    const deps = await debtorDeps();
    await anaEverywhere(deps);
    const plainFoundAtErasure: boolean[] = [];
    const store = {
      ...deps.store,
      eraseContact: async (...args: Parameters<typeof deps.store.eraseContact>) => {
        plainFoundAtErasure.push((await deps.store.findOptedOut('acme', [ANA])).has(ANA));
        return deps.store.eraseContact(...args);
      },
    };

    // Act
    const answer = await eraseDebtor({ ...deps, store }, ACME, ANA, 'cli');

    // Assess
    expect(plainFoundAtErasure).toEqual([true, true]);
    expect(answer.counts.optOuts).toBe(1);
    expect(await deps.store.getOptOut('acme', ANA)).toBeUndefined();
  });

  it('leaves a contact being sent to its pump and says so; a second request later finishes the same erasure', async () => {
    // Prepare
    const deps = await debtorDeps();
    await seedQueue(deps, 'qrun', 'running', [{ status: 'sending', phone: ANA, name: 'Ana Lima' }]);

    // Act: the ERP asks; an operator finishes it from the CLI
    const first = await eraseDebtor(deps, ACME, ANA, 'api_key:key-1');
    await deps.store.finishContact(
      'qrun',
      0,
      {
        status: 'sent',
        providerMessageId: '3EB0',
        at: '2026-03-02T13:00:01.000Z',
      },
      FAR,
    );
    const second = await eraseDebtor(deps, ACME, ANA, 'cli');

    // Assess
    expect([first.inFlight, first.counts.contacts, second.inFlight, second.counts.contacts]).toEqual([
      1, 0, 0, 1,
    ]);
    expect([first.state, second.state]).toEqual(['in_progress', 'complete']);
    expect(await deps.store.getContact('qrun', 0)).toMatchObject({ status: 'sent', phone: ERASED_MARKER });
    // One erasure, one audit record: the second request's totals replaced the first's; who asked
    // for it is who made its first request.
    const records = (await deps.store.listDebtorErasures('acme', { limit: 10 })).items;
    expect(records).toMatchObject([
      {
        id: first.erasureId,
        requestedBy: 'api_key:key-1',
        complete: true,
        inFlight: 0,
        counts: { contacts: 1 },
      },
    ]);
    expect(second.erasureId).toBe(first.erasureId);
  });

  it('leaves no phone in a callback event whose emitter stores it just after the erasure looked for the contact events', async () => {
    // Prepare: a reply's event is being emitted, built from the contact as it was; an erasure runs
    // (and ends) between that and the event's put.
    const deps = await debtorDeps();
    await seedQueue(deps, 'qsent', 'completed', [{ status: 'sent', phone: ANA, name: 'Ana Lima' }]);
    let erasure: Promise<unknown> | undefined;
    const racing: typeof deps.store = {
      ...deps.store,
      putCallbackEvent: async (event, expiresAt) => {
        erasure = eraseDebtor(deps, ACME, ANA, 'cli');
        await erasure;
        return deps.store.putCallbackEvent(event, expiresAt);
      },
    };

    // Act
    await createBillingEvents({ store: racing, clock: deps.clock }).emit({
      name: 'replied',
      queueId: 'qsent',
      contactPosition: 0,
      occurredAt: '2026-03-02T12:40:00.000Z',
      reply: { text: 'Sou a Ana, apaguem meus dados', intent: 'other' },
    });

    // Assess
    await expect(erasure).resolves.toMatchObject({
      state: 'complete',
      counts: { contacts: 1, callbackEvents: 0 },
    });
    expect((await deps.store.getCallbackEvent('qsent', 'qsent:0:replied'))?.payload).toMatchObject({
      contact: { telefone: ERASED_MARKER, nome_cliente: ERASED_MARKER },
      reply: { text: ERASED_MARKER },
    });
  });

  it('answers zero counts for a phone the tenant does not know, and refuses what is not a phone', async () => {
    // Prepare
    const deps = await debtorDeps();

    // Act
    const none = await eraseDebtor(deps, ACME, '+5511977776666', 'cli');
    const error = await refusalOf(() => eraseDebtor(deps, ACME, 'abc', 'cli'));

    // Assess
    expect(Object.values(none.counts).every((n) => n === 0)).toBe(true);
    expect(error.code).toBe('INVALID_PHONE');
    const digests = (await deps.store.listDebtorErasures('acme', { limit: 10 })).items.map(
      (r) => r.phoneDigest,
    );
    expect(digests.every(isErasedPhoneDigest)).toBe(true);
  });

  describe('a tenant with more queues than one request has time for', () => {
    /** Queue ids in the walk's order (all created at the same instant: by id). */
    const queueId = (n: number) => `q${String(n).padStart(3, '0')}`;
    /** Ana's contacts: waiting in q005, being sent in q050 (walked by the first request), sent in q150 and q240. */
    const ANA_AT: Record<number, ContactStatus> = {
      5: 'pending',
      50: 'sending',
      150: 'sent',
      240: 'pending',
    };

    /**
     * 250 one-contact queues stored an hour before the erasure (the index shows them), Ana's
     * opt-out, and a store that records which queues each request reads the contacts of.
     */
    const longHistory = async () => {
      const deps = await debtorDeps();
      for (let n = 0; n < 250; n++) {
        const status = ANA_AT[n];
        await seedQueue(deps, queueId(n), status === 'pending' ? 'running' : 'completed', [
          status ? { status, phone: ANA, name: 'Ana Lima' } : { status: 'sent', phone: BIA },
        ]);
      }
      await deps.store.putOptOut({ tenantId: 'acme', phone: ANA, source: 'api', reason: 'pedido', at: FAR });
      deps.clock.set('2026-03-02T14:00:00.000Z');
      const read: string[][] = [];
      const store: typeof deps.store = {
        ...deps.store,
        listContactIdentities: (queues, options) => {
          read.at(-1)?.push(...queues.map((queue) => queue.id));
          return deps.store.listContactIdentities(queues, options);
        },
      };
      /** One request whose walk stops after its first group of queues (100 here). */
      const request = () => {
        read.push([]);
        return eraseDebtor({ ...deps, store, erasureWalkBudgetMs: 0 }, ACME, ANA, 'api_key:key-1');
      };
      return { deps, request, read };
    };

    /** The send of Ana's reminder in q050 ends. */
    const finishAnasSend = (deps: DebtorDeps) =>
      deps.store.finishContact(
        queueId(50),
        0,
        {
          status: 'sent',
          providerMessageId: '3EB0-50',
          at: '2026-03-02T14:00:01.000Z',
        },
        FAR,
      );

    it('walks on from where the last request stopped, never from the top, and completes at the end of the walk', async () => {
      // Prepare
      const { deps, request, read } = await longHistory();

      // Act
      const first = await request();
      const afterFirst = await Promise.all([
        deps.store.getContact(queueId(5), 0),
        deps.store.getContact(queueId(150), 0),
        deps.store.getOptOut('acme', ANA),
      ]);
      await finishAnasSend(deps);
      const second = await request();
      const third = await request();

      // Assess: the first request walked q000-q099 and left q050 (in flight) and the opt-out.
      expect(first).toMatchObject({ state: 'in_progress', inFlight: 1, queuesChecked: 100 });
      expect(first.counts).toMatchObject({ contacts: 1, contactsCancelled: 1, optOuts: 0 });
      expect(afterFirst[0]).toMatchObject({ phone: ERASED_MARKER, status: 'cancelled' });
      expect(afterFirst[1]).toMatchObject({ phone: ANA });
      expect(afterFirst[2]).toBeDefined();
      // Each request read q050 again while it was left in flight, and otherwise where the walk was.
      const range = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => queueId(from + i));
      expect(read.map((ids) => ids.toSorted())).toEqual([
        range(0, 100),
        [queueId(50), ...range(100, 200)],
        range(200, 250),
      ]);
      expect(second).toMatchObject({ state: 'in_progress', inFlight: 0, queuesChecked: 201 });
      expect(third).toMatchObject({ state: 'complete', inFlight: 0, queuesChecked: 251 });
      expect(third.counts).toMatchObject({ contacts: 4, contactsCancelled: 2, optOuts: 1, messages: 0 });
      expect([second.erasureId, third.erasureId]).toEqual([first.erasureId, first.erasureId]);
      for (const n of Object.keys(ANA_AT).map(Number))
        expect(await deps.store.getContact(queueId(n), 0)).toMatchObject({ phone: ERASED_MARKER });
      expect(await deps.store.getOptOut('acme', ANA)).toBeUndefined();
      // One audit record, with the totals of the whole erasure.
      expect((await deps.store.listDebtorErasures('acme', { limit: 10 })).items).toMatchObject([
        { id: first.erasureId, at: '2026-03-02T14:00:00.000Z', complete: true, counts: third.counts },
      ]);
    });

    it('starts again from the top once the erasure completed', async () => {
      // Prepare
      const { deps, request, read } = await longHistory();
      await finishAnasSend(deps);
      const answers = [await request(), await request(), await request()];

      // Act
      const again = await request();

      // Assess
      expect(answers.map((answer) => answer.state)).toEqual(['in_progress', 'in_progress', 'complete']);
      expect(read.slice(0, 3).flat()).toHaveLength(250);
      expect(again).toMatchObject({ state: 'in_progress', queuesChecked: 100 });
      expect(again.erasureId).not.toBe(answers[0]?.erasureId);
      expect(again.counts.contacts).toBe(0);
      expect(read.at(-1)?.toSorted()[0]).toBe(queueId(0));
    });

    it('does nothing while another request holds the erasure of the phone, and takes over once its hold ran out', async () => {
      // Prepare: a request took this erasure a moment ago (and died, say).
      const { deps, request } = await longHistory();
      const salt = await deps.store.ensureErasureSalt('acme', 'unused');
      const held = await deps.store.takeErasureProgress(
        {
          tenantId: 'acme',
          phoneDigest: erasedPhoneDigest(salt ?? '', ANA),
          erasureId: 'erasure-of-another-request',
          startedAt: '2026-03-02T13:59:59.000Z',
          walkedTo: null,
          inFlightQueueIds: [],
          queuesChecked: 0,
          counts: { ...NO_ERASURE },
        },
        'another-request',
        '2026-03-02T13:59:59.000Z',
        '2026-03-02T14:00:43.000Z',
        '2026-03-03T01:59:59.000Z',
      );

      // Act
      const busy = await request();
      const untouched = await deps.store.getContact(queueId(5), 0);
      deps.clock.set('2026-03-02T14:00:44.000Z');
      const takenOver = await request();

      // Assess
      expect(held.taken).toBe(true);
      expect(busy).toMatchObject({
        state: 'busy',
        erasureId: 'erasure-of-another-request',
        queuesChecked: 0,
      });
      expect(untouched).toMatchObject({ phone: ANA, status: 'pending' });
      expect(takenOver).toMatchObject({ state: 'in_progress', erasureId: 'erasure-of-another-request' });
      expect(await deps.store.getContact(queueId(5), 0)).toMatchObject({ phone: ERASED_MARKER });
    });

    it('lets go of the erasure when the store fails, keeping what it did: a retry at once goes on from there', async () => {
      // Prepare: the store fails the contacts read of the walk's third group (its second page), once.
      const { deps } = await longHistory();
      await finishAnasSend(deps);
      let reads = 0;
      const store: typeof deps.store = {
        ...deps.store,
        listContactIdentities: (queues, options) => {
          reads += 1;
          if (reads === 3) return Promise.reject(new Error('ProvisionedThroughputExceededException'));
          return deps.store.listContactIdentities(queues, options);
        },
      };
      const request = () => eraseDebtor({ ...deps, store }, ACME, ANA, 'api_key:key-1');

      // Act
      const failed = await request().then(
        () => 'answered',
        (error: Error) => error.message,
      );
      const retry = await request();

      // Assess: the first page's queues (q000-q199) were done before the failure, and not again.
      expect(failed).toBe('ProvisionedThroughputExceededException');
      expect(retry).toMatchObject({ state: 'complete', queuesChecked: 250 });
      expect(retry.counts).toMatchObject({ contacts: 4, contactsCancelled: 2, optOuts: 1 });
    });
  });
});
