// @ts-check
/**
 * Calendar arithmetic in Europe/Stockholm over Luxon: the one copy used by the server
 * (src/subject-requests/due-date.ts) and by the browser (src/web/public/text.js, served at
 * /shared/stockholm-calendar.js). Plain JavaScript so the browser can load it as it is; Luxon's
 * `DateTime` is passed in because the two load Luxon from different places (the server from
 * node_modules by name, the browser from /vendor/luxon/luxon.js: a page's CSP allows no import map).
 * A day ends at midnight in Stockholm, whatever the UTC offset is that day (CET or CEST).
 */
export const TIME_ZONE = 'Europe/Stockholm';

/** @param {typeof import('luxon').DateTime} DateTime */
export function stockholmCalendar(DateTime) {
  /** A `YYYY-MM-DD` date as a Luxon date at midnight UTC (pure calendar arithmetic, no zone changes). */
  function calendar(date) {
    const d = /^\d{4}-\d{2}-\d{2}$/.test(date) ? DateTime.fromISO(date, { zone: 'utc' }) : null;
    if (!d?.isValid) throw new RangeError(`not a calendar date: ${date}`);
    return d;
  }
  const inStockholm = (at) => DateTime.fromJSDate(at, { zone: TIME_ZONE });

  /** The Stockholm calendar date of an instant, `YYYY-MM-DD`. */
  const localDateOf = (at) => inStockholm(at).toISODate();
  /** Minutes east of UTC in Stockholm at an instant: 60 in winter, 120 in summer. */
  const offsetMinutesAt = (at) => inStockholm(at).offset;
  const isCalendarDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && DateTime.fromISO(s, { zone: 'utc' }).isValid;
  /** The same day `months` later, or the last day of that month when it is shorter (31 Jan + 1 → 28/29 Feb). */
  const addCalendarMonths = (date, months) => calendar(date).plus({ months }).toISODate();
  const addDays = (date, days) => calendar(date).plus({ days }).toISODate();
  /** The instant a Stockholm calendar day begins (midnight local time), correct on DST change days. */
  const startOfLocalDay = (date) => DateTime.fromISO(calendar(date).toISODate(), { zone: TIME_ZONE }).toJSDate();
  /** The instant a Stockholm calendar day ends: the next day's midnight. */
  const endOfLocalDay = (date) => startOfLocalDay(addDays(date, 1));
  /** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
  const daysBetween = (from, to) => Math.round(calendar(to).diff(calendar(from), 'days').days);
  /** Local date and time in Stockholm with the zone it was in: `2026-11-02`, `14:05:09`, `CET`, `+01:00`. */
  function localDateTime(at) {
    const t = inStockholm(at);
    return { date: t.toISODate(), time: t.toFormat('HH:mm:ss'), zone: t.offset === 120 ? 'CEST' : 'CET', offset: t.toFormat('ZZ') };
  }
  /** An instant (ISO or Date) in Stockholm with date, minutes and zone name, in `locale`'s own order. */
  function formatLocal(locale, at) {
    const t = typeof at === 'string' ? DateTime.fromISO(at) : DateTime.fromJSDate(at);
    return t.setZone(TIME_ZONE).setLocale(locale).toLocaleString({
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
    });
  }
  return { localDateOf, offsetMinutesAt, isCalendarDate, addCalendarMonths, addDays, startOfLocalDay, endOfLocalDay, daysBetween, localDateTime, formatLocal };
}
