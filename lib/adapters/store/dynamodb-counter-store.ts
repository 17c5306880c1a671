import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FIGURES, type HourFigures, hourStartOf, zeroFigures } from '../../domain/activity-figures.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CounterResult, CounterStore } from '../../ports/store.ts';
import { type Item, tableOperations } from './dynamodb-operations.ts';
import { epochSeconds, hasExpired, keys, PK, SK, TTL_ATTRIBUTE, ttlSeconds } from './table-schema.ts';
import { addOnce, Expression, LAST_WRITE } from './update-expression.ts';

/** Attribute of a counter item holding its value. */
const COUNTER_VALUE = 'value';
/**
 * A counter write can lose a race at most twice for real (absent -> created by someone else,
 * live -> expired); more failed rounds mean something is wrong, not contention.
 */
const MAX_COUNTER_ROUNDS = 4;

const HOUR_MS = 3_600_000;
/** Attribute of an hour's figures item holding the hour (ISO), so a read needs no key parsing. */
const HOUR_START = 'hourStart';

/**
 * The counters on the table: one item per counter (keys.dailyQuota, keys.instanceSends,
 * keys.keyRequests) holding its value and a TTL; one item per tenant and hour (keys.tenantFigures)
 * holding a number per figure, each added to with ADD (an item's first ADD creates it). Neither
 * dynalite nor DynamoDB deletes on time, so every read and write treats an item past its TTL as
 * absent; `clock` says what time it is (tests drive it).
 */
export const createDynamoDbCounterStore = (options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}): CounterStore => {
  const { clock } = options;
  const { get, updateIfMatch, queryAll } = tableOperations(options.client, options.tableName);

  /** The live value of a counter (0 when absent or past its TTL), and the reservation that wrote it last. */
  const readCounter = async (
    key: Item,
    now: number,
  ): Promise<{ live: boolean; value: number; lastWrite?: unknown }> => {
    const item = await get(key);
    if (!item) return { live: false, value: 0 };
    const ttl = item[TTL_ATTRIBUTE];
    if (typeof ttl === 'number' && ttl <= now) return { live: false, value: 0 };
    return { live: true, value: Number(item[COUNTER_VALUE] ?? 0), lastWrite: item[LAST_WRITE] };
  };

  /*
   * Two conditional writes cover the three states of the item, each atomic on its own:
   *  - live: ADD, only while live and within the limit;
   *  - absent or expired: SET the value to `by`, only while still absent or expired
   *    (ADD would continue from the stale count).
   * A failed ADD is followed by a consistent read to learn which case it was; a state that changed
   * in between (created or reset by a concurrent caller) sends us round again. Both write this
   * reservation's id (LAST_WRITE, update-expression.ts): an item holding it is this reservation
   * done, its answer lost (added twice, a day's quota would refuse batches it has room for).
   */
  const increment = async (
    key: Item,
    by: number,
    limit: number | null,
    expiresAt: Date,
  ): Promise<CounterResult> => {
    const ttl = ttlSeconds(expiresAt);
    const write = randomUUID();
    const names = { '#v': COUNTER_VALUE, '#ttl': TTL_ATTRIBUTE, '#last': LAST_WRITE };
    for (let round = 0; round < MAX_COUNTER_ROUNDS; round++) {
      const now = epochSeconds(clock.now());
      const live = 'attribute_exists(#v) AND (attribute_not_exists(#ttl) OR #ttl > :now)';
      const notYet = '(attribute_not_exists(#last) OR #last <> :write)';
      const added = await updateIfMatch({
        Key: key,
        UpdateExpression: 'ADD #v :by SET #ttl = :ttl, #last = :write',
        ConditionExpression: `${live} AND ${notYet}${limit === null ? '' : ' AND #v <= :max'}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':by': by,
          ':ttl': ttl,
          ':now': now,
          ':write': write,
          ...(limit === null ? {} : { ':max': limit - by }),
        },
        ReturnValues: 'UPDATED_NEW',
      });
      if (added) return { ok: true, value: Number(added[COUNTER_VALUE]) };

      const current = await readCounter(key, now);
      if (current.live && current.lastWrite === write) return { ok: true, value: current.value };
      if (current.live) {
        if (limit !== null && current.value + by > limit) return { ok: false, value: current.value };
        continue;
      }
      if (limit !== null && by > limit) return { ok: false, value: 0 };
      const started = await updateIfMatch({
        Key: key,
        UpdateExpression: 'SET #v = :by, #ttl = :ttl, #last = :write',
        ConditionExpression: 'attribute_not_exists(#v) OR #ttl <= :now',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':by': by, ':ttl': ttl, ':now': now, ':write': write },
      });
      if (started) return { ok: true, value: by };
    }
    throw new Error(
      `Counter ${String(key.pk)}: no conditional write succeeded in ${MAX_COUNTER_ROUNDS} rounds`,
    );
  };

  return {
    reserveDailyQuota: (tenantId, day, count, limit, expiresAt) =>
      increment(keys.dailyQuota(tenantId, day), count, limit, expiresAt),

    async getDailyQuotaUsed(tenantId, day) {
      return (await readCounter(keys.dailyQuota(tenantId, day), epochSeconds(clock.now()))).value;
    },

    reserveInstanceSend: (tenantId, instanceId, day, limit, expiresAt) =>
      increment(keys.instanceSends(tenantId, instanceId, day), 1, limit, expiresAt),

    async getInstanceSends(tenantId, instanceId, day) {
      return (await readCounter(keys.instanceSends(tenantId, instanceId, day), epochSeconds(clock.now())))
        .value;
    },

    countKeyRequest: (keyId, budget, hourStart, limit, expiresAt) =>
      increment(keys.keyRequests(keyId, budget, hourStart), 1, limit, expiresAt),

    async addTenantFigures(tenantId, hourStart, figures, expiresAt) {
      const expression = new Expression();
      for (const figure of FIGURES) {
        const by = figures[figure] ?? 0;
        if (by !== 0) expression.add(figure, by);
      }
      expression
        .set(HOUR_START, hourStartOf(hourStart).toISOString())
        .set(TTL_ATTRIBUTE, ttlSeconds(expiresAt));
      // Once only: a retry of this very write, its answer lost, is refused (and nothing else can be).
      await updateIfMatch({
        Key: keys.tenantFigures(tenantId, hourStart),
        ...expression.update(addOnce(expression).notYet),
        ReturnValues: 'NONE',
      });
    },

    async listTenantFigures(tenantId, from, to) {
      const first = hourStartOf(new Date(from.getTime() + HOUR_MS - 1));
      const last = hourStartOf(new Date(to.getTime() - 1));
      if (first > last) return [];
      const now = clock.now();
      const items = await queryAll({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: {
          ':pk': keys.tenantFigures(tenantId, first).pk,
          ':first': keys.tenantFigures(tenantId, first).sk,
          ':last': keys.tenantFigures(tenantId, last).sk,
        },
        ConsistentRead: true,
      });
      return items
        .filter((item) => !hasExpired(item, now))
        .map((item): HourFigures => {
          const hour: HourFigures = { hourStart: new Date(String(item[HOUR_START])), ...zeroFigures() };
          for (const figure of FIGURES) hour[figure] = Number(item[figure] ?? 0);
          return hour;
        });
    },
  };
};
