import { checkHealth } from '../../app/check-health.ts';
import { DEMO_TENANT_ID } from '../../app/seed-demo-tenant.ts';
import type { RouteFactory } from '../../composition.ts';

/** GET /health: which dependency is down (store, work queue, the demo instance's gateway); 503 when the service cannot work. */
export const route: RouteFactory = (c) => async () => {
  const report = await checkHealth(c, { tenantId: DEMO_TENANT_ID, instanceId: 'demo' });
  return {
    statusCode: report.status === 'ok' ? 200 : 503,
    body: {
      status: report.status,
      store: report.store,
      work_queue: report.workQueue,
      gateway: report.gateway,
      latency_ms: report.latencyMs,
    },
  };
};
