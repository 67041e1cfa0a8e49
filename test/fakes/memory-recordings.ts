import type { DeletionClaim, LockedRecording, PageCursor, Recording, RecordingFilter, RecordingRepository } from '../../src/recordings/index.js';
import { AlreadyExists } from '../../src/shared/errors.js';
import type { Tx } from '../../src/shared/transaction.js';
import { MemoryTable } from './memory-transaction.js';

type Row = { recording: Recording; claim: DeletionClaim | null };
const byStart = (a: Recording, b: Recording) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const copy = (r: Recording): Recording => ({ ...r });

/** The recordings port in memory: the same rules as the knex adapter, without SQL. */
export class MemoryRecordings extends MemoryTable<string, Row> implements RecordingRepository {
  /** Adds a row as a test's given. */
  add(r: Recording): Recording {
    this.rows.set(r.id, { recording: { ...r }, claim: null });
    return r;
  }
  get(id: string): Recording | undefined {
    const row = this.rows.get(id);
    return row && copy(row.recording);
  }
  claimOf(id: string): DeletionClaim | null {
    return this.rows.get(id)?.claim ?? null;
  }
  private all(): Recording[] {
    return this.values().map((r) => copy(r.recording));
  }

  async findById(id: string): Promise<Recording | undefined> {
    return this.get(id);
  }
  async findByCallId(callId: string): Promise<Recording | undefined> {
    const all = this.all().filter((r) => r.callId === callId);
    return all.find((r) => (r.source ?? 'webhook') === 'webhook') ?? all.sort((a, b) => ((a.source ?? '') < (b.source ?? '') ? -1 : 1))[0];
  }
  async findBySourceCall(source: string, callId: string): Promise<Recording | undefined> {
    return this.all().find((r) => r.callId === callId && (r.source ?? 'webhook') === source);
  }
  async findAllByCallId(callId: string): Promise<Recording[]> {
    return this.all().filter((r) => r.callId === callId);
  }
  async insert(_tx: Tx, r: Recording): Promise<void> {
    if (this.all().some((x) => x.callId === r.callId && (x.source ?? 'webhook') === (r.source ?? 'webhook'))) {
      throw new AlreadyExists('recording-exists', `Call ${r.callId} has a recording already`);
    }
    this.add(r);
  }
  async listPage(filter: RecordingFilter, after: PageCursor | undefined, limit: number): Promise<{ rows: Recording[]; more: boolean }> {
    const rows = this.all()
      .filter((r) => (!filter.from || r.startedAt >= filter.from) && (!filter.to || r.startedAt < filter.to))
      .filter((r) => (!filter.callId || r.callId === filter.callId) && (!filter.statuses?.length || filter.statuses.includes(r.status)))
      .filter((r) => (!filter.queues || filter.queues.includes(r.queue!)) && (!filter.agentIds || filter.agentIds.includes(r.agentId!)))
      .filter((r) => !filter.deadlineAfter || r.deadline > filter.deadlineAfter)
      .sort(byStart)
      .reverse()
      .filter((r) => !after || r.startedAt < after.startedAt || (r.startedAt === after.startedAt && r.id < after.id));
    return { rows: rows.slice(0, limit), more: rows.length > limit };
  }
  async distinctValues(filter: Pick<RecordingFilter, 'statuses' | 'deadlineAfter'>): Promise<{ queues: string[]; agentIds: string[] }> {
    const rows = this.all().filter((r) => (!filter.statuses?.length || filter.statuses.includes(r.status)) && (!filter.deadlineAfter || r.deadline > filter.deadlineAfter));
    const of = (v: (string | null)[]) => [...new Set(v.filter((x): x is string => x !== null))].sort();
    return { queues: of(rows.map((r) => r.queue)), agentIds: of(rows.map((r) => r.agentId)) };
  }
  async storedPastDeadline(now: Date): Promise<Recording[]> {
    return this.all()
      .filter((r) => r.status === 'stored' && r.deadline <= now.toISOString())
      .sort((a, b) => (a.deadline < b.deadline ? -1 : 1));
  }
  async storedDueBefore(cutoff: Date, after: { deadline: string; id: string } | undefined, limit: number): Promise<Recording[]> {
    return this.all()
      .filter((r) => r.status === 'stored' && r.deadline < cutoff.toISOString())
      .filter((r) => !after || r.deadline > after.deadline || (r.deadline === after.deadline && r.id > after.id))
      .sort((a, b) => (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }
  async tombstone(_tx: Tx, ids: string[], fields: { at: string; reason: string }): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) {
      const row = this.rows.get(id);
      if (row?.recording.status !== 'stored') continue;
      row.recording = { ...row.recording, status: 'deleted', callerKey: null, deletedAt: fields.at, reason: fields.reason, updatedAt: fields.at };
      out.push(id);
    }
    return out;
  }
  async lockRows(_tx: Tx, ids: string[]): Promise<LockedRecording[]> {
    return [...new Set(ids)]
      .sort()
      .flatMap((id) => {
        const row = this.rows.get(id);
        return row ? [{ recording: copy(row.recording), claim: row.claim && { ...row.claim } }] : [];
      });
  }
  async claimForDeletion(_tx: Tx, ids: string[], claim: DeletionClaim): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) {
      const row = this.rows.get(id);
      if (row?.recording.status !== 'stored') continue;
      row.claim ??= { ...claim };
      out.push(id);
    }
    return out;
  }
  async claimedNotDue(cutoff: Date, after: string | undefined, limit: number): Promise<{ recording: Recording; claim: DeletionClaim }[]> {
    return this.values()
      .filter((r) => r.recording.status === 'stored' && r.claim && r.recording.deadline >= cutoff.toISOString() && (!after || r.recording.id > after))
      .sort((a, b) => (a.recording.id < b.recording.id ? -1 : 1))
      .slice(0, limit)
      .map((r) => ({ recording: copy(r.recording), claim: { ...r.claim! } }));
  }
  async storedOfCaller(callerKey: string): Promise<Recording[]> {
    return this.all().filter((r) => r.callerKey === callerKey && r.status === 'stored');
  }
  async storedKeysAmong(keys: string[]): Promise<Set<string>> {
    return new Set(this.all().filter((r) => r.status === 'stored' && r.storageKey && keys.includes(r.storageKey)).map((r) => r.storageKey!));
  }
  async storedDeadlinesPage(after: string | undefined, limit: number): Promise<{ id: string; queue: string | null; startedAt: string; deadline: string }[]> {
    return this.all()
      .filter((r) => r.status === 'stored' && (after === undefined || r.id > after))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((r) => ({ id: r.id, queue: r.queue, startedAt: r.startedAt, deadline: r.deadline }));
  }
  async bringDeadlineForward(_tx: unknown, id: string, deadline: string, at: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.recording.status !== 'stored' || !(row.recording.deadline > deadline)) return false;
    row.recording = { ...row.recording, deadline, updatedAt: at };
    return true;
  }
  async withCallerKey(callerKey: string): Promise<Recording[]> {
    return this.all()
      .filter((r) => r.callerKey === callerKey)
      .sort(byStart);
  }
  async anyFromSource(source: string): Promise<boolean> {
    return this.all().some((r) => (r.source ?? 'webhook') === source);
  }
  async findByIds(ids: string[]): Promise<Recording[]> {
    return this.all().filter((r) => ids.includes(r.id));
  }
}
