import { type CreateCampaignDeps, createCampaign, dryRunCampaign } from '../app/create-campaign.ts';
import type { ContactInput } from '../domain/contact-intake.ts';
import type { TemplateType } from '../domain/types.ts';
import { isDryRun, sendBillingRequestSchema, sendQuerySchema, validate } from './api-schemas.ts';
import { type AuthDeps, assertTemplateTypeAllowed, withAuth } from './authenticate.ts';
import type { HttpResponse, RouteFactory } from './http-handler.ts';
import { sendResponseView } from './views.ts';

const orThrow = <T>(result: { ok: true; value: T } | { ok: false; error: Error }): T => {
  if (!result.ok) throw result.error;
  return result.value;
};

/** POST /api/v1/billing/send/{overdue|upcoming|notification}: the guide's three send views in one. */
export const sendBillingRoute =
  (templateType: TemplateType): RouteFactory<AuthDeps & CreateCampaignDeps> =>
  (c) =>
    withAuth(c, async (request, auth): Promise<HttpResponse> => {
      assertTemplateTypeAllowed(auth, templateType);
      const query = orThrow(validate(sendQuerySchema, request.query));
      const body = orThrow(validate(sendBillingRequestSchema, request.body));
      const input = {
        tenant: auth.tenant,
        apiKey: auth.apiKey,
        templateType,
        externalId: body.external_id,
        contacts: body.contacts as ContactInput[],
        callbackUrl: body.callback_url || null,
        callbackEvents: body.callback_events,
        metadata: body.metadata ?? {},
        canonicalBody: body,
      };
      if (isDryRun(query)) {
        const dry = await dryRunCampaign(c, input);
        return {
          statusCode: 200,
          body: {
            success: true,
            dry_run: true,
            message: 'Simulação concluída; nada foi armazenado ou enviado',
            total_contacts: dry.accepted,
            accepted: dry.accepted,
            rejected: dry.rejected,
            messages: dry.messages,
            estimated_duration_minutes: dry.estimatedDurationMinutes,
            scheduled_start: dry.scheduledStart,
          },
        };
      }
      const { campaign, replayed } = await createCampaign(c, input);
      return {
        statusCode: 200,
        body: sendResponseView(campaign),
        headers: replayed ? { 'Idempotent-Replayed': 'true' } : {},
      };
    });
