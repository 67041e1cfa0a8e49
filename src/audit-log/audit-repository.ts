import type { Database, Transaction } from '../shared/database.js';
import { toNumber } from '../shared/database.js';
import type { AuditEntry } from './canonical.js';

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
