import { lambdaHttpHandler, type RouteFactory } from '../lib/composition.ts';

/** GET /health: liveness plus a store round trip, so a broken table shows as 503, not as "ok". */
export const route: RouteFactory = (c) => async () => {
  const started = c.clock.now().getTime();
  try {
    await c.store.getTenant('__health__');
    return {
      statusCode: 200,
      body: { status: 'ok', store: 'ok', latency_ms: c.clock.now().getTime() - started },
    };
  } catch (error) {
    c.logger.error('health check failed', { error: error as Error });
    return { statusCode: 503, body: { status: 'degraded', store: 'unreachable' } };
  }
};

export const handler = lambdaHttpHandler(route);
