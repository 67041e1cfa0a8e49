import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { Database, Transaction } from '../shared/database.js';
import { handleOf, isPostgres, isUniqueViolation, lockForTransaction, toNumber, trxOf } from '../shared/database.js';
import { AlreadyExists } from '../shared/errors.js';
import type { Tx } from '../shared/transaction.js';
import { storedEntryText, type AuditEntry, type StoredAuditEntry } from './canonical.js';
import type { AuditRepository, CheckpointRecord, EntryFilter } from './ports.js';
import type { NodeRef, StoredTreeNode, TreeNode } from './merkle.js';

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

/** Several entries (already chained, in seq order) in multi-row inserts. */
export async function insertAll(trx: Transaction, entries: { entry: AuditEntry; canonicalDetails: string }[]): Promise<void> {
  const rows = entries.map(({ entry: e, canonicalDetails }) => ({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    details: canonicalDetails,
    prev_hash: e.prevHash,
    hash: e.hash,
  }));
  // 8 columns × 100 rows stays below SQLite's older limit of 999 bound variables per statement.
  for (let i = 0; i < rows.length; i += 100) await trx('audit_entries').insert(rows.slice(i, i + 100));
}

/**
 * The stored nodes asked for, by "level:index", in one statement (the OR of primary-key lookups,
 * which both databases answer from the index).
 */
export async function treeNodes(db: Database | Transaction, refs: NodeRef[]): Promise<Map<string, StoredTreeNode>> {
  const out = new Map<string, StoredTreeNode>();
  for (let i = 0; i < refs.length; i += 200) {
    const part = refs.slice(i, i + 200);
    // PostgreSQL: one join against the pairs as arrays, planned in microseconds; the OR of 40
    // lookups cost it more to plan than to run. SQLite answers the OR from the index directly.
    const rows: { level: number | string; idx: number | string; hash: string; salt: string | null }[] = isPostgres(db)
      ? (
          await db.raw(
            'select t.level, t.idx, t.hash, t.salt from audit_tree t join unnest(?::smallint[], ?::bigint[]) as k(level, idx) on t.level = k.level and t.idx = k.idx',
            [part.map((r) => r.level), part.map((r) => r.index)],
          )
        ).rows
      : await db('audit_tree')
          .select('level', 'idx', 'hash', 'salt')
          .where((w) => {
            for (const r of part) w.orWhere((x) => x.where('level', r.level).andWhere('idx', r.index));
          });
    for (const r of rows) {
      const level = toNumber(r.level);
      const index = toNumber(r.idx);
      out.set(`${level}:${index}`, { level, index, hash: Buffer.from(r.hash, 'hex'), salt: r.salt });
    }
  }
  return out;
}

/**
 * New tree nodes. A node that exists already is replaced: the tree follows the entries table, so a
 * tail that was cut off and appended again (a damaged log) gets the nodes of what is there now.
 */
export async function insertTreeNodes(trx: Transaction, nodes: (TreeNode & { salt?: string | null })[]): Promise<void> {
  const rows = nodes.map((n) => ({ level: n.level, idx: n.index, hash: n.hash.toString('hex'), salt: n.salt ?? null }));
  for (let i = 0; i < rows.length; i += 200) await trx('audit_tree').insert(rows.slice(i, i + 200)).onConflict(['level', 'idx']).merge();
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
    if (f.actor) q.where('actor', f.actor);
    // A call and its recording are two subjects; the recordings table links them (tombstones keep both ids).
    const { recording, call } = f;
    if (recording) q.where((w) => w.where('subject', `recording:${recording}`).orWhereIn('subject', db('recordings').select(db.raw(`'call:' || call_id`)).where('id', recording)));
    if (call) q.where((w) => w.where('subject', `call:${call}`).orWhereIn('subject', db('recordings').select(db.raw(`'recording:' || id`)).where('call_id', call)));
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

export async function insertCheckpoint(db: Database | Transaction, c: CheckpointRecord): Promise<void> {
  await db('audit_checkpoints').insert({ seq: c.seq, hash: c.hash, at: c.at, signature: c.signature, key_id: c.keyId, object_key: c.objectKey });
}

/** The details of every entry with this action, in seq order (rare actions: acknowledgements). */
export async function detailsOfAction(db: Database | Transaction, action: string): Promise<{ seq: number; details: Record<string, unknown> }[]> {
  const rows: { seq: number | string; details: string }[] = await db('audit_entries').select('seq', 'details').where({ action }).orderBy('seq');
  return rows.map((r) => ({ seq: toNumber(r.seq), details: JSON.parse(r.details) as Record<string, unknown> }));
}

export async function listCheckpoints(db: Database | Transaction): Promise<CheckpointRecord[]> {
  const rows: CheckpointRow[] = await db('audit_checkpoints').orderBy('seq');
  return rows.map((r) => ({ seq: toNumber(r.seq), hash: r.hash, at: r.at, signature: r.signature, keyId: r.key_id, objectKey: r.object_key }));
}

/**
 * Separates the values in a page's text: U+001F (unit separator). Canonical details never contain it
 * (JSON escapes every control character) and the other values hardly ever do; a page where one does
 * (a call id from the phone system, say) is read as plain rows instead.
 */
const UNIT_SEPARATOR = '\u001f';
/** seq, at, actor, action, subject, details, prev_hash, hash. */
const VALUES_PER_ENTRY = 8;

interface StoredPage {
  count: number;
  /** The seq of the page's last entry: the next page starts after it. */
  lastSeq: number;
  /** The entries, made only when asked for, so that the next page can be requested first. */
  entries(): Promise<StoredAuditEntry[]>;
}

/**
 * One page of the log as a single text that the database puts together: the eight values of every row,
 * separated by U+001F. One value per page instead of eight per row, because the driver's cost per value
 * (sqlite3 makes a string and sets a property for every column of every row) was most of the time
 * verification spent reading; joining text is also cheaper for the database than building JSON.
 *
 * Why splitting the text gives back exactly the stored values: `count(record) = count(*)` says no row
 * had a NULL (which would drop the whole row from the text), and subject's NULL is written `n` and a
 * subject `s…`. So the text holds every row, each with 7 separators of its own plus one between rows,
 * plus any separator inside a value: it splits into exactly 8 × count pieces only when no value holds a
 * separator, and then every piece is one whole value. Anything else, and the page is read as rows.
 * `||` and the aggregate work on lengths, so a NUL inside a value cannot cut it short.
 */
async function readStoredPage(db: Database, afterSeq: number, pageSize: number): Promise<StoredPage> {
  const pg = isPostgres(db);
  const separator = pg ? 'chr(31)' : 'char(31)';
  const record = [pg ? 'seq::text' : 'seq', 'at', 'actor', 'action', "coalesce('s' || subject, 'n')", 'details', 'prev_hash', 'hash'].join(` || ${separator} || `);
  const joined = pg ? `string_agg(record, ${separator})` : `group_concat(record, ${separator})`;
  const result = await db.raw(
    `select count(*) as count, count(record) as records, max(seq) as last_seq, ${joined} as text
     from (select seq, ${record} as record from audit_entries where seq > ? order by seq limit ?) page`,
    [afterSeq, pageSize],
  );
  const r: { count: number | string; records: number | string; last_seq: number | string | null; text: string | null } = pg ? result.rows[0] : result[0];
  const count = toNumber(r.count);
  return {
    count,
    lastSeq: toNumber(r.last_seq),
    async entries() {
      if (count === 0) return [];
      const entries = toNumber(r.records) === count ? entriesFromPageText(r.text!, count) : undefined;
      return entries ?? (await readStoredRows(db, afterSeq, pageSize)).entries();
    },
  };
}

/**
 * A seq as the text the database wrote for it: only plain decimal digits are that integer, so a
 * tampered seq such as "0x1A" or " 26" is not taken for 26.
 */
function seqFromText(text: string): number {
  const n = Number(text);
  return String(n) === text ? n : Number.NaN;
}

/**
 * The entries of a page text (eight values per row, in the order of the record), in seq order; or
 * undefined when the text does not hold exactly eight values per row, because a value holds the
 * separator. The values are cut out one by one rather than with split(): a page's worth of them in one
 * array is large enough to live outside the young generation, which makes every collection meanwhile
 * slower.
 *
 * The subquery hands rows to the aggregate in seq order, but SQL does not promise that an aggregate
 * keeps it (asking with ORDER BY inside the aggregate makes SQLite sort every page once more), so the
 * order is checked here and restored if ever needed: the verifier must see what `order by seq` gives,
 * or it would report a reordering that is not in the table.
 */
export function entriesFromPageText(text: string, count: number): StoredAuditEntry[] | undefined {
  const out: StoredAuditEntry[] = new Array(count);
  const values: string[] = new Array(VALUES_PER_ENTRY);
  let from = 0;
  let ordered = true;
  let allIntegers = true;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < VALUES_PER_ENTRY; k++) {
      let end = text.indexOf(UNIT_SEPARATOR, from);
      if (i === count - 1 && k === VALUES_PER_ENTRY - 1) {
        // The very last value runs to the end: a separator after it would be one value too many.
        if (end !== -1) return undefined;
        end = text.length;
      } else if (end === -1) {
        return undefined;
      }
      values[k] = text.slice(from, end);
      from = end + 1;
    }
    const subject = values[4]!;
    const e: StoredAuditEntry = {
      seq: seqFromText(values[0]!),
      at: values[1]!,
      actor: values[2]!,
      action: values[3]!,
      subject: subject === 'n' ? null : subject.slice(1),
      detailsJson: values[5]!,
      prevHash: values[6]!,
      hash: values[7]!,
    };
    if (i > 0 && !(out[i - 1]!.seq < e.seq)) ordered = false;
    if (!Number.isSafeInteger(e.seq)) allIntegers = false;
    out[i] = e;
  }
  // A seq that is not an integer cannot be ordered by; left where the database put it, it is reported there.
  return ordered || !allIntegers ? out : out.sort((a, b) => a.seq - b.seq);
}

/**
 * The same page read as plain rows, each value as the driver gives it: for a page whose text cannot be
 * split safely (a value holding U+001F, a NULL where the service never writes one), and if the text
 * query fails. Slow, but it never changes what is verified.
 */
async function readStoredRows(db: Database, afterSeq: number, pageSize: number): Promise<StoredPage> {
  const rows: Row[] = await db('audit_entries').where('seq', '>', afterSeq).orderBy('seq').limit(pageSize);
  const entries = rows.map((r) => ({ seq: toNumber(r.seq), at: r.at, actor: r.actor, action: r.action, subject: r.subject, detailsJson: r.details, prevHash: r.prev_hash, hash: r.hash }));
  return { count: entries.length, lastSeq: entries.at(-1)?.seq ?? afterSeq, entries: async () => entries };
}

/**
 * Every entry in seq order, a page at a time, details left as stored (verification hashes the text).
 * The next page is asked for before this one is handed out, so the database builds it (on the
 * driver's thread, or in the PostgreSQL server) while this one is being hashed. A page is handed out in
 * slices with a turn of the event loop between them: the request needs a few turns to reach the
 * database (knex's promise hops; sqlite3 prepares the statement on its thread and only then, from a
 * callback here, runs it), and hashing a whole page in one go would hold it back until the end.
 * Pages are modest because a page stays in memory while it is verified: larger ones outlive the young
 * generation and make the garbage collector copy them.
 */
export async function* readStoredPages(db: Database, pageSize = 2000, sliceSize = 250, afterSeq = 0): AsyncIterable<StoredAuditEntry[]> {
  const request = (afterSeq: number) => {
    const page = readStoredPage(db, afterSeq, pageSize).catch(() => readStoredRows(db, afterSeq, pageSize));
    // A page still being read when the verifier stops at a problem must not become an unhandled rejection.
    page.catch(() => undefined);
    return page;
  };
  let next = request(afterSeq);
  for (;;) {
    const page = await next;
    const full = page.count === pageSize;
    if (full) next = request(page.lastSeq);
    const entries = await page.entries();
    for (let i = 0; i < entries.length; i += sliceSize) {
      if (full) await setImmediatePromise();
      yield entries.slice(i, i + sliceSize);
    }
    if (!full) return;
  }
}

/** The audit_entries and audit_checkpoints tables. */
export function createAuditRepository(db: Database): AuditRepository {
  return {
    /** Serialises appenders of the chain until `tx` ends (PostgreSQL; SQLite's one connection already does). */
    lockChain: (tx: Tx) => lockForTransaction(trxOf(tx), 'audit-chain'),
    head: (tx?: Tx) => head(handleOf(db, tx)),
    insertAll: (tx: Tx, entries: { entry: AuditEntry; canonicalDetails: string }[]) => insertAll(trxOf(tx), entries),
    /** The Merkle tree's stored nodes asked for, by "level:index" (audit_tree). */
    treeNodes: (refs: NodeRef[], tx?: Tx) => treeNodes(handleOf(db, tx), refs),
    insertTreeNodes: (tx: Tx, nodes: (TreeNode & { salt?: string | null })[]) => insertTreeNodes(trxOf(tx), nodes),
    /** Entries after `afterSeq` inside `tx`, each with its canonical text (docs/audit-log.md §1), for rebuilding the tree. */
    async storedEntries(tx: Tx, afterSeq: number, limit: number): Promise<{ seq: number; at: string; action: string; subject: string | null; text: string }[]> {
      const rows: Row[] = await trxOf(tx)('audit_entries').where('seq', '>', afterSeq).orderBy('seq').limit(limit);
      return rows.map((r) => {
        const e = { seq: toNumber(r.seq), at: r.at, actor: r.actor, action: r.action, subject: r.subject, detailsJson: r.details, prevHash: r.prev_hash, hash: r.hash };
        let text: string;
        try {
          text = storedEntryText(e);
        } catch {
          text = JSON.stringify(r); // a damaged row: its leaf commits to what is there; verification reports it
        }
        return { seq: e.seq, at: e.at, action: e.action, subject: e.subject, text };
      });
    },
    /** The seq of the latest entry with this action and subject (both indexed), or undefined. */
    async latestSeqOf(action: string, subject: string): Promise<number | undefined> {
      const r = await db('audit_entries').where({ subject, action }).max({ seq: 'seq' }).first();
      return r?.seq == null ? undefined : toNumber(r.seq);
    },
    /** One entry by seq, or undefined. */
    async entry(seq: number): Promise<AuditEntry | undefined> {
      const row: Row | undefined = await db('audit_entries').where({ seq }).first();
      return row ? fromRow(row) : undefined;
    },
    readAll: (opts?: { afterSeq?: number; pageSize?: number }) => readAll(db, opts),
    query: (f: EntryFilter, pageSize?: number) => query(db, f, pageSize),
    readStoredPages: (pageSize?: number, sliceSize?: number, afterSeq?: number) => readStoredPages(db, pageSize, sliceSize, afterSeq),
    detailsOfAction: (action: string) => detailsOfAction(db, action),
    listCheckpoints: () => listCheckpoints(db),
    async entriesWithActionsSince(actions: string[], since: string): Promise<AuditEntry[]> {
      const rows: Row[] = await db('audit_entries').whereIn('action', actions).andWhere('at', '>=', since).orderBy('seq');
      return rows.map(fromRow);
    },
    /** Throws AlreadyExists when that seq is checkpointed already. */
    async insertCheckpoint(c: CheckpointRecord): Promise<void> {
      try {
        await insertCheckpoint(db, c);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AlreadyExists('checkpoint-exists', `The audit log is checkpointed at ${c.seq} already`);
        throw err;
      }
    },
  };
}
