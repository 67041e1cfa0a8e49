/** When the retention job runs next; the deletion horizon is computed from it. */
export interface RunSchedule {
  /** The first scheduled run strictly after `at`. */
  nextRunAfter(at: Date): Date;
  /** The longest gap between two consecutive runs (one "interval" of the schedule). */
  intervalMs: number;
}

export interface DeletionHorizon {
  /**
   * A run at `now` must delete every recording whose deadline is before this moment: the next run
   * plus a margin, so that one failed or late run still leaves every recording deleted in time.
   * Ingest uses the same moment, so nothing is stored that the next run could not reach in time.
   */
  cutoff(now: Date): Date;
  marginMs: number;
}

const HOUR_MS = 3_600_000;

/** Margin defaults to one interval plus one hour (the rule). */
export function createDeletionHorizon(deps: { schedule: RunSchedule; marginMs?: number }): DeletionHorizon {
  const marginMs = deps.marginMs ?? deps.schedule.intervalMs + HOUR_MS;
  return {
    marginMs,
    cutoff(now) {
      return new Date(deps.schedule.nextRunAfter(now).getTime() + marginMs);
    },
  };
}
