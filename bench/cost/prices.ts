/**
 * AWS list prices the cost model uses, in one table: us-east-1, Lambda on arm64 (infra/runtime.ts).
 *
 * Written without web access: these are the published prices as known in 2025, each with the date
 * it took effect (or was last confirmed) and the page that lists it. Check the pages before quoting
 * a figure to anyone. Free tiers (Lambda's 400,000 GB-s and 1M requests, SQS's 1M requests, the
 * Scheduler's 14M invocations, DynamoDB's 25 GB, CloudWatch's 5 GB of logs...) are left out on
 * purpose: they are per account and month, not per message, and a product this size spends them
 * on its first customer.
 */

export interface Price {
  /** US dollars per one `unit`. */
  usd: number;
  unit: string;
  /** When this price took effect, or the latest date it was known to hold. */
  asOf: string;
  source: string;
}

const perMillion = (usd: number): number => usd / 1_000_000;

export const PRICES = {
  /** arm64, first 6 billion GB-s a month (x86 is $0.0000166667). */
  lambdaGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second (arm64)',
    asOf: '2021-09 (Graviton2 launch), unchanged through 2025',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  lambdaRequest: {
    usd: perMillion(0.2),
    unit: 'invocation',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  /** On-demand, Standard table class; halved from $1.25 on 2024-11-01. */
  dynamoWriteUnit: {
    usd: perMillion(0.625),
    unit: 'write request unit (on-demand)',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  /** On-demand, Standard table class; halved from $0.25 on 2024-11-01. */
  dynamoReadUnit: {
    usd: perMillion(0.125),
    unit: 'read request unit (on-demand)',
    asOf: '2024-11-01',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  /** Standard table class, beyond the first 25 GB a month. */
  dynamoStorageGbMonth: {
    usd: 0.25,
    unit: 'GB-month stored (table and indexes)',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  /** Every 64 KB chunk of a payload is one request. */
  /** Continuous backups, which infra/storage.ts turns on: billed on the table's size, like storage. */
  dynamoPitrGbMonth: {
    usd: 0.2,
    unit: 'GB-month of point-in-time recovery',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  sqsFifoRequest: {
    usd: perMillion(0.5),
    unit: 'FIFO request (64 KB chunk)',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  sqsStandardRequest: {
    usd: perMillion(0.4),
    unit: 'standard request (64 KB chunk)',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  /** HTTP API, first 300 million a month; metered in 512 KB increments. */
  apiGatewayHttpRequest: {
    usd: perMillion(1.0),
    unit: 'HTTP API request (512 KB increment)',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  /** Beyond the 14 million free a month; creating and deleting schedules is not charged. */
  schedulerInvocation: {
    usd: perMillion(1.0),
    unit: 'EventBridge Scheduler invocation',
    asOf: '2022-11 (launch), unchanged through 2025',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  /**
   * Standard log class ingestion; EMF metrics are log lines, so they are billed here (the metrics
   * they create are billed monthly, below). Lambda logs have volume tiers since 2025-05; $0.50 is
   * the first tier (up to 10 TB a month).
   */
  cloudwatchLogsIngestedGb: {
    usd: 0.5,
    unit: 'GB of logs ingested',
    asOf: '2025-05 (Lambda log tiers), first tier',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  cloudwatchLogsStoredGbMonth: {
    usd: 0.03,
    unit: 'GB-month of logs stored (compressed)',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  /** First 10,000 metrics: one per metric name and set of dimension values. */
  cloudwatchMetricMonth: {
    usd: 0.3,
    unit: 'custom metric-month',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  /** Standard resolution; a metric math alarm pays per metric it reads. */
  cloudwatchAlarmMetricMonth: {
    usd: 0.1,
    unit: 'alarm metric-month',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  /** Beyond the 3 free dashboards (of up to 50 metrics) a month. */
  cloudwatchDashboardMonth: {
    usd: 3.0,
    unit: 'dashboard-month',
    asOf: 'unchanged through 2025',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

export const GB = 1024 ** 3;
