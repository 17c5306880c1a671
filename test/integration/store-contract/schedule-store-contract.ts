import { describe, expect, it } from 'vitest';
import type { StoredSchedule } from '../../../lib/ports/store.ts';
import type { MakeStore } from './make-store.ts';

const schedule = (name: string, dueAt: string): StoredSchedule => ({
  name,
  dueAt,
  payload: JSON.stringify({ queueId: name, generation: 1 }),
  createdAt: '2025-01-10T12:00:00.000Z',
});

/** The ScheduleStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeScheduleStoreContract(makeStore: MakeStore): void {
  const freshStore = () => makeStore({});

  describe('ScheduleStore contract', () => {
    it('creates a schedule once: a repeat with the same name keeps the first', async () => {
      // Prepare
      const { store } = await freshStore();

      // Act
      const first = await store.createSchedule(schedule('run-q1', '2025-01-10T13:00:00.000Z'));
      const repeat = await store.createSchedule(schedule('run-q1', '2025-01-10T12:00:00.000Z'));

      // Assess
      expect([first, repeat]).toEqual(['created', 'exists']);
      expect(await store.listDueSchedules('2025-01-10T12:30:00.000Z', 10)).toEqual([]);
      expect(await store.listDueSchedules('2025-01-10T13:00:00.000Z', 10)).toEqual([
        schedule('run-q1', '2025-01-10T13:00:00.000Z'),
      ]);
    });

    it('lists the schedules due by now, earliest first, up to the limit', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.createSchedule(schedule('later', '2025-01-10T12:10:00.001Z'));
      await store.createSchedule(schedule('b', '2025-01-10T12:10:00.000Z'));
      await store.createSchedule(schedule('a', '2025-01-10T12:05:00.000Z'));
      await store.createSchedule(schedule('c', '2025-01-10T12:10:00.000Z'));

      // Act
      const due = await store.listDueSchedules('2025-01-10T12:10:00.000Z', 10);
      const limited = await store.listDueSchedules('2025-01-10T12:10:00.000Z', 2);

      // Assess
      expect(due.map((s) => s.name)).toEqual(['a', 'b', 'c']);
      expect(limited.map((s) => s.name)).toEqual(['a', 'b']);
    });

    it('hands a schedule to exactly one of 10 concurrent claimers, then it is gone', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.createSchedule(schedule('run-q1', '2025-01-10T12:00:00.000Z'));

      // Act
      const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimSchedule('run-q1')));

      // Assess
      expect(claims.filter((c) => c !== undefined)).toEqual([schedule('run-q1', '2025-01-10T12:00:00.000Z')]);
      expect(await store.listDueSchedules('2025-01-11T00:00:00.000Z', 10)).toEqual([]);
      expect(await store.claimSchedule('run-q1')).toBeUndefined();
    });
  });
}
