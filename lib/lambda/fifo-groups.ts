/**
 * Runs one SQS FIFO batch the way the sender needs it: the records of each message group (one
 * WhatsApp instance) one after another, in their order, and the groups at the same time, so one
 * invocation pays for the pacing waits of several instances at once instead of one.
 *
 * Powertools' FIFO processor keeps the order too, but runs the whole batch one record after
 * another: the second instance's pump would only start when the first one's time budget is spent.
 */
export interface FifoGroupOutcome<R> {
  /** Records that did not succeed: the one that failed in its group and every later one of that group. */
  failed: R[];
  /** Failed records paired with their error; records never run (after a failure) have none. */
  errors: { record: R; error: unknown }[];
}

/**
 * `groupOf` names the record's message group (records without one are each a group of their own).
 * A failure in a group stops that group only: its later records are not run and are reported
 * failed too, so SQS brings them back in order behind the failed one. The other groups go on.
 */
export const runFifoGroups = async <R>(
  records: readonly R[],
  groupOf: (record: R) => string | undefined,
  run: (record: R) => Promise<void>,
): Promise<FifoGroupOutcome<R>> => {
  const groups = new Map<string, R[]>();
  records.forEach((record, index) => {
    const group = groupOf(record) ?? `\u0000ungrouped-${index}`;
    const members = groups.get(group);
    if (members) members.push(record);
    else groups.set(group, [record]);
  });
  const outcome: FifoGroupOutcome<R> = { failed: [], errors: [] };
  await Promise.all(
    [...groups.values()].map(async (members) => {
      for (const [index, record] of members.entries()) {
        try {
          await run(record);
        } catch (error) {
          outcome.errors.push({ record, error });
          outcome.failed.push(...members.slice(index));
          return;
        }
      }
    }),
  );
  // Reported in the batch's order, as SQS delivered them.
  outcome.failed.sort((a, b) => records.indexOf(a) - records.indexOf(b));
  return outcome;
};
