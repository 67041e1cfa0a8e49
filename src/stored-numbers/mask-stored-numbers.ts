import { randomUUID } from 'node:crypto';
import type { Actor, AuditLog } from '../audit-log/index.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { identifierHoldsPhoneNumber, containsPhoneNumber, maskPhoneNumbers } from '../shared/phone-number-text.js';
import type { Transact, Tx } from '../shared/transaction.js';

/** One stored value a capability keeps as free text or as an identifier. */
export interface StoredText {
  /** The row, by its key (joined with "/" for a two-column key). */
  row: string;
  /** The field, as the API names it (queue, agentId, callId, reason, reference, note, name). */
  field: string;
  value: string;
}

/**
 * A table's free-text and identifier columns, offered by the capability that owns the table so that
 * values stored before the number detector refused them can be masked.
 */
export interface StoredTextSource {
  /** The table, as the audit entry names it. */
  readonly table: string;
  /** Every field and how it is checked: identifiers accept generated shapes whole; text is masked run by run. */
  readonly fields: Readonly<Record<string, { kind: 'identifier' | 'text'; maxLength: number }>>;
  /** The non-null values of up to `limit` rows in key order after the row `after`; `next` names the last row of a full page. */
  page(after: string | null, limit: number): Promise<{ values: StoredText[]; next: string | null }>;
  /** Replaces a value if it is still `was`; false when the row changed meanwhile. */
  replace(tx: Tx, row: string, field: string, was: string, value: string): Promise<boolean>;
}

/** What one masking did: per "table.field" how many values were masked, and the rows. Never the values. */
export interface MaskingSummary {
  masked: number;
  counts: Record<string, number>;
  rows: Record<string, string[]>;
}

/** The action of the audit entry a masking appends. */
export const NUMBERS_MASKED = 'stored-numbers.masked';
const PAGE = 1_000;

/**
 * Masks phone numbers in values stored before every field went through the detector (issue #23): free
 * text keeps its words, each run holding a number becomes "[nummer]"; an identifier holding one becomes
 * "masked-<uuid>", the same for the same value in every table (a call opted out and its recording stay
 * linked). One audit entry says what changed (counts and row ids, never values), in the transaction
 * that changes it. Run at every start: cheap when there is nothing to mask, and it also catches values
 * an older instance wrote during a rolling upgrade.
 */
export function createNumberMasking(deps: {
  sources: StoredTextSource[];
  transaction: Transact;
  audit: AuditLog;
  logger: Logger;
  /** Overwrites the old values' bytes left in the database's files once they are masked (VACUUM). */
  scrub: (tables: string[]) => Promise<void>;
  newId?: () => string;
  /** Rows read at a time (default 1 000). */
  pageSize?: number;
}) {
  const newId = deps.newId ?? randomUUID;
  const pageSize = deps.pageSize ?? PAGE;
  return async function maskStoredNumbers(actor: Actor): Promise<MaskingSummary> {
    const found: { source: StoredTextSource; text: StoredText }[] = [];
    for (const source of deps.sources) {
      let after: string | null = null;
      do {
        const page: { values: StoredText[]; next: string | null } = await source.page(after, pageSize);
        for (const text of page.values) {
          const kind = source.fields[text.field]!.kind;
          if (kind === 'identifier' ? identifierHoldsPhoneNumber(text.value) : containsPhoneNumber(text.value)) found.push({ source, text });
        }
        after = page.next;
      } while (after !== null);
    }
    const summary: MaskingSummary = { masked: 0, counts: {}, rows: {} };
    if (!found.length) return summary;
    const maskedIds = new Map<string, string>();
    await deps.transaction(async (tx) => {
      for (const { source, text } of found) {
        const field = source.fields[text.field]!;
        let value: string;
        if (field.kind === 'identifier') {
          value = maskedIds.get(text.value) ?? `masked-${newId()}`;
          maskedIds.set(text.value, value);
        } else {
          value = maskPhoneNumbers(text.value).slice(0, field.maxLength);
        }
        if (!(await source.replace(tx, text.row, text.field, text.value, value))) continue;
        const key = `${source.table}.${text.field}`;
        summary.masked++;
        summary.counts[key] = (summary.counts[key] ?? 0) + 1;
        const rows = (summary.rows[source.table] ??= []);
        if (!rows.includes(text.row)) rows.push(text.row);
      }
      if (summary.masked) await deps.audit.append(tx, { actor, action: NUMBERS_MASKED, subject: null, details: { masked: summary.masked, counts: summary.counts, rows: summary.rows } });
    });
    if (summary.masked) {
      deps.logger.warn('masked phone numbers in stored values', { masked: summary.masked, counts: summary.counts });
      // The masking is committed and audited: a scrub that fails (the database busy) is not retried by
      // the next run, which finds nothing to mask, so the log says what to do.
      await deps.scrub(Object.keys(summary.rows)).catch((err: unknown) =>
        deps.logger.error('could not overwrite the masked values\' old bytes in the database files; run VACUUM on it', { tables: Object.keys(summary.rows), err: errorFacts(err) }),
      );
    }
    return summary;
  };
}

export type MaskStoredNumbers = ReturnType<typeof createNumberMasking>;
