import type { Database, Transaction } from '../shared/database.js';
import { toNumber } from '../shared/database.js';
import type { Recording } from './recording.js';

type Db = Database | Transaction;

export function fromRow(r: Record<string, unknown>): Recording {
  return {
    id: r.id as string,
    callId: r.call_id as string,
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
    deletedAt: (r.deleted_at as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export function toRow(r: Recording): Record<string, unknown> {
  return {
    id: r.id,
    call_id: r.callId,
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
    deleted_at: r.deletedAt,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

export async function findByCallId(db: Db, callId: string): Promise<Recording | undefined> {
  const row = await db('recordings').where({ call_id: callId }).first();
  return row ? fromRow(row) : undefined;
}

export async function findById(db: Db, id: string): Promise<Recording | undefined> {
  const row = await db('recordings').where({ id }).first();
  return row ? fromRow(row) : undefined;
}

export async function insert(trx: Transaction, r: Recording): Promise<void> {
  await trx('recordings').insert(toRow(r));
}
