import { DomainError } from '../../domain/errors.ts';
import type { Metrics } from '../../ports/metrics.ts';
import { defineOperation, type HttpRoute } from '../route.ts';

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Metrics that can render the Prometheus text (the Prometheus adapter; EMF cannot). */
type MetricsDeps = { metrics: Metrics & { render?(): string } };

/**
 * GET /metrics: the Prometheus series of local mode. In Lambda metrics go out as CloudWatch EMF
 * and there is nothing to scrape, so the route answers 404 there.
 */
export const metricsRoute: HttpRoute<MetricsDeps> = {
  name: 'metrics',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/metrics',
      auth: 'none',
      responses: {
        200: {
          description: 'Exposição de texto do Prometheus (version=0.0.4).',
          content: { [PROMETHEUS_CONTENT_TYPE]: { schema: { type: 'string' } } },
        },
      },
      errors: ['ROUTE_NOT_FOUND'],
      openapi: {
        operationId: 'metrics',
        tags: ['Operação'],
        summary: 'Métricas Prometheus (modo local)',
        description:
          'Séries billing_* no formato de exposição de texto do Prometheus. Só no modo local: na AWS as métricas ' +
          'vão para o CloudWatch (EMF) e esta rota responde 404.',
      },
      handler: async (c: MetricsDeps) => {
        if (!c.metrics.render) throw new DomainError('ROUTE_NOT_FOUND');
        return {
          statusCode: 200,
          body: c.metrics.render(),
          headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
        };
      },
    }),
  ],
};
