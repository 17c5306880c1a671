import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import { type EtaDeps, etaContextOf } from '../../app/queue-eta.ts';
import { DomainError } from '../../domain/errors.ts';
import type { CampaignStore } from '../../ports/store.ts';
import { type AuthDeps, queueOwnerOf } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { type CampaignResponse, campaignResponseSchema, externalIdParamsSchema } from '../schemas/billing.ts';
import { queueStatusView } from '../views.ts';

type GetCampaignDeps = AuthDeps & { store: CampaignStore } & Pick<EtaDeps, 'takingTurns'>;

/** GET /api/v1/billing/campaigns/{external_id}: the campaign an ERP created, by its own id. */
export const getCampaignRoute: HttpRoute<GetCampaignDeps> = {
  name: 'get-campaign',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/campaigns/{external_id}',
      auth: 'apiKey',
      scope: 'read',
      request: {
        params: { schema: externalIdParamsSchema, invalid: () => new DomainError('CAMPAIGN_NOT_FOUND') },
      },
      responses: { 200: { description: 'A campanha.', schema: campaignResponseSchema } },
      errors: ['CAMPAIGN_NOT_FOUND'],
      openapi: {
        operationId: 'campaign_by_external_id',
        tags: ['Campanhas'],
        summary: 'Consulta campanha pelo external_id',
        description:
          'A campanha criada com este `external_id`, com os contatos recusados e o status da fila.',
      },
      handler: async (c: GetCampaignDeps, { auth, params }) => {
        const campaign = await c.store.getCampaign(auth.tenant.id, params.external_id);
        // A campaign still being created has no answer yet: it is not found until it is. Nor is one
        // of a template type the key may not use: the same 404 as an unknown external_id.
        if (
          campaign?.state !== 'created' ||
          !auth.apiKey.allowedTemplateTypes.includes(campaign.templateType)
        ) {
          throw new DomainError('CAMPAIGN_NOT_FOUND');
        }
        const queue = await getQueueForTenant(c, queueOwnerOf(auth), campaign.queueId);
        const now = c.clock.now();
        const body: CampaignResponse = {
          success: true,
          billing_campaign_id: campaign.id,
          external_id: campaign.externalId,
          template_type: campaign.templateType,
          queue_id: campaign.queueId,
          callback_url: campaign.callbackUrl ?? '',
          callback_events: campaign.callbackEvents,
          metadata: campaign.metadata,
          created_at: campaign.createdAt,
          accepted: campaign.accepted,
          rejected: campaign.rejected as CampaignResponse['rejected'],
          queue: queueStatusView(
            queue,
            auth.tenant.config,
            now,
            await etaContextOf(c, auth.tenant, [queue], now),
          ),
        };
        return { statusCode: 200, body };
      },
    }),
  ],
};
