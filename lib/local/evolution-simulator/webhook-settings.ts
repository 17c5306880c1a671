import type { ServerResponse } from 'node:http';
import { badRequest, isRecord, parseJson, sendJson } from './http-io.ts';
import type { InstanceRecord } from './state.ts';

/** The messages Evolution's webhookSchema validation gives (`{webhook: {enabled, url, ...}}`, v2). */
const webhookSetErrors = (body: unknown): string[] => {
  if (!isRecord(body)) return ['instance is not of a type(s) object'];
  if (!('webhook' in body)) return ['instance requires property "webhook"'];
  const webhook = body.webhook;
  if (!isRecord(webhook)) return ['instance.webhook is not of a type(s) object'];
  const errors: string[] = [];
  if (!('enabled' in webhook)) errors.push('instance.webhook requires property "enabled"');
  else if (typeof webhook.enabled !== 'boolean')
    errors.push('instance.webhook.enabled is not of a type(s) boolean');
  if (!('url' in webhook)) errors.push('instance.webhook requires property "url"');
  else if (typeof webhook.url !== 'string' || webhook.url === '') errors.push('The "url" cannot be empty');
  for (const flag of ['byEvents', 'base64'] as const) {
    if (flag in webhook && typeof webhook[flag] !== 'boolean')
      errors.push(`instance.webhook.${flag} is not of a type(s) boolean`);
  }
  if ('headers' in webhook && !isRecord(webhook.headers))
    errors.push('instance.webhook.headers is not of a type(s) object');
  if ('events' in webhook) {
    const events = webhook.events;
    if (!Array.isArray(events) || events.some((e) => typeof e !== 'string' || !/^[A-Z_]+$/.test(e)))
      errors.push('instance.webhook.events is not one of enum values');
  }
  return errors;
};

/** What Evolution answers for an instance's webhook (its stored Webhook row); `GET /webhook/find`. */
export const webhookView = (record: InstanceRecord) =>
  record.webhookUrl === undefined
    ? null
    : {
        url: record.webhookUrl,
        enabled: true,
        events: [...record.webhookEvents],
        webhookByEvents: record.webhookByEvents,
        webhookBase64: false,
        headers: { ...record.webhookHeaders },
        instanceId: record.instanceId,
      };

/** Stores the body's webhook on the instance, or removes it when `enabled` is false. */
const applyWebhook = (record: InstanceRecord, webhook: Record<string, unknown>): void => {
  if (webhook.enabled === false) {
    delete record.webhookUrl;
    return;
  }
  record.webhookUrl = webhook.url as string;
  record.webhookHeaders = Object.fromEntries(
    Object.entries((webhook.headers as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [
      k,
      String(v),
    ]),
  );
  record.webhookEvents = [...((webhook.events as string[] | undefined) ?? [])];
  record.webhookByEvents = webhook.byEvents === true;
};

/** `POST /webhook/set/{instance}`, after the guards. */
export const handleWebhookSet = (res: ServerResponse, record: InstanceRecord, raw: string): void => {
  const parsed = parseJson(raw);
  const errors = parsed.ok ? webhookSetErrors(parsed.value) : [parsed.error];
  if (!parsed.ok || errors.length > 0) {
    // Schema failures come nested, as in sendText; a JSON error as a flat list.
    sendJson(res, 400, badRequest(parsed.ok ? [errors] : errors));
    return;
  }
  const webhook = (parsed.value as { webhook: Record<string, unknown> }).webhook;
  applyWebhook(record, webhook);
  sendJson(
    res,
    201,
    webhookView(record) ?? { url: webhook.url, enabled: false, instanceId: record.instanceId },
  );
};
