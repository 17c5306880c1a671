/** How much goes together: at most `count` items, whose weights add up to at most `weight`. */
export interface WeightedBound<T> {
  count: number;
  weight: number;
  weightOf: (item: T) => number;
}

/**
 * Runs `task` over `items` in their order, with at most `limit` in flight. The first failure starts
 * nothing more and rejects, once the tasks already started have ended.
 */
export const forEachBounded = async <T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  let running = 0;
  let failure: { error: unknown } | undefined;
  await new Promise<void>((resolve) => {
    const startMore = () => {
      while (!failure && next < items.length && running < limit) {
        const item = items[next] as T;
        next += 1;
        running += 1;
        task(item)
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => {
            running -= 1;
            startMore();
          });
      }
      if (running === 0 && (failure || next >= items.length)) resolve();
    };
    startMore();
  });
  if (failure) throw failure.error;
};

/**
 * `items` in order, cut into consecutive groups that each stay within `bound`: at most `bound.count`
 * items and `bound.weight` of weight (an item heavier than that alone is a group of its own).
 */
export const groupsWithin = <T>(items: readonly T[], bound: WeightedBound<T>): T[][] => {
  const groups: T[][] = [];
  let group: T[] = [];
  let load = 0;
  for (const item of items) {
    const weight = Math.max(0, bound.weightOf(item));
    if (group.length > 0 && (group.length >= bound.count || load + weight > bound.weight)) {
      groups.push(group);
      group = [];
      load = 0;
    }
    group.push(item);
    load += weight;
  }
  if (group.length > 0) groups.push(group);
  return groups;
};

/**
 * Waits for all of `tasks`, which run at once; the first failure rejects once every one has ended
 * (unlike `Promise.all`, whose rejection leaves the others running unwatched: a Lambda could
 * freeze them half done).
 */
export const allOf = async (tasks: readonly Promise<unknown>[]): Promise<void> => {
  const failed = (await Promise.allSettled(tasks)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
};
