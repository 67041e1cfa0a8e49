import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  canonicalJson, checkpointObjectBody, checkpointObjectKey, createAuditCheckpoints, createAuditLog, createSigner, GENESIS_HASH, hashEntry,
  ndjsonLine, parseCheckpointFile, parseExportLine, verifyAuditLog, type AuditEntry, type SignedCheckpoint, createAuditRepository,
} from '../../src/audit-log/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest, transactor, type Database } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { ObjectNotFound, type ObjectStore } from '../../src/storage/index.js';

const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const signer = createSigner(KEY);
const ENTRY_FIELDS = ['seq', 'at', 'actor', 'action', 'subject', 'details', 'prevHash', 'hash'] as const;
const CHECKPOINT_FIELDS = ['seq', 'hash', 'at', 'signature', 'keyId'] as const;

/** Just enough of an object store in memory: the verifier lists and reads checkpoint objects. */
function memoryStore(objects: Map<string, Buffer>): ObjectStore {
  return {
    async put() {
      throw new Error('not used');
    },
    async create(key, body) {
      if (objects.has(key)) return { created: false };
      objects.set(key, body);
      return { created: true };
    },
    async get(key) {
      const b = objects.get(key);
      if (!b) throw new ObjectNotFound(key);
      return { body: Readable.from([b]), bytes: b.length, totalBytes: b.length, contentType: 'application/json' };
    },
    async delete(keys) {
      for (const k of keys) objects.delete(k);
      return { deleted: keys, failed: [] };
    },
    async exists(key) {
      return objects.has(key);
    },
    async *list(prefix) {
      for (const key of [...objects.keys()].sort()) if (key.startsWith(prefix)) yield { key, lastModified: new Date(0) };
    },
    // A store in memory leaves nothing behind when a write fails.
    async *leftovers() {},
    async removeLeftovers(ids) {
      return { deleted: ids, failed: [] };
    },
    async ping() {},
  };
}

const detailValue = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.string({ maxLength: 6, unit: 'binary' }), fc.boolean(), fc.constant(null));
const logArb = fc
  .array(
    fc.record({
      actor: fc.constantFrom('trainer:tok_a', 'admin:tok_b', 'system:retention'),
      action: fc.constantFrom('recording.played', 'recording.deleted', 'hold.placed'),
      subject: fc.option(fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }), { nil: null }),
      details: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), detailValue, { maxKeys: 4 }),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .chain((items) =>
    fc.record({
      items: fc.constant(items),
      // Checkpoint seqs; the head is always signed (the service does so at shutdown), so no tail goes unprotected.
      checkpoints: fc.uniqueArray(fc.integer({ min: 1, max: items.length }), { maxLength: 4 }).map((s) => [...new Set([...s, items.length])].sort((a, b) => a - b)),
    }),
  )
  .map(({ items, checkpoints }) => {
    const entries: AuditEntry[] = [];
    let prevHash = GENESIS_HASH;
    items.forEach((it, i) => {
      const unsigned = { seq: i + 1, at: new Date(Date.UTC(2026, 10, 23, 9) + i * 1000).toISOString(), ...it, prevHash };
      const e = { ...unsigned, hash: hashEntry(unsigned) };
      entries.push(e);
      prevHash = e.hash;
    });
    const cps = checkpoints.map((seq) => signer.sign({ seq, hash: entries[seq - 1]!.hash, at: '2026-11-24T00:00:00.000Z' }));
    return { entries, cps };
  });

type Log = { entries: AuditEntry[]; cps: SignedCheckpoint[] };
type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** A text-level change of one NDJSON line or of the line order. */
const exportMutation = fc.record({
  kind: fc.constantFrom('field', 'extra-field', 'repeated-key', 'number-form', 'spaces', 'reorder-keys', 'unicode-escape', 'drop-line', 'duplicate-line', 'swap-lines'),
  pick: fc.nat(),
  field: fc.constantFrom(...ENTRY_FIELDS),
  salt: fc.string({ minLength: 1, maxLength: 3 }),
});

function changeValue(v: unknown, field: string, salt: string): unknown {
  if (field === 'seq') return (v as number) + 1;
  if (field === 'details') return { ...(v as object), [`k${salt}`]: 1 };
  if (field === 'subject') return v === null ? salt : null;
  if (field === 'prevHash' || field === 'hash') return (v as string).slice(0, -1) + ((v as string).endsWith('0') ? '1' : '0');
  return (v as string) + salt;
}

function mutateExport(lines: string[], m: Generated<typeof exportMutation>): string[] {
  const out = [...lines];
  const i = m.pick % lines.length;
  const line = lines[i]!;
  const obj = JSON.parse(line) as Record<string, unknown>;
  switch (m.kind) {
    case 'field':
      out[i] = JSON.stringify({ ...obj, [m.field]: changeValue(obj[m.field], m.field, m.salt) });
      break;
    case 'extra-field':
      out[i] = line.replace('{', `{"x${m.salt.replace(/["\\]/g, '')}":1,`);
      break;
    case 'repeated-key':
      out[i] = line.replace('{', `{"${m.field}":${JSON.stringify(changeValue(obj[m.field], m.field, m.salt))},`);
      break;
    case 'number-form':
      out[i] = line.replace(/"seq":(\d+)/, '"seq":$1.0');
      break;
    case 'spaces':
      out[i] = line.replace(/,"(seq|at|actor|action|subject|details|prevHash|hash)":/g, ', "$1" : ');
      break;
    case 'reorder-keys':
      out[i] = JSON.stringify(Object.fromEntries(Object.entries(obj).reverse()));
      break;
    case 'unicode-escape':
      out[i] = line.replace('"action":"r', '"action":"\\u0072').replace('"action":"h', '"action":"\\u0068');
      break;
    case 'drop-line':
      out.splice(i, 1);
      break;
    case 'duplicate-line':
      out.splice(i, 0, line);
      break;
    case 'swap-lines':
      if (lines.length > 1) {
        const j = (i + 1) % lines.length;
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      break;
  }
  return out;
}

/** What the hashes and signatures cover, as read strictly: equal exactly when no byte that matters changed. */
function canonicalExport(lines: string[]): string[] | undefined {
  const out: string[] = [];
  for (const l of lines) {
    const e = parseExportLine(l);
    if ('malformed' in e) return undefined;
    out.push(canonicalJson(e));
  }
  return out;
}

function canonicalCheckpointFile(text: string): string | undefined {
  const [c] = parseCheckpointFile(text, 'x');
  return c && !('malformed' in c) ? canonicalJson({ seq: c.seq, hash: c.hash, at: c.at, signature: c.signature, keyId: c.keyId }) : undefined;
}

const checkpointFileMutation = fc.record({
  kind: fc.constantFrom('field', 'extra-field', 'repeated-key', 'number-form', 'spaces', 'reorder-keys'),
  pick: fc.nat(),
  field: fc.constantFrom(...CHECKPOINT_FIELDS),
  salt: fc.string({ minLength: 1, maxLength: 3 }),
});

function changeCheckpointValue(v: unknown, field: string, salt: string): unknown {
  if (field === 'seq') return (v as number) + 1;
  if (field === 'signature') return Buffer.from(Buffer.from(v as string, 'base64').map((b, k) => (k === 0 ? b ^ 1 : b))).toString('base64');
  if (field === 'hash' || field === 'keyId') return (v as string).slice(0, -1) + ((v as string).endsWith('0') ? '1' : '0');
  return (v as string) + salt;
}

function mutateCheckpointFile(text: string, m: Generated<typeof checkpointFileMutation>): string {
  const obj = JSON.parse(text) as Record<string, unknown>;
  switch (m.kind) {
    case 'field':
      return JSON.stringify({ ...obj, [m.field]: changeCheckpointValue(obj[m.field], m.field, m.salt) }) + '\n';
    case 'extra-field':
      return text.replace('{', '{"note":"verified",');
    case 'repeated-key':
      return text.replace('{', `{"${m.field}":${JSON.stringify(changeCheckpointValue(obj[m.field], m.field, m.salt))},`);
    case 'number-form':
      return text.replace(/"seq":(\d+)/, '"seq":$1e0');
    case 'spaces':
      return text.replace(/,"/g, ', "');
    case 'reorder-keys':
      return JSON.stringify(Object.fromEntries(Object.entries(obj).reverse())) + '\n';
  }
  return text;
}

const ROW_COLUMNS = ['seq', 'at', 'actor', 'action', 'subject', 'details', 'prev_hash', 'hash', 'delete'] as const;
const CHECKPOINT_COLUMNS = ['seq', 'hash', 'at', 'signature', 'key_id'] as const;

describe('every verifier fails on any single mutation that changes the canonical bytes (property, fast-check)', () => {
  let dir: string;
  let db: Database;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gallra-tamper-'));
    db = createDatabase(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await migrateLatest(db);
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The log written as the service writes it: rows, checkpoint rows and checkpoint objects; returns the service's verifier. */
  async function serviceHolding(log: Log) {
    await db('audit_entries').del();
    await db('audit_checkpoints').del();
    for (let i = 0; i < log.entries.length; i += 50) {
      await db('audit_entries').insert(
        log.entries.slice(i, i + 50).map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details: canonicalJson(e.details), prev_hash: e.prevHash, hash: e.hash })),
      );
    }
    const objects = new Map<string, Buffer>();
    for (const c of log.cps) {
      await db('audit_checkpoints').insert({ seq: c.seq, hash: c.hash, at: c.at, signature: c.signature, key_id: c.keyId, object_key: checkpointObjectKey(c.seq) });
      objects.set(checkpointObjectKey(c.seq), checkpointObjectBody(c));
    }
    const clock = new ManualClock();
    const entries = createAuditRepository(db);
    const checkpoints = createAuditCheckpoints({
      entries, transaction: transactor(db), store: memoryStore(objects), clock, logger: createLogger({ level: 'silent' }), audit: createAuditLog({ clock, entries }), signingKeyPem: KEY,
    });
    return { checkpoints, objects };
  }

  const offline = (lines: string[], files: string[]) =>
    verifyAuditLog(lines.map(parseExportLine), files.flatMap((f, i) => parseCheckpointFile(f, `file ${i}`)), signer.publicKey);

  it('offline: a mutated export line or line order', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, exportMutation, async (log, m) => {
        const lines = log.entries.map((e) => ndjsonLine(e).trimEnd());
        const files = log.cps.map((c) => checkpointObjectBody(c).toString('utf8'));
        expect((await offline(lines, files)).ok, 'the unmutated log').to.equal(true);
        const mutated = mutateExport(lines, m);
        const unchanged = JSON.stringify(canonicalExport(mutated)) === JSON.stringify(canonicalExport(lines));
        const v = await offline(mutated, files);
        expect(v.ok, `${m.kind} ${m.field}: ${JSON.stringify(v.firstProblem)}`).to.equal(unchanged);
      }),
      { numRuns: 300 },
    );
  });

  it('offline and service: a mutated checkpoint file (the store object)', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, checkpointFileMutation, async (log, m) => {
        const lines = log.entries.map((e) => ndjsonLine(e).trimEnd());
        const files = log.cps.map((c) => checkpointObjectBody(c).toString('utf8'));
        const i = m.pick % files.length;
        const mutated = [...files];
        mutated[i] = mutateCheckpointFile(files[i]!, m);
        const unchanged = canonicalCheckpointFile(mutated[i]!) === canonicalCheckpointFile(files[i]!);
        const off = await offline(lines, mutated);
        expect(off.ok, `offline ${m.kind} ${m.field}: ${JSON.stringify(off.firstProblem)}`).to.equal(unchanged);

        const { checkpoints, objects } = await serviceHolding(log);
        objects.set(checkpointObjectKey(log.cps[i]!.seq), Buffer.from(mutated[i]!));
        const svc = await checkpoints.verify();
        expect(svc.ok, `service ${m.kind} ${m.field}: ${JSON.stringify(svc.firstProblem)}`).to.equal(unchanged);
      }),
      { numRuns: 150 },
    );
  });

  it('service: a mutated or deleted entry row', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.nat(), fc.constantFrom(...ROW_COLUMNS), fc.string({ minLength: 1, maxLength: 3 }), async (log, pick, column, salt) => {
        const { checkpoints } = await serviceHolding(log);
        expect((await checkpoints.verify()).ok, 'the unmutated log').to.equal(true);
        const e = log.entries[pick % log.entries.length]!;
        const row = await db('audit_entries').where({ seq: e.seq }).first();
        if (column === 'delete') {
          await db('audit_entries').where({ seq: e.seq }).del();
        } else {
          const value =
            column === 'seq' ? log.entries.length + 1 + (pick % 3)
            : column === 'subject' ? (row.subject === null ? salt : null)
            : column === 'details' ? row.details.replace(/^\{/, '{ ') // equal JSON, other text: the stored text is what was hashed
            : row[column] + salt;
          await db('audit_entries').where({ seq: e.seq }).update({ [column]: value });
        }
        const v = await checkpoints.verify();
        expect(v.ok, `${column}: ${JSON.stringify(v.firstProblem)}`).to.equal(false);
      }),
      { numRuns: 150 },
    );
  });

  it('service: a mutated checkpoint row', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.nat(), fc.constantFrom(...CHECKPOINT_COLUMNS), fc.string({ minLength: 1, maxLength: 3 }), async (log, pick, column, salt) => {
        const { checkpoints } = await serviceHolding(log);
        const c = log.cps[pick % log.cps.length]!;
        const field = column === 'key_id' ? 'keyId' : column;
        const value = changeCheckpointValue(c[field as keyof SignedCheckpoint], field, salt);
        // A seq moved onto another checkpoint's seq would collide with its primary key: move it past the head instead.
        const v0 = column === 'seq' ? log.entries.length + 1 + (pick % 3) : value;
        await db('audit_checkpoints').where({ seq: c.seq }).update({ [column]: v0 });
        const v = await checkpoints.verify();
        expect(v.ok, `${column}: ${JSON.stringify(v.firstProblem)}`).to.equal(false);
      }),
      { numRuns: 150 },
    );
  });
});
