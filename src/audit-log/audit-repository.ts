import type { Database, Transaction } from '../shared/database.js';
import { toNumber } from '../shared/database.js';
import type { AuditEntry, StoredAuditEntry } from './canonical.js';

interface Row {
  seq: number | string;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export function fromRow(r: Row): AuditEntry {
  return {
    seq: toNumber(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}


export async function head(db: Database | Transaction): Promise<{ seq: number; hash: string } | undefined> {
  const row = await db('audit_entries').select('seq', 'hash').orderBy('seq', 'desc').first();
  return row ? { seq: toNumber(row.seq), hash: row.hash } : undefined;
}

export async function insert(trx: Transaction, e: AuditEntry, canonicalDetails: string): Promise<void> {
  await trx('audit_entries').insert({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    details: canonicalDetails,
    prev_hash: e.prevHash,
    hash: e.hash,
  });
}

/** Every entry in seq order, read in pages so a million-entry log never sits in memory. */
export async function* readAll(
  db: Database,
  opts: { afterSeq?: number; pageSize?: number } = {},
): AsyncIterable<AuditEntry> {
  let after = opts.afterSeq ?? 0;
  const pageSize = opts.pageSize ?? 5000;
  for (;;) {
    const rows: Row[] = await db('audit_entries').where('seq', '>', after).orderBy('seq').limit(pageSize);
    for (const r of rows) yield fromRow(r);
    if (rows.length < pageSize) return;
    after = toNumber(rows[rows.length - 1]!.seq);
  }
}

export interface EntryFilter {
  /** Inclusive lower bound on `at` (ISO). */
  from?: string;
  /** Exclusive upper bound on `at` (ISO). */
  to?: string;
  action?: string;
  subject?: string;
  /** Cursor: only entries with seq greater than this. */
  afterSeq?: number;
  /** Never beyond this seq, so an export is a snapshot even while entries are appended. */
  untilSeq?: number;
  limit?: number;
}

/** Matching entries in seq order, paged by seq so memory stays flat however large the range. */
export async function* query(db: Database, f: EntryFilter, pageSize = 5000): AsyncIterable<AuditEntry> {
  let after = f.afterSeq ?? 0;
  let left = f.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const q = db('audit_entries').where('seq', '>', after).orderBy('seq').limit(Math.min(pageSize, left));
    if (f.untilSeq !== undefined) q.where('seq', '<=', f.untilSeq);
    if (f.from) q.where('at', '>=', f.from);
    if (f.to) q.where('at', '<', f.to);
    if (f.action) q.where('action', f.action);
    if (f.subject) q.where('subject', f.subject);
    const rows: Row[] = await q;
    for (const r of rows) yield fromRow(r);
    left -= rows.length;
    if (rows.length < pageSize) return;
    after = toNumber(rows[rows.length - 1]!.seq);
  }
}

interface CheckpointRow {
  seq: number | string;
  hash: string;
  at: string;
  signature: string;
  key_id: string;
  object_key: string;
}

export interface CheckpointRecord {
  seq: number;
  hash: string;
  at: string;
  signature: string;
  keyId: string;
  objectKey: string;
}

export async function insertCheckpoint(db: Database | Transaction, c: CheckpointRecord): Promise<void> {
  await db('audit_checkpoints').insert({ seq: c.seq, hash: c.hash, at: c.at, signature: c.signature, key_id: c.keyId, object_key: c.objectKey });
}

export async function listCheckpoints(db: Database | Transaction): Promise<CheckpointRecord[]> {
  const rows: CheckpointRow[] = await db('audit_checkpoints').orderBy('seq');
  return rows.map((r) => ({ seq: toNumber(r.seq), hash: r.hash, at: r.at, signature: r.signature, keyId: r.key_id, objectKey: r.object_key }));
}

/** Every entry in seq order, a page at a time, details left as stored (verification hashes the text). */
export async function* readStoredPages(db: Database, pageSize = 5000): AsyncIterable<StoredAuditEntry[]> {
  let after = 0;
  for (;;) {
    const rows: Row[] = await db('audit_entries').where('seq', '>', after).orderBy('seq').limit(pageSize);
    if (rows.length) {
      yield rows.map((r) => ({ seq: toNumber(r.seq), at: r.at, actor: r.actor, action: r.action, subject: r.subject, detailsJson: r.details, prevHash: r.prev_hash, hash: r.hash }));
    }
    if (rows.length < pageSize) return;
    after = toNumber(rows[rows.length - 1]!.seq);
  }
}
