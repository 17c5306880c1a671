import { lambdaHttpHandler, type RouteFactory } from '../lib/composition.ts';
import { DomainError } from '../lib/domain/errors.ts';

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const canRender = (metrics: unknown): metrics is { render(): string } =>
  typeof metrics === 'object' &&
  metrics !== null &&
  typeof (metrics as { render?: unknown }).render === 'function';

/**
 * GET /metrics: the Prometheus series of local mode. In Lambda metrics go out as CloudWatch EMF
 * and there is nothing to scrape, so the route answers 404 there.
 */
export const route: RouteFactory = (c) => async () => {
  const metrics: unknown = (c as { metrics?: unknown }).metrics;
  if (!canRender(metrics)) throw new DomainError('ROUTE_NOT_FOUND');
  return {
    statusCode: 200,
    body: metrics.render(),
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
  };
};

export const handler = lambdaHttpHandler(route);
