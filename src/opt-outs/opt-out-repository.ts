import { handleOf, isUniqueViolation, lockForTransaction, trxOf, type Database, type Transaction } from '../shared/database.js';
import { AlreadyExists } from '../shared/errors.js';
import type { Tx } from '../shared/transaction.js';
import { createStoredTextRepository, type StoredTextSource } from '../stored-numbers/index.js';
import type { CallOptOut, OptOut, OptOutRepository } from './ports.js';

type Db = Database | Transaction;

/** The pre-call check: one lookup on the unique index over caller_key. */
async function findActiveId(db: Db, callerKey: string): Promise<string | undefined> {
  const row = await db('opt_outs').where('caller_key', callerKey).first('id');
  return row?.id as string | undefined;
}

/** The call opt-outs that cover a recording of `callId` from `source`: those of every source and that source's own. */
function coveringCall(db: Db, callId: string, source: string) {
  return db('call_opt_outs').where('call_id', callId).andWhere((w) => void w.whereNull('recording_source').orWhere('recording_source', source));
}

/**
 * Which opt-outs apply to a call, in one round trip: a standing one for its caller (`number`) and an
 * after-the-fact one for the call itself (`call`) from its source.
 */
async function findOptOutsOfCall(db: Db, call: { callerKey: string | null; callId: string; source?: string }): Promise<{ number: boolean; call: boolean }> {
  // caller_key is unique; a call has at most two covering opt-outs (every source's and its own source's).
  const byCall = coveringCall(db, call.callId, call.source ?? 'webhook').select(db.raw("'call' as kind"));
  const rows: { kind: string }[] = call.callerKey
    ? await db('opt_outs').where('caller_key', call.callerKey).select(db.raw("'number' as kind")).unionAll(byCall)
    : await byCall;
  return { number: rows.some((r) => r.kind === 'number'), call: rows.some((r) => r.kind === 'call') };
}

async function findActive(db: Db, callerKey: string): Promise<OptOut | undefined> {
  const row = await db('opt_outs').where('caller_key', callerKey).first();
  return row ? toOptOut(row) : undefined;
}

async function insert(trx: Transaction, o: OptOut & { callerKey: string }): Promise<void> {
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
async function markRemoved(trx: Transaction, id: string, at: string, by: string): Promise<number> {
  return trx('opt_outs').where({ id }).whereNotNull('caller_key').update({ caller_key: null, removed_at: at, removed_by: by });
}

/** The opt-out covering the recording of `callId` from `source` (every source's first), or with no source the first of the call's. */
async function findCallOptOut(db: Db, callId: string, source?: string): Promise<CallOptOut | undefined> {
  const q = source === undefined ? db('call_opt_outs').where({ call_id: callId }) : coveringCall(db, callId, source);
  // NULLs first on both databases: the opt-out of every source before a narrowed one.
  const row = await q.orderByRaw('CASE WHEN recording_source IS NULL THEN 0 ELSE 1 END, id').first();
  return row ? toCallOptOut(row) : undefined;
}

/** The opt-out of `callId` with exactly this scope (a source, or null for every source's). */
async function findCallOptOutScoped(db: Db, callId: string, recordingSource: string | null): Promise<CallOptOut | undefined> {
  const q = db('call_opt_outs').where({ call_id: callId });
  const row = await (recordingSource === null ? q.whereNull('recording_source') : q.where('recording_source', recordingSource)).first();
  return row ? toCallOptOut(row) : undefined;
}

async function insertCallOptOut(trx: Transaction, c: CallOptOut): Promise<void> {
  await trx('call_opt_outs').insert({
    id: c.id,
    call_id: c.callId,
    source: c.source,
    recording_source: c.recordingSource,
    requested_at: c.requestedAt,
    requested_by: c.requestedBy,
    recording_id: c.recordingId,
    discarded_at: c.discardedAt,
  });
}

async function markCallDiscarded(trx: Transaction, id: string, recordingId: string, at: string): Promise<void> {
  await trx('call_opt_outs').where({ id }).whereNull('discarded_at').update({ recording_id: recordingId, discarded_at: at });
}

/** A recording the opt-out covers has arrived (stored or discarded). */
const ARRIVED = 'recordings.call_id = call_opt_outs.call_id AND (call_opt_outs.recording_source IS NULL OR recordings.source = call_opt_outs.recording_source)';

/** Opt-outs of calls that never arrived (no recording, not even a discarded one) requested before `before`, by id after `after`. */
async function pendingCallOptOutsBefore(db: Db, before: string, after: string | undefined, limit: number): Promise<CallOptOut[]> {
  const q = db('call_opt_outs')
    .where('requested_at', '<', before)
    .whereNull('discarded_at')
    .whereNotExists(db('recordings').select(db.raw('1')).whereRaw(ARRIVED));
  if (after) q.andWhere('id', '>', after);
  return (await q.orderBy('id').limit(limit)).map(toCallOptOut);
}

/** Forgets a call opt-out if its call has still not arrived; true when this call removed it. */
async function deletePendingCallOptOut(trx: Transaction, id: string): Promise<boolean> {
  const n = await trx('call_opt_outs')
    .where({ id })
    .whereNull('discarded_at')
    .whereNotExists(trx('recordings').select(trx.raw('1')).whereRaw(ARRIVED))
    .del();
  return n === 1;
}

function toOptOut(r: Record<string, unknown>): OptOut {
  return { id: r.id as string, source: (r.source as string | null) ?? null, createdAt: r.created_at as string, createdBy: r.created_by as string };
}

function toCallOptOut(r: Record<string, unknown>): CallOptOut {
  return {
    id: r.id as string,
    callId: r.call_id as string,
    source: (r.source as string | null) ?? null,
    recordingSource: (r.recording_source as string | null) ?? null,
    requestedAt: r.requested_at as string,
    requestedBy: r.requested_by as string,
    recordingId: (r.recording_id as string | null) ?? null,
    discardedAt: (r.discarded_at as string | null) ?? null,
  };
}

/** The opt_outs and call_opt_outs tables. Reads run on the pool, or in `tx` when given. */
export function createOptOutRepository(db: Database): OptOutRepository {
  return {
    /**
     * Serialises everything that decides about one caller key until `tx` ends: a registration, and an
     * upload's final check before it commits. On PostgreSQL this closes the window where both would
     * see "nothing yet" and commit; SQLite's single connection serialises them anyway.
     */
    lockCaller: (tx: Tx, callerKey: string) => lockForTransaction(trxOf(tx), `opt-out:caller:${callerKey}`),
    /** The same for one call: an after-the-fact opt-out and that call's upload committing. */
    lockCall: (tx: Tx, callId: string) => lockForTransaction(trxOf(tx), `opt-out:call:${callId}`),
    /** Both locks an upload's final check takes, in one round trip; always caller first, then call, so two transactions cannot wait on each other. */
    lockCallerAndCall: (tx: Tx, callerKey: string | null, callId: string) =>
      lockForTransaction(trxOf(tx), ...(callerKey ? [`opt-out:caller:${callerKey}`] : []), `opt-out:call:${callId}`),
    /** Which opt-outs apply to a call, in one round trip: a standing one for its caller and one for the call itself. */
    findOptOutsOfCall: (call: { callerKey: string | null; callId: string; source?: string }, tx?: Tx) => findOptOutsOfCall(handleOf(db, tx), call),
    /** The pre-call check: one lookup on the unique index over caller_key. */
    findActiveId: (callerKey: string, tx?: Tx) => findActiveId(handleOf(db, tx), callerKey),
    findActive: (callerKey: string, tx?: Tx) => findActive(handleOf(db, tx), callerKey),
    /** Every caller key with an opt-out in force (the check's in-memory index loads these). */
    async activeCallerKeys(): Promise<string[]> {
      return ((await db('opt_outs').whereNotNull('caller_key').select('caller_key')) as { caller_key: string }[]).map((r) => r.caller_key);
    },
    /** Throws AlreadyExists when the key has a registration in force already. */
    async insert(tx: Tx, o: OptOut & { callerKey: string }): Promise<void> {
      try {
        await insert(trxOf(tx), o);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AlreadyExists('already-opted-out', 'This number is registered already');
        throw err;
      }
    },
    markRemoved: (tx: Tx, id: string, at: string, by: string) => markRemoved(trxOf(tx), id, at, by),
    /** The opt-out covering `source`'s recording of the call, or with no source any of the call's. */
    findCallOptOut: (callId: string, tx?: Tx, source?: string) => findCallOptOut(handleOf(db, tx), callId, source),
    findCallOptOutScoped: (callId: string, recordingSource: string | null, tx?: Tx) => findCallOptOutScoped(handleOf(db, tx), callId, recordingSource),
    insertCallOptOut: (tx: Tx, c: CallOptOut) => insertCallOptOut(trxOf(tx), c),
    pendingCallOptOutsBefore: (before: Date, after: string | undefined, limit: number) => pendingCallOptOutsBefore(db, before.toISOString(), after, limit),
    deletePendingCallOptOut: (tx: Tx, id: string) => deletePendingCallOptOut(trxOf(tx), id),
    markCallDiscarded: (tx: Tx, id: string, recordingId: string, at: string) => markCallDiscarded(trxOf(tx), id, recordingId, at),
    async callOptOutsOf(callIds: string[]): Promise<CallOptOut[]> {
      const out: CallOptOut[] = [];
      for (let i = 0; i < callIds.length; i += 500) out.push(...(await db('call_opt_outs').whereIn('call_id', callIds.slice(i, i + 500))).map(toCallOptOut));
      return out;
    },
  };
}

/** Call ids opted out after the fact, for masking numbers stored before they were refused. */
export function createCallOptOutStoredText(db: Database): StoredTextSource {
  return createStoredTextRepository(db, { table: 'call_opt_outs', key: ['id'], fields: { callId: { column: 'call_id', kind: 'identifier', maxLength: 128 } } });
}
