import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

const MINUTE = 60_000;

/**
 * Stalled deliveries end to end: the local stack over HTTP and the Evolution simulator, told over
 * its control API to accept some sends (201 PENDING) and never acknowledge them. Once the tenant's
 * delivery timeout has passed (the test moves the stack's clock), the local worker's sweeper finds
 * them and the queue's status body shows them in `contacts_stalled`; `GET /metrics` counts them.
 */
describe('stalled deliveries (local stack)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs', { env: { SWEEPER_INTERVAL_SECONDS: '1' } });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('shows sends that WhatsApp never acknowledged in contacts_stalled once the timeout has passed', async () => {
    // Prepare: the first two sends of the instance are never acknowledged
    const tenant = await s.tenant({ ...FAST_PACE, deliveryTimeoutMinutes: 15 });
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
      jwt: false,
    });
    const knob = await fetch(`${s.simulator.url}/_sim/failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'no_receipts', count: 2, instance: tenant.instance }),
    });
    expect(knob.status).toBe(200);

    // Act
    const { queueId } = await s.sendBatch(tenant, 4);
    await s.waitForStatus(tenant, queueId, ['completed']);
    const acknowledged = await waitFor(
      async () => {
        const body = await s.status(tenant, queueId);
        return body.contacts_read === 2 && s.simulator.pendingWebhooks() === 0 ? body : undefined;
      },
      { timeoutMs: 15_000, what: 'the receipts of the two acknowledged sends' },
    );
    s.test.clock.advance(16 * MINUTE);
    const stalled = await waitFor(
      async () => {
        const body = await s.status(tenant, queueId);
        return body.contacts_stalled === 2 ? body : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the sweeper to find the two stalled sends' },
    );
    // The metric follows the counters write (and the tenant's figures) in the sweeper's run.
    const stalledMetric = `billing_messages_stalled_total{tenant_id="${tenant.tenantId}",template_type="notification"} 2`;
    const metrics = await waitFor(
      async () => {
        const answer = await s.test.get('/metrics', { key: null });
        return String(answer.body).includes(stalledMetric) ? answer : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'the stalled sends in /metrics' },
    );
    const contacts = await s.test.get(`/api/v1/billing/queue/${queueId}/contacts`, { key: tenant.key });

    // Assess
    expect(acknowledged.contacts_stalled).toBe(0);
    expect(stalled).toMatchObject({
      status: 'completed',
      contacts_sent: 4,
      contacts_delivered: 2,
      contacts_read: 2,
      contacts_stalled: 2,
    });
    // The first two sends got no receipts: stalled, still `sent`; the others were acknowledged.
    const rows = contacts.body.contacts as Array<{ status: string; stalled_at: string | null }>;
    expect(rows.map((c) => [c.status, c.stalled_at !== null])).toEqual([
      ['sent', true],
      ['sent', true],
      ['read', false],
      ['read', false],
    ]);
    expect(String(metrics.body)).toContain(stalledMetric);
  }, 60_000);
});
