import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { tableDefinition } from '../../lib/adapters/store/table-schema.ts';
import { pathVariants, ROUTES } from '../../lib/http/route-table.ts';
import { METRIC, METRICS_NAMESPACE } from '../../lib/observability/metric-names.ts';
import {
  type Declared,
  installSstFake,
  resolveOutputs,
  type SstFake,
  toSeconds,
} from '../support/sst-fake.ts';

/**
 * "Synthesizes" sst.config.ts + infra/ against a recording fake of SST's globals (the SST CLI cannot
 * run here) and checks the settings the design depends on. A path held in a variable, so `tsc` does
 * not follow it into files typed by SST's globals.
 */
const SST_CONFIG = fileURLToPath(new URL('../../sst.config.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface AppConfig {
  name: string;
  home: string;
  removal: string;
  protect: boolean;
}
interface SstConfigModule {
  app(input: { stage: string }): AppConfig;
  run(): Promise<Record<string, unknown>>;
}
interface Synth {
  fake: SstFake;
  app: AppConfig;
  outputs: Record<string, unknown>;
}

const synth = async (stage: string): Promise<Synth> => {
  vi.resetModules();
  const fake = installSstFake({ stage });
  try {
    const config = ((await import(SST_CONFIG)) as { default: SstConfigModule }).default;
    const app = config.app({ stage });
    fake.app.name = app.name;
    const outputs = resolveOutputs(await config.run()) as Record<string, unknown>;
    return { fake, app, outputs };
  } finally {
    fake.uninstall();
  }
};

// Loosely typed views of recorded (resolved) arguments: the test reads what SST would receive.
// biome-ignore lint/suspicious/noExplicitAny: recorded arguments are untyped data whose shape the tests assert.
type Data = Record<string, any>;
const argsOf = (declared: Declared): Data => resolveOutputs(declared.args) as Data;

/** functions/sender.ts keeps this much of the Lambda timeout back; read from its source to stay in step. */
const senderSafetyMarginSeconds = (): number => {
  const source = readFileSync(`${ROOT}functions/sender.ts`, 'utf8');
  const match = /SAFETY_MARGIN_MS = ([\d_]+)/.exec(source);
  if (!match?.[1]) throw new Error('SAFETY_MARGIN_MS not found in functions/sender.ts');
  return Number(match[1].replaceAll('_', '')) / 1000;
};

describe('infra synth', () => {
  let dev: Synth;
  let prod: Synth;
  const queue = (s: Synth, component: string) => argsOf(s.fake.one('aws.sqs.Queue', `${component}Queue`));
  const physical = (s: Synth, component: string) => `${s.app.name}-${s.fake.app.stage}-${component}`;
  const queueArn = (s: Synth, component: string) =>
    `arn:aws:sqs:us-east-1:123456789012:${physical(s, component)}`;
  const functions = (s: Synth) => s.fake.ofType('sst.aws.Function');
  const fnByArn = (s: Synth, arn: string): Data => {
    const prefix = `${s.app.name}-${s.fake.app.stage}-`;
    const name = arn.split(':function:')[1]?.slice(prefix.length);
    return argsOf(s.fake.one('sst.aws.Function', name ?? ''));
  };
  const sender = (s: Synth) => argsOf(s.fake.one('sst.aws.Function', 'WorkQueueSubscriberFunction'));
  const alarms = (s: Synth) => s.fake.ofType('aws.cloudwatch.MetricAlarm').map(argsOf);

  beforeAll(async () => {
    dev = await synth('dev-alice');
    prod = await synth('production');
  });

  describe('storage', () => {
    it('declares the table keys, indexes and TTL attribute of table-schema.ts', () => {
      // Prepare
      const expected = tableDefinition('any');
      // Act
      const table = argsOf(dev.fake.one('aws.dynamodb.Table', 'TableTable'));
      // Assess
      const keyOf = (schema: { AttributeName?: string; KeyType?: string }[], type: string) =>
        schema.find((k) => k.KeyType === type)?.AttributeName;
      expect(dev.fake.ofType('aws.dynamodb.Table')).toHaveLength(1);
      expect(table.billingMode).toBe(expected.BillingMode);
      expect(table.hashKey).toBe(keyOf(expected.KeySchema ?? [], 'HASH'));
      expect(table.rangeKey).toBe(keyOf(expected.KeySchema ?? [], 'RANGE'));
      expect(table.attributes).toEqual(
        (expected.AttributeDefinitions ?? []).map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
      );
      expect(table.globalSecondaryIndexes).toEqual(
        (expected.GlobalSecondaryIndexes ?? []).map((index) => ({
          name: index.IndexName,
          hashKey: keyOf(index.KeySchema ?? [], 'HASH'),
          rangeKey: keyOf(index.KeySchema ?? [], 'RANGE'),
          projectionType: index.Projection?.ProjectionType,
        })),
      );
    });

    it('expires items by the TTL attribute and keeps point-in-time recovery on', async () => {
      // Prepare
      const { TTL_ATTRIBUTE } = await import('../../lib/adapters/store/table-schema.ts');
      // Act
      const table = argsOf(dev.fake.one('aws.dynamodb.Table', 'TableTable'));
      // Assess
      expect(table.ttl).toEqual({ attributeName: TTL_ATTRIBUTE, enabled: true });
      expect(table.pointInTimeRecovery).toEqual({ enabled: true });
    });

    it('protects the table from deletion on production stages only', () => {
      // Act
      const devTable = argsOf(dev.fake.one('aws.dynamodb.Table', 'TableTable'));
      const prodTable = argsOf(prod.fake.one('aws.dynamodb.Table', 'TableTable'));
      // Assess
      expect(devTable.deletionProtectionEnabled).toBe(false);
      expect(prodTable.deletionProtectionEnabled).toBe(true);
      expect(prod.app).toMatchObject({ removal: 'retain', protect: true, home: 'aws' });
      expect(dev.app).toMatchObject({ removal: 'remove', protect: false, home: 'aws' });
    });
  });

  describe('queues', () => {
    it('makes the work queue FIFO with a FIFO dead-letter queue after at least 5 receives', () => {
      // Act
      const work = queue(dev, 'WorkQueue');
      const dlq = queue(dev, 'WorkDeadLetterQueue');
      const redrive = JSON.parse(work.redrivePolicy) as {
        deadLetterTargetArn: string;
        maxReceiveCount: number;
      };
      // Assess
      expect(work.fifoQueue).toBe(true);
      expect(work.contentBasedDeduplication ?? false).toBe(false);
      expect(dlq.fifoQueue).toBe(true);
      expect(redrive.deadLetterTargetArn).toBe(`${queueArn(dev, 'WorkDeadLetterQueue')}.fifo`);
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    });

    it('keeps the work queue visibility at least 6 times the sender timeout', () => {
      // Act
      const visibility = queue(dev, 'WorkQueue').visibilityTimeoutSeconds as number;
      const timeout = toSeconds(sender(dev).timeout);
      // Assess
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    });

    it('gives the callbacks a standard queue with its own dead-letter queue', () => {
      // Act
      const callbacks = queue(dev, 'CallbackQueue');
      const redrive = JSON.parse(callbacks.redrivePolicy) as {
        deadLetterTargetArn: string;
        maxReceiveCount: number;
      };
      // Assess
      expect(callbacks.fifoQueue).toBe(false);
      expect(redrive.deadLetterTargetArn).toBe(queueArn(dev, 'CallbackDeadLetterQueue'));
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(1);
    });
  });

  describe('sender', () => {
    it('consumes the work queue with partial batch responses, one item per invocation', () => {
      // Act
      const mapping = argsOf(
        dev.fake.one('aws.lambda.EventSourceMapping', 'WorkQueueSubscriberEventSourceMapping'),
      );
      // Assess
      expect(mapping.eventSourceArn).toBe(`${queueArn(dev, 'WorkQueue')}.fifo`);
      expect(mapping.functionResponseTypes).toContain('ReportBatchItemFailures');
      expect(mapping.batchSize).toBe(1);
      expect(sender(dev).handler).toBe('functions/sender.handler');
    });

    it('caps the event source mapping with maximumConcurrency no higher than the reserved concurrency', () => {
      // Act
      const mapping = argsOf(
        dev.fake.one('aws.lambda.EventSourceMapping', 'WorkQueueSubscriberEventSourceMapping'),
      );
      const maximum = mapping.scalingConfig?.maximumConcurrency as number;
      const reserved = sender(dev).concurrency?.reserved as number;
      // Assess
      expect(maximum).toBeGreaterThanOrEqual(2);
      expect(maximum).toBeLessThanOrEqual(1000);
      expect(reserved).toBeGreaterThanOrEqual(maximum);
    });

    it('sets a sending budget below the timeout minus the margin the handler keeps back', () => {
      // Act
      const fn = sender(dev);
      const budget = Number(fn.environment.SENDER_BUDGET_SECONDS);
      // Assess
      expect(budget).toBeGreaterThan(0);
      expect(budget).toBeLessThan(toSeconds(fn.timeout) - senderSafetyMarginSeconds());
    });
  });

  describe('api', () => {
    it('routes every ROUTES entry, in both spellings, and nothing else', () => {
      // Prepare
      const expected = ROUTES.flatMap((r) => pathVariants(r.path).map((p) => `${r.method} ${p}`)).sort();
      // Act
      const declared = dev.fake
        .ofType('sst.aws.ApiGatewayV2LambdaRoute')
        .map((r) => argsOf(r).route as string);
      // Assess
      expect(declared.sort()).toEqual(expected);
    });

    it('sends each route to the handler of its functions/<fn>.ts entry point', () => {
      // Act
      const routes = dev.fake.ofType('sst.aws.ApiGatewayV2LambdaRoute').map(argsOf);
      // Assess
      for (const spec of ROUTES) {
        for (const path of pathVariants(spec.path)) {
          const route = routes.find((r) => r.route === `${spec.method} ${path}`);
          expect(route, `${spec.method} ${path}`).toBeDefined();
          expect(fnByArn(dev, route?.handler as string).handler).toBe(`functions/${spec.fn}.handler`);
        }
        expect(existsSync(`${ROOT}functions/${spec.fn}.ts`), `functions/${spec.fn}.ts`).toBe(true);
      }
    });

    it('keeps access logs and a default stage throttle', () => {
      // Act
      const stage = argsOf(dev.fake.one('aws.apigatewayv2.Stage', 'ApiStage'));
      const logGroup = argsOf(dev.fake.one('aws.cloudwatch.LogGroup', 'ApiAccessLog'));
      // Assess
      expect(stage.accessLogSettings?.destinationArn).toBeTruthy();
      expect(logGroup.retentionInDays).toBeGreaterThan(0);
      expect(stage.defaultRouteSettings?.throttlingBurstLimit).toBeGreaterThan(0);
      expect(stage.defaultRouteSettings?.throttlingRateLimit).toBeGreaterThan(0);
    });

    it('installs swagger-ui-dist next to the docs function, which reads its files at run time', () => {
      // Act
      const docs = argsOf(dev.fake.one('sst.aws.Function', 'ApiDocs'));
      // Assess
      expect(docs.nodejs?.install).toContain('swagger-ui-dist');
    });
  });

  describe('functions', () => {
    it('runs every function on Node 22 arm64 with the table and work queue in its environment', () => {
      // Prepare
      const tableName = physical(dev, 'Table');
      const workQueueUrl = `https://sqs.us-east-1.amazonaws.com/123456789012/${physical(dev, 'WorkQueue.fifo')}`;
      // Act
      const all = functions(dev).map(argsOf);
      // Assess
      expect(all.length).toBeGreaterThan(3);
      for (const fn of all) {
        expect(fn.runtime, fn.handler).toBe('nodejs22.x');
        expect(fn.architecture, fn.handler).toBe('arm64');
        expect(fn.environment.TABLE_NAME, fn.handler).toBe(tableName);
        expect(fn.environment.WORK_QUEUE_URL, fn.handler).toBe(workQueueUrl);
        const file = String(fn.handler).replace(/\.handler$/, '.ts');
        expect(existsSync(`${ROOT}${file}`), file).toBe(true);
      }
    });

    it('never puts a secret value in a function environment', () => {
      // Act
      const environments = functions(dev).map((f) => JSON.stringify(argsOf(f).environment));
      const parameter = argsOf(dev.fake.one('aws.ssm.Parameter', 'EvolutionApiKeyParameter'));
      // Assess
      expect(dev.fake.ofType('sst.Secret').length).toBeGreaterThan(0);
      expect(parameter).toMatchObject({ type: 'SecureString', value: 'secret-value-of-EvolutionApiKey' });
      for (const env of environments) expect(env).not.toContain('secret-value-of-');
    });

    it('runs the sweeper and the callback deliverer every minute', () => {
      // Act
      const sweeper = argsOf(dev.fake.one('sst.aws.Cron', 'Sweeper'));
      const callbacks = argsOf(dev.fake.one('sst.aws.Cron', 'CallbackDeliverer'));
      // Assess
      expect(sweeper).toMatchObject({
        schedule: 'rate(1 minute)',
        job: { handler: 'functions/sweeper.handler' },
      });
      expect(callbacks).toMatchObject({
        schedule: 'rate(1 minute)',
        job: { handler: 'functions/callback-deliverer.handler' },
      });
    });

    it('deploys every entry point of functions/', () => {
      // Prepare
      const entryPoints = readdirSync(`${ROOT}functions`)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `functions/${f.replace(/\.ts$/, '')}.handler`);
      // Act
      const handlers = new Set(functions(dev).map((f) => argsOf(f).handler as string));
      // Assess
      for (const handler of entryPoints) expect(handlers.has(handler), handler).toBe(true);
    });
  });

  describe('scheduler', () => {
    it('lets EventBridge Scheduler invoke the release function, with a DLQ for what fails', () => {
      // Prepare
      const releaseArn = `arn:aws:lambda:us-east-1:123456789012:function:${physical(dev, 'Release')}`;
      // Act
      const release = argsOf(dev.fake.one('sst.aws.Function', 'Release'));
      const role = argsOf(dev.fake.one('aws.iam.Role', 'SchedulerRole'));
      const invokeConfig = argsOf(
        dev.fake.one('aws.lambda.FunctionEventInvokeConfig', 'ReleaseInvokeConfig'),
      );
      const trust = JSON.parse(role.assumeRolePolicy);
      const policy = JSON.parse(role.inlinePolicies[0].policy);
      // Assess
      expect(release.handler).toBe('functions/release.handler');
      expect(dev.fake.ofType('aws.scheduler.ScheduleGroup')).toHaveLength(1);
      expect(trust.Statement[0].Principal.Service).toBe('scheduler.amazonaws.com');
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: expect.arrayContaining([releaseArn]),
        }),
      );
      expect(invokeConfig.destinationConfig.onFailure.destination).toBe(
        queueArn(dev, 'ReleaseDeadLetterQueue'),
      );
      expect(sender(dev).environment).toMatchObject({
        SCHEDULER_TARGET_ARN: releaseArn,
        SCHEDULER_DLQ_ARN: queueArn(dev, 'ReleaseDeadLetterQueue'),
      });
    });
  });

  describe('alarms', () => {
    it('computes the failure rate from the metric names of metric-names.ts over 3 of 5 periods', () => {
      // Act
      const alarm = argsOf(dev.fake.one('aws.cloudwatch.MetricAlarm', 'FailureRateAlarm'));
      const metrics = alarm.metricQueries.filter((q: Data) => q.metric).map((q: Data) => q.metric);
      const expression = alarm.metricQueries.find((q: Data) => q.returnData).expression as string;
      // Assess
      expect(metrics.map((m: Data) => m.metricName).sort()).toEqual([METRIC.failed, METRIC.sent].sort());
      for (const m of metrics) expect(m.namespace).toBe(METRICS_NAMESPACE);
      expect(alarm).toMatchObject({ evaluationPeriods: 5, datapointsToAlarm: 3 });
      expect(expression).toContain('FILL(failed, 0) / (FILL(sent, 0) + FILL(failed, 0))');
      // A minimum sample: too few sends count as no breach.
      expect(expression).toMatch(/^IF\(\(.+\) >= \d+,/);
    });

    it('uses only metric names of metric-names.ts under our namespace', () => {
      // Prepare
      const known: string[] = Object.values(METRIC);
      // Act
      const ours = alarms(dev)
        .flatMap((a) => [a, ...(a.metricQueries ?? []).map((q: Data) => q.metric ?? {})])
        .filter((m) => m.namespace === METRICS_NAMESPACE);
      // Assess
      expect(ours.length).toBeGreaterThan(0);
      for (const m of ours) expect(known).toContain(m.metricName);
    });

    it('alarms on every dead-letter queue, the oldest work item and every function errors', () => {
      // Prepare
      const redriveTargets = dev.fake
        .ofType('aws.sqs.Queue')
        .map(argsOf)
        .filter((q) => q.redrivePolicy)
        .map((q) => (JSON.parse(q.redrivePolicy) as { deadLetterTargetArn: string }).deadLetterTargetArn);
      const failureDestinations = dev.fake
        .ofType('aws.lambda.FunctionEventInvokeConfig')
        .map((c) => argsOf(c).destinationConfig.onFailure.destination as string);
      const deadLetterNames = [...new Set([...redriveTargets, ...failureDestinations])].map((arn) =>
        arn.split(':').at(-1),
      );
      const functionNames = functions(dev).map((f) => physical(dev, f.name));
      // Act
      const all = alarms(dev);
      const byMetric = (name: string) => all.filter((a) => a.metricName === name);
      // Assess
      expect(deadLetterNames).toHaveLength(3);
      expect(
        byMetric('ApproximateNumberOfMessagesVisible')
          .map((a) => a.dimensions.QueueName)
          .sort(),
      ).toEqual(deadLetterNames.sort());
      expect(byMetric('ApproximateAgeOfOldestMessage').map((a) => a.dimensions.QueueName)).toEqual([
        physical(dev, 'WorkQueue.fifo'),
      ]);
      expect(
        byMetric('Errors')
          .map((a) => a.dimensions.FunctionName)
          .sort(),
      ).toEqual(functionNames.sort());
    });

    it('notifies the alarm topic, and e-mails it only when an address is configured', async () => {
      // Prepare
      vi.stubEnv('BILLING_ALARM_EMAIL', 'ops@example.com');
      let withEmail: Synth;
      try {
        withEmail = await synth('dev-bob');
      } finally {
        vi.unstubAllEnvs();
      }
      const topicArn = `arn:aws:sns:us-east-1:123456789012:${physical(dev, 'AlarmTopic')}`;
      // Act
      const all = alarms(dev);
      // Assess
      expect(dev.fake.ofType('aws.sns.Topic')).toHaveLength(1);
      for (const alarm of all) expect(alarm.alarmActions).toEqual([topicArn]);
      expect(dev.fake.ofType('aws.sns.TopicSubscription')).toHaveLength(0);
      expect(argsOf(withEmail.fake.one('aws.sns.TopicSubscription', 'AlarmEmailSubscription'))).toMatchObject(
        {
          protocol: 'email',
          endpoint: 'ops@example.com',
        },
      );
    });

    it('draws sent, failed, delivered, the failure rate and the work queue depth on the dashboard', () => {
      // Act
      const body = JSON.parse(argsOf(dev.fake.one('aws.cloudwatch.Dashboard', 'Dashboard')).dashboardBody);
      const rows: unknown[][] = body.widgets.flatMap((w: Data) => w.properties.metrics);
      const ours = rows.filter((row) => row[0] === METRICS_NAMESPACE).map((row) => row[1]);
      const sqs = rows.filter((row) => row[0] === 'AWS/SQS').map((row) => `${row[1]} ${row[3]}`);
      // Assess
      for (const name of ours) expect(Object.values(METRIC)).toContain(name);
      expect(ours).toEqual(expect.arrayContaining([METRIC.sent, METRIC.failed, METRIC.delivered]));
      expect(rows.some((row) => typeof (row[0] as Data)?.expression === 'string')).toBe(true);
      expect(sqs).toContain(`ApproximateNumberOfMessagesVisible ${physical(dev, 'WorkQueue.fifo')}`);
      for (const w of body.widgets) expect(w.properties.region).toBe('us-east-1');
    });
  });

  it('returns the API URL and the names an operator needs from run()', () => {
    // Assess
    expect(dev.outputs).toMatchObject({
      api: expect.stringMatching(/^https:\/\//),
      table: physical(dev, 'Table'),
    });
  });
});
