import { expect } from 'vitest';
import type { LocalStack } from '../../lib/local/local-stack.ts';

/** A local stack's settings on its own data dir, free ports and silent logs. */
export const localStackEnv = (
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  DATA_DIR: dataDir,
  PORT: '0',
  DYNAMODB_PORT: '0',
  SIMULATOR_PORT: '0',
  LOG_LEVEL: 'SILENT',
  ...extra,
});

/**
 * A paused one-contact batch asking for `sent` callbacks to `callbackUrl`, and its contact's `sent`
 * emitted (stored and announced) while no worker runs, as a sender that died right after would
 * leave it. Paused, so a worker started later does not send it (a send would emit the event anew).
 * Returns the event's id.
 */
export const emitSentWithoutWorker = async (
  stack: LocalStack,
  options: { externalId: string; callbackUrl: string },
): Promise<string> => {
  const headers = { 'content-type': 'application/json', 'x-billing-api-key': stack.demoApiKey ?? '' };
  const response = await fetch(`${stack.url}/api/v1/billing/send/notification`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      external_id: options.externalId,
      contacts: [{ nome_cliente: 'Ana', telefone: '+55 11 98888-0001', mensagem: 'Aviso' }],
      callback_url: options.callbackUrl,
      callback_events: ['sent'],
    }),
  });
  const { queue_id: queueId } = (await response.json()) as { queue_id: string };
  const paused = await fetch(`${stack.url}/api/v1/billing/queue/${queueId}/control`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ action: 'pause' }),
  });
  expect(paused.status).toBe(200);
  await stack.container.events.emit({
    name: 'sent',
    queueId,
    contactPosition: 0,
    occurredAt: new Date().toISOString(),
  });
  return `${queueId}:0:sent`;
};
