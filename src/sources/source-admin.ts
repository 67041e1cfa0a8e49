import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { NotFound } from '../shared/errors.js';
import type { Transact } from '../shared/transaction.js';
import type { SourceItemRepository } from './ports.js';
import type { PollReport, SourcePoller, SourceState } from './poll-source.js';

/** One source as the Inleverans page shows it. */
export interface SourceOverview extends SourceState {
  /** The next scheduled poll (the interval divides a day, so polls fall on its multiples in UTC), or the end of the backoff. */
  nextPollAt: string;
  pollIntervalMs: number;
  copiesPending: number;
  oldestPendingSince: string | null;
  rejectedItems: Array<{ itemId: string; name: string | null; bytes: number; reason: string; at: string }>;
}

/** What an administrator sees and does with the sources: their state, and "poll now" (audited). */
export function createSourceAdmin(deps: { pollers: SourcePoller[]; items: SourceItemRepository; transaction: Transact; audit: AuditLog; clock: Clock }) {
  const { pollers, items } = deps;
  return {
    async overview(): Promise<SourceOverview[]> {
      const counts = new Map((await items.counts()).map((c) => [c.source, c]));
      const now = deps.clock.now().getTime();
      return Promise.all(
        pollers.map(async (p) => {
          const s = p.state();
          const c = counts.get(s.name);
          const interval = p.config.pollIntervalMs;
          const scheduled = new Date((Math.floor(now / interval) + 1) * interval).toISOString();
          const rejected = await items.rejected(s.name);
          return {
            ...s,
            nextPollAt: s.notBefore && s.notBefore > scheduled ? s.notBefore : scheduled,
            pollIntervalMs: interval,
            copiesPending: s.deleteAtSource ? (c?.pending ?? 0) : 0,
            oldestPendingSince: s.deleteAtSource ? (c?.oldestPendingAt ?? null) : null,
            rejectedItems: rejected.map((r) => ({ itemId: r.itemId, name: r.maskedName, bytes: r.size, reason: r.reason ?? 'rejected', at: r.updatedAt })),
          };
        }),
      );
    },

    /** Polls a source at once, past any backoff; the request is audited first. A source that fails answers with its error. */
    async pollNow(name: string, actor: string): Promise<{ report: PollReport | null; error: SourceState['lastError'] }> {
      const p = pollers.find((x) => x.name === name);
      if (!p) throw new NotFound('source-not-found', `No source is named ${name}`);
      await deps.transaction((tx) => deps.audit.append(tx, { actor, action: 'source.poll-requested', subject: `source:${name}`, details: { source: name } }));
      try {
        return { report: await p.poll({ force: true }), error: null };
      } catch {
        return { report: null, error: p.state().lastError };
      }
    },
  };
}

export type SourceAdmin = ReturnType<typeof createSourceAdmin>;
