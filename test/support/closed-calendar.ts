import type { BusinessCalendar, Weekday } from '../../lib/domain/tenant-types.ts';

/**
 * A calendar whose only window (one minute) is three days from `now` in São Paulo: reminders posted
 * during a test wait as `scheduled`, whatever the day and hour the test runs (a fixed weekday's
 * window would be open when the run happens to fall in it).
 */
export const calendarClosedNow = (now: Date = new Date()): BusinessCalendar => {
  const weekday = new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    timeZone: 'America/Sao_Paulo',
  }).format(now);
  const today = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(weekday);
  const opening = ((today + 3) % 7) as Weekday;
  return {
    timezone: 'America/Sao_Paulo',
    weekly: { [opening]: [{ start: '12:00', end: '12:01' }] },
    nationalHolidays: false,
    closedDates: [],
  };
};
