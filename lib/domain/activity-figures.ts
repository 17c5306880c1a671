import type { QueueCounter } from './types.ts';

/**
 * What a tenant's sending figures count (GET /stats, the dashboard's overview): events, each in the
 * hour it happened: a contact sent, delivered, read, replied, failed or found stalled, and a phone
 * that opted out.
 */
export const FIGURES = ['sent', 'delivered', 'read', 'replied', 'failed', 'stalled', 'opted_out'] as const;
export type Figure = (typeof FIGURES)[number];
export type Figures = Record<Figure, number>;

/** The figures of one UTC hour. */
export interface HourFigures extends Figures {
  /** The hour's first instant (whole UTC hour). */
  hourStart: Date;
}

/** A span of time, `from` included, `to` excluded. */
export interface Period {
  from: Date;
  to: Date;
}

const HOUR_MS = 3_600_000;

export const zeroFigures = (): Figures => ({
  sent: 0,
  delivered: 0,
  read: 0,
  replied: 0,
  failed: 0,
  stalled: 0,
  opted_out: 0,
});

/** The UTC hour `at` falls in: its first instant. */
export const hourStartOf = (at: Date): Date => new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);

/** The queue counter whose increase is each figure's event (opt-outs are counted apart: no counter). */
const COUNTER_OF_FIGURE: Readonly<Partial<Record<Figure, QueueCounter>>> = {
  sent: 'contactsSent',
  delivered: 'contactsDelivered',
  read: 'contactsRead',
  replied: 'contactsReplied',
  failed: 'contactsFailed',
  stalled: 'contactsStalled',
};

/**
 * The events a change of a queue's counters stands for, from a use case that just moved a contact:
 * each counter that went up is that many events. One that went down undoes no event (a failed
 * receipt takes a contact out of `contactsSent`, a late receipt out of `contactsStalled`: the send
 * and the stall did happen). Never for a recount, which corrects counters and is no event.
 */
export const figuresOfCounterDeltas = (deltas: Partial<Record<QueueCounter, number>>): Partial<Figures> => {
  const figures: Partial<Figures> = {};
  for (const [figure, counter] of Object.entries(COUNTER_OF_FIGURE) as Array<[Figure, QueueCounter]>) {
    const delta = deltas[counter] ?? 0;
    if (delta > 0) figures[figure] = delta;
  }
  return figures;
};

/** Whether any figure is counted (a write with nothing to add is skipped). */
export const hasFigures = (figures: Partial<Figures>): boolean =>
  Object.values(figures).some((value) => value !== undefined && value !== 0);

/** Adds `more` into `into` (figure by figure). */
export const addFigures = (into: Partial<Figures>, more: Partial<Figures>): void => {
  for (const [figure, value] of Object.entries(more) as Array<[Figure, number]>)
    into[figure] = (into[figure] ?? 0) + value;
};
