/**
 * Calendar arithmetic in the municipality's time zone. GDPR art. 12(3) counts "one month" on the
 * calendar: a request received on 31 January is due on the last day of February. The day ends at
 * midnight in Stockholm, whatever the UTC offset is that day (CET or CEST).
 */
export const TIME_ZONE = 'Europe/Stockholm';

/** A calendar date, YYYY-MM-DD. */
export type LocalDate = string;

const dateParts = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const offsetPart = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, timeZoneName: 'longOffset' });
const timeParts = new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** The Stockholm calendar date of an instant. */
export function localDateOf(at: Date): LocalDate {
  return dateParts.format(at); // en-CA formats as 2026-11-02
}

/** Minutes east of UTC in Stockholm at an instant: 60 in winter, 120 in summer. */
export function offsetMinutesAt(at: Date): number {
  const name = offsetPart.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

function parse(d: LocalDate): { y: number; m: number; d: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  if (!m) throw new RangeError(`not a calendar date: ${d}`);
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
}

function format(y: number, m: number, d: number): LocalDate {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const { y, m, d } = parse(s);
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The same day `months` later, or the last day of that month when it is shorter (31 Jan + 1 → 28/29 Feb). */
export function addCalendarMonths(date: LocalDate, months: number): LocalDate {
  const { y, m, d } = parse(date);
  const index = y * 12 + (m - 1) + months;
  const ny = Math.floor(index / 12);
  const nm = (index % 12) + 1;
  return format(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const { y, m, d } = parse(date);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return format(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** The instant a Stockholm calendar day begins (midnight local time), correct on DST change days. */
export function startOfLocalDay(date: LocalDate): Date {
  const { y, m, d } = parse(date);
  const naive = Date.UTC(y, m - 1, d);
  // The offset at local midnight is the offset in force just before the guess corrected once.
  let t = naive - offsetMinutesAt(new Date(naive)) * 60_000;
  t = naive - offsetMinutesAt(new Date(t)) * 60_000;
  return new Date(t);
}

/** The instant a Stockholm calendar day ends: the next day's midnight. A case is overdue from then. */
export function endOfLocalDay(date: LocalDate): Date {
  return startOfLocalDay(addDays(date, 1));
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  const a = parse(from);
  const b = parse(to);
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000);
}

/** "2026-11-02 14:05:09 CET" style: local date and time in Stockholm with the zone it was in. */
export function localDateTime(at: Date): { date: LocalDate; time: string; zone: 'CET' | 'CEST'; offset: string } {
  const minutes = offsetMinutesAt(at);
  return {
    date: localDateOf(at),
    time: timeParts.format(at),
    zone: minutes === 120 ? 'CEST' : 'CET',
    offset: `+${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`,
  };
}

/** The due date of a request received on `received` (art. 12(3)): one calendar month later. */
export function dueDateFor(received: LocalDate): LocalDate {
  return addCalendarMonths(received, 1);
}

/** The latest an extended case may be answered: three calendar months after receipt (one plus two). */
export function latestExtensionFor(received: LocalDate): LocalDate {
  return addCalendarMonths(received, 3);
}
