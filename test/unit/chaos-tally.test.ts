import { describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/chaos/random.ts';
import { killPhases, withStoreFaults } from '../../scripts/chaos/run-chaos.ts';
import {
  describeFinding,
  describeMissingCallback,
  type GatewaySend,
  type ReceivedCallback,
  type ReportedContact,
  tallyCallbacks,
  tallyCounters,
  tallyRun,
} from '../../scripts/chaos/tally.ts';

const send = (number: string, id: string): GatewaySend => ({ number, id, at: '2026-12-16T15:20:00.000Z' });
const contact = (telefone: string, status: string): ReportedContact => ({
  queueId: 'q1',
  telefone,
  status,
  attempts: 1,
  lastError: null,
});

describe('chaos tally', () => {
  it('sets each queue’s receipt counters against its contacts: a read counts as delivered too', () => {
    // Prepare: q1 agrees (2 delivered of which 1 read); q2's counters are one short on both.
    const contacts = [
      contact('+5511980010000', 'read'),
      contact('+5511980010001', 'delivered'),
      contact('+5511980010002', 'sent'),
      { ...contact('+5511980010003', 'read'), queueId: 'q2' },
    ];
    const queues = [
      { id: 'q1', contacts_delivered: 2, contacts_read: 1 },
      { id: 'q2', contacts_delivered: 0, contacts_read: 0 },
    ];

    // Act
    const drift = tallyCounters(queues, contacts);

    // Assess
    expect(drift).toEqual({ queues: 2, queuesOff: 1, delivered: -1, read: -1 });
  });

  it('counts a debtor with two gateway sends as duplicated and one with none as lost', () => {
    // Prepare
    const accepted = new Map([
      ['5511980010000', 'b1'],
      ['5511980010001', 'b1'],
      ['5511980010002', 'b1'],
    ]);
    const contacts = [
      contact('+5511980010000', 'sent'),
      contact('+5511980010001', 'sent'),
      contact('+5511980010002', 'sent'),
    ];
    const sends = [send('5511980010000', 'A'), send('5511980010001', 'B'), send('5511980010001', 'C')];

    // Act
    const tally = tallyRun({ accepted, contacts, sends });

    // Assess
    expect(tally.duplicated.map((f) => f.phone)).toEqual(['5511980010001']);
    expect(tally.lost.map((f) => f.phone)).toEqual(['5511980010002']);
    expect(tally.deliveredOnce).toBe(1);
    expect(describeFinding('duplicated', tally.duplicated[0] as never)).toContain('sends: B at');
  });

  it('counts an unknown contact with no send as neither lost nor duplicated', () => {
    const tally = tallyRun({
      accepted: new Map([['5511980010000', 'b1']]),
      contacts: [contact('+55 11 98001-0000', 'unknown')],
      sends: [],
    });

    expect(tally.lost).toEqual([]);
    expect(tally.duplicated).toEqual([]);
    expect(tally.unknown).toBe(1);
  });

  it('counts an accepted debtor the API does not list and nobody messaged as lost', () => {
    const tally = tallyRun({ accepted: new Map([['5511980010000', 'b1']]), contacts: [], sends: [] });

    expect(tally.lost).toHaveLength(1);
    expect(describeFinding('lost', tally.lost[0] as never)).toContain('not listed by the API');
  });
});

describe('chaos callback tally', () => {
  const got = (event: string, phone: string | null, copies = 1): ReceivedCallback => ({
    eventId: `q1:${phone}:${event}`,
    event,
    queueId: 'q1',
    phone,
    copies,
  });

  it("owes each contact its outcome's event and each completed queue its completion", () => {
    // Prepare
    const contacts = [
      contact('+55 11 98001-0000', 'sent'),
      contact('+55 11 98001-0001', 'failed'),
      contact('+55 11 98001-0002', 'unknown'),
      contact('+55 11 98001-0003', 'skipped_opt_out'),
    ];

    // Act
    const tally = tallyCallbacks({
      contacts,
      completedQueues: ['q1'],
      received: [got('sent', '5511980010000', 2), got('failed', '5511980010001')],
      badSignatures: 1,
    });

    // Assess: the unknown contact and the queue's completion never came; the opted-out contact owes nothing
    expect(tally.expected).toBe(4);
    expect(tally.received).toBe(2);
    expect(tally.missing.map(describeMissingCallback)).toEqual([
      'callback missing: unknown of queue q1 for +5511980010002',
      'callback missing: queue.completed of queue q1',
    ]);
    expect(tally.repeated).toBe(1);
    expect(tally.badSignatures).toBe(1);
  });

  it('owes a read contact its sent, delivered and read events', () => {
    const tally = tallyCallbacks({
      contacts: [contact('+55 11 98001-0000', 'read'), contact('+55 11 98001-0001', 'delivered')],
      completedQueues: [],
      received: [got('sent', '5511980010000'), got('read', '5511980010000'), got('sent', '5511980010001')],
      badSignatures: 0,
    });

    expect(tally.expected).toBe(5);
    expect(tally.missing).toEqual([
      { event: 'delivered', queueId: 'q1', phone: '5511980010000' },
      { event: 'delivered', queueId: 'q1', phone: '5511980010001' },
    ]);
  });

  it('owes a read contact its sent even when a receipt moved it on from unknown', () => {
    const tally = tallyCallbacks({
      contacts: [contact('+55 11 98001-0000', 'read')],
      completedQueues: [],
      received: [
        got('unknown', '5511980010000'),
        got('delivered', '5511980010000'),
        got('read', '5511980010000'),
      ],
      badSignatures: 0,
    });

    // Its unknown does not stand for the sent the receipt owed.
    expect(tally.missing).toEqual([{ event: 'sent', queueId: 'q1', phone: '5511980010000' }]);
  });

  it('does not take an event of another outcome, or of another queue, for the one owed', () => {
    const tally = tallyCallbacks({
      contacts: [contact('+55 11 98001-0000', 'unknown')],
      completedQueues: [],
      received: [got('sent', '5511980010000'), { ...got('unknown', '5511980010000'), queueId: 'q2' }],
      badSignatures: 0,
    });

    expect(tally.missing).toEqual([{ event: 'unknown', queueId: 'q1', phone: '5511980010000' }]);
  });
});

describe('chaos kill phases', () => {
  it('splits the kills between accepting (half, rounded down) and sending', () => {
    const phases = killPhases(5, createRandom(7).shuffle);

    expect(phases.filter((p) => p === 'accepting')).toHaveLength(2);
    expect(phases.filter((p) => p === 'sending')).toHaveLength(3);
  });

  it('places the store outages, hangs and counters throttles among the kills, keeping the kills in their order', () => {
    // Prepare
    const phases = killPhases(6, createRandom(7).shuffle);

    // Act
    const events = withStoreFaults(
      phases,
      { outages: 3, hangs: 2, counterThrottles: 1 },
      createRandom(11).int,
    );

    // Assess
    expect({
      outages: events.filter((e) => e === 'store outage').length,
      hangs: events.filter((e) => e === 'store hang').length,
      throttles: events.filter((e) => e === 'counters throttle').length,
      kills: events.filter((e) => e === 'accepting' || e === 'sending'),
    }).toEqual({ outages: 3, hangs: 2, throttles: 1, kills: phases });
  });

  it('leaves the kill phases as they are without store faults', () => {
    const phases = killPhases(4, createRandom(3).shuffle);

    expect(withStoreFaults(phases, { outages: 0, hangs: 0 }, createRandom(5).int)).toEqual(phases);
  });
});
