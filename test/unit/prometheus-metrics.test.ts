import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createPrometheusMetrics } from '../../lib/adapters/metrics/prometheus-metrics.ts';
import type { Container } from '../../lib/composition.ts';
import { httpHandler } from '../../lib/http/http-handler.ts';
import { metricsRoute, PROMETHEUS_CONTENT_TYPE } from '../../lib/http/routes/metrics.ts';
import { createLogger } from '../../lib/observability/logger.ts';

const EMPTY_FAMILIES_AFTER_DELIVERED = [
  '# HELP billing_messages_read_total Total de mensagens de billing lidas',
  '# TYPE billing_messages_read_total counter',
  '# HELP billing_messages_replied_total Total de respostas a mensagens de billing',
  '# TYPE billing_messages_replied_total counter',
  '# HELP billing_webhooks_ignored_total Webhooks autenticados do gateway respondidos 2xx ignored, por motivo',
  '# TYPE billing_webhooks_ignored_total counter',
];

describe('prometheus-metrics', () => {
  it('renders the guide series in the text exposition format when a queue sends', () => {
    // Prepare
    const metrics = createPrometheusMetrics();
    metrics.queueStatusChanged({ tenantId: 't1', queueId: 'q1', to: 'pending' });
    metrics.queueStatusChanged({ tenantId: 't1', queueId: 'q1', from: 'pending', to: 'running' });
    metrics.messageSent({ tenantId: 't1', templateType: 'overdue', status: 'sent', durationMs: 250 });
    metrics.messageSent({ tenantId: 't1', templateType: 'overdue', status: 'sent', durationMs: 500 });
    metrics.messageSent({ tenantId: 't1', templateType: 'overdue', status: 'failed', durationMs: 20_000 });
    metrics.messageSent({ tenantId: 't1', templateType: 'overdue', status: 'retry', durationMs: 90_000 });
    metrics.sendRate({ tenantId: 't1', queueId: 'q1', perMinute: 12.5 });
    metrics.messageDelivered({ tenantId: 'ac"me\\sa\nx', templateType: 'upcoming' });
    metrics.deliveryStalled({ tenantId: 't1', templateType: 'overdue' });
    metrics.dependencyFailed({ dependency: 'scheduler', operation: 'schedule' });
    metrics.dependencyFailed({ dependency: 'scheduler', operation: 'schedule' });

    // Act
    const text = metrics.render();

    // Assess
    const bucket = (le: string, n: number) =>
      `billing_send_duration_seconds_bucket{tenant_id="t1",template_type="overdue",le="${le}"} ${n}`;
    expect(text).toBe(
      [
        '# HELP billing_messages_sent_total Total de mensagens de billing enviadas',
        '# TYPE billing_messages_sent_total counter',
        'billing_messages_sent_total{tenant_id="t1",template_type="overdue",status="failed"} 1',
        'billing_messages_sent_total{tenant_id="t1",template_type="overdue",status="retry"} 1',
        'billing_messages_sent_total{tenant_id="t1",template_type="overdue",status="sent"} 2',
        '# HELP billing_send_duration_seconds Duração do envio de mensagem (segundos)',
        '# TYPE billing_send_duration_seconds histogram',
        bucket('0.1', 0),
        bucket('0.25', 1),
        bucket('0.5', 2),
        bucket('1', 2),
        bucket('2.5', 2),
        bucket('5', 2),
        bucket('10', 2),
        bucket('15', 2),
        bucket('30', 3),
        bucket('60', 3),
        bucket('+Inf', 4),
        'billing_send_duration_seconds_sum{tenant_id="t1",template_type="overdue"} 110.75',
        'billing_send_duration_seconds_count{tenant_id="t1",template_type="overdue"} 4',
        '# HELP billing_active_queues Número de queues ativas',
        '# TYPE billing_active_queues gauge',
        'billing_active_queues{tenant_id="t1",status="pending"} 0',
        'billing_active_queues{tenant_id="t1",status="running"} 1',
        '# HELP billing_send_rate Taxa de envio (mensagens por minuto)',
        '# TYPE billing_send_rate gauge',
        'billing_send_rate{tenant_id="t1",queue_id="q1"} 12.5',
        '# HELP billing_failure_rate Taxa de falhas (%)',
        '# TYPE billing_failure_rate gauge',
        // failed / (sent + failed) * 100 = 1 / 3 * 100; retries are not failures yet
        `billing_failure_rate{tenant_id="t1",template_type="overdue"} ${(1 / 3) * 100}`,
        '# HELP billing_messages_delivered_total Total de mensagens de billing entregues',
        '# TYPE billing_messages_delivered_total counter',
        'billing_messages_delivered_total{tenant_id="ac\\"me\\\\sa\\nx",template_type="upcoming"} 1',
        ...EMPTY_FAMILIES_AFTER_DELIVERED,
        '# HELP billing_messages_stalled_total Total de mensagens enviadas sem confirmação do WhatsApp no prazo (paradas)',
        '# TYPE billing_messages_stalled_total counter',
        'billing_messages_stalled_total{tenant_id="t1",template_type="overdue"} 1',
        '# HELP billing_dependency_failures_total Falhas de dependências (banco, fila de trabalho, agendador), por dependência e operação',
        '# TYPE billing_dependency_failures_total counter',
        'billing_dependency_failures_total{dependency="scheduler",operation="schedule"} 2',
        '',
      ].join('\n'),
    );
  });

  it('drops the send rate and the open-queue count when a queue finishes', () => {
    // Prepare
    const metrics = createPrometheusMetrics();
    metrics.queueStatusChanged({ tenantId: 't1', queueId: 'q1', from: 'pending', to: 'running' });
    metrics.sendRate({ tenantId: 't1', queueId: 'q1', perMinute: 6 });

    // Act
    metrics.queueStatusChanged({ tenantId: 't1', queueId: 'q1', from: 'running', to: 'completed' });
    const text = metrics.render();

    // Assess: pending was never counted here (opened before this process), so it stays at 0
    expect(text).toContain('billing_active_queues{tenant_id="t1",status="pending"} 0\n');
    expect(text).toContain('billing_active_queues{tenant_id="t1",status="running"} 0\n');
    expect(text).not.toContain('status="completed"');
    expect(text).not.toContain('billing_send_rate{');
  });

  it('counts ignored webhooks per tenant and reason when webhooks are ignored', () => {
    // Prepare
    const metrics = createPrometheusMetrics();
    metrics.webhookIgnored({ tenantId: 't1', reason: 'unknown_status' });
    metrics.webhookIgnored({ tenantId: 't1', reason: 'unknown_status' });
    metrics.webhookIgnored({ tenantId: 't1', reason: 'own_send' });

    // Act
    const text = metrics.render();

    // Assess
    expect(text).toContain('billing_webhooks_ignored_total{tenant_id="t1",reason="own_send"} 1\n');
    expect(text).toContain('billing_webhooks_ignored_total{tenant_id="t1",reason="unknown_status"} 2\n');
  });

  it('has no failure rate for a type with only retries and unknown outcomes', () => {
    // Prepare
    const metrics = createPrometheusMetrics();
    metrics.messageSent({
      tenantId: 't1',
      templateType: 'notification',
      status: 'unknown',
      durationMs: 15_000,
    });

    // Act
    const text = metrics.render();

    // Assess
    expect(text).toContain(
      'billing_messages_sent_total{tenant_id="t1",template_type="notification",status="unknown"} 1',
    );
    expect(text).not.toContain('billing_failure_rate{');
  });
});

/** GET /metrics through the shared HTTP stack, with only what the route reads in the container. */
const getMetrics = async (container: object) => {
  const handler = httpHandler(metricsRoute, container as Container, {
    logger: createLogger('SILENT'),
    maxBodyBytes: 1024,
  });
  const event = {
    version: '2.0',
    routeKey: 'GET /metrics',
    rawPath: '/metrics',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', http: { method: 'GET', path: '/metrics', sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayProxyEventV2;
  return handler(event, {} as Context);
};

describe('metrics route', () => {
  it('answers the Prometheus text when the container metrics can render', async () => {
    // Prepare
    const metrics = createPrometheusMetrics();
    metrics.messageRead({ tenantId: 't1', templateType: 'overdue' });

    // Act
    const response = await getMetrics({ metrics });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(response.body).toBe(metrics.render());
    expect(response.body).toContain('billing_messages_read_total{tenant_id="t1",template_type="overdue"} 1');
  });

  it('answers 404 ROUTE_NOT_FOUND when metrics go out as EMF (no render)', async () => {
    // Prepare
    const emfLike = { flush: async () => undefined };

    // Act
    const response = await getMetrics({ metrics: emfLike });

    // Assess
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(String(response.body))).toMatchObject({ success: false, code: 'ROUTE_NOT_FOUND' });
  });
});
