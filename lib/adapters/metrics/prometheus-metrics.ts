import { isFinalQueueStatus } from '../../domain/queue-state.ts';
import {
  PROMETHEUS,
  type PrometheusFamily,
  SEND_DURATION_BUCKETS_SECONDS,
} from '../../observability/metric-names.ts';
import type { Metrics } from '../../ports/metrics.ts';

/** Metrics kept in memory and rendered in the Prometheus text format (local mode's `GET /metrics`). */
export interface PrometheusMetrics extends Metrics {
  /** The current series in the text exposition format 0.0.4. */
  render(): string;
}

interface Series {
  labels: readonly string[];
  value: number;
}

interface HistogramSeries {
  labels: readonly string[];
  /** Per bucket (not cumulative) counts; cumulated at render. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Series of one family, keyed by their label values. */
class SeriesMap<T extends { labels: readonly string[] }> {
  readonly #series = new Map<string, T>();
  constructor(private readonly create: (labels: readonly string[]) => T) {}
  get(labels: readonly string[]): T {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = this.create(labels);
      this.#series.set(key, series);
    }
    return series;
  }
  delete(labels: readonly string[]): void {
    this.#series.delete(JSON.stringify(labels));
  }
  /** Sorted by label values, so the output does not depend on the order events came in. */
  sorted(): T[] {
    return [...this.#series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  }
}

const newCounter = () => new SeriesMap<Series>((labels) => ({ labels, value: 0 }));

// Text format: label values escape backslash, double quote and line feed; HELP escapes backslash and line feed.
const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

const formatNumber = (value: number): string => {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
};

const labelText = (names: readonly string[], values: readonly string[]): string =>
  names.length === 0
    ? ''
    : `{${names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? '')}"`).join(',')}}`;

const header = (family: PrometheusFamily): string[] => [
  `# HELP ${family.name} ${escapeHelp(family.help)}`,
  `# TYPE ${family.name} ${family.type}`,
];

const renderSimple = (family: PrometheusFamily, series: readonly Series[]): string[] => [
  ...header(family),
  ...series.map((s) => `${family.name}${labelText(family.labels, s.labels)} ${formatNumber(s.value)}`),
];

const renderHistogram = (family: PrometheusFamily, series: readonly HistogramSeries[]): string[] => {
  const lines = header(family);
  const bucketLabels = [...family.labels, 'le'];
  for (const s of series) {
    let cumulative = 0;
    SEND_DURATION_BUCKETS_SECONDS.forEach((bound, i) => {
      cumulative += s.buckets[i] ?? 0;
      lines.push(
        `${family.name}_bucket${labelText(bucketLabels, [...s.labels, formatNumber(bound)])} ${cumulative}`,
      );
    });
    lines.push(`${family.name}_bucket${labelText(bucketLabels, [...s.labels, '+Inf'])} ${s.count}`);
    lines.push(`${family.name}_sum${labelText(family.labels, s.labels)} ${formatNumber(s.sum)}`);
    lines.push(`${family.name}_count${labelText(family.labels, s.labels)} ${s.count}`);
  }
  return lines;
};

/**
 * The local-mode Metrics: the guide's Prometheus series (see `PROMETHEUS`), in this process's
 * memory, so they restart from zero with the process. `billing_failure_rate` is derived at render
 * from the sent counter: failed / (sent + failed) * 100 per tenant and template type.
 */
export const createPrometheusMetrics = (): PrometheusMetrics => {
  const sent = newCounter();
  const delivered = newCounter();
  const read = newCounter();
  const replied = newCounter();
  const stalled = newCounter();
  const activeQueues = newCounter();
  const sendRate = newCounter();
  const webhooksIgnored = newCounter();
  const dependencyFailures = newCounter();
  const durations = new SeriesMap<HistogramSeries>((labels) => ({
    labels,
    buckets: SEND_DURATION_BUCKETS_SECONDS.map(() => 0),
    sum: 0,
    count: 0,
  }));

  const failureRates = (): Series[] => {
    const totals = new Map<string, { labels: string[]; sent: number; failed: number }>();
    for (const s of sent.sorted()) {
      const [tenantId = '', templateType = '', status] = s.labels;
      const key = JSON.stringify([tenantId, templateType]);
      const total = totals.get(key) ?? { labels: [tenantId, templateType], sent: 0, failed: 0 };
      if (status === 'sent') total.sent += s.value;
      if (status === 'failed') total.failed += s.value;
      totals.set(key, total);
    }
    return [...totals.values()]
      .filter((t) => t.sent + t.failed > 0)
      .map((t) => ({ labels: t.labels, value: (t.failed / (t.sent + t.failed)) * 100 }));
  };

  return {
    messageSent: ({ tenantId, templateType, status, durationMs }) => {
      sent.get([tenantId, templateType, status]).value += 1;
      const seconds = durationMs / 1000;
      const histogram = durations.get([tenantId, templateType]);
      // A duration above the last bound lands only in +Inf (the count).
      const index = SEND_DURATION_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
      if (index >= 0) histogram.buckets[index] = (histogram.buckets[index] ?? 0) + 1;
      histogram.sum += seconds;
      histogram.count += 1;
    },
    messageDelivered: ({ tenantId, templateType }) => {
      delivered.get([tenantId, templateType]).value += 1;
    },
    messageRead: ({ tenantId, templateType }) => {
      read.get([tenantId, templateType]).value += 1;
    },
    replyReceived: ({ tenantId, templateType }) => {
      replied.get([tenantId, templateType]).value += 1;
    },
    deliveryStalled: ({ tenantId, templateType }) => {
      stalled.get([tenantId, templateType]).value += 1;
    },
    queueStatusChanged: ({ tenantId, queueId, from, to }) => {
      if (from === to) return;
      if (from && !isFinalQueueStatus(from)) {
        const series = activeQueues.get([tenantId, from]);
        // Clamped: a queue that opened before this process started was never counted here.
        series.value = Math.max(0, series.value - 1);
      }
      if (!isFinalQueueStatus(to)) activeQueues.get([tenantId, to]).value += 1;
      // The pace only means something while a queue runs; dropping it also bounds the series count.
      if (to !== 'running') sendRate.delete([tenantId, queueId]);
    },
    webhookIgnored: ({ tenantId, reason }) => {
      webhooksIgnored.get([tenantId, reason]).value += 1;
    },
    dependencyFailed: ({ dependency, operation }) => {
      dependencyFailures.get([dependency, operation]).value += 1;
    },
    sendRate: ({ tenantId, queueId, perMinute }) => {
      sendRate.get([tenantId, queueId]).value = perMinute;
    },
    flush: async () => undefined,
    render: () =>
      `${[
        ...renderSimple(PROMETHEUS.messagesSent, sent.sorted()),
        ...renderHistogram(PROMETHEUS.sendDuration, durations.sorted()),
        ...renderSimple(PROMETHEUS.activeQueues, activeQueues.sorted()),
        ...renderSimple(PROMETHEUS.sendRate, sendRate.sorted()),
        ...renderSimple(PROMETHEUS.failureRate, failureRates()),
        ...renderSimple(PROMETHEUS.messagesDelivered, delivered.sorted()),
        ...renderSimple(PROMETHEUS.messagesRead, read.sorted()),
        ...renderSimple(PROMETHEUS.messagesReplied, replied.sorted()),
        ...renderSimple(PROMETHEUS.webhooksIgnored, webhooksIgnored.sorted()),
        ...renderSimple(PROMETHEUS.messagesStalled, stalled.sorted()),
        ...renderSimple(PROMETHEUS.dependencyFailures, dependencyFailures.sorted()),
      ].join('\n')}\n`,
  };
};
