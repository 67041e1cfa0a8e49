import type { RecordingRepository } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { HoldRepository } from './ports.js';

export interface OverdueRecording {
  id: string;
  callId: string;
  startedAt: string;
  deadline: string;
  holdId: string | null;
}

/**
 * Recordings still stored past their deadline: the alarm (/readyz, the metric, the run report) counts
 * the unheld ones; the list names each with its hold, if any.
 */
export function createOverdueRecordings(deps: { recordings: RecordingRepository; holds: HoldRepository; clock: Clock }) {
  const { recordings, holds, clock } = deps;

  return {
    /** Counted in the database: /readyz and the metric ask often, and must not load every overdue row. */
    async count(): Promise<number> {
      return holds.unheldOverdueCount(clock.now());
    },

    async list(): Promise<OverdueRecording[]> {
      const now = clock.now();
      const rows = await recordings.storedPastDeadline(now);
      const held = await holds.activeHoldIds(rows.map((r) => r.id), now);
      return rows.map((r) => ({ id: r.id, callId: r.callId, startedAt: r.startedAt, deadline: r.deadline, holdId: held.get(r.id) ?? null }));
    },
  };
}

export type OverdueRecordings = ReturnType<typeof createOverdueRecordings>;
