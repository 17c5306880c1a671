import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '../../lib/app/create-tenant.ts';
import { setBusinessHours } from '../../lib/app/set-business-hours.ts';
import type { BusinessCalendar } from '../../lib/domain/tenant-types.ts';
import { acmeQueue } from '../support/acme-queue.ts';
import { inMemoryDeps, tenantWith } from '../support/use-case-deps.ts';

// Monday 2026-03-02, 07:00 in São Paulo (10:00 UTC): before the default 09:00 opening.
const MONDAY_7AM = '2026-03-02T10:00:00.000Z';
const OLD_OPENING = '2026-03-02T12:00:00.000Z';

const withHours = (monday: string): BusinessCalendar => {
  const [start = '', end = ''] = monday.split('-');
  return { ...defaultCalendar('America/Sao_Paulo'), weekly: { 1: [{ start, end }] } };
};

/** Tenant acme with the default hours and one queue `scheduled` for the 09:00 opening. */
const waitingForNine = async () => {
  const deps = inMemoryDeps(MONDAY_7AM);
  await deps.store.createTenant(tenantWith({ timezone: 'America/Sao_Paulo' }));
  await deps.store.putCalendar('acme', defaultCalendar('America/Sao_Paulo'));
  await deps.store.createQueue({
    ...acmeQueue({ totalContacts: 3, createdAt: '2026-03-02T09:00:00.000Z' }),
    status: 'scheduled',
    nextRunAt: OLD_OPENING,
  });
  return deps;
};

describe('setBusinessHours', () => {
  it('releases a queue waiting for the old opening at once when the new hours are open now', async () => {
    // Prepare
    const deps = await waitingForNine();

    // Act
    await setBusinessHours(deps, 'acme', withHours('06:00-18:00'));

    // Assess
    expect(deps.published.map((item) => item.queueId)).toEqual(['queue-1']);
  });

  it('moves a waiting queue to the new opening, later or earlier', async () => {
    // Prepare
    const deps = await waitingForNine();

    // Act: opens at 11:00 instead of 09:00
    await setBusinessHours(deps, 'acme', withHours('11:00-18:00'));

    // Assess: scheduled at 11:00 São Paulo (14:00 UTC), within the minute of jitter
    const queue = await deps.store.getQueue('queue-1');
    expect(queue?.status).toBe('scheduled');
    expect(queue?.pauseReason).toBe('Fora do horário comercial; começa segunda-feira, 02/03 às 11:00');
    expect(queue?.nextRunAt?.slice(0, 16)).toBe('2026-03-02T14:00');
    expect(deps.scheduled.map((s) => s.at.slice(0, 16))).toEqual(['2026-03-02T14:00']);
    expect(deps.published).toEqual([]);
  });

  it('saves hours outside the collection window and warns about them, rule by rule', async () => {
    // Prepare
    const deps = await waitingForNine();

    // Act
    const { calendar, warnings } = await setBusinessHours(deps, 'acme', {
      ...withHours('07:00-18:00'),
      weekly: { 1: [{ start: '07:00', end: '18:00' }], 6: [{ start: '09:00', end: '16:00' }] },
    });
    const quiet = await setBusinessHours(deps, 'acme', withHours('08:00-20:00'));

    // Assess
    expect(warnings.map((w) => [w.code, w.excerpt])).toEqual([
      ['STATE_LAW_HOURS_WEEKDAY', 'seg 07:00-18:00'],
      ['STATE_LAW_HOURS_SATURDAY', 'sáb 09:00-16:00'],
    ]);
    expect(calendar.weekly[6]).toEqual([{ start: '09:00', end: '16:00' }]);
    expect(quiet.warnings).toEqual([]);
    expect((await deps.store.getCalendar('acme'))?.weekly).toEqual({ 1: [{ start: '08:00', end: '20:00' }] });
  });

  it('leaves queues that do not wait for an opening alone', async () => {
    // Prepare
    const deps = await waitingForNine();
    await deps.store.createQueue({
      ...acmeQueue({ totalContacts: 1, createdAt: '2026-03-02T09:00:00.000Z' }),
      id: 'queue-paused',
      status: 'paused',
    });

    // Act
    await setBusinessHours(deps, 'acme', withHours('06:00-18:00'));

    // Assess
    expect(deps.published.map((item) => item.queueId)).toEqual(['queue-1']);
    expect((await deps.store.getQueue('queue-paused'))?.status).toBe('paused');
  });
});
