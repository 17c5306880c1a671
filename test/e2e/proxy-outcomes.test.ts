import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFailureKind } from '../../lib/local/evolution-simulator/index.ts';
import { type SendingStack, startSendingStack } from '../support/sending-stack.ts';

/**
 * Evolution usually sits behind nginx or Cloudflare. When the proxy answers 502/504 or an HTML
 * page after Evolution already sent the message, resending would message the debtor twice: the
 * contact must end `unknown` (default policy mark_unknown) and never be sent again.
 */
describe('gateway behind a reverse proxy', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs');
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it.each<SimFailureKind>(['proxy_502', 'proxy_504', 'proxy_html'])(
    'marks a send answered by a %s after it went out unknown and never resends it',
    async (kind) => {
      // Prepare: the first send goes out, then the proxy answers with its own error
      const tenant = await s.tenant({ retryBackoffSeconds: 0 });
      s.simulator.injectFailures({ instance: tenant.instance, kind, count: 1 });

      // Act
      const { queueId, numbers } = await s.sendBatch(tenant, 3);
      const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed'], 20_000);

      // Assess: every number went out exactly once, and the ambiguous one is unknown after one attempt
      const log = s.sent(tenant);
      const contacts = (await s.test.container.store.listContacts(queueId, { limit: 10 })).items;
      const unknown = contacts.filter((c) => c.status === 'unknown');
      expect(done).toMatchObject({
        status: 'completed',
        contacts_sent: 2,
        contacts_unknown: 1,
        contacts_failed: 0,
        contacts_pending_retry: 0,
      });
      expect(unknown).toHaveLength(1);
      expect(unknown[0]?.attempts).toBe(1);
      expect(log).toHaveLength(3);
      expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
    },
    30_000,
  );
});
