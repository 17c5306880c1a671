import { describe, expect, it } from 'vitest';
import { bucketBounds, countTenantFigures, tenantStats, totalsOf } from '../../lib/app/tenant-figures.ts';
import { figuresOfCounterDeltas } from '../../lib/domain/activity-figures.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import { createInMemoryStore } from '../support/in-memory-store.ts';
import { handClock } from '../support/use-case-deps.ts';

const period = { from: new Date('2026-12-16T10:00:00Z'), to: new Date('2026-12-16T13:00:00Z') };

/** A store whose clock is past every event of `counts`, added at their instants (ISO -> figures). */
const storeWith = async (counts: Record<string, Parameters<typeof countTenantFigures>[3]>) => {
  const clock = handClock('2026-12-18T00:00:00.000Z');
  const store = createInMemoryStore({ clock });
  for (const [at, figures] of Object.entries(counts))
    await countTenantFigures({ store, clock }, 't', new Date(at), figures);
  return { store, clock };
};

describe('tenant figures', () => {
  it('splits a period into whole UTC hours, the last bound at or after its end', () => {
    // Act
    const bounds = bucketBounds(
      { from: new Date('2026-12-16T10:30:00Z'), to: new Date('2026-12-16T12:10:00Z') },
      'hour',
      'UTC',
    );

    // Assess
    expect(bounds.map((b) => b.toISOString())).toEqual([
      '2026-12-16T10:00:00.000Z',
      '2026-12-16T11:00:00.000Z',
      '2026-12-16T12:00:00.000Z',
      '2026-12-16T13:00:00.000Z',
    ]);
  });

  it("splits a period into the tenant's local days", () => {
    // Act
    const bounds = bucketBounds(
      { from: new Date('2026-12-16T12:00:00Z'), to: new Date('2026-12-17T12:00:00Z') },
      'day',
      'America/Sao_Paulo',
    );

    // Assess: midnight in São Paulo is 03:00 UTC.
    expect(bounds.map((b) => b.toISOString())).toEqual([
      '2026-12-16T03:00:00.000Z',
      '2026-12-17T03:00:00.000Z',
      '2026-12-18T03:00:00.000Z',
    ]);
  });

  it('puts each counted event in the bucket of the hour it happened in', async () => {
    // Prepare
    const { store } = await storeWith({
      '2026-12-16T09:59:59Z': { sent: 7 },
      '2026-12-16T10:05:00Z': { sent: 1, delivered: 1, failed: 1, stalled: 1 },
      '2026-12-16T10:40:00Z': { sent: 1 },
      '2026-12-16T11:30:00Z': { read: 1 },
      '2026-12-16T12:00:00Z': { replied: 1, opted_out: 1 },
      '2026-12-16T13:00:00Z': { sent: 9 },
    });

    // Act
    const buckets = await tenantStats({ store }, 't', { ...period, bucket: 'hour', timeZone: 'UTC' });

    // Assess: the hours before `from` and from `to` on are left out.
    expect(buckets.map(({ start, end, ...figures }) => [start.toISOString().slice(11, 13), figures])).toEqual(
      [
        ['10', { sent: 2, delivered: 1, read: 0, replied: 0, failed: 1, stalled: 1, opted_out: 0 }],
        ['11', { sent: 0, delivered: 0, read: 1, replied: 0, failed: 0, stalled: 0, opted_out: 0 }],
        ['12', { sent: 0, delivered: 0, read: 0, replied: 1, failed: 0, stalled: 0, opted_out: 1 }],
      ],
    );
    expect(totalsOf(buckets)).toMatchObject({ sent: 2, read: 1, replied: 1 });
  });

  it("sums the hours of each of the tenant's local days, the hour of `from` counted whole", async () => {
    // Prepare: 02:00 UTC on the 17th is still the 16th in São Paulo.
    const { store } = await storeWith({
      '2026-12-16T12:00:00Z': { sent: 1 },
      '2026-12-16T12:50:00Z': { sent: 2 },
      '2026-12-17T02:59:00Z': { sent: 4 },
      '2026-12-17T03:00:00Z': { sent: 8 },
    });

    // Act
    const days = await tenantStats({ store }, 't', {
      from: new Date('2026-12-16T12:30:00Z'),
      to: new Date('2026-12-17T12:00:00Z'),
      bucket: 'day',
      timeZone: 'America/Sao_Paulo',
    });

    // Assess
    expect(days.map((d) => [d.start.toISOString(), d.sent])).toEqual([
      ['2026-12-16T03:00:00.000Z', 7],
      ['2026-12-17T03:00:00.000Z', 8],
    ]);
  });

  it('refuses a reversed period and one longer than 31 days', async () => {
    // Prepare
    const { store } = await storeWith({});
    const reversed = { from: period.to, to: period.from, bucket: 'hour' as const, timeZone: 'UTC' };
    const long = {
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-03-01T00:00:00Z'),
      bucket: 'day' as const,
      timeZone: 'UTC',
    };

    // Act + Assess
    await expect(tenantStats({ store }, 't', reversed)).rejects.toMatchObject({ code: 'INVALID_PERIOD' });
    await expect(tenantStats({ store }, 't', long)).rejects.toBeInstanceOf(DomainError);
  });

  it('writes nothing for nothing counted, or for an hour already past its 400 days', async () => {
    // Prepare
    const clock = handClock('2026-12-16T13:00:00.000Z');
    const writes: Date[] = [];
    const store = { addTenantFigures: async (_t: string, hour: Date) => void writes.push(hour) };

    // Act
    await countTenantFigures({ store, clock }, 't', new Date('2026-12-16T12:10:00Z'), {});
    await countTenantFigures({ store, clock }, 't', new Date('2025-11-01T12:00:00Z'), { delivered: 1 });
    await countTenantFigures({ store, clock }, 't', new Date('2026-12-16T12:10:00Z'), { sent: 1 });

    // Assess
    expect(writes).toEqual([new Date('2026-12-16T12:00:00Z')]);
  });

  it('counts an event dated ahead of our clock (a gateway running fast) in the current hour', async () => {
    // Prepare
    const clock = handClock('2026-12-16T13:59:00.000Z');
    const writes: Date[] = [];
    const store = { addTenantFigures: async (_t: string, hour: Date) => void writes.push(hour) };

    // Act
    await countTenantFigures({ store, clock }, 't', new Date('2026-12-16T14:01:00Z'), { read: 1 });

    // Assess
    expect(writes).toEqual([new Date('2026-12-16T13:00:00Z')]);
  });

  it('counts the increase of a queue counter as events, never a decrease, and no other counter', () => {
    // Act
    const failedReceipt = figuresOfCounterDeltas({
      contactsSent: -1,
      contactsFailed: 1,
      contactsStalled: -1,
    });
    const readFirst = figuresOfCounterDeltas({ contactsDelivered: 1, contactsRead: 1 });
    const retry = figuresOfCounterDeltas({ contactsPendingRetry: 1, contactsSkipped: 1 });

    // Assess
    expect(failedReceipt).toEqual({ failed: 1 });
    expect(readFirst).toEqual({ delivered: 1, read: 1 });
    expect(retry).toEqual({});
  });
});
