import { METRIC, METRICS_NAMESPACE } from '../lib/observability/metric-names.ts';
import { api, apiFunctionName, apiFunctions, trailingSlashFunction } from './api.ts';
import { callbackSenderFunction } from './callbacks.ts';
import { callbackDelivererFunction, sweeperFunction } from './cron.ts';
import { callbackDeadLetterQueue, workDeadLetterQueue, workQueue } from './queues.ts';
import { SERVICE_NAME } from './runtime.ts';
import { release, releaseDeadLetterQueue } from './scheduler.ts';
import { senderFunction } from './sender.ts';
import { alarmEmail } from './stage.ts';

/**
 * What pages someone, and the dashboard to look at when it does. Business metrics come from our EMF
 * records (lib/observability/metric-names.ts, dimension `service` alone); the rest from AWS's own.
 */

/** Every alarm notifies this topic, on ALARM and back on OK. */
export const alarmTopic = new aws.sns.Topic('AlarmTopic');

export const alarmEmailSubscription = alarmEmail
  ? new aws.sns.TopicSubscription('AlarmEmailSubscription', {
      topic: alarmTopic.arn,
      protocol: 'email',
      endpoint: alarmEmail,
    })
  : undefined;

const notify = { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn] };
const business = { namespace: METRICS_NAMESPACE, dimensions: { service: SERVICE_NAME } };

/**
 * Failure rate = Failed / (Sent + Failed) per 5 minutes, alarming when above 20% in 3 of 5 periods.
 * Periods with fewer than MINIMUM_SAMPLE outcomes count as 0, so two failures out of three messages
 * at night do not page anyone; missing data (nothing sent) is not a breach.
 */
export const FAILURE_RATE = {
  threshold: 0.2,
  periodSeconds: 300,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  minimumSample: 20,
} as const;

/** The settings of an alarm on the share of one outcome among the sends of each period. */
interface ShareOfSends {
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  minimumSample: number;
}

/** `outcome / (sent + outcome)`, or 0 below `minimumSample` (the alarm's and the dashboard's). */
const shareOfSendsExpression = (outcome: string, minimumSample: number): string => {
  const all = `FILL(sent, 0) + FILL(${outcome}, 0)`;
  return `IF((${all}) >= ${minimumSample}, FILL(${outcome}, 0) / (${all}), 0)`;
};

/**
 * An alarm on `outcome / (sent + outcome)` per period: periods with fewer than `minimumSample` of
 * them count as 0, and missing data (nothing sent) is not a breach.
 */
const shareOfSendsAlarm = (
  name: string,
  outcome: { id: string; metricName: string; label: string },
  settings: ShareOfSends,
  alarmDescription: string,
) => {
  const sum = (id: string, metricName: string) => ({
    id,
    returnData: false,
    metric: { ...business, metricName, period: settings.periodSeconds, stat: 'Sum' },
  });
  return new aws.cloudwatch.MetricAlarm(name, {
    alarmDescription,
    comparisonOperator: 'GreaterThanThreshold',
    threshold: settings.threshold,
    evaluationPeriods: settings.evaluationPeriods,
    datapointsToAlarm: settings.datapointsToAlarm,
    treatMissingData: 'notBreaching',
    metricQueries: [
      sum('sent', METRIC.sent),
      sum(outcome.id, outcome.metricName),
      {
        id: 'rate',
        returnData: true,
        label: outcome.label,
        expression: shareOfSendsExpression(outcome.id, settings.minimumSample),
      },
    ],
    ...notify,
  });
};

export const failureRateAlarm = shareOfSendsAlarm(
  'FailureRateAlarm',
  { id: 'failed', metricName: METRIC.failed, label: 'Failure rate' },
  FAILURE_RATE,
  `More than ${FAILURE_RATE.threshold * 100}% of WhatsApp sends failed (${FAILURE_RATE.datapointsToAlarm} of ${FAILURE_RATE.evaluationPeriods} periods of ${FAILURE_RATE.periodSeconds / 60} min, at least ${FAILURE_RATE.minimumSample} sends)`,
);

/**
 * Stalled deliveries (Evolution's 201 PENDING that WhatsApp never acknowledges: a banned or
 * restricted number, LID mix-ups): stalled / (sent + stalled) per 15 minutes, alarming above 10% in
 * any period with at least MINIMUM_SAMPLE of them. A send is found stalled a delivery timeout
 * (default 15 min) after it went out, so the period is at least that long, and the stalled count is
 * in the denominator: a batch that went out in one period and stalled in the next still alarms.
 */
export const STALL_RATE = {
  threshold: 0.1,
  periodSeconds: 900,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  minimumSample: 20,
} as const;

export const stalledDeliveriesAlarm = shareOfSendsAlarm(
  'StalledDeliveriesAlarm',
  { id: 'stalled', metricName: METRIC.stalled, label: 'Stalled rate' },
  STALL_RATE,
  `More than ${STALL_RATE.threshold * 100}% of WhatsApp messages got no acknowledgement within the delivery timeout (periods of ${STALL_RATE.periodSeconds / 60} min, at least ${STALL_RATE.minimumSample} messages): check the instance's number in Evolution`,
);

/**
 * Outages of what the product depends on (issue 17): DynamoDB unreachable or throttling past the
 * SDK's retries (the API answers 503), the work queue refusing publishes (the sweeper publishes
 * later), the scheduler refusing schedules (the sweeper starts the queue). Each is survivable for
 * a while, so one bad minute does not page; failures in 3 of 5 minutes do.
 */
export const DEPENDENCY_OUTAGE = {
  periodSeconds: 60,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
} as const;

const dependencyOutages = {
  store:
    'DynamoDB is unreachable or throttling: the API answers 503 STORE_UNAVAILABLE; check the table and its limits',
  work_queue:
    'the work queue refuses publishes: batches are accepted and the sweeper publishes them late; check SQS',
  scheduler:
    'EventBridge Scheduler refuses schedules: the sweeper starts deferred queues late; check the scheduler quota',
} as const;

export const dependencyAlarms = Object.entries(dependencyOutages).map(
  ([dependency, meaning]) =>
    new aws.cloudwatch.MetricAlarm(`DependencyOutageAlarm-${dependency}`, {
      alarmDescription: `Sustained ${dependency} failures (${DEPENDENCY_OUTAGE.datapointsToAlarm} of ${DEPENDENCY_OUTAGE.evaluationPeriods} minutes): ${meaning}`,
      namespace: METRICS_NAMESPACE,
      metricName: METRIC.dependencyFailures,
      dimensions: { service: SERVICE_NAME, dependency },
      statistic: 'Sum',
      period: DEPENDENCY_OUTAGE.periodSeconds,
      evaluationPeriods: DEPENDENCY_OUTAGE.evaluationPeriods,
      datapointsToAlarm: DEPENDENCY_OUTAGE.datapointsToAlarm,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      treatMissingData: 'notBreaching',
      ...notify,
    }),
);

/** Any message in a dead-letter queue is something nobody will retry by itself: page at once. */
const deadLetterQueues = {
  Work: workDeadLetterQueue,
  Callback: callbackDeadLetterQueue,
  Release: releaseDeadLetterQueue,
};
/** What the on-call does, per queue (docs/deploy.md has the details). */
const deadLetterAdvice: Record<keyof typeof deadLetterQueues, string> = {
  Work: 'see `npm run admin -- dlq list`, fix the cause, then `dlq redrive` (finished queues are dropped)',
  Callback: 'inspect and redrive (docs/deploy.md)',
  Release: 'inspect and redrive (docs/deploy.md)',
};

export const deadLetterAlarms = Object.entries(deadLetterQueues).map(
  ([label, queue]) =>
    new aws.cloudwatch.MetricAlarm(`${label}DeadLetterAlarm`, {
      alarmDescription: `${label} dead-letter queue is not empty: ${deadLetterAdvice[label as keyof typeof deadLetterQueues]}`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: queue.nodes.queue.name },
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 1,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      treatMissingData: 'notBreaching',
      ...notify,
    }),
);

/**
 * A work item waiting over an hour, three periods in a row. Items of one instance take turns (FIFO
 * group), so some wait is normal with several queues on an instance; an hour means the pumps stalled.
 */
export const OLDEST_WORK_ITEM_MAX_SECONDS = 3600;

export const oldestWorkItemAlarm = new aws.cloudwatch.MetricAlarm('OldestWorkItemAlarm', {
  alarmDescription: `A work item has waited more than ${OLDEST_WORK_ITEM_MAX_SECONDS / 60} minutes in the work queue`,
  namespace: 'AWS/SQS',
  metricName: 'ApproximateAgeOfOldestMessage',
  dimensions: { QueueName: workQueue.nodes.queue.name },
  statistic: 'Maximum',
  period: 300,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  comparisonOperator: 'GreaterThanThreshold',
  threshold: OLDEST_WORK_ITEM_MAX_SECONDS,
  treatMissingData: 'notBreaching',
  ...notify,
});

/** Functions whose unhandled errors (crashes, timeouts, out of memory) we alarm on, by label. */
const functionsByLabel: Record<string, { name: $util.Input<string> }> = {
  Sender: senderFunction,
  Sweeper: sweeperFunction,
  CallbackDeliverer: callbackDelivererFunction,
  CallbackSender: callbackSenderFunction,
  Release: release,
  ...Object.fromEntries(Object.entries(apiFunctions).map(([fn, f]) => [apiFunctionName(fn), f])),
  ApiTrailingSlash: trailingSlashFunction,
};

/** Errors in 2 of 3 five-minute periods: one cold-start hiccup does not page, a broken deploy does. */
/** Any occurrence in 2 of 3 five-minute periods: errors that are never expected, yet not paged on one blip. */
const ANY_IN_2_OF_3_PERIODS = {
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  comparisonOperator: 'GreaterThanThreshold',
  threshold: 0,
  treatMissingData: 'notBreaching',
} as const;

export const lambdaErrorAlarms = Object.entries(functionsByLabel).map(
  ([label, fn]) =>
    new aws.cloudwatch.MetricAlarm(`${label}ErrorsAlarm`, {
      alarmDescription: `${label} Lambda function is failing (unhandled errors, timeouts)`,
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: fn.name },
      ...ANY_IN_2_OF_3_PERIODS,
      ...notify,
    }),
);

/** The sender should never be throttled (maximumConcurrency <= reserved): if it is, items drift to the DLQ. */
export const senderThrottleAlarm = new aws.cloudwatch.MetricAlarm('SenderThrottlesAlarm', {
  alarmDescription: 'Sender invocations are throttled: check reserved concurrency against maximumConcurrency',
  namespace: 'AWS/Lambda',
  metricName: 'Throttles',
  dimensions: { FunctionName: senderFunction.name },
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  comparisonOperator: 'GreaterThanThreshold',
  threshold: 0,
  treatMissingData: 'notBreaching',
  ...notify,
});

/** A 5xx is never the client's fault (design section 7): our bug or an outage. */
export const api5xxAlarm = new aws.cloudwatch.MetricAlarm('Api5xxAlarm', {
  alarmDescription: 'The HTTP API answers 5xx',
  namespace: 'AWS/ApiGateway',
  metricName: '5xx',
  dimensions: { ApiId: api.nodes.api.id },
  ...ANY_IN_2_OF_3_PERIODS,
  ...notify,
});

const region = aws.getRegionOutput().apply((r: { region?: string; name?: string }) => r.region ?? r.name);
const PERIOD = 300;
const businessMetric = (name: string, options: Record<string, unknown> = {}) => [
  METRICS_NAMESPACE,
  name,
  'service',
  SERVICE_NAME,
  options,
];
const widget = (x: number, y: number, title: string, properties: Record<string, unknown>) => ({
  type: 'metric',
  x,
  y,
  width: 12,
  height: 6,
  properties: { title, region, period: PERIOD, view: 'timeSeries', ...properties },
});

/** Sent, failed, delivered, failure rate, work queue depth and age, dead letters, sender health. */
export const dashboard = new aws.cloudwatch.Dashboard('Dashboard', {
  dashboardName: `${$app.name}-${$app.stage}`,
  dashboardBody: $jsonStringify({
    widgets: [
      widget(0, 0, 'Mensagens (soma por 5 min)', {
        stat: 'Sum',
        metrics: [
          businessMetric(METRIC.sent, { label: 'Enviadas' }),
          businessMetric(METRIC.failed, { label: 'Falhas' }),
          businessMetric(METRIC.delivered, { label: 'Entregues' }),
          businessMetric(METRIC.read, { label: 'Lidas' }),
          businessMetric(METRIC.replied, { label: 'Respondidas' }),
          businessMetric(METRIC.stalled, { label: 'Sem confirmação (paradas)' }),
        ],
      }),
      widget(12, 0, 'Taxa de falhas', {
        stat: 'Sum',
        yAxis: { left: { min: 0, max: 1 } },
        metrics: [
          [
            {
              expression: shareOfSendsExpression('failed', FAILURE_RATE.minimumSample),
              label: 'Falhas / (enviadas + falhas)',
              id: 'rate',
            },
          ],
          businessMetric(METRIC.sent, { id: 'sent', visible: false }),
          businessMetric(METRIC.failed, { id: 'failed', visible: false }),
        ],
        annotations: { horizontal: [{ value: FAILURE_RATE.threshold, label: 'Alarme' }] },
      }),
      widget(0, 6, 'Fila de trabalho', {
        stat: 'Maximum',
        metrics: [
          [
            'AWS/SQS',
            'ApproximateNumberOfMessagesVisible',
            'QueueName',
            workQueue.nodes.queue.name,
            { label: 'Aguardando' },
          ],
          [
            'AWS/SQS',
            'ApproximateNumberOfMessagesNotVisible',
            'QueueName',
            workQueue.nodes.queue.name,
            { label: 'Em execução' },
          ],
          [
            'AWS/SQS',
            'ApproximateAgeOfOldestMessage',
            'QueueName',
            workQueue.nodes.queue.name,
            { label: 'Idade da mais antiga (s)', yAxis: 'right' },
          ],
        ],
      }),
      widget(12, 6, 'Dead-letter queues', {
        stat: 'Maximum',
        metrics: Object.entries(deadLetterQueues).map(([label, queue]) => [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          queue.nodes.queue.name,
          { label },
        ]),
      }),
      widget(0, 12, 'Sender (Lambda)', {
        stat: 'Sum',
        metrics: [
          ['AWS/Lambda', 'Invocations', 'FunctionName', senderFunction.name],
          ['AWS/Lambda', 'Errors', 'FunctionName', senderFunction.name],
          ['AWS/Lambda', 'Throttles', 'FunctionName', senderFunction.name],
          [
            'AWS/Lambda',
            'ConcurrentExecutions',
            'FunctionName',
            senderFunction.name,
            { stat: 'Maximum', yAxis: 'right' },
          ],
        ],
      }),
      widget(12, 12, 'Duração do envio (ms)', {
        metrics: [
          businessMetric(METRIC.sendDuration, { stat: 'p50', label: 'p50' }),
          businessMetric(METRIC.sendDuration, { stat: 'p90', label: 'p90' }),
          businessMetric(METRIC.sendDuration, { stat: 'Maximum', label: 'máximo' }),
        ],
      }),
    ],
  }),
});
