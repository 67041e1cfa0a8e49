import { recordingRepository, type Recording } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { Database } from '../shared/database.js';
import type { Holds } from './holds.js';

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
export function createOverdueRecordings(deps: { db: Database; clock: Clock; holds: Holds }) {
  const { db, clock, holds } = deps;

  async function overdueRows(now: Date): Promise<Recording[]> {
    const rows = await db('recordings').where({ status: 'stored' }).andWhere('deadline', '<=', now.toISOString()).orderBy('deadline');
    return rows.map(recordingRepository.fromRow);
  }

  return {
    async count(): Promise<number> {
      const now = clock.now();
      const rows = await overdueRows(now);
      const held = await holds.activeHoldIds(db, rows.map((r) => r.id), now);
      return rows.length - held.size;
    },

    async list(): Promise<OverdueRecording[]> {
      const now = clock.now();
      const rows = await overdueRows(now);
      const held = await holds.activeHoldIds(db, rows.map((r) => r.id), now);
      return rows.map((r) => ({ id: r.id, callId: r.callId, startedAt: r.startedAt, deadline: r.deadline, holdId: held.get(r.id) ?? null }));
    },
  };
}

export type OverdueRecordings = ReturnType<typeof createOverdueRecordings>;
