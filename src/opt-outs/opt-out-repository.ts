import type { Database, Transaction } from '../shared/database.js';

type Db = Database | Transaction;

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
  requestedAt: string;
  requestedBy: string;
  recordingId: string | null;
  discardedAt: string | null;
}

/** The pre-call check: one lookup on the unique index over caller_key. */
export async function findActiveId(db: Db, callerKey: string): Promise<string | undefined> {
  const row = await db('opt_outs').where('caller_key', callerKey).first('id');
  return row?.id as string | undefined;
}

/**
 * Which opt-outs apply to a call, in one round trip: a standing one for its caller (`number`) and an
 * after-the-fact one for the call itself (`call`).
 */
export async function findOptOutsOfCall(db: Db, call: { callerKey: string | null; callId: string }): Promise<{ number: boolean; call: boolean }> {
  // Both columns are unique: each side yields at most one row.
  const byCall = db('call_opt_outs').where('call_id', call.callId).select(db.raw("'call' as kind"));
  const rows: { kind: string }[] = call.callerKey
    ? await db('opt_outs').where('caller_key', call.callerKey).select(db.raw("'number' as kind")).unionAll(byCall)
    : await byCall;
  return { number: rows.some((r) => r.kind === 'number'), call: rows.some((r) => r.kind === 'call') };
}

export async function findActive(db: Db, callerKey: string): Promise<OptOut | undefined> {
  const row = await db('opt_outs').where('caller_key', callerKey).first();
  return row ? toOptOut(row) : undefined;
}

export async function insert(trx: Transaction, o: OptOut & { callerKey: string }): Promise<void> {
  await trx('opt_outs').insert({
    id: o.id,
    caller_key: o.callerKey,
    source: o.source,
    created_at: o.createdAt,
    created_by: o.createdBy,
    removed_at: null,
    removed_by: null,
  });
}

/** Forgets the caller key (the row stays, so audit entries naming the id still resolve). */
export async function markRemoved(trx: Transaction, id: string, at: string, by: string): Promise<number> {
  return trx('opt_outs').where({ id }).whereNotNull('caller_key').update({ caller_key: null, removed_at: at, removed_by: by });
}

export async function findCallOptOut(db: Db, callId: string): Promise<CallOptOut | undefined> {
  const row = await db('call_opt_outs').where({ call_id: callId }).first();
  return row ? toCallOptOut(row) : undefined;
}

export async function insertCallOptOut(trx: Transaction, c: CallOptOut): Promise<void> {
  await trx('call_opt_outs').insert({
    id: c.id,
    call_id: c.callId,
    source: c.source,
    requested_at: c.requestedAt,
    requested_by: c.requestedBy,
    recording_id: c.recordingId,
    discarded_at: c.discardedAt,
  });
}

export async function markCallDiscarded(trx: Transaction, id: string, recordingId: string, at: string): Promise<void> {
  await trx('call_opt_outs').where({ id }).whereNull('discarded_at').update({ recording_id: recordingId, discarded_at: at });
}

/** Recordings still in the store from this caller (what `deleteExisting` removes). */
export async function storedRecordingRowsOf(db: Db, callerKey: string): Promise<Record<string, unknown>[]> {
  return db('recordings').where({ caller_key: callerKey, status: 'stored' });
}

function toOptOut(r: Record<string, unknown>): OptOut {
  return { id: r.id as string, source: (r.source as string | null) ?? null, createdAt: r.created_at as string, createdBy: r.created_by as string };
}

function toCallOptOut(r: Record<string, unknown>): CallOptOut {
  return {
    id: r.id as string,
    callId: r.call_id as string,
    source: (r.source as string | null) ?? null,
    requestedAt: r.requested_at as string,
    requestedBy: r.requested_by as string,
    recordingId: (r.recording_id as string | null) ?? null,
    discardedAt: (r.discarded_at as string | null) ?? null,
  };
}
