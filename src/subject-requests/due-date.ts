/**
 * Calendar arithmetic in the municipality's time zone. GDPR art. 12(3) counts "one month" on the
 * calendar: a request received on 31 January is due on the last day of February. The day ends at
 * midnight in Stockholm, whatever the UTC offset is that day (CET or CEST). The arithmetic is
 * src/shared/stockholm-calendar.js over Luxon, the same copy the browser runs.
 */
import { DateTime } from 'luxon';
import { stockholmCalendar, type LocalDate } from '../shared/stockholm-calendar.js';

export { TIME_ZONE, type LocalDate } from '../shared/stockholm-calendar.js';

export const {
  localDateOf,
  offsetMinutesAt,
  isCalendarDate,
  addCalendarMonths,
  addDays,
  startOfLocalDay,
  endOfLocalDay,
  daysBetween,
  localDateTime,
} = stockholmCalendar(DateTime);

/** The due date of a request received on `received` (art. 12(3)): one calendar month later. */
export function dueDateFor(received: LocalDate): LocalDate {
  return addCalendarMonths(received, 1);
}

/** The latest an extended case may be answered: three calendar months after receipt (one plus two). */
export function latestExtensionFor(received: LocalDate): LocalDate {
  return addCalendarMonths(received, 3);
}
