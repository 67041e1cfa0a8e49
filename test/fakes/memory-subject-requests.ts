import type { Tx } from '../../src/shared/transaction.js';
import type { SubjectRequest, SubjectRequestKind, SubjectRequestRepository } from '../../src/subject-requests/index.js';
import type { CaseCall } from '../../src/subject-requests/subject-request.js';
import { MemoryTable, type Snapshottable } from './memory-transaction.js';

/** The subject-request port in memory (subject_requests and subject_request_calls). */
export class MemorySubjectRequests implements SubjectRequestRepository, Snapshottable {
  readonly cases = new MemoryTable<string, SubjectRequest>();
  caseCalls: CaseCall[] = [];
  snapshot(): unknown {
    return [this.cases.snapshot(), structuredClone(this.caseCalls)];
  }
  restore(state: unknown): void {
    const [c, calls] = state as [unknown, CaseCall[]];
    this.cases.restore(c);
    this.caseCalls = calls;
  }
  private update(id: string, when: (c: SubjectRequest) => boolean, change: Partial<SubjectRequest>): number {
    const c = this.cases.rows.get(id);
    if (!c || !when(c)) return 0;
    this.cases.rows.set(id, { ...c, ...change });
    return 1;
  }
  async insert(_tx: Tx, c: SubjectRequest): Promise<void> {
    this.cases.rows.set(c.id, { ...c });
  }
  async findById(id: string): Promise<SubjectRequest | undefined> {
    const c = this.cases.rows.get(id);
    return c && { ...c };
  }
  async listCurrent(closedSince: string): Promise<SubjectRequest[]> {
    return this.cases
      .values()
      .filter((c) => c.status !== 'closed' || (c.closedAt !== null && c.closedAt >= closedSince))
      .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.id < b.id ? -1 : 1));
  }
  async countOverdue(now: string): Promise<number> {
    return this.cases.values().filter((c) => (c.status === 'open' || c.status === 'extended') && c.dueAt <= now).length;
  }
  async extend(_tx: Tx, id: string, f: { until: string; reason: string; dueAt: string }): Promise<number> {
    return this.update(id, (c) => c.status === 'open', { status: 'extended', extendedUntil: f.until, extensionReason: f.reason, dueAt: f.dueAt });
  }
  async markAnswered(_tx: Tx, id: string, at: string, by: string): Promise<number> {
    return this.update(id, (c) => c.status === 'open' || c.status === 'extended', { status: 'answered', answeredAt: at, answeredBy: by });
  }
  async markClosed(_tx: Tx, id: string, at: string, by: string): Promise<number> {
    return this.update(id, (c) => c.status !== 'closed', { status: 'closed', closedAt: at, closedBy: by, callerKey: null });
  }
  async markCarriedOut(_tx: Tx, id: string, at: string): Promise<void> {
    this.update(id, () => true, { carriedOutAt: at });
  }
  async caseCallsOf(requestId: string, callerKey: string | null): Promise<CaseCall[]> {
    const ids = new Set([requestId, ...this.cases.values().filter((c) => callerKey !== null && c.callerKey === callerKey).map((c) => c.id)]);
    return this.caseCalls.filter((cc) => ids.has(cc.requestId)).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.recordingId < b.recordingId ? -1 : 1));
  }
  async insertCaseCalls(_tx: Tx, calls: CaseCall[]): Promise<void> {
    for (const c of calls) {
      if (!this.caseCalls.some((x) => x.requestId === c.requestId && x.recordingId === c.recordingId && x.outcome === c.outcome)) this.caseCalls.push({ ...c });
    }
  }
  async anyOfKind(ids: string[], kind: SubjectRequestKind): Promise<boolean> {
    return ids.some((id) => this.cases.rows.get(id)?.kind === kind);
  }
}
