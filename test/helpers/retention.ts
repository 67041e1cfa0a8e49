import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { storageKeyFor, type Recording } from '../../src/recordings/index.js';
import * as recordingRepository from '../../src/recordings/recording-repository.js';
import { DAY_MS } from '../../src/shared/clock.js';
import type { Database } from '../../src/shared/database.js';
import type { DeleteResult, ObjectStore } from '../../src/storage/index.js';

/**
 * A stored recording put straight into the store and the table, bypassing ingest (which refuses calls
 * this close to their deadline): retention tests need recordings whose deadline is near.
 */
export async function seedRecording(
  ctx: { db: Database; store: ObjectStore },
  opts: { deadline: Date; retentionDays?: number; at?: Date },
): Promise<Recording> {
  const r = await seedObject(ctx, opts);
  await ctx.db.transaction((trx) => recordingRepository.insert(trx, r));
  return r;
}

/** Many at once: objects 20 at a time, rows in one transaction, 50 to an insert (a round trip per row is slow on PostgreSQL). */
export async function seedRecordings(
  ctx: { db: Database; store: ObjectStore },
  all: { deadline: Date; retentionDays?: number; at?: Date }[],
): Promise<Recording[]> {
  const out: Recording[] = [];
  for (let i = 0; i < all.length; i += 20) out.push(...(await Promise.all(all.slice(i, i + 20).map((opts) => seedObject(ctx, opts)))));
  await ctx.db.transaction(async (trx) => {
    for (let i = 0; i < out.length; i += 50) await trx('recordings').insert(out.slice(i, i + 50).map(recordingRepository.toRow));
  });
  return out;
}

async function seedObject(ctx: { store: ObjectStore }, opts: { deadline: Date; retentionDays?: number; at?: Date }): Promise<Recording> {
  const id = randomUUID();
  const started = new Date(opts.deadline.getTime() - (opts.retentionDays ?? 30) * DAY_MS);
  const key = storageKeyFor(id, opts.at ?? started);
  await ctx.store.put(key, Readable.from([Buffer.from(`audio of ${id}`)]), { contentType: 'audio/wav' });
  const iso = (opts.at ?? started).toISOString();
  const r: Recording = {
    id,
    callId: `call-${id}`,
    startedAt: started.toISOString(),
    endedAt: new Date(started.getTime() + 120_000).toISOString(),
    queue: 'bygglov',
    agentId: 'agent-1',
    callerKey: 'a'.repeat(64),
    storageKey: key,
    contentType: 'audio/wav',
    bytes: 10,
    sha256: 'b'.repeat(64),
    durationMs: null,
    status: 'stored',
    reason: null,
    deadline: opts.deadline.toISOString(),
    deletedAt: null,
    createdAt: iso,
    updatedAt: iso,
  };
  return r;
}

export async function auditEntries(db: Database, action?: string): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of readAuditEntries(db)) if (!action || e.action === action) out.push(e);
  return out;
}

/** Wraps a store so a test can take its deletes down and bring them back. */
export function switchableStore(inner: ObjectStore): ObjectStore & { down: boolean; refused: Set<string>; deleteCalls: string[][] } {
  const s = {
    down: false,
    /** Keys whose deletion the store refuses one by one while it answers (as S3 does for an object under a legal hold). */
    refused: new Set<string>(),
    deleteCalls: [] as string[][],
    put: inner.put.bind(inner),
    create: inner.create.bind(inner),
    get: inner.get.bind(inner),
    exists: inner.exists.bind(inner),
    list: inner.list.bind(inner),
    leftovers: inner.leftovers.bind(inner),
    removeLeftovers: inner.removeLeftovers.bind(inner),
    async ping(): Promise<void> {
      if (s.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
      return inner.ping();
    },
    async delete(keys: string[]): Promise<DeleteResult> {
      s.deleteCalls.push(keys);
      if (s.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
      const refused = keys.filter((k) => s.refused.has(k));
      const result = await inner.delete(keys.filter((k) => !s.refused.has(k)));
      return { deleted: result.deleted, failed: [...result.failed, ...refused.map((key) => ({ key, error: 'AccessDenied: the object is locked' }))] };
    },
  };
  return s;
}
