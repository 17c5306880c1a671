import type { DeadLetter, DeadLetters } from '../../ports/dead-letters.ts';

/**
 * What both dead-letter adapters say about a body that is not a message of their queue (`what`:
 * the codec's name, e.g. `work item`); it never reached a handler.
 */
export const malformedBody = (what: string): string =>
  `malformed body: not a ${what} (it never reached a handler)`;

/** Longest body shown to an operator: a work item is about 150 characters, poison can be anything. */
const MAX_BODY_CHARS = 500;

/** The body of a dead letter as shown in listings: cut, so a huge poison message stays readable. */
export const deadLetterBody = (body: string): string =>
  body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}…` : body;

/** `list` as both adapters do it: settle every letter with 'keep' and collect them. */
export const listBySettling = async <T>(
  settle: DeadLetters<T>['settle'],
  limit: number,
): Promise<DeadLetter<T>[]> => {
  const letters: DeadLetter<T>[] = [];
  await settle(async (letter) => {
    letters.push(letter);
    return 'keep';
  }, limit);
  return letters;
};
