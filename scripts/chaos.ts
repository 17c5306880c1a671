import { parseArgs } from 'node:util';
import { killAllPrograms } from './chaos/child-program.ts';
import { type ChaosDriver, type ChaosResult, runChaos } from './chaos/run-chaos.ts';

/**
 * `npm run chaos -- --kills 20 [--driver sqs|rabbitmq|both]`: SIGKILLs the local stack at random
 * moments while it accepts and while it sends, restarts it on the same data each time, and checks
 * that every accepted debtor got exactly one message and that the ERP got every callback it was
 * owed; `--store-outages N` also cuts it off from its store N times while it sends, and
 * `--store-hangs N` has the store take its requests without answering them N times, and
 * `--counter-throttles N` has it throttle the queues' counters writes N times (a hot item). Ends with
 * the line `chaos: K kills[, O store outages][, H store hangs][, T counters throttles], D duplicated,
 * L lost, M callbacks missing` and exits 1 when D, L or M is above 0, a callback was badly signed or
 * (with --receipts) a queue's receipt counters still disagree with its contacts (2 when the run
 * itself could not be carried out).
 */

const USAGE = [
  'Usage: npm run chaos -- [--kills 20] [--driver sqs|rabbitmq|both] [--seed N] [--batch-size 40]',
  '                        [--rate 300] [--latency-ms 100] [--ambiguous-send-policy mark_unknown|retry]',
  '                        [--amqp-url amqp://guest:guest@127.0.0.1:5672] [--receipts] [--store-outages 0]',
  '                        [--store-hangs 0] [--counter-throttles 0]',
  '                        [--keep]',
].join('\n');

const positiveInt = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0, not ${value}`);
  return n;
};

const parse = () => {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string' },
      driver: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string' },
      rate: { type: 'string' },
      'latency-ms': { type: 'string' },
      'amqp-url': { type: 'string' },
      'ambiguous-send-policy': { type: 'string' },
      keep: { type: 'boolean' },
      receipts: { type: 'boolean' },
      'store-outages': { type: 'string' },
      'store-hangs': { type: 'string' },
      'counter-throttles': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const driver = values.driver ?? 'sqs';
  if (!['sqs', 'rabbitmq', 'both'].includes(driver))
    throw new Error(`--driver must be sqs, rabbitmq or both, not ${driver}`);
  const batchSize = positiveInt('batch-size', values['batch-size'], 40);
  if (batchSize < 1 || batchSize > 1000) throw new Error('--batch-size must be between 1 and 1000');
  const policy = values['ambiguous-send-policy'] ?? 'mark_unknown';
  if (policy !== 'mark_unknown' && policy !== 'retry')
    throw new Error(`--ambiguous-send-policy must be mark_unknown or retry, not ${policy}`);
  const rate = positiveInt('rate', values.rate, 300);
  if (rate < 1 || rate > 6000) throw new Error('--rate (messages per minute) must be between 1 and 6000');
  return {
    help: values.help === true,
    drivers: (driver === 'both' ? ['sqs', 'rabbitmq'] : [driver]) as ChaosDriver[],
    kills: positiveInt('kills', values.kills, 20),
    seed: positiveInt('seed', values.seed, Math.floor(Math.random() * 2 ** 31)),
    batchSize,
    messagesPerMinute: rate,
    gatewayLatencyMs: positiveInt('latency-ms', values['latency-ms'], 100),
    amqpUrl: values['amqp-url'] ?? 'amqp://guest:guest@127.0.0.1:5672',
    ambiguousSendPolicy: policy as 'mark_unknown' | 'retry',
    keep: values.keep === true,
    receipts: values.receipts === true,
    storeOutages: positiveInt('store-outages', values['store-outages'], 0),
    storeHangs: positiveInt('store-hangs', values['store-hangs'], 0),
    counterThrottles: positiveInt('counter-throttles', values['counter-throttles'], 0),
  };
};

const main = async (): Promise<number> => {
  let options: ReturnType<typeof parse>;
  try {
    options = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const results: ChaosResult[] = [];
  for (const driver of options.drivers) {
    results.push(await runChaos({ ...options, driver, say: (line) => console.log(line) }));
  }
  const sum = (f: (r: ChaosResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const duplicated = sum((r) => r.tally.duplicated.length);
  const lost = sum((r) => r.tally.lost.length);
  const missing = sum((r) => r.callbacks.missing.length);
  const badlySigned = sum((r) => r.callbacks.badSignatures);
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}, `;
  const verdict = (
    r: Pick<ChaosResult, 'kills' | 'storeOutages' | 'storeHangs' | 'counterThrottles'>,
    d: number,
    l: number,
    m: number,
  ) =>
    `${r.kills} kills, ` +
    (r.storeOutages > 0 ? plural(r.storeOutages, 'store outage') : '') +
    (r.storeHangs > 0 ? plural(r.storeHangs, 'store hang') : '') +
    (r.counterThrottles > 0 ? plural(r.counterThrottles, 'counters throttle') : '') +
    `${d} duplicated, ${l} lost, ${m} callbacks missing`;
  if (results.length > 1)
    for (const r of results)
      console.log(
        `chaos (${r.driver}): ${verdict(r, r.tally.duplicated.length, r.tally.lost.length, r.callbacks.missing.length)}`,
      );
  if (badlySigned > 0)
    console.log(`chaos: ${badlySigned} callbacks did not verify with the tenant's signing secret`);
  console.log(
    `chaos: ${verdict(
      {
        kills: sum((r) => r.kills),
        storeOutages: sum((r) => r.storeOutages),
        storeHangs: sum((r) => r.storeHangs),
        counterThrottles: sum((r) => r.counterThrottles),
      },
      duplicated,
      lost,
      missing,
    )}`,
  );
  return duplicated > 0 ||
    lost > 0 ||
    missing > 0 ||
    badlySigned > 0 ||
    results.some((r) => r.timedOut || r.receiptCountersOff > 0)
    ? 1
    : 0;
};

// Ctrl-C: take the stack and the simulator down too (they run in their own process groups).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllPrograms();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAllPrograms();
    console.error(`chaos: the run could not be carried out: ${(error as Error).stack ?? String(error)}`);
    process.exit(2);
  },
);
