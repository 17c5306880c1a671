import { controlQueue } from '../../app/control-queue.ts';
import type { RouteFactory } from '../../composition.ts';
import { DomainError } from '../../domain/errors.ts';
import { queueControlRequestSchema, queueIdParamsSchema, validate } from '../../http/api-schemas.ts';
import { withAuth } from '../../http/authenticate.ts';

/** POST /api/v1/billing/queue/{queue_id}/control {"action": "pause" | "resume" | "cancel"}. */
export const route: RouteFactory = (c) =>
  withAuth(c, async (request, auth) => {
    const params = validate(queueIdParamsSchema, request.pathParameters);
    if (!params.ok) throw new DomainError('QUEUE_NOT_FOUND');
    const body = validate(queueControlRequestSchema, request.body);
    if (!body.ok) throw new DomainError('INVALID_ACTION');
    const { message, queue } = await controlQueue(
      c,
      auth.tenant.id,
      params.value.queue_id,
      body.value.action,
    );
    return { statusCode: 200, body: { success: true, message, queue_id: queue.id, status: queue.status } };
  });
