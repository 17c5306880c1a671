import { isOpen, nextOpening } from '../../domain/business-hours.ts';
import { isDomainError } from '../../domain/errors.ts';
import type { BusinessCalendar } from '../../domain/tenant-types.ts';
import type { AuthDeps } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { type MeResponse, meResponseSchema } from '../schemas/overview.ts';

/** Open now, or when it opens; null when the calendar never opens (no window in the search horizon). */
const businessHoursNow = (calendar: BusinessCalendar, now: Date) => {
  try {
    return { open_now: isOpen(calendar, now), next_opening: nextOpening(calendar, now).toISOString() };
  } catch (error) {
    if (isDomainError(error) && error.code === 'NO_BUSINESS_HOURS') return null;
    throw error;
  }
};

/** GET /api/v1/billing/me: who the key belongs to (the dashboard's login check and header). */
export const meRoute: HttpRoute<AuthDeps> = {
  name: 'me',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/me',
      auth: 'apiKey',
      scope: 'read',
      responses: { 200: { description: 'O tenant e a chave.', schema: meResponseSchema } },
      errors: [],
      openapi: {
        operationId: 'me',
        tags: ['Tenant'],
        summary: 'O tenant e a API Key usada',
        description:
          'Nome e fuso horário do tenant, seus limites (tamanho máximo do lote, limite diário), nome, tipos ' +
          'permitidos e validade da chave, e se o horário comercial está aberto agora (ou quando abre).',
      },
      handler: async (c: AuthDeps, { auth }) => {
        const now = c.clock.now();
        const calendar = await c.store.getCalendar(auth.tenant.id);
        const body: MeResponse = {
          success: true,
          tenant: { id: auth.tenant.id, name: auth.tenant.name, timezone: auth.tenant.config.timezone },
          limits: {
            max_batch_size: auth.tenant.config.maxBatchSize,
            daily_message_limit: auth.tenant.config.dailyMessageLimit,
          },
          api_key: {
            name: auth.apiKey.name,
            prefix: auth.apiKey.keyPrefix,
            allowed_template_types: auth.apiKey.allowedTemplateTypes,
            expires_at: auth.apiKey.expiresAt,
          },
          business_hours: calendar ? businessHoursNow(calendar, now) : null,
        };
        return { statusCode: 200, body };
      },
    }),
  ],
};
