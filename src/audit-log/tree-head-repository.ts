import type { Database } from '../shared/database.js';
import { isUniqueViolation, toNumber, trxOf } from '../shared/database.js';
import type { StoredTreeHead, TreeHeadStore } from './tree-heads.js';

interface HeadRow {
  size: number | string;
  root: string;
  note: string;
  at: string;
  object_key: string;
}

const fromRow = (r: HeadRow): StoredTreeHead => ({ size: toNumber(r.size), root: Buffer.from(r.root, 'hex'), note: r.note, at: r.at, objectKey: r.object_key });

/** The audit_tree_heads and audit_cosignatures tables. */
export function createTreeHeadRepository(db: Database): TreeHeadStore {
  return {
    async latest() {
      const r: HeadRow | undefined = await db('audit_tree_heads').orderBy('size', 'desc').first();
      return r ? fromRow(r) : undefined;
    },
    async bySize(size) {
      const r: HeadRow | undefined = await db('audit_tree_heads').where({ size }).first();
      return r ? fromRow(r) : undefined;
    },
    async insert(h) {
      try {
        await db('audit_tree_heads').insert({ size: h.size, root: h.root.toString('hex'), note: h.note, at: h.at, object_key: h.objectKey });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
    async cosignatures(size) {
      const rows: { line: string }[] = await db('audit_cosignatures').where({ size }).orderBy('key_id').select('line');
      return rows.map((r) => r.line);
    },
    async addCosignature(tx, c) {
      await trxOf(tx)('audit_cosignatures').insert({ size: c.size, key_id: c.keyId, name: c.name, line: c.line, at: c.at }).onConflict(['size', 'key_id']).merge();
    },
  };
}
