/**
 * Metric names, in one place: the EMF adapter writes these, the CloudWatch alarms and dashboards
 * read them, the local Prometheus endpoint exposes the guide's names. Renaming one breaks alarms.
 */

/** CloudWatch namespace of every EMF metric. */
export const METRICS_NAMESPACE = 'Billing';

/**
 * CloudWatch metric names (EMF). Dimensions are only `service`, `template_type` and `status`:
 * - MessagesSent, MessagesFailed, SendDurationMs: sets [service], [service, template_type], [service, status];
 *   MessagesFailed counts attempts that ended `failed` (permanent); the SampleCount of SendDurationMs per
 *   `status` counts every attempt by outcome (sent, failed, retry, unknown).
 * - MessagesDelivered, MessagesRead, MessagesReplied: sets [service], [service, template_type].
 * - MessagesStalled: sets [service], [service, template_type]; sent messages found with no
 *   acknowledgement within the tenant's delivery timeout (counted when found, once per message).
 * - ActiveQueues: set [service, status]; signed changes (+1 entering an open status, -1 leaving it),
 *   so its Sum over a period is the net change of open queues in that status.
 * - SendRatePerMinute: set [service]; the measured pace of a running queue (use Average or Maximum).
 * - WebhooksIgnored: sets [service], [service, reason]; authenticated gateway webhooks answered 2xx
 *   `ignored` (see WebhookIgnoredReason in lib/ports/metrics.ts).
 */
export const METRIC = {
  sent: 'MessagesSent',
  failed: 'MessagesFailed',
  delivered: 'MessagesDelivered',
  read: 'MessagesRead',
  replied: 'MessagesReplied',
  stalled: 'MessagesStalled',
  sendDuration: 'SendDurationMs',
  activeQueues: 'ActiveQueues',
  sendRate: 'SendRatePerMinute',
  webhooksIgnored: 'WebhooksIgnored',
  dependencyFailures: 'DependencyFailures',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type PrometheusType = 'counter' | 'gauge' | 'histogram';

export interface PrometheusFamily {
  name: string;
  help: string;
  type: PrometheusType;
  labels: readonly string[];
}

const family = <const L extends readonly string[]>(
  name: string,
  type: PrometheusType,
  help: string,
  labels: L,
): PrometheusFamily & { labels: L } => ({ name, type, help, labels });

/**
 * Prometheus series of local mode (`GET /metrics`): the guide's five, with its labels and help
 * texts, plus counters for receipts, replies, ignored webhooks and stalled deliveries, which the
 * guide does not name.
 */
export const PROMETHEUS = {
  messagesSent: family('billing_messages_sent_total', 'counter', 'Total de mensagens de billing enviadas', [
    'tenant_id',
    'template_type',
    'status',
  ]),
  sendDuration: family(
    'billing_send_duration_seconds',
    'histogram',
    'Duração do envio de mensagem (segundos)',
    ['tenant_id', 'template_type'],
  ),
  activeQueues: family('billing_active_queues', 'gauge', 'Número de queues ativas', ['tenant_id', 'status']),
  sendRate: family('billing_send_rate', 'gauge', 'Taxa de envio (mensagens por minuto)', [
    'tenant_id',
    'queue_id',
  ]),
  failureRate: family('billing_failure_rate', 'gauge', 'Taxa de falhas (%)', ['tenant_id', 'template_type']),
  messagesDelivered: family(
    'billing_messages_delivered_total',
    'counter',
    'Total de mensagens de billing entregues',
    ['tenant_id', 'template_type'],
  ),
  messagesRead: family('billing_messages_read_total', 'counter', 'Total de mensagens de billing lidas', [
    'tenant_id',
    'template_type',
  ]),
  messagesReplied: family(
    'billing_messages_replied_total',
    'counter',
    'Total de respostas a mensagens de billing',
    ['tenant_id', 'template_type'],
  ),
  webhooksIgnored: family(
    'billing_webhooks_ignored_total',
    'counter',
    'Webhooks autenticados do gateway respondidos 2xx ignored, por motivo',
    ['tenant_id', 'reason'],
  ),
  messagesStalled: family(
    'billing_messages_stalled_total',
    'counter',
    'Total de mensagens enviadas sem confirmação do WhatsApp no prazo (paradas)',
    ['tenant_id', 'template_type'],
  ),
  dependencyFailures: family(
    'billing_dependency_failures_total',
    'counter',
    'Falhas de dependências (banco, fila de trabalho, agendador), por dependência e operação',
    ['dependency', 'operation'],
  ),
} as const;

/**
 * Upper bounds (seconds) of the send-duration histogram: a plain send takes well under a second,
 * a typing delay adds seconds, and the gateway's client timeout (15 s by default) caps the rest.
 */
export const SEND_DURATION_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60] as const;
