import { getQueueForTenant } from '../../app/get-queue-for-tenant.ts';
import type { RouteFactory } from '../../composition.ts';
import { DomainError } from '../../domain/errors.ts';
import { type CampaignResponse, externalIdParamsSchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';
import { queueStatusView } from '../../http/views.ts';

/** GET /api/v1/billing/campaigns/{external_id}: the campaign an ERP created, by its own id. */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const params = validate(externalIdParamsSchema, request.pathParameters);
    const campaign = params.ok
      ? await c.store.getCampaign(auth.tenant.id, params.value.external_id)
      : undefined;
    // A campaign still being created has no answer yet: it is not found until it is.
    if (campaign?.state !== 'created') throw new DomainError('CAMPAIGN_NOT_FOUND');
    const queue = await getQueueForTenant(c, auth.tenant.id, campaign.queueId);
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
        c.clock.now(),
        await c.store.getCalendar(auth.tenant.id),
      ),
    };
    return { statusCode: 200, body };
  });
