import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEmfMetrics } from '../../lib/adapters/metrics/emf-metrics.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { ensureTable } from '../../lib/adapters/store/table-schema.ts';
import { addInstance } from '../../lib/app/add-instance.ts';
import { createCampaign } from '../../lib/app/create-campaign.ts';
import { createTenant } from '../../lib/app/create-tenant.ts';
import { setTemplate } from '../../lib/app/set-template.ts';
import { type Container, createContainer } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';
import { createSenderHandler } from '../../lib/lambda/sender-handler.ts';
import {
  type EvolutionSimulator,
  startEvolutionSimulator,
} from '../../lib/local/evolution-simulator/index.ts';
import { toSqsEvent } from '../../lib/local/worker.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import { METRIC, METRICS_NAMESPACE } from '../../lib/observability/metric-names.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { createTestDocumentClient, createTestDynamoDbClient, startDynalite } from '../support/dynalite.ts';
import { installSstFake, resolveOutputs } from '../support/sst-fake.ts';

/**
 * What CloudWatch would receive from one sender invocation: the real EMF adapter, store (dynalite)
 * and gateway (the simulator), the Lambda handler fed an SQS FIFO event, stdout captured.
 */

interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  [key: string]: unknown;
}

/** The EMF records among what `act` writes to stdout (Powertools writes through a Console on it). */
const captureEmf = async (act: () => Promise<unknown>): Promise<EmfRecord[]> => {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((value): value is EmfRecord => typeof value._aws === 'object' && value._aws !== null);
};

/** A value of a metric in a record: one number, or the list Powertools writes for several. */
const valuesOf = (record: EmfRecord, name: string): number[] => {
  const value = record[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as number[]) : [value as number];
};

const sum = (records: EmfRecord[], name: string): number =>
  records.flatMap((r) => valuesOf(r, name)).reduce((a, b) => a + b, 0);

/**
 * Metric name and dimension names of every alarm on our namespace, as infra/ declares them
 * (sst.config.ts run against the recording SST fake). A path held in a variable, so `tsc` does not
 * follow it into files typed by SST's globals.
 */
const SST_CONFIG = fileURLToPath(new URL('../../sst.config.ts', import.meta.url));
const alarmMetrics = async (): Promise<Array<{ name: string; dimensions: Record<string, string> }>> => {
  vi.resetModules();
  const fake = installSstFake({ stage: 'dev' });
  try {
    const config = (
      (await import(SST_CONFIG)) as {
        default: { app(input: { stage: string }): { name: string }; run(): Promise<unknown> };
      }
    ).default;
    fake.app.name = config.app({ stage: 'dev' }).name;
    await config.run();
    type Metric = { namespace?: string; metricName?: string; dimensions?: Record<string, string> };
    return fake
      .ofType('aws.cloudwatch.MetricAlarm')
      .map((d) => resolveOutputs(d.args) as Metric & { metricQueries?: Array<{ metric?: Metric }> })
      .flatMap((a) => [a, ...(a.metricQueries ?? []).map((q) => q.metric ?? {})])
      .filter((m) => m.namespace === METRICS_NAMESPACE && m.metricName !== undefined)
      .map((m) => ({ name: m.metricName as string, dimensions: m.dimensions ?? {} }));
  } finally {
    fake.uninstall();
  }
};

const TENANT = 'emf-tenant';
const ALLOWED_DIMENSIONS = new Set(['service', 'template_type', 'status']);
const NUMBERS = ['11990000001', '11990000002', '11990000003', '11990000004'];
/** Answers "not on WhatsApp": a permanent failure, so MessagesFailed (an alarm's input) is emitted too. */
const UNREACHABLE = NUMBERS[3] as string;

const lambdaContext = {
  awsRequestId: 'emf-test',
  functionName: 'sender',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

describe('sender EMF output', () => {
  const stops: Array<() => Promise<void> | void> = [];
  let simulator: EvolutionSimulator;
  let c: Container;
  const published: WorkItem[] = [];

  beforeAll(async () => {
    const dynamo = await startDynalite();
    stops.push(() => dynamo.stop());
    await ensureTable(createTestDynamoDbClient(dynamo.endpoint), 'billing');
    simulator = await startEvolutionSimulator();
    stops.push(() => simulator.close());
    // A clock the pump's pacing waits move, so the run takes no wall time to pace.
    let now = new Date('2026-12-16T15:20:00.000Z').getTime();
    const clock = { now: () => new Date(now) };
    const workQueue: WorkQueue = {
      publish: async (item) => void published.push(item),
      consume: async () => {
        throw new Error('not consumed in this test: the handler is invoked directly');
      },
      reachability: async () => 'ok' as const,
      close: async () => undefined,
    };
    c = createContainer(loadConfig({ LOG_LEVEL: 'SILENT' }), {
      store: createDynamoDbStore({
        client: createTestDocumentClient(dynamo.endpoint),
        tableName: 'billing',
        clock,
      }),
      clock,
      workQueue,
      logger: createLogger('SILENT'),
      random: () => 0,
      sleep: async (ms) => {
        now += ms;
      },
      metrics: createEmfMetrics({ serviceName: 'billing' }),
    });
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  afterEach(() => vi.restoreAllMocks());

  it('writes Billing EMF records of the sends, with low-cardinality dimensions and the alarms metric names, when the sender runs a queue', async () => {
    // Prepare: a tenant, its notification template and instance, and a campaign of four contacts
    await createTenant(c, {
      id: TENANT,
      config: { messagesPerMinute: 600, minIntervalSeconds: 0, jitterSeconds: 0 },
    });
    await setTemplate(c, TENANT, 'notification', { variations: ['{{nome_cliente}}: {{mensagem}}'] });
    await addInstance(c, {
      tenantId: TENANT,
      instanceName: 'demo',
      baseUrl: simulator.url,
      credentialRef: `plain:${simulator.apiKey}`,
    });
    simulator.markNotOnWhatsApp([`55${UNREACHABLE}`]);
    const tenant = await c.store.getTenant(TENANT);
    if (!tenant) throw new Error('tenant not created');
    const { campaign } = await createCampaign(c, {
      tenant,
      apiKey: { id: 'k' } as never,
      templateType: 'notification',
      externalId: 'emf-1',
      contacts: NUMBERS.map((telefone, i) => ({ nome_cliente: `Cliente ${i}`, telefone, mensagem: 'aviso' })),
      callbackUrl: null,
      callbackEvents: [],
      metadata: {},
      canonicalBody: { emf: 1 },
    });
    const item = published.find((p) => p.queueId === campaign.queueId);
    if (!item) throw new Error('the campaign published no work item');
    const event = toSqsEvent({ item, messageId: 'm-1', receiveCount: 1 }, 'work');
    const alarms = await alarmMetrics();

    // Act
    let response: unknown;
    const records = await captureEmf(async () => {
      response = await createSenderHandler(c)(event, lambdaContext);
    });
    const queue = await c.store.getQueue(campaign.queueId);

    // Assess: the queue ran to completion through the handler
    expect(response).toEqual({ batchItemFailures: [] });
    expect(queue).toMatchObject({ status: 'completed', contactsSent: 3, contactsFailed: 1 });
    // Every record: our namespace, dimensions only among the allowed ones, ids as metadata
    expect(records.length).toBeGreaterThan(0);
    const emitted = new Map<string, string[][]>();
    for (const record of records) {
      expect(record._aws.CloudWatchMetrics).toHaveLength(1);
      const [definition] = record._aws.CloudWatchMetrics;
      expect(definition?.Namespace).toBe(METRICS_NAMESPACE);
      for (const set of definition?.Dimensions ?? []) {
        expect(set.filter((key) => !ALLOWED_DIMENSIONS.has(key))).toEqual([]);
        expect(set).toContain('service');
      }
      for (const m of definition?.Metrics ?? [])
        emitted.set(m.Name, [...(emitted.get(m.Name) ?? []), ...(definition?.Dimensions ?? [])]);
      expect(record.service).toBe('billing');
      expect(record.tenant_id).toBe(TENANT);
      expect(record.queue_id).toBe(campaign.queueId);
    }
    // The sends: three sent, one failed, four durations, all of notifications
    const sendRecords = records.filter((r) => METRIC.sendDuration in r);
    expect(sum(records, METRIC.sent)).toBe(3);
    expect(simulator.sent().map((m) => m.number)).toHaveLength(3);
    expect(sum(records, METRIC.failed)).toBe(1);
    expect(sendRecords.flatMap((r) => valuesOf(r, METRIC.sendDuration))).toHaveLength(4);
    expect(new Set(sendRecords.map((r) => r.template_type))).toEqual(new Set(['notification']));
    // The queue left pending and went through running to completed: net zero open queues
    expect(sum(records, METRIC.activeQueues)).toBe(0);
    expect(emitted.has(METRIC.sendRate)).toBe(true);
    // What the alarms read is there, under the very dimensions they ask for. MessagesStalled is
    // the sweeper's (test/integration/stalled-deliveries.test.ts), not the sender's; DependencyFailures
    // counts outages (test/integration/business-hours-sending.test.ts, test/e2e/sqs-outage.test.ts).
    const senderAlarms = alarms.filter(
      (alarm) => alarm.name !== METRIC.stalled && alarm.name !== METRIC.dependencyFailures,
    );
    expect(senderAlarms.length).toBeGreaterThan(0);
    expect(alarms.map((a) => a.name)).toContain(METRIC.stalled);
    for (const alarm of senderAlarms) {
      expect(alarm.dimensions).toEqual({ service: 'billing' });
      expect(emitted.get(alarm.name) ?? []).toContainEqual(Object.keys(alarm.dimensions));
    }
  });
});
