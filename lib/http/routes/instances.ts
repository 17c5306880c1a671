import { instanceActivity, localDay } from '../../app/tenant-activity.ts';
import { baseIntervalMs } from '../../domain/pacing.ts';
import type { CampaignStore, FeedbackStore } from '../../ports/store.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { instancesResponseSchema } from '../schemas/overview.ts';

type InstancesDeps = AuthDeps & { store: CampaignStore & FeedbackStore };

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
          'Estado da conexão, ritmo, mensagens enviadas hoje e o último erro de envio de cada instância.',
      },
      handler: async (c: InstancesDeps, { auth }) => {
        const { config } = auth.tenant;
        const instances = await c.store.listInstances(auth.tenant.id);
        const today = await instanceActivity(c, auth.tenant.id, localDay(c.clock.now(), config.timezone));
        const perMinute = Math.round((60_000 / baseIntervalMs(config)) * 100) / 100;
        return {
          statusCode: 200,
          body: {
            success: true,
            instances: instances.map((i) => ({
              id: i.id,
              instance_name: i.instanceName,
              is_active: i.isActive,
              connection_state: i.connectionState,
              messages_per_minute: perMinute,
              messages_today: today.get(i.id)?.sent ?? 0,
              last_error: today.get(i.id)?.lastError ?? null,
            })),
          },
        };
      },
    }),
  ],
};
