import { z } from 'zod';
import { isWebhookAuthentic } from '../../adapters/gateway/evolution-webhook-auth.ts';
import {
  evolutionWebhookSchema,
  readEvolutionWebhook,
} from '../../adapters/gateway/evolution-webhook-events.ts';
import { type ApplyGatewayEventsDeps, applyGatewayEvents } from '../../app/apply-gateway-events.ts';
import { DomainError } from '../../domain/errors.ts';
import type { WhatsAppInstance } from '../../domain/tenant-types.ts';
import { errorResponse } from '../http-handler.ts';
import { defineOperation, type HttpRoute } from '../route.ts';
import { webhookAckSchema, webhookParamsSchema } from '../schemas/webhooks.ts';

/** Evolution's first retry comes about 5 s later anyway; the header says so for other senders. */
const RETRY_AFTER_SECONDS = '5';

/**
 * Evolution's webhooks of one of our instances, authenticated by the instance's secret (static
 * header or HS256 JWT). 200 once handled, also when ignored (an unreadable body, an unknown event
 * or status, a message we never sent: Evolution never retries a 4xx, so refusing would only lose
 * it); 503 when Evolution should retry; 401 with no side effect when authentication fails. The
 * body is read only after authentication, so an unreadable one is never answered 400
 * (`readUnreadableBodies`), and it is read as a tolerant reader (not validated).
 */
const webhookOperation = (withEvent: boolean) =>
  defineOperation({
    method: 'POST',
    path: `/api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}${withEvent ? '/{event}' : ''}`,
    auth: 'webhookSecret',
    readUnreadableBodies: true,
    request: {
      // An unknown tenant or instance answers like a wrong secret: the path reveals nothing.
      params: {
        // Each path documents its own parameters; the handler reads both as the one schema's output.
        schema: (withEvent
          ? webhookParamsSchema.required({ event: true })
          : webhookParamsSchema.omit({ event: true })) as typeof webhookParamsSchema,
        invalid: () => new DomainError('WEBHOOK_UNAUTHORIZED'),
      },
      body: { schema: evolutionWebhookSchema, tolerant: true },
    },
    headers: z.object({
      'x-webhook-secret': z.string().optional().openapi({ description: 'O segredo da instância.' }),
      authorization: z
        .string()
        .optional()
        .openapi({ description: '`Bearer <JWT HS256 assinado com o segredo>`.' }),
    }),
    responses: { 200: { description: 'Evento tratado (ou ignorado).', schema: webhookAckSchema } },
    errors: ['WEBHOOK_UNAUTHORIZED', 'WEBHOOK_RETRY_LATER'],
    openapi: {
      operationId: withEvent ? 'evolution_webhook_by_event' : 'evolution_webhook',
      tags: ['Webhooks'],
      summary: withEvent ? 'Webhook da Evolution API (modo por eventos)' : 'Webhook da Evolution API',
      description:
        'Recebe os eventos de uma instância WhatsApp nossa (`instance_id`) do tenant `tenant_id`: `messages.update` ' +
        '(entregue, lida, erro), `messages.upsert` (respostas do cliente; SAIR/PARAR entram no opt-out), ' +
        '`connection.update` (queda e volta da instância) e `send.message` (ignorado). Autenticação pelo segredo da ' +
        'instância: cabeçalho estático `x-webhook-secret`, ou `Authorization: Bearer` com um JWT HS256 assinado com ele ' +
        '(opção `jwt_key` da Evolution; o JWT precisa de `exp`, no máximo 1 hora à frente). Configure com ' +
        '`npm run admin -- instance webhook`. Idempotente e tolerante a repetições e fora de ordem; um status nunca ' +
        'volta atrás. Leitor tolerante: só `event`, `instance` e `data` são lidos; `apikey`, `sender`, `date_time` e ' +
        'demais campos podem ser nulos, ausentes ou de outro tipo. Um webhook autenticado que não serve (corpo ' +
        'ilegível, evento ou status desconhecido, mensagem que não enviamos) recebe 200 `ignored`, nunca 4xx (a ' +
        'Evolution não repete um 4xx). 503 pede que a Evolution tente de novo (recibo chegou antes do registro do envio, ' +
        'ou resposta sem citação segundos após um envio que o histórico do telefone ainda não mostra).',
    },
    handler: async (c: ApplyGatewayEventsDeps, { params, body, request }) => {
      const authentic = (found: WhatsAppInstance | undefined): found is WhatsAppInstance =>
        found !== undefined && isWebhookAuthentic(found.webhookSecret, request.headers, c.clock.now());
      // Eventually consistent, half the read on every webhook (three a message): the instance is
      // read for its tenant and its secret. One a lagging read shows as it was a moment ago (a new
      // secret, a new instance) is read again consistently before the 401: Evolution never repeats
      // a 4xx.
      let instance = await c.store.getInstance(params.tenant_id, params.instance_id, { eventually: true });
      if (!authentic(instance)) instance = await c.store.getInstance(params.tenant_id, params.instance_id);
      // An unknown tenant or instance answers like a wrong secret: the path reveals nothing.
      if (!authentic(instance)) throw new DomainError('WEBHOOK_UNAUTHORIZED');
      const webhook = readEvolutionWebhook(body, {
        pathEvent: params.event,
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
    },
  });

/** POST /api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}[/{event}] */
export const evolutionWebhookRoute: HttpRoute<ApplyGatewayEventsDeps> = {
  name: 'evolution-webhook',
  operations: [webhookOperation(false), webhookOperation(true)],
};
