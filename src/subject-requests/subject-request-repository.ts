import { handleOf, trxOf, type Database, type Transaction } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { SubjectRequestRepository } from './ports.js';
import type { CaseCall, SubjectRequest, SubjectRequestKind } from './subject-request.js';
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

export async function anyOfKind(db: Db, ids: string[], kind: SubjectRequestKind): Promise<boolean> {
  if (!ids.length) return false;
  return (await db('subject_requests').whereIn('id', ids).andWhere('kind', kind).first('id')) !== undefined;
}

/** The repository bound to a database: reads go straight to it, writes take the unit of work's transaction. */
export function createSubjectRequestRepository(db: Database): SubjectRequestRepository {
  return {
    insert: (tx: Tx, c: SubjectRequest) => insert(trxOf(tx), c),
    findById: (id: string, tx?: Tx) => findById(handleOf(db, tx), id),
    listCurrent: (closedSince: string) => listCurrent(db, closedSince),
    countOverdue: (now: string) => countOverdue(db, now),
    extend: (tx: Tx, id: string, fields: { until: string; reason: string; dueAt: string }) => extend(trxOf(tx), id, fields),
    markAnswered: (tx: Tx, id: string, at: string, by: string) => markAnswered(trxOf(tx), id, at, by),
    markClosed: (tx: Tx, id: string, at: string, by: string) => markClosed(trxOf(tx), id, at, by),
    markCarriedOut: (tx: Tx, id: string, at: string) => markCarriedOut(trxOf(tx), id, at),
    caseCallsOf: (requestId: string, callerKey: string | null) => caseCallsOf(db, requestId, callerKey),
    insertCaseCalls: (tx: Tx, calls: CaseCall[]) => insertCaseCalls(trxOf(tx), calls),
    anyOfKind: (ids: string[], kind: SubjectRequestKind) => anyOfKind(db, ids, kind),
  };
}

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
