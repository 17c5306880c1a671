import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEmfMetrics } from '../../lib/adapters/metrics/emf-metrics.ts';
import { METRIC, METRICS_NAMESPACE } from '../../lib/observability/metric-names.ts';

interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** Runs `act` with stdout captured (Powertools writes EMF through a Console on process.stdout). */
const captureStdout = async (act: () => Promise<void>): Promise<EmfRecord[]> => {
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
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EmfRecord);
};

const ALLOWED_DIMENSIONS = new Set(['service', 'template_type', 'status']);
const TENANT = 'tenant-7f3a';
const QUEUE = 'queue-01J9';

describe('emf-metrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes EMF records with the Billing names and low-cardinality dimensions when flushed', async () => {
    // Prepare
    const metrics = createEmfMetrics({ serviceName: 'billing' });

    // Act: what one pump run records
    const records = await captureStdout(async () => {
      metrics.queueStatusChanged({ tenantId: TENANT, queueId: QUEUE, from: 'pending', to: 'running' });
      metrics.messageSent({
        tenantId: TENANT,
        queueId: QUEUE,
        templateType: 'overdue',
        status: 'sent',
        durationMs: 420,
      });
      metrics.messageSent({
        tenantId: TENANT,
        queueId: QUEUE,
        templateType: 'overdue',
        status: 'sent',
        durationMs: 380,
      });
      metrics.messageSent({
        tenantId: TENANT,
        queueId: QUEUE,
        templateType: 'overdue',
        status: 'failed',
        durationMs: 1500,
      });
      metrics.sendRate({ tenantId: TENANT, queueId: QUEUE, perMinute: 4.5 });
      metrics.messageDelivered({ tenantId: TENANT, queueId: QUEUE, templateType: 'overdue' });
      metrics.deliveryStalled({ tenantId: TENANT, queueId: QUEUE, templateType: 'overdue' });
      await metrics.flush();
    });

    // Assess
    expect(records.length).toBeGreaterThan(0);
    const names = new Set<string>();
    for (const record of records) {
      const [definition] = record._aws.CloudWatchMetrics;
      expect(definition?.Namespace).toBe(METRICS_NAMESPACE);
      for (const set of definition?.Dimensions ?? []) {
        expect(set.every((key) => ALLOWED_DIMENSIONS.has(key))).toBe(true);
        expect(set).toContain('service');
      }
      for (const m of definition?.Metrics ?? []) names.add(m.Name);
      // Ids ride along as metadata: top-level properties, never dimensions.
      expect(record.tenant_id).toBe(TENANT);
      expect(record.queue_id).toBe(QUEUE);
      expect(record.service).toBe('billing');
    }
    expect([...names].sort()).toEqual(
      [
        METRIC.activeQueues,
        METRIC.sent,
        METRIC.failed,
        METRIC.sendDuration,
        METRIC.sendRate,
        METRIC.delivered,
        METRIC.stalled,
      ].sort(),
    );
    const sentRecord = records.find((r) => r.status === 'sent');
    expect(sentRecord?.[METRIC.sent]).toEqual([1, 1]);
    expect(sentRecord?.[METRIC.sendDuration]).toEqual([420, 380]);
    expect(sentRecord?.template_type).toBe('overdue');
    expect(sentRecord?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service'],
      ['service', 'template_type'],
      ['service', 'status'],
    ]);
    const failedRecord = records.find((r) => r.status === 'failed');
    expect(failedRecord?.[METRIC.failed]).toBe(1);
    expect(failedRecord?.[METRIC.sent]).toBeUndefined();
    const queueRecords = records.filter((r) => METRIC.activeQueues in r);
    expect(queueRecords.map((r) => [r.status, r[METRIC.activeQueues]])).toEqual([
      ['pending', -1],
      ['running', 1],
    ]);
  });

  it('writes nothing until flushed, and nothing twice', async () => {
    // Prepare
    const metrics = createEmfMetrics({ serviceName: 'billing', namespace: 'BillingTest' });

    // Act
    const beforeFlush = await captureStdout(async () => {
      metrics.replyReceived({ tenantId: TENANT, templateType: 'upcoming' });
    });
    const firstFlush = await captureStdout(() => metrics.flush());
    const secondFlush = await captureStdout(() => metrics.flush());

    // Assess
    expect(beforeFlush).toEqual([]);
    expect(firstFlush).toHaveLength(1);
    expect(firstFlush[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('BillingTest');
    expect(firstFlush[0]?.[METRIC.replied]).toBe(1);
    expect(firstFlush[0]?.queue_id).toBeUndefined();
    expect(secondFlush).toEqual([]);
  });

  it('counts ignored webhooks with the reason as a dimension and the tenant as metadata', async () => {
    // Prepare
    const metrics = createEmfMetrics({ serviceName: 'billing' });

    // Act
    const records = await captureStdout(async () => {
      metrics.webhookIgnored({ tenantId: TENANT, reason: 'unknown_status' });
      metrics.webhookIgnored({ tenantId: TENANT, reason: 'unknown_status' });
      await metrics.flush();
    });

    // Assess
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.[METRIC.webhooksIgnored]).toEqual([1, 1]);
    expect(record?.reason).toBe('unknown_status');
    expect(record?.tenant_id).toBe(TENANT);
    expect(record?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service'], ['service', 'reason']]);
  });

  it('splits more than 100 values of one metric into whole records', async () => {
    // Prepare
    const metrics = createEmfMetrics({ serviceName: 'billing' });

    // Act
    const records = await captureStdout(async () => {
      for (let i = 0; i < 130; i += 1) {
        metrics.messageRead({ tenantId: TENANT, queueId: QUEUE, templateType: 'notification' });
      }
      await metrics.flush();
    });

    // Assess: every record keeps its dimensions and metadata, and no value is lost
    const total = records.reduce((sum, r) => {
      const value = r[METRIC.read];
      return sum + (Array.isArray(value) ? value.length : Number(value));
    }, 0);
    expect(total).toBe(130);
    for (const record of records) {
      expect(record.template_type).toBe('notification');
      expect(record.tenant_id).toBe(TENANT);
    }
  });
});
