import { handleOf, isPostgres, isUniqueViolation, lockingRows, toNumber, trxOf, type Database, type Transaction } from '../shared/database.js';
import { AlreadyExists } from '../shared/errors.js';
import type { Tx } from '../shared/transaction.js';
import type { Recording } from './recording.js';
import type { DeletionClaim, LockedRecording, PageCursor, RecordingFacts, RecordingFilter, RecordingReportFacts, RecordingRepository } from './ports.js';
import { createStoredTextRepository, type StoredTextSource } from '../stored-numbers/index.js';

type Db = Database | Transaction;

export function fromRow(r: Record<string, unknown>): Recording {
  return {
    id: r.id as string,
    callId: r.call_id as string,
    source: (r.source as string | undefined) ?? 'webhook',
    startedAt: r.started_at as string,
    endedAt: r.ended_at as string,
    queue: (r.queue as string | null) ?? null,
    agentId: (r.agent_id as string | null) ?? null,
    callerKey: (r.caller_key as string | null) ?? null,
    storageKey: (r.storage_key as string | null) ?? null,
    contentType: (r.content_type as string | null) ?? null,
    bytes: r.bytes == null ? null : toNumber(r.bytes),
    sha256: (r.sha256 as string | null) ?? null,
    durationMs: r.duration_ms == null ? null : toNumber(r.duration_ms),
    status: r.status as Recording['status'],
    reason: (r.reason as string | null) ?? null,
    deadline: r.deadline as string,
    policyVersion: r.policy_version == null ? null : toNumber(r.policy_version),
    policyRule: (r.policy_rule as string | null | undefined) ?? null,
    deletedAt: (r.deleted_at as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export function toRow(r: Recording): Record<string, unknown> {
  return {
    id: r.id,
    call_id: r.callId,
    source: r.source ?? 'webhook',
    started_at: r.startedAt,
    ended_at: r.endedAt,
    queue: r.queue,
    agent_id: r.agentId,
    caller_key: r.callerKey,
    storage_key: r.storageKey,
    content_type: r.contentType,
    bytes: r.bytes,
    sha256: r.sha256,
    duration_ms: r.durationMs,
    status: r.status,
    reason: r.reason,
    deadline: r.deadline,
    policy_version: r.policyVersion ?? null,
    policy_rule: r.policyRule ?? null,
    deleted_at: r.deletedAt,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** A recording of this call id, from any source (the webhook's first). */
export async function findByCallId(db: Db, callId: string): Promise<Recording | undefined> {
  const row = await db('recordings').where({ call_id: callId }).orderByRaw("case when source = 'webhook' then 0 else 1 end").orderBy('source').first();
  return row ? fromRow(row) : undefined;
}

/** The recording of this call id from this source: call ids are unique per source. */
export async function findBySourceCall(db: Db, source: string, callId: string): Promise<Recording | undefined> {
  const row = await db('recordings').where({ source, call_id: callId }).first();
  return row ? fromRow(row) : undefined;
}

/** Every source's recording of this call id. */
export async function findAllByCallId(db: Db, callId: string): Promise<Recording[]> {
  return (await db('recordings').where({ call_id: callId }).orderBy('source')).map(fromRow);
}

export async function findById(db: Db, id: string): Promise<Recording | undefined> {
  const row = await db('recordings').where({ id }).first();
  return row ? fromRow(row) : undefined;
}

export async function insert(trx: Transaction, r: Recording): Promise<void> {
  await trx('recordings').insert(toRow(r));
}

/** One page, newest call first; `limit + 1` rows are read so the caller knows whether more follow. */
async function listPage(db: Db, filter: RecordingFilter, after: PageCursor | undefined, limit: number): Promise<{ rows: Recording[]; more: boolean }> {
  const q = db('recordings').select('*');
  if (filter.from) q.where('started_at', '>=', filter.from);
  if (filter.to) q.where('started_at', '<', filter.to);
  if (filter.callId) q.where('call_id', filter.callId);
  if (filter.queues) q.whereIn('queue', filter.queues);
  if (filter.agentIds) q.whereIn('agent_id', filter.agentIds);
  if (filter.statuses?.length) q.whereIn('status', filter.statuses);
  if (filter.deadlineAfter) q.where('deadline', '>', filter.deadlineAfter);
  if (after) {
    q.where((w) => w.where('started_at', '<', after.startedAt).orWhere((x) => x.where('started_at', '=', after.startedAt).andWhere('id', '<', after.id)));
  }
  const rows = await q.orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit + 1);
  return { rows: rows.slice(0, limit).map(fromRow), more: rows.length > limit };
}

/** The queues and agents that occur among the recordings `filter` selects (its statuses and deadline only), each sorted. */
async function distinctValues(db: Db, filter: Pick<RecordingFilter, 'statuses' | 'deadlineAfter'>): Promise<{ queues: string[]; agentIds: string[] }> {
  const of = async (column: 'queue' | 'agent_id'): Promise<string[]> => {
    const q = db('recordings').distinct(column).whereNotNull(column);
    if (filter.statuses?.length) q.whereIn('status', filter.statuses);
    if (filter.deadlineAfter) q.where('deadline', '>', filter.deadlineAfter);
    return (await q.orderBy(column)).map((r: Record<string, string>) => r[column]!);
  };
  return { queues: await of('queue'), agentIds: await of('agent_id') };
}

/** Recordings still stored past `now`, earliest deadline first (the overdue alarm). */
async function storedPastDeadline(db: Db, now: string): Promise<Recording[]> {
  return (await db('recordings').where({ status: 'stored' }).andWhere('deadline', '<=', now).orderBy('deadline')).map(fromRow);
}

/**
 * One page of stored recordings due before `cutoff`, by (deadline, id) after `after`: keyset pagination,
 * so rows a run could not delete (still 'stored') are not read again.
 */
async function storedDueBefore(db: Db, cutoff: string, after: { deadline: string; id: string } | undefined, limit: number): Promise<Recording[]> {
  const q = db('recordings').where({ status: 'stored' }).andWhere('deadline', '<', cutoff);
  if (after) q.andWhere((w) => w.where('deadline', '>', after.deadline).orWhere((x) => x.where('deadline', after.deadline).andWhere('id', '>', after.id)));
  return (await q.orderBy([{ column: 'deadline' }, { column: 'id' }]).limit(limit)).map(fromRow);
}

/**
 * Turns those of `ids` still 'stored' into tombstones (no caller key) and returns their ids. Conditional
 * on 'stored': a recording someone else finished first is left to them.
 */
async function tombstone(trx: Transaction, ids: string[], fields: { at: string; reason: string }): Promise<string[]> {
  // Rows locked in id order first, as lockRows does: the UPDATE alone locks them in the order its plan
  // reads them, and could deadlock with a claim on some of the same recordings.
  if (isPostgres(trx)) await trx('recordings').whereIn('id', [...ids].sort()).orderBy('id').forUpdate().select('id');
  const updated = (await trx('recordings')
    .whereIn('id', ids)
    .where('status', 'stored')
    .update({ status: 'deleted', caller_key: null, deleted_at: fields.at, reason: fields.reason, updated_at: fields.at }, ['id'])) as { id: string }[];
  return updated.map((u) => u.id);
}

function claimOf(r: Record<string, unknown>): DeletionClaim | null {
  const at = r.deletion_claimed_at as string | null;
  if (!at) return null;
  const details = r.deletion_details as string | null;
  return { at, reason: (r.deletion_reason as string | null) ?? 'unknown', actor: (r.deletion_actor as string | null) ?? null, details: details ? (JSON.parse(details) as Record<string, unknown>) : {} };
}

/**
 * Locks these recordings' rows until the transaction ends (in id order, so two lockers never deadlock)
 * and reads them: what a hold or a deletion decides on cannot change before it commits.
 */
async function lockRows(trx: Transaction, ids: string[]): Promise<LockedRecording[]> {
  const out: LockedRecording[] = [];
  const sorted = [...ids].sort();
  for (let i = 0; i < sorted.length; i += 500) {
    const rows = await lockingRows(trx, trx('recordings').whereIn('id', sorted.slice(i, i + 500)).orderBy('id'));
    out.push(...rows.map((r: Record<string, unknown>) => ({ recording: fromRow(r), claim: claimOf(r) })));
  }
  return out;
}

/**
 * Claims those of `ids` still stored for deletion and returns their ids. A claim already made stays as it
 * was (its time, reason, actor and details); the rows must be locked and their holds checked in the same
 * transaction.
 */
async function claimForDeletion(trx: Transaction, ids: string[], claim: DeletionClaim): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const updated = (await trx('recordings')
      .whereIn('id', ids.slice(i, i + 500))
      .where('status', 'stored')
      .update(
        {
          deletion_claimed_at: trx.raw('coalesce(deletion_claimed_at, ?)', [claim.at]),
          deletion_reason: trx.raw('case when deletion_claimed_at is null then ? else deletion_reason end', [claim.reason]),
          deletion_actor: trx.raw('case when deletion_claimed_at is null then ? else deletion_actor end', [claim.actor]),
          deletion_details: trx.raw('case when deletion_claimed_at is null then ? else deletion_details end', [JSON.stringify(claim.details)]),
        },
        ['id'],
      )) as { id: string }[];
    out.push(...updated.map((u) => u.id));
  }
  return out;
}

/**
 * One page of stored recordings a deletion claimed but did not finish (it crashed, or the store failed)
 * whose deadline is not before `cutoff` (the run deletes those anyway), by id after `after`.
 */
async function claimedNotDue(db: Db, cutoff: string, after: string | undefined, limit: number): Promise<{ recording: Recording; claim: DeletionClaim }[]> {
  const q = db('recordings').where({ status: 'stored' }).whereNotNull('deletion_claimed_at').andWhere('deadline', '>=', cutoff);
  if (after) q.andWhere('id', '>', after);
  return (await q.orderBy('id').limit(limit)).map((r: Record<string, unknown>) => ({ recording: fromRow(r), claim: claimOf(r)! }));
}

/** Stored recordings by id after `after`: what a retention policy change is measured against. */
async function storedDeadlinesPage(db: Db, after: string | undefined, limit: number): Promise<{ id: string; queue: string | null; startedAt: string; deadline: string }[]> {
  const q = db('recordings').select('id', 'queue', 'started_at', 'deadline').where({ status: 'stored' });
  if (after) q.andWhere('id', '>', after);
  const rows: Record<string, string | null>[] = await q.orderBy('id').limit(limit);
  return rows.map((r) => ({ id: r.id!, queue: r.queue ?? null, startedAt: r.started_at!, deadline: r.deadline! }));
}

/** Brings a stored recording's deadline forward to `deadline` (never later); whether it changed. */
async function bringDeadlineForward(trx: Transaction, id: string, deadline: string, at: string): Promise<boolean> {
  const n = await trx('recordings').where({ id, status: 'stored' }).andWhere('deadline', '>', deadline).update({ deadline, updated_at: at });
  return Number(n) === 1;
}

/** The recordings of this caller still in the store. */
async function storedOfCaller(db: Db, callerKey: string): Promise<Recording[]> {
  return (await db('recordings').where({ caller_key: callerKey, status: 'stored' })).map(fromRow);
}

/** Which of these storage keys belong to a stored recording. */
async function storedKeysAmong(db: Db, keys: string[]): Promise<Set<string>> {
  const rows = await db('recordings').where({ status: 'stored' }).whereIn('storage_key', keys).select('storage_key');
  return new Set(rows.map((r: { storage_key: string }) => r.storage_key));
}

/** The recordings table. Reads run on the pool, or in `tx` when given; writes need a transaction. */
export function createRecordingRepository(db: Database): RecordingRepository {
  return {
    findById: (id: string, tx?: Tx) => findById(handleOf(db, tx), id),
    findByCallId: (callId: string, tx?: Tx) => findByCallId(handleOf(db, tx), callId),
    findBySourceCall: (source: string, callId: string, tx?: Tx) => findBySourceCall(handleOf(db, tx), source, callId),
    findAllByCallId: (callId: string, tx?: Tx) => findAllByCallId(handleOf(db, tx), callId),
    /** Throws AlreadyExists when the call has a recording already (a concurrent retry won). */
    async insert(tx: Tx, r: Recording): Promise<void> {
      try {
        await insert(trxOf(tx), r);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AlreadyExists('recording-exists', `Call ${r.callId} has a recording already`);
        throw err;
      }
    },
    listPage: (filter: RecordingFilter, after: PageCursor | undefined, limit: number) => listPage(db, filter, after, limit),
    distinctValues: (filter: Pick<RecordingFilter, 'statuses' | 'deadlineAfter'>, tx?: Tx) => distinctValues(handleOf(db, tx), filter),
    storedPastDeadline: (now: Date) => storedPastDeadline(db, now.toISOString()),
    storedDueBefore: (cutoff: Date, after: { deadline: string; id: string } | undefined, limit: number) => storedDueBefore(db, cutoff.toISOString(), after, limit),
    tombstone: (tx: Tx, ids: string[], fields: { at: string; reason: string }) => tombstone(trxOf(tx), ids, fields),
    lockRows: (tx: Tx, ids: string[]) => lockRows(trxOf(tx), ids),
    claimForDeletion: (tx: Tx, ids: string[], claim: DeletionClaim) => claimForDeletion(trxOf(tx), ids, claim),
    claimedNotDue: (cutoff: Date, after: string | undefined, limit: number) => claimedNotDue(db, cutoff.toISOString(), after, limit),
    storedOfCaller: (callerKey: string) => storedOfCaller(db, callerKey),
    storedDeadlinesPage: (after: string | undefined, limit: number) => storedDeadlinesPage(db, after, limit),
    bringDeadlineForward: (tx: Tx, id: string, deadline: string, at: string) => bringDeadlineForward(trxOf(tx), id, deadline, at),
    storedKeysAmong: (keys: string[]) => storedKeysAmong(db, keys),
    async withCallerKey(callerKey: string): Promise<Recording[]> {
      return (await db('recordings').where({ caller_key: callerKey }).orderBy([{ column: 'started_at' }, { column: 'id' }])).map(fromRow);
    },
    async anyFromSource(source: string): Promise<boolean> {
      return (await db('recordings').where({ source }).first('id')) !== undefined;
    },
    async findByIds(ids: string[]): Promise<Recording[]> {
      const out: Recording[] = [];
      for (let i = 0; i < ids.length; i += 500) out.push(...(await db('recordings').whereIn('id', ids.slice(i, i + 500))).map(fromRow));
      return out;
    },
  };
}

/** Recordings (and tombstones) of calls that started in [from, to). Never the caller key. */
async function recordingsStartedIn(db: Db, from: string, to: string): Promise<RecordingFacts[]> {
  const rows = await db('recordings')
    .select('id', 'call_id', 'started_at', 'deadline', 'deleted_at', 'reason', 'status', 'queue', 'policy_version', 'policy_rule')
    .where('started_at', '>=', from)
    .andWhere('started_at', '<', to)
    .orderBy([{ column: 'started_at' }, { column: 'id' }]);
  return rows.map((r: Record<string, string | null>) => ({
    queue: r.queue ?? null,
    policyVersion: r.policy_version == null ? null : toNumber(r.policy_version),
    policyRule: r.policy_rule ?? null,
    id: r.id!,
    callId: r.call_id!,
    startedAt: r.started_at!,
    deadline: r.deadline!,
    deletedAt: r.deleted_at,
    reason: r.reason,
    status: r.status as RecordingFacts['status'],
  }));
}

async function recordingIdsExisting(db: Db, ids: string[]): Promise<Map<string, RecordingFacts['status']>> {
  const out = new Map<string, RecordingFacts['status']>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db('recordings').select('id', 'status').whereIn('id', ids.slice(i, i + 500));
    for (const r of rows as { id: string; status: RecordingFacts['status'] }[]) out.set(r.id, r.status);
  }
  return out;
}

/** Tombstones whose deadline or deletion falls in [from, to): the overview's deletions per day against their deadlines. */
/** Stored calls without a caller key, per source: no opt-out or data-subject request can find them. */
async function storedWithoutCaller(db: Db): Promise<Array<{ source: string; count: number }>> {
  const rows = (await db('recordings').select('source').count({ n: '*' }).where('status', 'stored').whereNull('caller_key').groupBy('source').orderBy('source')) as unknown as { source: string; n: number | string }[];
  return rows.map((r) => ({ source: r.source, count: toNumber(r.n) }));
}

async function deletionsAndDeadlinesIn(db: Db, from: string, to: string): Promise<{ deadline: string; deletedAt: string | null; reason: string | null; status: RecordingFacts['status'] }[]> {
  const rows: { deadline: string; deleted_at: string | null; reason: string | null; status: RecordingFacts['status'] }[] = await db('recordings')
    .select('deadline', 'deleted_at', 'reason', 'status')
    .whereNot('status', 'discarded')
    .andWhere((q) => q.where((d) => d.where('deadline', '>=', from).andWhere('deadline', '<', to)).orWhere((d) => d.where('deleted_at', '>=', from).andWhere('deleted_at', '<', to)));
  return rows.map((r) => ({ deadline: r.deadline, deletedAt: r.deleted_at, reason: r.reason, status: r.status }));
}

/** The retention report's read model of the recordings table. */
export function createRecordingReportFacts(db: Database): RecordingReportFacts {
  return {
    recordingsStartedIn: (from: string, to: string) => recordingsStartedIn(db, from, to),
    recordingIdsExisting: (ids: string[]) => recordingIdsExisting(db, ids),
    deletionsAndDeadlinesIn: (from: string, to: string) => deletionsAndDeadlinesIn(db, from, to),
    storedWithoutCaller: () => storedWithoutCaller(db),
  };
}

/** Recordings' call ids, queues, agents and deletion notes, for masking numbers stored before they were refused. */
export function createRecordingStoredText(db: Database): StoredTextSource {
  return createStoredTextRepository(db, {
    table: 'recordings',
    key: ['id'],
    fields: {
      callId: { column: 'call_id', kind: 'identifier', maxLength: 128 },
      queue: { column: 'queue', kind: 'text', maxLength: 64 },
      agentId: { column: 'agent_id', kind: 'text', maxLength: 64 },
      // A manual deletion's reason, kept with its claim until the deletion is finished.
      deletionNote: { column: 'deletion_details', jsonKey: 'note', kind: 'text', maxLength: 500 },
    },
  });
}
