import { warmupStatus } from '../../app/instance-warmup.ts';
import { instanceActivity, localDay } from '../../app/tenant-activity.ts';
import { baseIntervalMs } from '../../domain/pacing.ts';
import type { Tenant, WhatsAppInstance } from '../../domain/tenant-types.ts';
import type { CampaignStore, CounterStore, FeedbackStore } from '../../ports/store.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { instancesResponseSchema } from '../schemas/overview.ts';

type InstancesDeps = AuthDeps & { store: CampaignStore & FeedbackStore & CounterStore };

/** GET /api/v1/billing/instances: the tenant's WhatsApp instances and their day (never a credential). */
export const instancesRoute: HttpRoute<InstancesDeps> = {
  name: 'instances',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/instances',
      auth: 'apiKey',
      scope: 'read',
      responses: { 200: { description: 'As instâncias do tenant.', schema: instancesResponseSchema } },
      errors: [],
      openapi: {
        operationId: 'instances',
        tags: ['Tenant'],
        summary: 'Instâncias do WhatsApp do tenant',
        description:
          'Estado da conexão, ritmo, mensagens enviadas hoje, o último erro de envio e o aquecimento ' +
          '(limite de hoje de um número novo) de cada instância.',
      },
      handler: async (c: InstancesDeps, { auth }) => {
        const { config } = auth.tenant;
        const instances = await c.store.listInstances(auth.tenant.id);
        const today = await instanceActivity(c, auth.tenant.id, localDay(c.clock.now(), config.timezone));
        const perMinute = Math.round((60_000 / baseIntervalMs(config)) * 100) / 100;
        const warmups = await Promise.all(instances.map((i) => warmupView(c, auth.tenant, i, c.clock.now())));
        return {
          statusCode: 200,
          body: {
            success: true,
            instances: instances.map((i, n) => ({
              id: i.id,
              instance_name: i.instanceName,
              is_active: i.isActive,
              connection_state: i.connectionState,
              messages_per_minute: perMinute,
              messages_today: today.get(i.id)?.sent ?? 0,
              last_error: today.get(i.id)?.lastError ?? null,
              warmup: warmups[n] ?? null,
            })),
          },
        };
      },
    }),
  ],
};

/** The instance's warm-up ramp today; null without one. */
const warmupView = async (c: InstancesDeps, tenant: Tenant, instance: WhatsAppInstance, now: Date) => {
  const { warmup } = instance;
  if (!warmup?.enabled) return null;
  const { today, sentToday } = await warmupStatus(c, tenant, instance, now);
  if (today.kind === 'off') return null;
  return {
    enabled: true as const,
    start_date: warmup.startDate,
    first_day_limit: warmup.firstDayLimit,
    daily_growth: warmup.dailyGrowth,
    day: today.day,
    daily_cap: today.kind === 'ramping' ? today.cap : null,
    sent_today: sentToday,
    complete: today.kind === 'complete',
  };
};
