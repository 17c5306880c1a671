import { ingestGatewayEvent, isWebhookAuthentic } from '../lib/app/ingest-gateway-event.ts';
import { lambdaHttpHandler, type RouteFactory } from '../lib/composition.ts';
import { DomainError } from '../lib/domain/errors.ts';
import { evolutionWebhookSchema, validate, webhookParamsSchema } from '../lib/http/api-schemas.ts';
import { errorResponse } from '../lib/http/http-handler.ts';

/** Evolution's first retry comes about 5 s later anyway; the header says so for other senders. */
const RETRY_AFTER_SECONDS = '5';

/**
 * POST /api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}[/{event}]: Evolution's webhooks
 * of one of our instances, authenticated by the instance's secret (static header or HS256 JWT).
 * 200 once handled (also when ignored), 503 when Evolution should retry, 401 with no side effect.
 */
export const route: RouteFactory = (c) => async (request) => {
  const params = validate(webhookParamsSchema, request.pathParameters);
  const instance = params.ok
    ? await c.store.getInstance(params.value.tenant_id, params.value.instance_id)
    : undefined;
  // An unknown tenant or instance answers like a wrong secret: the path reveals nothing.
  if (!instance || !isWebhookAuthentic(instance.webhookSecret, request.headers, c.clock.now()))
    throw new DomainError('WEBHOOK_UNAUTHORIZED');
  const body = validate(evolutionWebhookSchema, request.body ?? {});
  if (!body.ok) throw body.error;
  const outcome = await ingestGatewayEvent(
    c,
    instance,
    body.value,
    params.ok ? params.value.event : undefined,
  );
  if (outcome.result === 'retry_later') {
    // Returned, not thrown: an expected race, not a server fault worth an error log.
    const response = errorResponse(new DomainError('WEBHOOK_RETRY_LATER'));
    return { ...response, headers: { 'Retry-After': RETRY_AFTER_SECONDS } };
  }
  return { statusCode: 200, body: { success: true, result: outcome.result } };
};

export const handler = lambdaHttpHandler(route);
