import type { Tx } from '../shared/transaction.js';
import type { Recording } from './recording.js';

export interface RecordingFilter {
  /** started_at ≥ from (ISO). */
  from?: string;
  /** started_at < to (ISO). */
  to?: string;
  /** Any of these queues, exactly as stored (the use case folds case against `distinctValues`). */
  queues?: string[];
  /** Any of these agents, exactly as stored. */
  agentIds?: string[];
  /** The phone system's id of the call. */
  callId?: string;
  /** Only these statuses; all when omitted. */
  statuses?: Recording['status'][];
  /** Only recordings whose deadline is later than this (ISO). */
  deadlineAfter?: string;
}

/** Position after the last row of a page: newest first, ties broken by id. */
export interface PageCursor {
  startedAt: string;
  id: string;
}

/** What a deletion committed to when it claimed a recording: the one that finishes it audits this. */
export interface DeletionClaim {
  /** When the deletion checked the holds and claimed the row. */
  at: string;
  reason: string;
  /** Null for claims made before the actor was kept. */
  actor: string | null;
  details: Record<string, unknown>;
}

/** A recording row read under a row lock, with its deletion claim. */
export interface LockedRecording {
  recording: Recording;
  /** The deletion that claimed it (checked its holds and committed to removing it); null if none has. */
  claim: DeletionClaim | null;
}

/** The recordings table. Reads run on the pool, or in `tx` when given; writes need a transaction. */
export interface RecordingRepository {
  findById(id: string, tx?: Tx): Promise<Recording | undefined>;
  /** A recording of this call id, from any source (the webhook's first). */
  findByCallId(callId: string, tx?: Tx): Promise<Recording | undefined>;
  /** The recording of this call id from this source: call ids are unique per source. */
  findBySourceCall(source: string, callId: string, tx?: Tx): Promise<Recording | undefined>;
  /** Every source's recording of this call id. */
  findAllByCallId(callId: string, tx?: Tx): Promise<Recording[]>;
  /** Throws AlreadyExists when the call has a recording already (a concurrent retry won). */
  insert(tx: Tx, r: Recording): Promise<void>;
  /** One page, newest call first; `more` says whether more follow. */
  listPage(filter: RecordingFilter, after: PageCursor | undefined, limit: number): Promise<{ rows: Recording[]; more: boolean }>;
  /** The queues and agents that occur among the recordings `filter` selects (its statuses and deadline only), each sorted. */
  distinctValues(filter: Pick<RecordingFilter, 'statuses' | 'deadlineAfter'>, tx?: Tx): Promise<{ queues: string[]; agentIds: string[] }>;
  /** Recordings still stored past `now`, earliest deadline first (the overdue alarm). */
  storedPastDeadline(now: Date): Promise<Recording[]>;
  /** One page of stored recordings due before `cutoff`, by (deadline, id) after `after`. */
  storedDueBefore(cutoff: Date, after: { deadline: string; id: string } | undefined, limit: number): Promise<Recording[]>;
  /** Turns those of `ids` still 'stored' into tombstones (no caller key) and returns their ids. */
  tombstone(tx: Tx, ids: string[], fields: { at: string; reason: string }): Promise<string[]>;
  /**
   * Locks these recordings' rows until the transaction ends (in id order, so two lockers never deadlock)
   * and reads them: what a hold or a deletion decides on cannot change before it commits.
   */
  lockRows(tx: Tx, ids: string[]): Promise<LockedRecording[]>;
  /**
   * Claims those of `ids` still stored for deletion and returns their ids. A claim already made stays as
   * it was; the rows must be locked and their holds checked in the same transaction.
   */
  claimForDeletion(tx: Tx, ids: string[], claim: DeletionClaim): Promise<string[]>;
  /** One page of stored recordings a deletion claimed but did not finish whose deadline is not before `cutoff`, by id after `after`. */
  claimedNotDue(cutoff: Date, after: string | undefined, limit: number): Promise<{ recording: Recording; claim: DeletionClaim }[]>;
  /** The recordings of this caller still in the store. */
  storedOfCaller(callerKey: string): Promise<Recording[]>;
  /** Which of these storage keys belong to a stored recording. */
  storedKeysAmong(keys: string[]): Promise<Set<string>>;
  /** Stored recordings' deadlines, a page at a time in id order (a retention policy's shortening). */
  storedDeadlinesPage(after: string | undefined, limit: number): Promise<{ id: string; queue: string | null; startedAt: string; deadline: string }[]>;
  /** Moves a stored recording's deadline to `deadline` if that is earlier; whether it moved. */
  bringDeadlineForward(tx: Tx, id: string, deadline: string, at: string): Promise<boolean>;
  /** Every recording row that still carries the caller key (in practice: the stored ones), by start then id. */
  withCallerKey(callerKey: string): Promise<Recording[]>;
  /** These recordings, those that exist, in no particular order. */
  findByIds(ids: string[]): Promise<Recording[]>;
  /** Whether any recording (stored, deleted or discarded) came from `source`: a source no longer configured still names its recordings. */
  anyFromSource(source: string): Promise<boolean>;
}

export interface RecordingFacts {
  id: string;
  callId: string;
  startedAt: string;
  deadline: string;
  deletedAt: string | null;
  reason: string | null;
  status: 'stored' | 'deleted' | 'discarded';
  queue: string | null;
  /** The retention policy version the call arrived under, and the rule that set its first deadline (null: RETENTION_DAYS). */
  policyVersion: number | null;
  policyRule: string | null;
}

/** The retention report's read model of the recordings table (never the caller key). */
export interface RecordingReportFacts {
  /** Recordings (and tombstones) of calls that started in [from, to). */
  recordingsStartedIn(from: string, to: string): Promise<RecordingFacts[]>;
  /** The status of each of `ids` that exists. */
  recordingIdsExisting(ids: string[]): Promise<Map<string, RecordingFacts['status']>>;
  /** Tombstones whose deadline or deletion falls in [from, to): the overview's deletions per day against their deadlines. */
  deletionsAndDeadlinesIn(from: string, to: string): Promise<{ deadline: string; deletedAt: string | null; reason: string | null; status: RecordingFacts['status'] }[]>;
  /** Stored calls without a caller key, per source: no opt-out or data-subject request can find them. */
  storedWithoutCaller(): Promise<Array<{ source: string; count: number }>>;
}
