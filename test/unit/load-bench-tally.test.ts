import { describe, expect, it } from 'vitest';
import { type PostOutcome, tallyRound } from '../../bench/load.ts';

const ok = (queueId: string, accepted: number): PostOutcome => ({
  status: 200,
  ms: 10,
  posted: accepted,
  accepted,
  queueId,
});
const failed = (status: number): PostOutcome => ({
  status,
  ms: 10,
  posted: 500,
  accepted: 0,
  queueId: undefined,
});

describe('load bench tally', () => {
  it('counts contacts the API accepted but the store does not hold as lost', () => {
    // Prepare
    const outcomes = [ok('q1', 500), ok('q2', 500), ok('q3', 500)];
    const stored = new Map([
      ['q1', 500],
      ['q2', 499],
    ]);

    // Act
    const tally = tallyRound(outcomes, stored);

    // Assess: one contact missing from q2, all of q3 (unknown to the store)
    expect(tally).toMatchObject({ posted: 1500, accepted: 1500, stored: 999, lost: 501 });
  });

  it('counts 5xx answers and unanswered requests as server errors, 4xx as refused, neither as accepted', () => {
    // Prepare
    const outcomes = [ok('q1', 500), failed(503), failed(0), failed(429)];

    // Act
    const tally = tallyRound(outcomes, new Map([['q1', 500]]));

    // Assess
    expect(tally).toMatchObject({
      posted: 2000,
      accepted: 500,
      stored: 500,
      lost: 0,
      serverErrors: 2,
      refused: 1,
    });
  });
});
