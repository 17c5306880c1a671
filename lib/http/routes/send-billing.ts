import { z } from 'zod';
import type { CreateCampaignDeps } from '../../app/campaign-intake.ts';
import { createCampaign } from '../../app/create-campaign.ts';
import { dryRunCampaign } from '../../app/dry-run-campaign.ts';
import type { TemplateType } from '../../domain/types.ts';
import type { AuthDeps } from '../authenticate.ts';
import type { HttpResponse } from '../http-handler.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import {
  dryRunResponseSchema,
  isDryRun,
  sendBillingRequestSchema,
  sendBillingResponseSchema,
  sendQuerySchema,
} from '../schemas/billing.ts';
import { sendResponseView } from '../views.ts';

export type SendBillingDeps = AuthDeps & CreateCampaignDeps;

/** What tells the three send routes apart: the template type and its documentation. */
export interface SendBillingKind {
  templateType: TemplateType;
  summary: string;
  description: string;
  example: unknown;
}

/** POST /api/v1/billing/send/{overdue|upcoming|notification}: the guide's three send views in one. */
export const sendBillingRoute = (kind: SendBillingKind): HttpRoute<SendBillingDeps> => ({
  name: `send-${kind.templateType}`,
  operations: [
    defineOperation({
      method: 'POST',
      path: `/api/v1/billing/send/${kind.templateType}`,
      auth: 'apiKey',
      scope: 'send',
      templateType: kind.templateType,
      request: {
        query: { schema: sendQuerySchema },
        body: { schema: sendBillingRequestSchema, example: kind.example },
      },
      responses: {
        200: {
          description: 'Campanha criada (ou, com `dry_run`, a simulação: nada é gravado nem enviado).',
          headers: {
            'Idempotent-Replayed': {
              description: '`true` quando a resposta é a repetição da primeira para este `external_id`.',
              schema: { type: 'string', enum: ['true'] },
            },
          },
          schema: z.union([sendBillingResponseSchema, dryRunResponseSchema]),
        },
      },
      errors: [
        'NO_VALID_CONTACTS',
        'UNKNOWN_INSTANCE',
        'BATCH_TOO_LARGE',
        'TEMPLATE_NOT_FOUND',
        'NO_ACTIVE_VARIATION',
        'INVALID_CALLBACK_URL',
        'API_DISABLED',
        'DAILY_LIMIT_EXCEEDED',
        'EXTERNAL_ID_CONFLICT',
        'REQUEST_IN_PROGRESS',
        // Reminders keep business hours; a tenant without them cannot be sent any (notifications are 24/7).
        ...(kind.templateType === 'notification' ? [] : (['NO_BUSINESS_HOURS'] as const)),
      ],
      openapi: {
        operationId: `send_${kind.templateType}`,
        tags: ['Envio'],
        summary: kind.summary,
        description:
          `${kind.description}\n\n` +
          'Idempotente por `external_id`: o mesmo `external_id` com o mesmo conteúdo devolve a primeira resposta ' +
          '(cabeçalho `Idempotent-Replayed: true`); com conteúdo diferente, 409. ' +
          'Contatos inválidos são recusados um a um (`rejected`); se nenhum for válido, 400 `NO_VALID_CONTACTS`. ' +
          'Campos desconhecidos no corpo são ignorados.',
      },
      handler: async (c: SendBillingDeps, { auth, query, body }): Promise<HttpResponse> => {
        const input = {
          tenant: auth.tenant,
          apiKey: auth.apiKey,
          templateType: kind.templateType,
          externalId: body.external_id,
          contacts: body.contacts,
          callbackUrl: body.callback_url || null,
          callbackEvents: body.callback_events,
          metadata: body.metadata ?? {},
          instanceId: body.instance ?? null,
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
      },
    }),
  ],
});
