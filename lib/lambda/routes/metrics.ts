import type { RouteFactory } from '../../composition.ts';
import { DomainError } from '../../domain/errors.ts';

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * GET /metrics: the Prometheus series of local mode. In Lambda metrics go out as CloudWatch EMF
 * and there is nothing to scrape, so the route answers 404 there.
 */
export const route: RouteFactory = (c) => async () => {
  if (!c.metrics.render) throw new DomainError('ROUTE_NOT_FOUND');
  return {
    statusCode: 200,
    body: c.metrics.render(),
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
  };
};
