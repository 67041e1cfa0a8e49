import type { ActiveHold, HoldRepository } from '../../src/retention/index.js';
import type { Hold } from '../../src/retention/index.js';
import type { Tx } from '../../src/shared/transaction.js';
import type { MemoryRecordings } from './memory-recordings.js';
import { MemoryTable } from './memory-transaction.js';

const notEnded = (h: Hold) => h.releasedAt === null && h.lapsedAt === null;
/** A hold in force at `at`, as retention's holdsInForce says in SQL. */
const inForce = (h: Hold, at: string) => notEnded(h) && (h.until === null || h.until > at);
const byPlaced = (a: Hold, b: Hold) => (a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : 0);

/** Retention's holds port in memory; it reads the recordings fake where the SQL joins recordings. */
export class MemoryHolds extends MemoryTable<string, Hold> implements HoldRepository {
  constructor(private readonly recordings: MemoryRecordings) {
    super();
  }
  private held(at: string): Hold[] {
    return this.values().filter((h) => inForce(h, at));
  }
  async unheldOverdueCount(now: Date): Promise<number> {
    const at = now.toISOString();
    const held = new Set(this.held(at).map((h) => h.recordingId));
    return (await this.recordings.storedPastDeadline(now)).filter((r) => !held.has(r.id)).length;
  }
  async activeHoldIds(recordingIds: string[], now: Date): Promise<Map<string, string>> {
    return new Map(this.held(now.toISOString()).filter((h) => recordingIds.includes(h.recordingId)).map((h) => [h.recordingId, h.id]));
  }
  async findActive(recordingId: string, now: Date): Promise<Hold | undefined> {
    return this.held(now.toISOString()).find((h) => h.recordingId === recordingId);
  }
  async findActiveManual(recordingId: string, now: Date): Promise<Hold | undefined> {
    return this.held(now.toISOString()).find((h) => h.recordingId === recordingId && !h.reason.startsWith('subject-request:'));
  }
  async insert(_tx: Tx, h: Hold): Promise<void> {
    this.rows.set(h.id, { ...h });
  }
  async release(_tx: Tx, id: string, at: string, by: string): Promise<boolean> {
    const h = this.rows.get(id);
    if (!h || !notEnded(h)) return false;
    this.rows.set(id, { ...h, releasedAt: at, releasedBy: by });
    return true;
  }
  async dueToLapse(at: string): Promise<Hold[]> {
    return this.values().filter((h) => notEnded(h) && h.until !== null && h.until <= at);
  }
  async lapse(_tx: Tx, id: string, at: string): Promise<boolean> {
    const h = this.rows.get(id);
    if (!h || !notEnded(h)) return false;
    this.rows.set(id, { ...h, lapsedAt: at });
    return true;
  }
  async listActive(now: Date): Promise<ActiveHold[]> {
    return this.held(now.toISOString()).flatMap((h) => {
      const r = this.recordings.get(h.recordingId);
      return r ? [{ ...h, callId: r.callId, startedAt: r.startedAt, deadline: r.deadline }] : [];
    });
  }
  async forRecording(recordingId: string): Promise<Hold[]> {
    return this.values().filter((h) => h.recordingId === recordingId).sort(byPlaced);
  }
  async inForceOn(recordingIds: string[], now: Date): Promise<Hold[]> {
    return this.held(now.toISOString()).filter((h) => recordingIds.includes(h.recordingId)).sort(byPlaced);
  }
  async insertMany(tx: Tx, holds: Hold[]): Promise<void> {
    for (const h of holds) await this.insert(tx, h);
  }
  async releaseWithReason(_tx: Tx, reason: string, at: string, by: string): Promise<Hold[]> {
    const held = this.values().filter((h) => h.reason === reason && notEnded(h));
    for (const h of held) this.rows.set(h.id, { ...h, releasedAt: at, releasedBy: by });
    return held;
  }
}
