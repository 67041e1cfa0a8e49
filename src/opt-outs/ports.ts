import type { Tx } from '../shared/transaction.js';

/** A standing opt-out. The caller key is kept only while the opt-out is in force. */
export interface OptOut {
  id: string;
  source: string | null;
  createdAt: string;
  createdBy: string;
}

/** An after-the-fact opt-out of one call. */
export interface CallOptOut {
  id: string;
  callId: string;
  source: string | null;
  /** The one source whose recording of the call is opted out; null: every source's. */
  recordingSource: string | null;
  requestedAt: string;
  requestedBy: string;
  recordingId: string | null;
  discardedAt: string | null;
}

/** The opt_outs and call_opt_outs tables. Reads run on the pool, or in `tx` when given. */
export interface OptOutRepository {
  /**
   * Serialises everything that decides about one caller key until `tx` ends: a registration, and an
   * upload's final check before it commits.
   */
  lockCaller(tx: Tx, callerKey: string): Promise<void>;
  /** The same for one call: an after-the-fact opt-out and that call's upload committing. */
  lockCall(tx: Tx, callId: string): Promise<void>;
  /** Both locks an upload's final check takes; always caller first, then call, so two transactions cannot wait on each other. */
  lockCallerAndCall(tx: Tx, callerKey: string | null, callId: string): Promise<void>;
  /** Which opt-outs apply to a call: a standing one for its caller (`number`) and one for the call itself from its source (`call`). */
  findOptOutsOfCall(call: { callerKey: string | null; callId: string; source?: string }, tx?: Tx): Promise<{ number: boolean; call: boolean }>;
  /** The pre-call check: the id of the opt-out in force for this caller key. */
  findActiveId(callerKey: string, tx?: Tx): Promise<string | undefined>;
  findActive(callerKey: string, tx?: Tx): Promise<OptOut | undefined>;
  /** Every caller key with an opt-out in force (the check's in-memory index loads these). */
  activeCallerKeys(): Promise<string[]>;
  /** Throws AlreadyExists when the key has a registration in force already. */
  insert(tx: Tx, o: OptOut & { callerKey: string }): Promise<void>;
  /** Forgets the caller key (the row stays, so audit entries naming the id still resolve); the number of rows changed. */
  markRemoved(tx: Tx, id: string, at: string, by: string): Promise<number>;
  /** The opt-out covering `source`'s recording of the call (every source's first), or with no source any of the call's. */
  findCallOptOut(callId: string, tx?: Tx, source?: string): Promise<CallOptOut | undefined>;
  /** The opt-out of `callId` with exactly this scope (a source, or null for every source's). */
  findCallOptOutScoped(callId: string, recordingSource: string | null, tx?: Tx): Promise<CallOptOut | undefined>;
  insertCallOptOut(tx: Tx, c: CallOptOut): Promise<void>;
  /** Opt-outs of calls that never arrived (no recording, not even a discarded one) requested before `before`, by id after `after`. */
  pendingCallOptOutsBefore(before: Date, after: string | undefined, limit: number): Promise<CallOptOut[]>;
  /** Forgets a call opt-out if its call has still not arrived; true when this call removed it. */
  deletePendingCallOptOut(tx: Tx, id: string): Promise<boolean>;
  markCallDiscarded(tx: Tx, id: string, recordingId: string, at: string): Promise<void>;
  /** Every call opt-out of these calls, whatever became of them. */
  callOptOutsOf(callIds: string[]): Promise<CallOptOut[]>;
}
