import { isWebhookAuthentic } from '../../adapters/gateway/evolution-webhook-auth.ts';
import { readEvolutionWebhook } from '../../adapters/gateway/evolution-webhook-events.ts';
import { applyGatewayEvents } from '../../app/apply-gateway-events.ts';
import type { RouteFactory } from '../../composition.ts';
import { DomainError } from '../../domain/errors.ts';
import { validate, webhookParamsSchema } from '../../http/api-schemas.ts';
import { errorResponse } from '../../http/http-handler.ts';

/** Evolution's first retry comes about 5 s later anyway; the header says so for other senders. */
const RETRY_AFTER_SECONDS = '5';

/**
 * POST /api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}[/{event}]: Evolution's webhooks
 * of one of our instances, authenticated by the instance's secret (static header or HS256 JWT).
 * 200 once handled, also when ignored (an unreadable body, an unknown event or status, a message
 * we never sent: Evolution never retries a 4xx, so refusing would only lose it); 503 when Evolution
 * should retry; 401 with no side effect when authentication fails. The body is read only after
 * authentication, so an unreadable one is never answered 400 (`readUnreadableBodies`).
 */
export const route: RouteFactory = Object.assign(
  ((c) => async (request) => {
    const params = validate(webhookParamsSchema, request.pathParameters);
    const instance = params.ok
      ? await c.store.getInstance(params.value.tenant_id, params.value.instance_id)
      : undefined;
    // An unknown tenant or instance answers like a wrong secret: the path reveals nothing.
    if (!instance || !isWebhookAuthentic(instance.webhookSecret, request.headers, c.clock.now()))
      throw new DomainError('WEBHOOK_UNAUTHORIZED');
    const webhook = readEvolutionWebhook(request.body, {
      pathEvent: params.ok ? params.value.event : undefined,
      headers: request.headers,
      bodyProblem: request.bodyProblem,
      receivedAt: c.clock.now(),
    });
    const outcome = await applyGatewayEvents(c, instance, webhook);
    if (outcome.result === 'retry_later') {
      // Returned, not thrown: an expected race, not a server fault worth an error log.
      const response = errorResponse(new DomainError('WEBHOOK_RETRY_LATER'));
      return { ...response, headers: { 'Retry-After': RETRY_AFTER_SECONDS } };
    }
    return { statusCode: 200, body: { success: true, result: outcome.result } };
  }) satisfies RouteFactory,
  { readUnreadableBodies: true },
);
