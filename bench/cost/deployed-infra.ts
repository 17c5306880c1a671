import { fileURLToPath } from 'node:url';
import { installSstFake, resolveOutputs, toMegabytes } from '../../test/support/sst-fake.ts';

/**
 * The deployment as infra/ declares it, for the cost model: each function's memory (by handler),
 * the crons, the alarms and dashboards, the API's access log format, the functions reached through
 * a function URL of their own, and each queue consumer's batching. Read by running
 * sst.config.ts against the recording SST fake the infra tests use (test/support/sst-fake.ts), so
 * a change of memory, schedule or alarms in infra/ changes the bench's figures with nothing to
 * copy by hand.
 */
export interface DeployedInfra {
  /** Memory (MB) of the function whose handler is `functions/<name>.handler`. */
  memoryMb(functionName: string): number;
  crons: Array<{ functionName: string; perMonth: number }>;
  /** Metrics read by alarms (a metric math alarm counts each metric it reads). */
  alarmMetrics: number;
  dashboards: number;
  /** The API stage's access log line, with `$context.*` variables. */
  accessLogFormat: string;
  /** Functions (by name) with a Lambda function URL: their HTTP callers go there, not through API Gateway. */
  functionUrls: ReadonlySet<string>;
  /** The event source mapping of the queue consumer `functions/<name>.ts`: batch size, window, invocations at once. */
  batching(functionName: string): ConsumerMapping;
}

export interface ConsumerMapping {
  size: number;
  windowSeconds: number;
  maxConcurrency: number;
}

/** Held in a variable so `tsc` does not follow it into files typed by SST's globals. */
const SST_CONFIG = fileURLToPath(new URL('../../sst.config.ts', import.meta.url));

const MINUTES_PER_MONTH = 30 * 24 * 60;

/** `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)` as runs per 30-day month. */
const runsPerMonth = (schedule: string): number => {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!m) throw new Error(`cost model: cannot count the runs of schedule ${schedule}`);
  const minutes = { minute: 1, hour: 60, day: 1440 }[(m[2] as string).replace(/s$/, '') as 'minute'];
  return MINUTES_PER_MONTH / (Number(m[1]) * minutes);
};

const functionNameOf = (handler: string): string =>
  handler.replace(/^functions\//, '').replace(/\.handler$/, '');

interface SstConfigModule {
  app(input: { stage: string }): { name: string };
  run(): Promise<unknown>;
}

/** Synthesizes the production stage and reads what the cost model needs from it. */
export const readDeployedInfra = async (): Promise<DeployedInfra> => {
  const fake = installSstFake({ stage: 'production' });
  try {
    const config = ((await import(SST_CONFIG)) as { default: SstConfigModule }).default;
    fake.app.name = config.app({ stage: 'production' }).name;
    await config.run();
    const memory = new Map<string, number>();
    const functionUrls = new Set<string>();
    /** Function names by component (`CallbackQueueSubscriberFunction` -> `callback-sender`). */
    const byComponent = new Map<string, string>();
    for (const fn of fake.ofType('sst.aws.Function')) {
      const args = resolveOutputs(fn.args) as { handler: string; memory?: string; url?: unknown };
      const name = functionNameOf(args.handler);
      // Lambda's default when none is given.
      memory.set(name, args.memory ? toMegabytes(args.memory) : 128);
      if (args.url) functionUrls.add(name);
      byComponent.set(fn.name, name);
    }
    // SST names a subscriber's mapping and function after the subscriber: `<X>EventSourceMapping`, `<X>Function`.
    const batching = new Map<string, ConsumerMapping>();
    for (const mapping of fake.ofType('aws.lambda.EventSourceMapping')) {
      const fn = byComponent.get(mapping.name.replace(/EventSourceMapping$/, 'Function'));
      const args = resolveOutputs(mapping.args) as {
        batchSize?: number;
        maximumBatchingWindowInSeconds?: number;
        scalingConfig?: { maximumConcurrency?: number };
      };
      // AWS's defaults: batches of 10, no window, and up to 1000 invocations at once.
      if (fn)
        batching.set(fn, {
          size: args.batchSize ?? 10,
          windowSeconds: args.maximumBatchingWindowInSeconds ?? 0,
          maxConcurrency: args.scalingConfig?.maximumConcurrency ?? 1000,
        });
    }
    const crons = fake.ofType('sst.aws.Cron').map((cron) => {
      const args = resolveOutputs(cron.args) as { schedule: string; job: { handler: string } };
      return { functionName: functionNameOf(args.job.handler), perMonth: runsPerMonth(args.schedule) };
    });
    const alarmMetrics = fake.ofType('aws.cloudwatch.MetricAlarm').reduce((n, alarm) => {
      const args = resolveOutputs(alarm.args) as { metricQueries?: Array<{ metric?: unknown }> };
      return n + Math.max(1, (args.metricQueries ?? []).filter((q) => q.metric).length);
    }, 0);
    const [stage] = fake.ofType('aws.apigatewayv2.Stage');
    const accessLogFormat = (resolveOutputs(stage?.args) as { accessLogSettings?: { format?: string } })
      ?.accessLogSettings?.format;
    if (!accessLogFormat) throw new Error('cost model: the API stage has no access log format');
    return {
      memoryMb: (name) => {
        const mb = memory.get(name);
        if (mb === undefined) throw new Error(`cost model: infra/ declares no function functions/${name}.ts`);
        return mb;
      },
      crons,
      alarmMetrics,
      dashboards: fake.ofType('aws.cloudwatch.Dashboard').length,
      accessLogFormat,
      functionUrls,
      batching: (name) => {
        const found = batching.get(name);
        if (!found) throw new Error(`cost model: infra/ subscribes no functions/${name}.ts to a queue`);
        return found;
      },
    };
  } finally {
    fake.uninstall();
  }
};
