import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

// The audit log's Merkle tree (RFC 9162 hashing), kept beside the hash chain: every perfect subtree's
// hash, so that roots and proofs for any tree size are folds over O(log n) stored nodes. Leaves carry
// the per-entry salt of the commitment in their public projection (docs/receipts.md). Existing entries
// get their leaves here, with fresh salts.

interface Row {
  seq: number | string;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  prev_hash: string;
}
interface Node {
  level: number;
  idx: number;
  hash: Buffer;
  salt: string | null;
}

const q = (s: string) => JSON.stringify(s);

/** docs/audit-log.md §1: the canonical entry, details as stored. A frozen copy: migrations import nothing from src/. */
function canonicalEntry(r: Row, seq: number): string {
  return `{"action":${q(r.action)},"actor":${q(r.actor)},"at":${q(r.at)},"details":${r.details},"prevHash":${q(r.prev_hash)},"seq":${seq},"subject":${r.subject === null ? 'null' : q(r.subject)}}`;
}

function leafOf(r: Row, seq: number, salt: Buffer): Buffer {
  const commitment = createHash('sha256').update(salt).update(canonicalEntry(r, seq), 'utf8').digest('hex');
  const data = `{"action":${q(r.action)},"at":${q(r.at)},"commitment":"${commitment}","seq":${seq},"subject":${r.subject === null ? 'null' : q(r.subject)}}`;
  return createHash('sha256').update(Buffer.from([0])).update(data, 'utf8').digest();
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_tree', (t) => {
    t.smallint('level').notNullable().comment('0: a leaf (one audit entry); L: the perfect subtree of 2^L leaves');
    t.bigInteger('idx').notNullable().comment('the subtree covers leaves [idx·2^level, (idx+1)·2^level); leaf index = seq − 1');
    t.string('hash', 64).notNullable().comment('hex RFC 9162 hash: leaf SHA-256(0x00||projection), node SHA-256(0x01||left||right)');
    t.string('salt', 64).nullable().comment('leaves only: hex salt of the commitment to the whole entry; never published');
    t.primary(['level', 'idx']);
  });
  let after = 0;
  let peaks: Node[] = [];
  for (;;) {
    const rows: Row[] = await knex('audit_entries').where('seq', '>', after).orderBy('seq').limit(5000);
    if (!rows.length) break;
    const out: Node[] = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      const salt = randomBytes(32);
      let node: Node = { level: 0, idx: seq - 1, hash: leafOf(r, seq, salt), salt: salt.toString('hex') };
      out.push(node);
      while (peaks.length && peaks[peaks.length - 1]!.level === node.level) {
        const left = peaks.pop()!;
        const hash = createHash('sha256').update(Buffer.from([1])).update(left.hash).update(node.hash).digest();
        node = { level: node.level + 1, idx: left.idx / 2, hash, salt: null };
        out.push(node);
      }
      peaks.push(node);
    }
    const dbRows = out.map((n) => ({ level: n.level, idx: n.idx, hash: n.hash.toString('hex'), salt: n.salt }));
    for (let i = 0; i < dbRows.length; i += 200) await knex('audit_tree').insert(dbRows.slice(i, i + 200));
    after = Number(rows[rows.length - 1]!.seq);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_tree');
}
