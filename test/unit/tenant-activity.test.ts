import { describe, expect, it } from 'vitest';
import { instanceActivity, localDay } from '../../lib/app/tenant-activity.ts';
import { newBillingContact, newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type { BillingContact, BillingQueue, Page } from '../../lib/domain/types.ts';

/** Pages of `size` over a list, with the index of the next item as the cursor. */
const paged = <T>(items: T[], limit: number, cursor?: string): Page<T> => {
  const start = Number(cursor ?? 0);
  const end = start + limit;
  return { items: items.slice(start, end), nextCursor: end < items.length ? String(end) : null };
};

/** The two reads the use case makes, over arrays (queues newest first, as the store lists them). */
const fakeStore = (queues: BillingQueue[], contacts: BillingContact[]) => ({
  listQueues: async (_tenantId: string, page: { limit: number; cursor?: string }) =>
    paged(queues, page.limit, page.cursor),
  listContacts: async (queueId: string, page: { limit: number; cursor?: string }) =>
    paged(
      contacts.filter((c) => c.queueId === queueId),
      page.limit,
      page.cursor,
    ),
});

const queue = (id: string, createdAt: string, fields: Partial<BillingQueue> = {}) =>
  newBillingQueue({
    id,
    tenantId: 't',
    campaignId: `c-${id}`,
    externalId: id,
    templateType: 'notification',
    instanceId: 'inst',
    totalContacts: 1,
    createdAt,
    ...fields,
  });

const contact = (queueId: string, position: number, fields: Partial<BillingContact>) =>
  newBillingContact({
    queueId,
    tenantId: 't',
    position,
    phone: `+55119999900${position}`,
    name: `C${position}`,
    invoiceNumber: null,
    variables: {},
    variationId: 'v',
    renderedMessage: 'oi',
    createdAt: '2026-12-16T09:00:00.000Z',
    ...fields,
  });

const period = { from: new Date('2026-12-16T10:00:00Z'), to: new Date('2026-12-16T13:00:00Z') };

describe('tenant activity', () => {
  it("gives the tenant's local day around an instant", () => {
    // Act
    const day = localDay(new Date('2026-12-17T01:00:00Z'), 'America/Sao_Paulo');

    // Assess: midnight in São Paulo is 03:00 UTC.
    expect(day).toEqual({ from: new Date('2026-12-16T03:00:00Z'), to: new Date('2026-12-17T03:00:00Z') });
  });

  it('leaves out queues that finished before the period or were created after it', async () => {
    // Prepare
    const store = fakeStore(
      [
        queue('later', '2026-12-16T14:00:00Z'),
        queue('done', '2026-12-16T08:00:00Z', { completedAt: '2026-12-16T09:00:00Z' }),
      ],
      [
        contact('later', 0, { sentAt: '2026-12-16T12:00:00Z' }),
        contact('done', 0, { sentAt: '2026-12-16T12:00:00Z' }),
      ],
    );

    // Act
    const activity = await instanceActivity({ store }, 't', period);

    // Assess
    expect(activity.size).toBe(0);
  });

  it("sums each instance's sends and keeps its latest error", async () => {
    const store = fakeStore(
      [queue('q1', '2026-12-16T09:00:00Z')],
      [
        contact('q1', 0, { sentAt: '2026-12-16T10:05:00Z' }),
        contact('q1', 1, { status: 'retry', lastError: 'timeout', lastErrorAt: '2026-12-16T10:10:00Z' }),
        contact('q1', 2, {
          status: 'failed',
          lastError: 'not on WhatsApp',
          lastErrorAt: '2026-12-16T11:00:00Z',
        }),
      ],
    );

    const activity = await instanceActivity({ store }, 't', period);

    expect(activity.get('inst')).toEqual({
      sent: 1,
      lastError: { message: 'not on WhatsApp', at: '2026-12-16T11:00:00Z' },
    });
  });
});
