import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFailureKind } from '../../lib/local/evolution-simulator/index.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';

/**
 * Exactly once as a property: whatever the batch size and whatever the gateway does (transient
 * errors, WhatsApp's rate limit, unknown numbers, sends that time out or come back as a proxy's
 * error page), on a DynamoDB whose indexes lag every write, each queue finishes, no debtor gets
 * the reminder twice, and the status counters say exactly what the contacts say.
 */

const FAILURE_KINDS: readonly SimFailureKind[] = [
  'http500',
  'connection_closed',
  'rate_overlimit',
  'not_on_whatsapp',
  'timeout',
  'proxy_502',
];

const scenario = fc.record({
  contacts: fc.integer({ min: 1, max: 8 }),
  failures: fc.array(
    fc.record({ kind: fc.constantFrom(...FAILURE_KINDS), count: fc.integer({ min: 1, max: 2 }) }),
    { maxLength: 3 },
  ),
  retryBackoffSeconds: fc.constantFrom(0, 1),
});

describe('sending exactly once (property, lagging index)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs', { indexLag: { maxLagMs: 300 } });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('finishes every queue with each debtor sent at most once and exact counters', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ contacts, failures, retryBackoffSeconds }) => {
        // Prepare
        const tenant = await s.tenant({ ...FAST_PACE, retryBackoffSeconds, maxRetries: 3 });
        for (const failure of failures) s.simulator.injectFailures({ instance: tenant.instance, ...failure });

        // Act
        const { queueId, numbers } = await s.sendBatch(tenant, contacts);
        const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed', 'cancelled'], 40_000);

        // Assess
        const log = s.sent(tenant).map((m) => m.number);
        const stored = (await s.test.container.store.listContacts(queueId, { limit: 100 })).items;
        const count = (...statuses: string[]) => stored.filter((c) => statuses.includes(c.status)).length;
        expect(done.status).toBe('completed');
        expect(new Set(log).size).toBe(log.length);
        expect(log.every((n) => numbers.includes(n))).toBe(true);
        for (const contact of stored) {
          const sends = log.filter((n) => `+${n}` === contact.phone).length;
          // Sent: exactly once. Unknown: the gateway may have sent it, never twice. Failed: never.
          if (contact.status === 'sent') expect(sends).toBe(1);
          else if (contact.status === 'unknown') expect(sends).toBeLessThanOrEqual(1);
          else expect([contact.status, sends]).toEqual(['failed', 0]);
        }
        expect(done).toMatchObject({
          total_contacts: contacts,
          contacts_sent: count('sent'),
          contacts_failed: count('failed'),
          contacts_unknown: count('unknown'),
          contacts_pending_retry: 0,
          contacts_pending: 0,
        });
      }),
      { numRuns: 12, endOnFailure: true },
    );
  }, 600_000);
});
