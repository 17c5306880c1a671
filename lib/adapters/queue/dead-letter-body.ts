import type { DeadLetter, DeadLetters } from '../../ports/dead-letters.ts';

/** What both dead-letter adapters say about a body that is not a work item (it never reached a handler). */
export const MALFORMED_WORK_ITEM = 'malformed body: not a work item (it never reached the sender)';

/** Longest body shown to an operator: a work item is about 150 characters, poison can be anything. */
const MAX_BODY_CHARS = 500;

/** The body of a dead letter as shown in listings: cut, so a huge poison message stays readable. */
export const deadLetterBody = (body: string): string =>
  body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}…` : body;

/** `list` as both adapters do it: settle every letter with 'keep' and collect them. */
export const listBySettling = async (settle: DeadLetters['settle'], limit: number): Promise<DeadLetter[]> => {
  const letters: DeadLetter[] = [];
  await settle(async (letter) => {
    letters.push(letter);
    return 'keep';
  }, limit);
  return letters;
};
