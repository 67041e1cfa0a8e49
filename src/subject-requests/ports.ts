import type { RecordingRepository } from '../recordings/index.js';
import type { Tx } from '../shared/transaction.js';
import type { CaseCall, SubjectRequest, SubjectRequestKind } from './subject-request.js';

/** The subject_requests and subject_request_calls tables: the cases and what they did to recordings. */
export interface SubjectRequestRepository {
  insert(tx: Tx, c: SubjectRequest): Promise<void>;
  findById(id: string, tx?: Tx): Promise<SubjectRequest | undefined>;
  /** Cases not closed, and those closed since `closedSince`; overdue ones first, then by due time. */
  listCurrent(closedSince: string): Promise<SubjectRequest[]>;
  countOverdue(now: string): Promise<number>;
  /** 1 when the open case was extended, 0 when it was not open any more. */
  extend(tx: Tx, id: string, fields: { until: string; reason: string; dueAt: string }): Promise<number>;
  markAnswered(tx: Tx, id: string, at: string, by: string): Promise<number>;
  /** Closes a case and forgets its caller key, like a tombstone. */
  markClosed(tx: Tx, id: string, at: string, by: string): Promise<number>;
  markCarriedOut(tx: Tx, id: string, at: string): Promise<void>;
  /** What cases of this caller key (and this case) did to recordings whose key may be gone since. */
  caseCallsOf(requestId: string, callerKey: string | null): Promise<CaseCall[]>;
  insertCaseCalls(tx: Tx, calls: CaseCall[]): Promise<void>;
  /** Whether any of these cases is of this kind. */
  anyOfKind(ids: string[], kind: SubjectRequestKind): Promise<boolean>;
}

/** The recordings a case finds: the caller's, and those its cases acted on (the recordings capability's port). */
export type CaseRecordings = Pick<RecordingRepository, 'withCallerKey' | 'findByIds'>;

/** An after-the-fact opt-out of a call, as a case shows it. */
export interface CallOptOutFact {
  id: string;
  callId: string;
  requestedAt: string;
  source: string | null;
  /** The one source whose recording of the call it covers; null: every source's. */
  recordingSource: string | null;
}

/** What a case reads of the opt-outs (the opt-outs capability's repository). */
export interface CaseOptOuts {
  /** The standing opt-out in force for this caller key. */
  findActive(callerKey: string): Promise<{ id: string; source: string | null; createdAt: string } | undefined>;
  callOptOutsOf(callIds: string[]): Promise<CallOptOutFact[]>;
}
