import { CronExpressionParser, type CronExpression } from 'cron-parser';
import type { RunSchedule } from './run-schedule.js';

/** Schedules whose next run is further away than this are refused: retention must run far more often. */
const MAX_GAP_MS = 35 * 86_400_000;

/**
 * A RunSchedule read with cron-parser (UTC), which computes the next run after any given instant (the
 * injected clock's), unlike node-cron's `getNextRun()`, which reads the wall clock. node-cron runs the
 * job and requires a day to match both the day-of-month and the day-of-week field when both are set;
 * cron-parser takes either, so such a run is kept only when both single-field readings include it.
 */
export function createCronSchedule(expression: string, opts: { from?: Date } = {}): RunSchedule {
  const parse = (text: string, currentDate?: Date): CronExpression => CronExpressionParser.parse(text, { tz: 'Etc/UTC', currentDate });
  let parsed: CronExpression;
  try {
    parsed = parse(expression);
  } catch {
    throw new Error(`not a cron expression: ${JSON.stringify(expression)}`);
  }
  const fields = expression.trim().split(/\s+/);
  const both = !parsed.fields.dayOfMonth.isWildcard && !parsed.fields.dayOfWeek.isWildcard;
  const byDay = both
    ? [fields.with(-1, '*').join(' '), fields.with(-3, '*').join(' ')].map((text) => parse(text))
    : [];

  // Ingest asks for every upload; most ask again before the next run.
  let cached: { after: number; next: Date } | undefined;

  function nextRunAfter(at: Date): Date {
    const t = at.getTime();
    if (cached && t >= cached.after && t < cached.next.getTime()) return cached.next;
    const runs = parse(expression, at);
    for (;;) {
      const next = runs.next().toDate();
      if (next.getTime() - t > MAX_GAP_MS) break;
      if (byDay.every((e) => e.includesDate(next))) {
        cached = { after: t, next };
        return next;
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
