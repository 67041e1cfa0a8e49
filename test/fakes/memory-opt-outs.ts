import type { CallOptOut, OptOut, OptOutRepository } from '../../src/opt-outs/index.js';
import { AlreadyExists } from '../../src/shared/errors.js';
import type { Tx } from '../../src/shared/transaction.js';
import type { MemoryRecordings } from './memory-recordings.js';
import { MemoryTable, type Snapshottable } from './memory-transaction.js';

type Standing = OptOut & { callerKey: string | null; removedAt: string | null; removedBy: string | null };

/** The opt-outs port in memory (opt_outs and call_opt_outs). Locks are no-ops: calls run one at a time. */
export class MemoryOptOuts implements OptOutRepository, Snapshottable {
  readonly standing = new MemoryTable<string, Standing>();
  readonly calls = new MemoryTable<string, CallOptOut>();
  constructor(private readonly recordings: MemoryRecordings) {}
  snapshot(): unknown {
    return [this.standing.snapshot(), this.calls.snapshot()];
  }
  restore(state: unknown): void {
    const [s, c] = state as [unknown, unknown];
    this.standing.restore(s);
    this.calls.restore(c);
  }
  private covering(callId: string, source: string): CallOptOut[] {
    return this.calls
      .values()
      .filter((c) => c.callId === callId && (c.recordingSource === null || c.recordingSource === source))
      .sort((a, b) => (a.recordingSource === null ? -1 : b.recordingSource === null ? 1 : a.id < b.id ? -1 : 1));
  }
  private arrived(c: CallOptOut): boolean {
    return this.recordings.values().some((r) => r.recording.callId === c.callId && (c.recordingSource === null || (r.recording.source ?? 'webhook') === c.recordingSource));
  }

  async lockCaller(): Promise<void> {}
  async lockCall(): Promise<void> {}
  async lockCallerAndCall(): Promise<void> {}
  async findOptOutsOfCall(call: { callerKey: string | null; callId: string; source?: string }): Promise<{ number: boolean; call: boolean }> {
    return { number: call.callerKey !== null && (await this.findActiveId(call.callerKey)) !== undefined, call: this.covering(call.callId, call.source ?? 'webhook').length > 0 };
  }
  async findActiveId(callerKey: string): Promise<string | undefined> {
    return (await this.findActive(callerKey))?.id;
  }
  async findActive(callerKey: string): Promise<OptOut | undefined> {
    const o = this.standing.values().find((s) => s.callerKey === callerKey);
    return o && { id: o.id, source: o.source, createdAt: o.createdAt, createdBy: o.createdBy };
  }
  async activeCallerKeys(): Promise<string[]> {
    return this.standing.values().flatMap((s) => (s.callerKey ? [s.callerKey] : []));
  }
  async insert(_tx: Tx, o: OptOut & { callerKey: string }): Promise<void> {
    if (await this.findActiveId(o.callerKey)) throw new AlreadyExists('already-opted-out', 'This number is registered already');
    this.standing.rows.set(o.id, { ...o, removedAt: null, removedBy: null });
  }
  async markRemoved(_tx: Tx, id: string, at: string, by: string): Promise<number> {
    const o = this.standing.rows.get(id);
    if (!o?.callerKey) return 0;
    this.standing.rows.set(id, { ...o, callerKey: null, removedAt: at, removedBy: by });
    return 1;
  }
  async findCallOptOut(callId: string, _tx?: Tx, source?: string): Promise<CallOptOut | undefined> {
    return source === undefined ? this.calls.values().find((c) => c.callId === callId) : this.covering(callId, source)[0];
  }
  async findCallOptOutScoped(callId: string, recordingSource: string | null): Promise<CallOptOut | undefined> {
    return this.calls.values().find((c) => c.callId === callId && c.recordingSource === recordingSource);
  }
  async insertCallOptOut(_tx: Tx, c: CallOptOut): Promise<void> {
    this.calls.rows.set(c.id, { ...c });
  }
  async pendingCallOptOutsBefore(before: Date, after: string | undefined, limit: number): Promise<CallOptOut[]> {
    return this.calls
      .values()
      .filter((c) => c.requestedAt < before.toISOString() && c.discardedAt === null && !this.arrived(c) && (!after || c.id > after))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }
  async deletePendingCallOptOut(_tx: Tx, id: string): Promise<boolean> {
    const c = this.calls.rows.get(id);
    if (!c || c.discardedAt !== null || this.arrived(c)) return false;
    return this.calls.rows.delete(id);
  }
  async markCallDiscarded(_tx: Tx, id: string, recordingId: string, at: string): Promise<void> {
    const c = this.calls.rows.get(id);
    if (c && c.discardedAt === null) this.calls.rows.set(id, { ...c, recordingId, discardedAt: at });
  }
  async callOptOutsOf(callIds: string[]): Promise<CallOptOut[]> {
    return this.calls.values().filter((c) => callIds.includes(c.callId));
  }
}
