import { describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/chaos/random.ts';
import { killPhases } from '../../scripts/chaos/run-chaos.ts';
import {
  describeFinding,
  type GatewaySend,
  type ReportedContact,
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

describe('chaos kill phases', () => {
  it('splits the kills between accepting (half, rounded down) and sending', () => {
    const phases = killPhases(5, createRandom(7).shuffle);

    expect(phases.filter((p) => p === 'accepting')).toHaveLength(2);
    expect(phases.filter((p) => p === 'sending')).toHaveLength(3);
  });
});
