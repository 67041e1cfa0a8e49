import type { Transact } from '../shared/transaction.js';
import type { AuditLog } from './append.js';
import type { AuditRepository } from './ports.js';
import { canonicalJson, type AuditEntry } from './canonical.js';
import type { AuditCheckpoints } from './checkpoints.js';
import type { AuditVerdict } from './verify-log.js';

export type ExportFormat = 'ndjson' | 'csv';

export interface ExportQuery {
  from?: string;
  to?: string;
  action?: string;
  subject?: string;
  actor?: string;
  recording?: string;
  call?: string;
  after?: number;
  limit?: number;
}

/** One NDJSON line: the entry's fields in a fixed order, details as a JSON object. */
export function ndjsonLine(e: AuditEntry): string {
  return (
    JSON.stringify({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details: e.details, prevHash: e.prevHash, hash: e.hash }) + '\n'
  );
}

/**
 * Swedish Excel splits on `;` (the comma is its decimal sign) and reads UTF-8 only after a byte-order
 * mark, so the export starts with one; the mark is not part of the first column's name.
 */
export const CSV_HEADER = '\uFEFFseq;at;actor;action;subject;details;prevHash;hash\r\n';

/** RFC 4180 with `;`: a field with a separator, comma, quote or line break is quoted, quotes doubled. details as canonical JSON. */
export function csvLine(e: AuditEntry): string {
  const cells = [String(e.seq), e.at, e.actor, e.action, e.subject ?? '', canonicalJson(e.details), e.prevHash, e.hash];
  return cells.map((c) => (/[";,\r\n]/.test(c) ? '"' + c.replace(/"/g, '""') + '"' : c)).join(';') + '\r\n';
}

/** Auditor-facing reads of the log. Each read is itself audited before any entry is returned. */
export function createAuditReader(deps: { entries: AuditRepository; transaction: Transact; audit: AuditLog; checkpoints: AuditCheckpoints }) {
  const { entries: repo, transaction, audit, checkpoints } = deps;
  return {
    /**
     * Audits the export, then streams matching entries up to and including that audit entry, so the
     * export is a consistent snapshot and records its own reading.
     */
    async export(actor: string, q: ExportQuery, format: ExportFormat): Promise<AsyncIterable<string>> {
      const filter = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
      const own = await transaction((tx) => audit.append(tx, { actor, action: 'audit.exported', subject: null, details: { format, filter } }));
      const entries = repo.query({ from: q.from, to: q.to, action: q.action, subject: q.subject, actor: q.actor, recording: q.recording, call: q.call, afterSeq: q.after, limit: q.limit, untilSeq: own.seq });
      return (async function* () {
        if (format === 'csv') yield CSV_HEADER;
        // Batch lines into larger chunks: one res.write per entry costs more than the formatting.
        let buf = '';
        for await (const e of entries) {
          buf += format === 'csv' ? csvLine(e) : ndjsonLine(e);
          if (buf.length >= 64 * 1024) {
            yield buf;
            buf = '';
          }
        }
        if (buf) yield buf;
      })();
    },

    async verify(actor: string): Promise<AuditVerdict> {
      const verdict = await checkpoints.verify();
      await transaction((tx) =>
        audit.append(tx, {
          actor,
          action: 'audit.verified',
          subject: null,
          details: {
            ok: verdict.ok,
            entries: verdict.entries,
            headSeq: verdict.head?.seq ?? 0,
            ...(verdict.firstProblem ? { problemSeq: verdict.firstProblem.seq, problemKind: verdict.firstProblem.kind } : {}),
          },
        }),
      );
      return verdict;
    },
  };
}

export type AuditReader = ReturnType<typeof createAuditReader>;
