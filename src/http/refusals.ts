import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../shared/logger.js';

/**
 * Refusals of requests nobody authenticated (a forged webhook, an unknown token). They are counted and
 * logged at a bounded rate, never appended to the audit log: anyone who can reach the port could
 * otherwise grow the append-only chain at will and contend for its lock. Refusals of authenticated
 * requests are audited by the capability that refuses them.
 */
export function createRefusalLog(deps: { metrics: Registry; logger: Logger; perMinute?: number; now?: () => number }) {
  const counter = new Counter({
    name: 'gallra_unauthenticated_refusals_total',
    help: 'Requests refused before anyone was authenticated (not audited), by route and problem',
    labelNames: ['route', 'problem'] as const,
    registers: [deps.metrics],
  });
  const perMinute = deps.perMinute ?? 10;
  const now = deps.now ?? (() => performance.now());
  let windowStart = -Infinity;
  let logged = 0;
  let suppressed = 0;
  return {
    /** Counts one refusal; logs it unless this minute's share of lines is used up (then says how many were not). */
    unauthenticated(input: { route: string; problem: string; status: number; requestId?: string; client?: string }): void {
      counter.inc({ route: input.route, problem: input.problem });
      const t = now();
      if (t - windowStart >= 60_000) {
        if (suppressed) deps.logger.warn('unauthenticated refusals not logged individually', { count: suppressed });
        windowStart = t;
        logged = 0;
        suppressed = 0;
      }
      if (logged >= perMinute) {
        suppressed++;
        return;
      }
      logged++;
      deps.logger.warn('refused an unauthenticated request', input);
    },
  };
}

export type RefusalLog = ReturnType<typeof createRefusalLog>;
