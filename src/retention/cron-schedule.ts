import cron from 'node-cron';
import type { RunSchedule } from './run-schedule.js';

const MINUTE_MS = 60_000;
/** Schedules whose next run is further away than this are refused: retention must run far more often. */
const MAX_SCAN_MS = 35 * 86_400_000;

/**
 * A RunSchedule read with node-cron's own parser and matcher (UTC), so the horizon agrees with the
 * runs node-cron actually makes. node-cron exposes `parse` and `ScheduledTask.match` but no "next run
 * after <date>" for an arbitrary date, so minutes are scanned; the parsed minute list prunes most of them.
 */
export function createCronSchedule(expression: string, opts: { from?: Date } = {}): RunSchedule {
  if (!cron.validate(expression)) throw new Error(`not a cron expression: ${JSON.stringify(expression)}`);
  const fields = cron.parse(expression);
  const minutes = new Set(fields.minute);
  const hours = new Set(fields.hour);
  const seconds = [...fields.second].sort((a, b) => a - b);
  const task = cron.createTask(expression, () => undefined, { timezone: 'Etc/UTC' });

  let cached: { after: number; next: Date } | undefined;

  function nextRunAfter(at: Date): Date {
    const t = at.getTime();
    if (cached && t >= cached.after && t < cached.next.getTime()) return cached.next;
    let minute = Math.floor(t / MINUTE_MS) * MINUTE_MS;
    for (; minute <= t + MAX_SCAN_MS; minute += MINUTE_MS) {
      const d = new Date(minute);
      if (!minutes.has(d.getUTCMinutes()) || !hours.has(d.getUTCHours())) continue;
      for (const s of seconds) {
        const candidate = new Date(minute + s * 1000);
        if (candidate.getTime() > t && task.match(candidate)) {
          cached = { after: t, next: candidate };
          return candidate;
        }
      }
    }
    throw new Error(`the schedule ${JSON.stringify(expression)} has no run within 35 days`);
  }

  // The longest gap over the next runs: enough to cover a weekly pattern of a daily schedule.
  let intervalMs = 0;
  let prev = nextRunAfter(opts.from ?? new Date());
  for (let i = 0; i < 24; i++) {
    const next = nextRunAfter(prev);
    intervalMs = Math.max(intervalMs, next.getTime() - prev.getTime());
    prev = next;
  }
  cached = undefined;
  return { nextRunAfter, intervalMs };
}
