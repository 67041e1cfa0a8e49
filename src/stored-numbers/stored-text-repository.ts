import { handleOf, trxOf, type Database } from '../shared/database.js';
import type { Tx } from '../shared/transaction.js';
import type { StoredText, StoredTextSource } from './mask-stored-numbers.js';

/** A table's free-text and identifier columns, as the capability that owns it declares them. */
export interface StoredTextTable {
  table: string;
  /** The key columns (their values joined with "/" name the row). */
  key: string[];
  /**
   * field name → column, kind and the column's length; `generated` matches values the service writes
   * itself, never masked; `jsonKey` names the string inside a column that holds a JSON object.
   */
  fields: Record<string, { column: string; kind: 'identifier' | 'text'; maxLength: number; generated?: RegExp; jsonKey?: string }>;
}

/** The string at `key` of a column holding a JSON object; undefined for anything else. */
function jsonString(column: unknown, key: string): string | undefined {
  if (typeof column !== 'string') return undefined;
  try {
    const value: unknown = (JSON.parse(column) as Record<string, unknown> | null)?.[key];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The StoredTextSource over one table, paged by key. Only the owning capability's repository file
 * calls this, with its own table's description.
 */
export function createStoredTextRepository(db: Database, spec: StoredTextTable): StoredTextSource {
  const columns = Object.values(spec.fields).map((f) => f.column);
  const rowOf = (r: Record<string, unknown>) => spec.key.map((k) => String(r[k])).join('/');
  const whereRow = (row: string) => Object.fromEntries(spec.key.map((k, i) => [k, spec.key.length === 1 ? row : row.split('/')[i]!]));
  return {
    table: spec.table,
    fields: Object.fromEntries(Object.entries(spec.fields).map(([name, f]) => [name, { kind: f.kind, maxLength: f.maxLength }])),
    async page(after, limit) {
      const q = handleOf(db)(spec.table).select(...spec.key, ...columns).orderBy(spec.key.map((column) => ({ column })));
      if (after !== null) {
        // Keyset: (k1 > v1) or (k1 = v1 and k2 > v2) or …
        const at = whereRow(after);
        q.where((w) => {
          spec.key.forEach((k, i) => w.orWhere((c) => {
            for (const before of spec.key.slice(0, i)) c.where(before, at[before]!);
            c.where(k, '>', at[k]!);
          }));
        });
      }
      const rows: Record<string, unknown>[] = await q.limit(limit);
      const values: StoredText[] = [];
      for (const r of rows) {
        for (const [field, f] of Object.entries(spec.fields)) {
          const value = f.jsonKey ? jsonString(r[f.column], f.jsonKey) : r[f.column];
          if (typeof value === 'string' && !f.generated?.test(value)) values.push({ row: rowOf(r), field, value });
        }
      }
      return { values, next: rows.length === limit ? rowOf(rows[rows.length - 1]!) : null };
    },
    async replace(tx: Tx, row, field, was, value) {
      const f = spec.fields[field]!;
      if (!f.jsonKey) return (await trxOf(tx)(spec.table).where(whereRow(row)).andWhere(f.column, was).update({ [f.column]: value })) > 0;
      const json: unknown = (await trxOf(tx)(spec.table).where(whereRow(row)).first(f.column))?.[f.column];
      if (typeof json !== 'string' || jsonString(json, f.jsonKey) !== was) return false;
      const updated = JSON.stringify({ ...(JSON.parse(json) as Record<string, unknown>), [f.jsonKey]: value });
      return (await trxOf(tx)(spec.table).where(whereRow(row)).andWhere(f.column, json).update({ [f.column]: updated })) > 0;
    },
  };
}
