import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { isFinalQueueStatus } from '../../domain/queue-state.ts';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../../observability/metric-names.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { Metrics } from '../../ports/metrics.ts';

export interface EmfMetricsOptions {
  /** The `service` dimension (one per deployed service, not per function). */
  serviceName: string;
  /** CloudWatch namespace; `Billing` when absent. */
  namespace?: string;
  /** Stamps each EMF record with when its events happened, not when it was flushed. */
  clock?: Clock;
}

/**
 * Dimensions allowed on our metrics. Every distinct combination of dimension values is a separate
 * CloudWatch metric, billed monthly: tenant and queue ids would make the bill grow with customers
 * and queues, so they travel as EMF metadata (searchable in Logs Insights), never as dimensions.
 */
type DimensionKey = 'template_type' | 'status' | 'reason' | 'dependency';
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

interface Group {
  dimensions: Partial<Record<DimensionKey, string>>;
  /** Dimension sets besides the `service` default dimension; `[]` is `service` alone. */
  sets: DimensionKey[][];
  metadata: Record<string, string>;
  timestamp: number;
  metrics: Map<MetricName, { unit: Unit; values: number[] }>;
}

const MESSAGE_SETS: DimensionKey[][] = [[], ['template_type']];
const SEND_SETS: DimensionKey[][] = [[], ['template_type'], ['status']];
const QUEUE_SETS: DimensionKey[][] = [['status']];
const SERVICE_ONLY: DimensionKey[][] = [[]];
const REASON_SETS: DimensionKey[][] = [[], ['reason']];
const DEPENDENCY_SETS: DimensionKey[][] = [[], ['dependency']];
// Powertools publishes by itself when a metric reaches 100 values and then drops the dimensions
// still to be applied; staying below keeps every record whole.
const VALUES_PER_RECORD = 50;
// Bounds memory when a caller forgets to flush (a long pump): beyond it, recording publishes.
const MAX_PENDING_VALUES = 1000;

/**
 * Metrics as CloudWatch Embedded Metric Format lines on stdout (Powertools Metrics): CloudWatch
 * turns them into metrics with no API call. Events are buffered by dimensions, metadata and minute,
 * and `flush()` writes one EMF record per group.
 */
export const createEmfMetrics = (options: EmfMetricsOptions): Metrics => {
  const clock = options.clock ?? systemClock;
  const emf = new PowertoolsMetrics({
    namespace: options.namespace ?? METRICS_NAMESPACE,
    serviceName: options.serviceName,
  });
  const groups = new Map<string, Group>();
  let pendingValues = 0;

  const record = (
    dimensions: Group['dimensions'],
    sets: DimensionKey[][],
    ids: { tenantId?: string; queueId?: string; operation?: string },
    metrics: [MetricName, Unit, number][],
  ): void => {
    const now = clock.now().getTime();
    const metadata: Record<string, string> = {};
    if (ids.tenantId) metadata.tenant_id = ids.tenantId;
    if (ids.queueId) metadata.queue_id = ids.queueId;
    if (ids.operation) metadata.operation = ids.operation;
    const minute = Math.floor(now / 60_000);
    const key = JSON.stringify([dimensions, sets, metadata, minute]);
    let group = groups.get(key);
    if (!group) {
      group = { dimensions, sets, metadata, timestamp: now, metrics: new Map() };
      groups.set(key, group);
    }
    for (const [name, unit, value] of metrics) {
      const stored = group.metrics.get(name) ?? { unit, values: [] };
      stored.values.push(value);
      group.metrics.set(name, stored);
      pendingValues += 1;
    }
    if (pendingValues >= MAX_PENDING_VALUES) publish();
  };

  const publishChunk = (group: Group, chunk: [MetricName, Unit, number][]): void => {
    for (const set of group.sets) {
      emf.addDimensions(Object.fromEntries(set.map((k) => [k, group.dimensions[k] ?? 'none'])));
    }
    for (const [k, v] of Object.entries(group.metadata)) emf.addMetadata(k, v);
    emf.setTimestamp(group.timestamp);
    for (const [name, unit, value] of chunk) emf.addMetric(name, unit, value);
    emf.publishStoredMetrics();
  };

  const publish = (): void => {
    for (const group of groups.values()) {
      const all: [MetricName, Unit, number][] = [];
      for (const [name, { unit, values }] of group.metrics) {
        for (const value of values) all.push([name, unit, value]);
      }
      // Chunks by value count, so no metric inside a chunk can reach Powertools' 100-value limit.
      for (let i = 0; i < all.length; i += VALUES_PER_RECORD) {
        publishChunk(group, all.slice(i, i + VALUES_PER_RECORD));
      }
    }
    groups.clear();
    pendingValues = 0;
  };

  const count = (name: MetricName): [MetricName, Unit, number] => [name, MetricUnit.Count, 1];

  return {
    messageSent: ({ tenantId, queueId, templateType, status, durationMs }) => {
      const metrics: [MetricName, Unit, number][] = [
        [METRIC.sendDuration, MetricUnit.Milliseconds, durationMs],
      ];
      if (status === 'sent') metrics.push(count(METRIC.sent));
      if (status === 'failed') metrics.push(count(METRIC.failed));
      record({ template_type: templateType, status }, SEND_SETS, { tenantId, queueId }, metrics);
    },
    messageDelivered: ({ tenantId, queueId, templateType }) =>
      record({ template_type: templateType }, MESSAGE_SETS, { tenantId, queueId }, [count(METRIC.delivered)]),
    messageRead: ({ tenantId, queueId, templateType }) =>
      record({ template_type: templateType }, MESSAGE_SETS, { tenantId, queueId }, [count(METRIC.read)]),
    replyReceived: ({ tenantId, queueId, templateType }) =>
      record({ template_type: templateType }, MESSAGE_SETS, { tenantId, queueId }, [count(METRIC.replied)]),
    deliveryStalled: ({ tenantId, queueId, templateType }) =>
      record({ template_type: templateType }, MESSAGE_SETS, { tenantId, queueId }, [count(METRIC.stalled)]),
    queueStatusChanged: ({ tenantId, queueId, from, to }) => {
      // Final statuses are not "active": a queue that completes only leaves its previous status.
      if (from && from !== to && !isFinalQueueStatus(from)) {
        record({ status: from }, QUEUE_SETS, { tenantId, queueId }, [
          [METRIC.activeQueues, MetricUnit.Count, -1],
        ]);
      }
      if (from !== to && !isFinalQueueStatus(to)) {
        record({ status: to }, QUEUE_SETS, { tenantId, queueId }, [
          [METRIC.activeQueues, MetricUnit.Count, 1],
        ]);
      }
    },
    webhookIgnored: ({ tenantId, reason }) =>
      record({ reason }, REASON_SETS, { tenantId }, [count(METRIC.webhooksIgnored)]),
    dependencyFailed: ({ dependency, operation }) =>
      record({ dependency }, DEPENDENCY_SETS, { operation }, [count(METRIC.dependencyFailures)]),
    sendRate: ({ tenantId, queueId, perMinute }) =>
      record({}, SERVICE_ONLY, { tenantId, queueId }, [[METRIC.sendRate, MetricUnit.NoUnit, perMinute]]),
    flush: async () => publish(),
  };
};
