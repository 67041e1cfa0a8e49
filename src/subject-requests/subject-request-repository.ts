import { randomUUID } from 'node:crypto';
import type { Recording } from '../recordings/index.js';
import { recordingRepository } from '../recordings/index.js';
import { handleOf, lockingRows, trxOf, type Database, type Transaction } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { CaseCall, SubjectRequest } from './subject-request.js';
import { createStoredTextRepository, type StoredTextSource } from '../stored-numbers/index.js';

type Db = Database | Transaction;

function fromRow(r: Record<string, unknown>): SubjectRequest {
  const s = (k: string) => (r[k] as string | null) ?? null;
  return {
    id: r.id as string,
    kind: r.kind as SubjectRequest['kind'],
    callerKey: s('caller_key'),
    status: r.status as SubjectRequest['status'],
    reference: r.reference as string,
    note: s('note'),
    receivedAt: r.received_at as string,
    receivedDate: r.received_date as string,
    dueDate: r.due_date as string,
    dueAt: r.due_at as string,
    extendedUntil: s('extended_until'),
    extensionReason: s('extension_reason'),
    openedAt: r.opened_at as string,
    openedBy: r.opened_by as string,
    answeredAt: s('answered_at'),
    answeredBy: s('answered_by'),
    closedAt: s('closed_at'),
    closedBy: s('closed_by'),
    carriedOutAt: s('carried_out_at'),
  };
}

export async function insert(trx: Transaction, c: SubjectRequest): Promise<void> {
  await trx('subject_requests').insert({
    id: c.id,
    kind: c.kind,
    caller_key: c.callerKey,
    status: c.status,
    reference: c.reference,
    note: c.note,
    received_at: c.receivedAt,
    received_date: c.receivedDate,
    due_date: c.dueDate,
    due_at: c.dueAt,
    extended_until: c.extendedUntil,
    extension_reason: c.extensionReason,
    opened_at: c.openedAt,
    opened_by: c.openedBy,
    answered_at: c.answeredAt,
    answered_by: c.answeredBy,
    closed_at: c.closedAt,
    closed_by: c.closedBy,
    carried_out_at: c.carriedOutAt,
  });
}

export async function findById(db: Db, id: string): Promise<SubjectRequest | undefined> {
  const row = await db('subject_requests').where({ id }).first();
  return row ? fromRow(row) : undefined;
}

/** Cases not closed, and those closed since `closedSince`; overdue ones first, then by due time. */
export async function listCurrent(db: Db, closedSince: string): Promise<SubjectRequest[]> {
  const rows = await db('subject_requests')
    .whereNot('status', 'closed')
    .orWhere('closed_at', '>=', closedSince)
    .orderBy([{ column: 'due_at' }, { column: 'id' }]);
  return rows.map(fromRow);
}

export async function countOverdue(db: Db, now: string): Promise<number> {
  const [row] = await db('subject_requests').whereIn('status', ['open', 'extended']).andWhere('due_at', '<=', now).count({ n: '*' });
  return Number((row as { n: number | string }).n);
}

export async function extend(trx: Transaction, id: string, fields: { until: string; reason: string; dueAt: string }): Promise<number> {
  return trx('subject_requests')
    .where({ id, status: 'open' })
    .update({ status: 'extended', extended_until: fields.until, extension_reason: fields.reason, due_at: fields.dueAt });
}

export async function markAnswered(trx: Transaction, id: string, at: string, by: string): Promise<number> {
  return trx('subject_requests').where({ id }).whereIn('status', ['open', 'extended']).update({ status: 'answered', answered_at: at, answered_by: by });
}

/** Closes a case and forgets its caller key, like a tombstone. */
export async function markClosed(trx: Transaction, id: string, at: string, by: string): Promise<number> {
  return trx('subject_requests').where({ id }).whereNot('status', 'closed').update({ status: 'closed', closed_at: at, closed_by: by, caller_key: null });
}

export async function markCarriedOut(trx: Transaction, id: string, at: string): Promise<void> {
  await trx('subject_requests').where({ id }).update({ carried_out_at: at });
}

/** Every recording row that still carries the caller key (in practice: the stored ones). */
export async function recordingsOf(db: Db, callerKey: string): Promise<Recording[]> {
  const rows = await db('recordings').where({ caller_key: callerKey }).orderBy([{ column: 'started_at' }, { column: 'id' }]);
  return rows.map(recordingRepository.fromRow);
}

export async function recordingsByIds(db: Db, ids: string[]): Promise<Recording[]> {
  const out: Recording[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    out.push(...(await db('recordings').whereIn('id', ids.slice(i, i + 500))).map(recordingRepository.fromRow));
  }
  return out;
}

/** What cases of this caller key (and this case) did to recordings whose key may be gone since. */
export async function caseCallsOf(db: Db, requestId: string, callerKey: string | null): Promise<CaseCall[]> {
  const q = db('subject_request_calls').where('request_id', requestId);
  if (callerKey) q.orWhereIn('request_id', db('subject_requests').select('id').where('caller_key', callerKey));
  const rows = await q.orderBy([{ column: 'at' }, { column: 'recording_id' }]);
  return rows.map((r: Record<string, string | null>) => ({
    requestId: r.request_id!,
    recordingId: r.recording_id!,
    outcome: r.outcome as CaseCall['outcome'],
    at: r.at!,
    holdReason: r.hold_reason,
  }));
}

export async function insertCaseCalls(trx: Transaction, calls: CaseCall[]): Promise<void> {
  for (let i = 0; i < calls.length; i += 100) {
    await trx('subject_request_calls')
      .insert(calls.slice(i, i + 100).map((c) => ({ request_id: c.requestId, recording_id: c.recordingId, outcome: c.outcome, at: c.at, hold_reason: c.holdReason })))
      .onConflict(['request_id', 'recording_id', 'outcome'])
      .ignore();
  }
}

export interface ActiveHold {
  id: string;
  recordingId: string;
  reason: string;
  until: string | null;
}

/** Holds in force at `now` on these recordings (any reason). */
export async function activeHoldsOn(db: Db, recordingIds: string[], now: string): Promise<ActiveHold[]> {
  const out: ActiveHold[] = [];
  for (let i = 0; i < recordingIds.length; i += 500) {
    const rows = await db('holds')
      .whereIn('recording_id', recordingIds.slice(i, i + 500))
      .whereNull('released_at')
      .whereNull('lapsed_at')
      .andWhere((q) => q.whereNull('until').orWhere('until', '>', now))
      .orderBy('placed_at');
    out.push(...rows.map((r: Record<string, string | null>) => ({ id: r.id!, recordingId: r.recording_id!, reason: r.reason!, until: r.until })));
  }
  return out;
}

/**
 * Places one hold per recording (the holds table of the retention capability) on those still stored and
 * not claimed by a deletion, under the row lock the deletion path takes; returns them.
 */
export async function insertHolds(trx: Transaction, recordingIds: string[], fields: { reason: string; until: string | null; at: string; by: string }): Promise<ActiveHold[]> {
  const holdable: string[] = [];
  const sorted = [...recordingIds].sort();
  for (let i = 0; i < sorted.length; i += 500) {
    const rows = await lockingRows(trx, trx('recordings').whereIn('id', sorted.slice(i, i + 500)).orderBy('id').select('id', 'status', 'deletion_claimed_at'));
    holdable.push(...rows.filter((r: Record<string, unknown>) => r.status === 'stored' && r.deletion_claimed_at == null).map((r: { id: string }) => r.id));
  }
  const order = new Map(recordingIds.map((id, i) => [id, i]));
  holdable.sort((a, b) => order.get(a)! - order.get(b)!);
  const holds = holdable.map((recordingId) => ({ id: `hold_${randomUUID().replace(/-/g, '')}`, recordingId, reason: fields.reason, until: fields.until }));
  for (let i = 0; i < holds.length; i += 100) {
    await trx('holds').insert(
      holds.slice(i, i + 100).map((h) => ({ id: h.id, recording_id: h.recordingId, reason: h.reason, until: h.until, placed_at: fields.at, placed_by: fields.by })),
    );
  }
  return holds;
}

/** Releases every hold in force with this reason; returns what was released. */
export async function releaseHoldsWithReason(trx: Transaction, reason: string, at: string, by: string): Promise<ActiveHold[]> {
  const rows = await trx('holds').where({ reason }).whereNull('released_at').whereNull('lapsed_at');
  const held = rows.map((r: Record<string, string | null>) => ({ id: r.id!, recordingId: r.recording_id!, reason: r.reason!, until: r.until }));
  for (let i = 0; i < held.length; i += 500) {
    await trx('holds').whereIn('id', held.slice(i, i + 500).map((h) => h.id)).whereNull('released_at').whereNull('lapsed_at').update({ released_at: at, released_by: by });
  }
  return held;
}

/** Whether a restriction case holds this recording now (playback is refused then). */
export async function isRestricted(db: Db, recordingId: string, now: string): Promise<boolean> {
  const holds = await activeHoldsOn(db, [recordingId], now);
  const ids = holds.filter((h) => h.reason.startsWith('subject-request:')).map((h) => h.reason.slice('subject-request:'.length));
  if (!ids.length) return false;
  const row = await db('subject_requests').whereIn('id', ids).andWhere('kind', 'restriction').first('id');
  return row !== undefined;
}

export interface StandingOptOut {
  id: string;
  source: string | null;
  createdAt: string;
}

export async function standingOptOutOf(db: Db, callerKey: string): Promise<StandingOptOut | undefined> {
  const row = await db('opt_outs').where('caller_key', callerKey).first('id', 'source', 'created_at');
  return row ? { id: row.id, source: row.source ?? null, createdAt: row.created_at } : undefined;
}

export interface CallOptOutFact {
  id: string;
  callId: string;
  requestedAt: string;
  source: string | null;
  /** The one source whose recording of the call it covers; null: every source's. */
  recordingSource: string | null;
}

export async function callOptOutsFor(db: Db, callIds: string[]): Promise<CallOptOutFact[]> {
  const out: CallOptOutFact[] = [];
  for (let i = 0; i < callIds.length; i += 500) {
    const rows = await db('call_opt_outs').whereIn('call_id', callIds.slice(i, i + 500)).select('id', 'call_id', 'requested_at', 'source', 'recording_source');
    out.push(...rows.map((r: Record<string, string | null>) => ({ id: r.id!, callId: r.call_id!, requestedAt: r.requested_at!, source: r.source, recordingSource: r.recording_source ?? null })));
  }
  return out;
}

/** The repository bound to a database: reads go straight to it, writes take the unit of work's transaction. */
export function createSubjectRequestRepository(db: Database) {
  return {
    insert: (tx: Tx, c: SubjectRequest) => insert(trxOf(tx), c),
    findById: (id: string, tx?: Tx) => findById(handleOf(db, tx), id),
    listCurrent: (closedSince: string) => listCurrent(db, closedSince),
    countOverdue: (now: string) => countOverdue(db, now),
    extend: (tx: Tx, id: string, fields: { until: string; reason: string; dueAt: string }) => extend(trxOf(tx), id, fields),
    markAnswered: (tx: Tx, id: string, at: string, by: string) => markAnswered(trxOf(tx), id, at, by),
    markClosed: (tx: Tx, id: string, at: string, by: string) => markClosed(trxOf(tx), id, at, by),
    markCarriedOut: (tx: Tx, id: string, at: string) => markCarriedOut(trxOf(tx), id, at),
    recordingsOf: (callerKey: string) => recordingsOf(db, callerKey),
    recordingsByIds: (ids: string[]) => recordingsByIds(db, ids),
    caseCallsOf: (requestId: string, callerKey: string | null) => caseCallsOf(db, requestId, callerKey),
    insertCaseCalls: (tx: Tx, calls: CaseCall[]) => insertCaseCalls(trxOf(tx), calls),
    activeHoldsOn: (recordingIds: string[], now: string, tx?: Tx) => activeHoldsOn(handleOf(db, tx), recordingIds, now),
    insertHolds: (tx: Tx, recordingIds: string[], fields: { reason: string; until: string | null; at: string; by: string }) => insertHolds(trxOf(tx), recordingIds, fields),
    releaseHoldsWithReason: (tx: Tx, reason: string, at: string, by: string) => releaseHoldsWithReason(trxOf(tx), reason, at, by),
    isRestricted: (recordingId: string, now: string) => isRestricted(db, recordingId, now),
    standingOptOutOf: (callerKey: string) => standingOptOutOf(db, callerKey),
    callOptOutsFor: (callIds: string[]) => callOptOutsFor(db, callIds),
  };
}

export type SubjectRequestRepository = ReturnType<typeof createSubjectRequestRepository>;

/** Cases' references, notes and reasons, for masking numbers stored before they were refused. */
export function createSubjectRequestStoredText(db: Database): StoredTextSource[] {
  return [
    createStoredTextRepository(db, {
      table: 'subject_requests',
      key: ['id'],
      fields: {
        reference: { column: 'reference', kind: 'text', maxLength: 100 },
        note: { column: 'note', kind: 'text', maxLength: 1000 },
        extensionReason: { column: 'extension_reason', kind: 'text', maxLength: 500 },
      },
    }),
    createStoredTextRepository(db, {
      table: 'subject_request_calls',
      key: ['request_id', 'recording_id', 'outcome'],
      // The reason of the other hold that kept a recording: a copy of a hold's reason.
      fields: { holdReason: { column: 'hold_reason', kind: 'text', maxLength: 500, generated: /^subject-request:sr_[0-9a-f]{16}$/ } },
    }),
  ];
}
