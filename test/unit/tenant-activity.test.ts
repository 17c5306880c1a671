import { describe, expect, it } from 'vitest';
import { bucketBounds, instanceActivity, localDay, tenantStats } from '../../lib/app/tenant-activity.ts';
import { newBillingContact, newBillingQueue } from '../../lib/domain/billing-queue.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import type { BillingContact, BillingQueue, OptOut, Page } from '../../lib/domain/types.ts';

/** Pages of `size` over a list, with the index of the next item as the cursor. */
const paged = <T>(items: T[], limit: number, cursor?: string): Page<T> => {
  const start = Number(cursor ?? 0);
  const end = start + limit;
  return { items: items.slice(start, end), nextCursor: end < items.length ? String(end) : null };
};

/** The three reads the use case makes, over arrays (queues newest first, as the store lists them). */
const fakeStore = (queues: BillingQueue[], contacts: BillingContact[], optOuts: OptOut[] = []) => ({
  listQueues: async (_tenantId: string, page: { limit: number; cursor?: string }) =>
    paged(queues, page.limit, page.cursor),
  listContacts: async (queueId: string, page: { limit: number; cursor?: string }) =>
    paged(
      contacts.filter((c) => c.queueId === queueId),
      page.limit,
      page.cursor,
    ),
  listOptOuts: async (_tenantId: string, page: { limit: number; cursor?: string }) =>
    paged(optOuts, page.limit, page.cursor),
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
  it('splits a period into whole UTC hours, the last bound at or after its end', () => {
    const bounds = bucketBounds(
      { from: new Date('2026-12-16T10:30:00Z'), to: new Date('2026-12-16T12:10:00Z') },
      'hour',
      'UTC',
    );

    expect(bounds.map((b) => b.toISOString())).toEqual([
      '2026-12-16T10:00:00.000Z',
      '2026-12-16T11:00:00.000Z',
      '2026-12-16T12:00:00.000Z',
      '2026-12-16T13:00:00.000Z',
    ]);
  });

  it("splits a period into the tenant's local days", () => {
    const bounds = bucketBounds(
      { from: new Date('2026-12-16T12:00:00Z'), to: new Date('2026-12-17T12:00:00Z') },
      'day',
      'America/Sao_Paulo',
    );

    // Midnight in São Paulo is 03:00 UTC.
    expect(bounds.map((b) => b.toISOString())).toEqual([
      '2026-12-16T03:00:00.000Z',
      '2026-12-17T03:00:00.000Z',
      '2026-12-18T03:00:00.000Z',
    ]);
    expect(localDay(new Date('2026-12-17T01:00:00Z'), 'America/Sao_Paulo')).toEqual({
      from: new Date('2026-12-16T03:00:00Z'),
      to: new Date('2026-12-17T03:00:00Z'),
    });
  });

  it('counts each moment of a contact in the bucket it happened in, and opt-outs of the period', async () => {
    const store = fakeStore(
      [queue('q1', '2026-12-16T09:00:00Z')],
      [
        contact('q1', 0, {
          status: 'read',
          sentAt: '2026-12-16T10:05:00Z',
          deliveredAt: '2026-12-16T10:06:00Z',
          readAt: '2026-12-16T11:30:00Z',
          repliedAt: '2026-12-16T12:00:00Z',
        }),
        contact('q1', 1, {
          status: 'failed',
          lastError: 'not on WhatsApp',
          lastErrorAt: '2026-12-16T10:07:00Z',
        }),
        // Sent before the period: not counted.
        contact('q1', 2, {
          status: 'sent',
          sentAt: '2026-12-16T09:59:59Z',
          stalledAt: '2026-12-16T10:20:00Z',
        }),
      ],
      [
        { tenantId: 't', phone: '+5511999990001', source: 'api', reason: '', at: '2026-12-16T12:30:00Z' },
        { tenantId: 't', phone: '+5511999990002', source: 'api', reason: '', at: '2026-12-16T09:00:00Z' },
      ],
    );

    const buckets = await tenantStats({ store }, 't', { ...period, bucket: 'hour', timeZone: 'UTC' });

    expect(buckets.map(({ start, end, ...figures }) => [start.toISOString().slice(11, 13), figures])).toEqual(
      [
        ['10', { sent: 1, delivered: 1, read: 0, replied: 0, failed: 1, stalled: 1, opted_out: 0 }],
        ['11', { sent: 0, delivered: 0, read: 1, replied: 0, failed: 0, stalled: 0, opted_out: 0 }],
        ['12', { sent: 0, delivered: 0, read: 0, replied: 1, failed: 0, stalled: 0, opted_out: 1 }],
      ],
    );
  });

  it('skips queues that finished before the period or were created after it', async () => {
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

    const buckets = await tenantStats({ store }, 't', { ...period, bucket: 'hour', timeZone: 'UTC' });

    expect(buckets.reduce((sum, b) => sum + b.sent, 0)).toBe(0);
  });

  it('refuses a reversed period and one longer than 31 days', async () => {
    const store = fakeStore([], []);
    const reversed = { from: period.to, to: period.from, bucket: 'hour' as const, timeZone: 'UTC' };
    const long = {
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-03-01T00:00:00Z'),
      bucket: 'day' as const,
      timeZone: 'UTC',
    };

    await expect(tenantStats({ store }, 't', reversed)).rejects.toMatchObject({ code: 'INVALID_PERIOD' });
    await expect(tenantStats({ store }, 't', long)).rejects.toBeInstanceOf(DomainError);
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
