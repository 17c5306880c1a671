import { checkHealth } from '../../app/check-health.ts';
import { DEMO_TENANT_ID } from '../../app/seed-demo-tenant.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { healthResponseSchema } from '../schemas/common.ts';

type HealthDeps = Parameters<typeof checkHealth>[0];

/** GET /health: which dependency is down (store, work queue, the demo instance's gateway); 503 when the service cannot work. */
export const healthRoute: HttpRoute<HealthDeps> = {
  name: 'health',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/health',
      auth: 'none',
      responses: {
        200: { description: 'Tudo certo.', schema: healthResponseSchema },
        503: { description: 'Banco ou fila de trabalho inacessível.', schema: healthResponseSchema },
      },
      errors: [],
      openapi: {
        operationId: 'health',
        tags: ['Operação'],
        summary: 'Saúde do serviço',
        description: 'Vivo e com acesso ao banco; 503 quando o banco não responde.',
      },
      handler: async (c: HealthDeps) => {
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
      },
    }),
  ],
};
