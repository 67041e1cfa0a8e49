import { DateTime } from 'luxon';

export type LocalTimeResult =
  | { ok: true; at: Date; ambiguous: boolean }
  | { ok: false; reason: 'nonexistent-local-time' | 'invalid-local-time' };

/**
 * A wall-clock time with no zone (a FreePBX file name's yyyymmdd-hhmmss) read in `zone`, through Luxon.
 * A time in the hour repeated when summer time ends is taken as the earlier instant (`ambiguous`); a time
 * in the hour skipped when it begins does not exist and is refused, never shifted.
 */
export function instantOfLocalTime(
  parts: { year: number; month: number; day: number; hour: number; minute: number; second: number },
  zone: string,
): LocalTimeResult {
  const dt = DateTime.fromObject(parts, { zone });
  if (!dt.isValid) return { ok: false, reason: 'invalid-local-time' };
  const same = (d: DateTime) =>
    d.year === parts.year && d.month === parts.month && d.day === parts.day && d.hour === parts.hour && d.minute === parts.minute && d.second === parts.second;
  // Luxon moves a skipped time forward: the wall time it lands on is not the one asked for.
  if (!same(dt)) return { ok: false, reason: 'nonexistent-local-time' };
  // The same wall time an offset-change earlier or later is the other reading of a repeated hour.
  for (const shift of [-1, -0.5, 1, 0.5]) {
    const other = dt.plus({ hours: shift });
    if (same(other)) {
      const earlier = other < dt ? other : dt;
      return { ok: true, at: earlier.toJSDate(), ambiguous: true };
    }
  }
  return { ok: true, at: dt.toJSDate(), ambiguous: false };
}
