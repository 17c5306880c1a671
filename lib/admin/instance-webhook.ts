import { WEBHOOK_SECRET_HEADER } from '../adapters/gateway/evolution-webhook-auth.ts';
import { evolutionWebhookUrl } from '../adapters/gateway/evolution-webhook-events.ts';
import type { Container } from '../composition.ts';
import { DomainError } from '../domain/errors.ts';
import { UsageError } from './flags.ts';

/**
 * The Evolution events the product reads (shared/evolution-contract.md, webhooks): receipts, replies
 * and connection changes. Not `SEND_MESSAGE`: it echoes each of our own sends, which the sender has
 * already recorded, and the intake ignores it (`own_send`); subscribed, it would cost one API request
 * and one Lambda invocation per message for nothing (issue 12). An instance still subscribed to it
 * from before keeps working: its echoes are answered 200 `ignored`.
 */
export const WEBHOOK_EVENTS = ['MESSAGES_UPDATE', 'MESSAGES_UPSERT', 'CONNECTION_UPDATE'];

/**
 * Points an instance's Evolution webhook at `publicUrl` + the webhook path: on AWS the webhook
 * function's own URL (the deploy's `evolutionWebhook` output; infra/api.ts), locally the API's
 * (`POST {baseUrl}/webhook/set/{instanceName}`,
 * v2 body), authenticated by the instance's secret: a static `x-webhook-secret` header, or with
 * `jwt` Evolution's `jwt_key` (an HS256 JWT per post; it expires after 10 minutes, so late retries
 * of a long outage are refused: the static header is the default for that reason).
 */
export const configureInstanceWebhook = async (
  c: Pick<Container, 'store' | 'secrets'>,
  input: { tenantId: string; instanceId: string; publicUrl: string; jwt?: boolean },
): Promise<{ instance: string; webhook_url: string; events: string[]; auth: 'x-webhook-secret' | 'jwt' }> => {
  const instance = await c.store.getInstance(input.tenantId, input.instanceId);
  if (!instance) throw new DomainError('INSTANCE_NOT_FOUND');
  if (!/^https?:\/\/[^/\s]+/.test(input.publicUrl))
    throw new UsageError(
      `--url must be the http(s) base URL of the webhook (on AWS the evolutionWebhook output), got "${input.publicUrl}"`,
    );
  const url = evolutionWebhookUrl(input.publicUrl, input.tenantId, input.instanceId);
  const headers = input.jwt
    ? { jwt_key: instance.webhookSecret }
    : { [WEBHOOK_SECRET_HEADER]: instance.webhookSecret };
  const response = await fetch(
    `${instance.baseUrl}/webhook/set/${encodeURIComponent(instance.instanceName)}`,
    {
      method: 'POST',
      headers: {
        apikey: await c.secrets.resolve(instance.credentialRef),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        webhook: { enabled: true, url, byEvents: false, base64: false, headers, events: WEBHOOK_EVENTS },
      }),
      signal: AbortSignal.timeout(15_000),
    },
  );
  const answer = await response.text();
  // The answer echoes the headers (the secret): only its status and a short excerpt are reported.
  if (!response.ok)
    throw new Error(
      `Evolution recusou webhook/set (${response.status}): ${answer.replace(instance.webhookSecret, '***').slice(0, 300)}`,
    );
  return {
    instance: instance.id,
    webhook_url: url,
    events: WEBHOOK_EVENTS,
    auth: input.jwt ? 'jwt' : 'x-webhook-secret',
  };
};
