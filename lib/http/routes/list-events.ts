import { getQueueForTenant, ownsQueue } from '../../app/get-queue-for-tenant.ts';
import type { CallbackStore, CampaignStore, StoredCallbackEvent } from '../../ports/store.ts';
import { type AuthDeps, queueOwnerOf } from '../authenticate.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { billingEventsQuerySchema, billingEventsResponseSchema } from '../schemas/events.ts';

type ListEventsDeps = AuthDeps & { store: CampaignStore & CallbackStore };

const eventView = (e: StoredCallbackEvent) => ({
  ...e.payload,
  delivery: {
    status: e.delivery.status,
    attempts: e.delivery.attempts,
    next_attempt_at: e.delivery.nextAttemptAt,
    last_attempt_at: e.delivery.lastAttemptAt,
    last_error: e.delivery.lastError,
    delivered_at: e.delivery.deliveredAt,
  },
});

/** GET /api/v1/billing/events?since=&queue_id=&limit=&cursor=: the tenant's callback events with their delivery. */
export const listEventsRoute: HttpRoute<ListEventsDeps> = {
  name: 'list-events',
  operations: [
    defineOperation({
      method: 'GET',
      path: '/api/v1/billing/events',
      auth: 'apiKey',
      scope: 'read',
      request: { query: { schema: billingEventsQuerySchema } },
      responses: { 200: { description: 'Uma página de eventos.', schema: billingEventsResponseSchema } },
      errors: ['QUEUE_NOT_FOUND'],
      openapi: {
        operationId: 'billing_events',
        tags: ['Filas'],
        summary: 'Eventos de callback e sua entrega',
        description:
          'Os eventos (sent, delivered, read, failed, unknown, replied, queue.completed, delivery_stalled, cancelled) das ' +
          'campanhas do tenant, mais antigos primeiro, com o status da entrega ao `callback_url`. ' +
          'O corpo de cada callback é o evento sem `delivery`, ' +
          'assinado no cabeçalho `X-Billing-Signature: t=<unix>,v1=<hex HMAC-SHA256(segredo, "<t>.<corpo>")>` ' +
          '(um `v1` por segredo durante uma rotação). Respostas 2xx confirmam a entrega; as demais são tentadas de novo ' +
          'com espera crescente por cerca de 24 h.',
      },
      handler: async (c: ListEventsDeps, { auth, query }) => {
        const { since, queue_id, limit, cursor } = query;
        // Another tenant's queue is a 404, as everywhere else.
        const owner = queueOwnerOf(auth);
        const queue = queue_id ? await getQueueForTenant(c, owner, queue_id) : undefined;
        const page = await c.store.listCallbackEvents(auth.tenant.id, {
          queueId: queue?.id,
          since: since ? new Date(since).toISOString() : undefined,
          limit,
          cursor,
        });
        // A key limited to some template types sees only the events of their queues.
        const queueIds = [...new Set(page.items.map((e) => e.queueId))];
        const visible = new Set(
          (await Promise.all(queueIds.map((id) => c.store.getQueue(id))))
            .filter((q) => q !== undefined && ownsQueue(owner, q))
            .map((q) => q?.id),
        );
        return {
          statusCode: 200,
          body: {
            success: true,
            events: page.items.filter((e) => visible.has(e.queueId)).map(eventView),
            next_cursor: page.nextCursor,
          },
        };
      },
    }),
  ],
};
