import { type StatsBucket, tenantStats, totalsOf } from '../../app/tenant-figures.ts';
import { FIGURES, type Figures } from '../../domain/activity-figures.ts';
import type { CounterStore } from '../../ports/store.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { statsQuerySchema, statsResponseSchema } from '../schemas/overview.ts';

type StatsDeps = AuthDeps & { store: CounterStore };

const DAY_MS = 24 * 3_600_000;

/** Share of the attempts that ended failed; 0 when nothing was attempted. */
const failureRate = (f: Figures): number => (f.sent + f.failed ? f.failed / (f.sent + f.failed) : 0);

const bucketView = (b: StatsBucket) => ({
  start: b.start.toISOString(),
  end: b.end.toISOString(),
  ...Object.fromEntries(FIGURES.map((f) => [f, b[f]])),
  failure_rate: failureRate(b),
});

/** GET /api/v1/billing/stats?from=&to=&bucket=hour|day: the tenant's figures per hour or day. */
export const statsRoute: HttpRoute<StatsDeps> = {
  name: 'stats',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/stats',
      auth: 'apiKey',
      scope: 'read',
      request: { query: { schema: statsQuerySchema } },
      responses: { 200: { description: 'Os números do período.', schema: statsResponseSchema } },
      errors: ['INVALID_PERIOD'],
      openapi: {
        operationId: 'stats',
        tags: ['Tenant'],
        summary: 'Números de envio por hora ou por dia',
        description:
          'Enviadas, entregues, lidas, respondidas, com falha, paradas e opt-outs em cada hora (UTC) ou dia ' +
          '(fuso do tenant) do período; padrão: as últimas 24 h, por hora. Vem de contadores por hora do ' +
          'tenant: a hora de `from` e a hora corrente contam inteiras.',
      },
      handler: async (c: StatsDeps, { auth, query }) => {
        const to = query.to ? new Date(query.to) : c.clock.now();
        const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
        const buckets = await tenantStats(c, auth.tenant.id, {
          from,
          to,
          bucket: query.bucket,
          timeZone: auth.tenant.config.timezone,
        });
        const totals = totalsOf(buckets);
        return {
          statusCode: 200,
          body: {
            success: true,
            from: from.toISOString(),
            to: to.toISOString(),
            bucket: query.bucket,
            totals: { ...totals, failure_rate: failureRate(totals) },
            buckets: buckets.map(bucketView),
          },
        };
      },
    }),
  ],
};
