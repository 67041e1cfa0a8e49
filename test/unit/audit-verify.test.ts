import { createHash, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import {
  canonicalEntry, canonicalJson, createSigner, GENESIS_HASH, hashEntry, verifyAuditLog, type AuditEntry, type SignedCheckpoint,
} from '../../src/audit-log/index.js';
import { entriesFromPageText } from '../../src/audit-log/audit-repository.js';

const signer = createSigner(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const ACTIONS = ['recording.ingested', 'recording.deleted', 'recording.played', 'token.created', 'hold.placed'];
const N = 1000;

/** A valid chain of n entries, varied enough that every field matters. */
function buildLog(n: number, seed = 0): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const unsigned = {
      seq: i,
      at: new Date(Date.UTC(2026, 10, 1) + (i + seed) * 60_000).toISOString(),
      actor: i % 3 ? 'system:retention' : `admin:tok_${(i * 7 + seed) % 97}`,
      action: ACTIONS[(i + seed) % ACTIONS.length]!,
      subject: i % 5 ? `recording:r${i}` : null,
      details: { n: i, note: `entry ${i} «åäö»`, nested: { ok: i % 2 === 0, list: [i, 'x'] } },
      prevHash,
    };
    const e = { ...unsigned, hash: hashEntry(unsigned) };
    out.push(e);
    prevHash = e.hash;
  }
  return out;
}

/** Recomputes every link from index `from` on, as a forger with write access to the table would. */
function rehashFrom(log: AuditEntry[], from: number): AuditEntry[] {
  const out = log.slice(0, from);
  for (let i = from; i < log.length; i++) {
    const { hash: _h, ...rest } = log[i]!;
    const unsigned = { ...rest, seq: i + 1, prevHash: i === 0 ? GENESIS_HASH : out[i - 1]!.hash };
    out.push({ ...unsigned, hash: hashEntry(unsigned) });
  }
  return out;
}

const checkpointAt = (log: AuditEntry[], seq: number): SignedCheckpoint =>
  signer.sign({ seq, hash: log[seq - 1]!.hash, at: '2026-11-23T10:00:00.000Z' });

const BASE = buildLog(N);
const FIELDS = ['seq', 'at', 'actor', 'action', 'subject', 'details', 'prevHash', 'hash'] as const;

function edit(e: AuditEntry, field: (typeof FIELDS)[number], salt: number): AuditEntry {
  const c = { ...e };
  switch (field) {
    case 'seq': c.seq = e.seq + 1 + salt; break;
    case 'at': c.at = new Date(Date.parse(e.at) + 1000 * (salt + 1)).toISOString(); break;
    case 'actor': c.actor = `auditor:tok_${salt}`; break;
    case 'action': c.action = e.action === 'recording.played' ? 'recording.deleted' : 'recording.played'; break;
    case 'subject': c.subject = e.subject === null ? 'recording:x' : null; break;
    case 'details': c.details = { ...e.details, n: (e.details.n as number) + 1 + salt }; break;
    case 'prevHash': c.prevHash = e.prevHash.replace(/^./, (ch) => (ch === 'a' ? 'b' : 'a')); break;
    case 'hash': c.hash = e.hash.replace(/.$/, (ch) => (ch === 'a' ? 'b' : 'a')); break;
  }
  return c;
}

describe('audit log verification (property tests over 1 000-entry logs)', () => {
  afterEach(() => sinon.restore());

  it('verifies a clean log, with or without checkpoints, and reports its head', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: N }), { maxLength: 4 }), async (cpSeqs) => {
        const v = await verifyAuditLog(BASE, cpSeqs.map((s) => checkpointAt(BASE, s)), signer.publicKey);
        expect(v.ok, JSON.stringify(v.firstProblem)).to.equal(true);
        expect(v.entries).to.equal(N);
        expect(v.head).to.deep.equal({ seq: N, hash: BASE[N - 1]!.hash });
        expect(v.checkpoints.valid).to.equal(cpSeqs.length);
      }),
      { numRuns: 30 },
    );
  });

  it('detects a single-field edit of any entry and locates it at that entry', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.constantFrom(...FIELDS), fc.nat(5), async (seq, field, salt) => {
        const log = BASE.slice();
        log[seq - 1] = edit(log[seq - 1]!, field, salt);
        const v = await verifyAuditLog(log, [checkpointAt(BASE, N)], signer.publicKey);
        expect(v.ok).to.equal(false);
        expect(v.firstProblem!.seq, `${field} edit of ${seq}: ${v.firstProblem!.detail}`).to.equal(seq);
        expect(v.entries).to.equal(seq - 1);
      }),
      { numRuns: 200 },
    );
  });

  it('detects an inserted entry and locates it at the insertion or the entry after it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.boolean(), async (seq, renumber) => {
        // A forged entry that links correctly to its predecessor and hashes correctly.
        const unsigned = { seq, at: BASE[seq - 1]!.at, actor: 'admin:forger', action: 'recording.deleted', subject: 'recording:ghost', details: {}, prevHash: seq === 1 ? GENESIS_HASH : BASE[seq - 2]!.hash };
        const forged = { ...unsigned, hash: hashEntry(unsigned) };
        let log = [...BASE.slice(0, seq - 1), forged, ...BASE.slice(seq - 1)];
        // Renumbering the rest (as a forger must, seq being unique) without rehashing them.
        if (renumber) log = log.map((e, i) => (i >= seq ? { ...e, seq: i + 1 } : e));
        const v = await verifyAuditLog(log, [], signer.publicKey);
        expect(v.ok).to.equal(false);
        expect(v.firstProblem!.seq).to.be.oneOf([seq, seq + 1]);
      }),
      { numRuns: 150 },
    );
  });

  it('detects a removed entry and locates it at its position', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N - 1 }), fc.boolean(), async (seq, renumber) => {
        let log = [...BASE.slice(0, seq - 1), ...BASE.slice(seq)];
        if (renumber) log = log.map((e, i) => ({ ...e, seq: i + 1 }));
        const v = await verifyAuditLog(log, [], signer.publicKey);
        expect(v.ok).to.equal(false);
        expect(v.firstProblem!.seq).to.equal(seq);
      }),
      { numRuns: 150 },
    );
  });

  it('detects two reordered entries and locates the first of them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: N }), { minLength: 2, maxLength: 2 }),
        fc.boolean(),
        async ([a, b], renumber) => {
          const [i, j] = [Math.min(a!, b!), Math.max(a!, b!)];
          let log = BASE.slice();
          [log[i - 1], log[j - 1]] = [log[j - 1]!, log[i - 1]!];
          if (renumber) log = log.map((e, k) => ({ ...e, seq: k + 1 }));
          const v = await verifyAuditLog(log, [], signer.publicKey);
          expect(v.ok).to.equal(false);
          expect(v.firstProblem!.seq).to.equal(i);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('detects a tail truncated behind the last checkpoint and locates where it was cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: N }), fc.nat(), async (cp, cutSeed) => {
        const keep = cutSeed % cp; // 0 … cp-1 entries survive
        const v = await verifyAuditLog(BASE.slice(0, keep), [checkpointAt(BASE, cp)], signer.publicKey);
        expect(v.ok).to.equal(false);
        expect(v.firstProblem!.kind).to.equal('truncated');
        expect(v.firstProblem!.seq).to.equal(keep + 1);
      }),
      { numRuns: 150 },
    );
  });

  it('detects a tail rewritten with fresh hashes at the first checkpoint it passes, bounded by the one before', async () => {
    const cps = [250, 500, 750, 1000];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.boolean(), async (seq, remove) => {
        const changed = remove ? [...BASE.slice(0, seq - 1), ...BASE.slice(seq)] : BASE.map((e, i) => (i === seq - 1 ? edit(e, 'details', 0) : e));
        const forged = rehashFrom(changed, seq - 1);
        const v = await verifyAuditLog(forged, cps.map((s) => checkpointAt(BASE, s)), signer.publicKey);
        expect(v.ok).to.equal(false);
        const covering = cps.find((c) => c >= seq)!;
        const p = v.firstProblem!;
        if (remove && covering === N) {
          expect(p.kind).to.equal('truncated'); // one entry shorter than the last checkpoint
        } else {
          expect(p.kind).to.equal('checkpoint-mismatch');
          expect(p.seq).to.equal(covering);
          expect(p.earliestSeq).to.be.at.most(seq);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a checkpoint whose signature does not verify, and one signed by another key', async () => {
    const forged = { ...checkpointAt(BASE, 10), hash: BASE[11]!.hash };
    const other = createSigner(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const v = await verifyAuditLog(BASE, [forged, other.sign({ seq: 20, hash: BASE[19]!.hash, at: 'x' })], signer.publicKey);
    expect(v.ok).to.equal(false);
    expect(v.firstProblem).to.include({ seq: 10, kind: 'checkpoint-signature' });
    expect(v.checkpoints).to.include({ valid: 0, invalid: 2 });
  });

  it('hashes exactly the canonical JSON of the entry without its hash, for any entry', () => {
    const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(fc.string({ unit: 'binary' }), fc.maxSafeInteger(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 4 })),
    })).value;
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1 }), at: fc.string(), actor: fc.string({ unit: 'binary' }), action: fc.string(),
          subject: fc.option(fc.string({ unit: 'binary' })), details: fc.dictionary(fc.string({ unit: 'binary' }), json, { maxKeys: 5 }), prevHash: fc.string(),
        }),
        (e) => {
          expect(canonicalEntry(e)).to.equal(canonicalJson(e));
        },
      ),
      { numRuns: 500 },
    );
    expect(canonicalEntry(BASE[41]!).startsWith('{"action":')).to.equal(true);
  });

  it('reports an entry whose details cannot be canonicalised as altered instead of failing', async () => {
    const log = BASE.slice(0, 5);
    log[2] = { ...log[2]!, details: { n: 1.5 } };
    const v = await verifyAuditLog(log, [], signer.publicKey);
    expect(v.firstProblem).to.include({ seq: 3, kind: 'hash-mismatch' });
  });
});

describe('a page of stored entries read as one text of values', () => {
  /** The eight values of a row as the page query writes them: subject as `s…`, or `n` for null. */
  const row = (seq: string, subject = 'n') => [seq, '2026-11-23T09:00:00.000Z', 'system:test', 'recording.played', subject, '{}', 'p'.repeat(64), 'h'.repeat(64)];
  /** The page text of some rows, as the database joins it. */
  const page = (...rows: string[][]) => rows.flat().join('\u001f');
  const seqs = (text: string, count: number) => entriesFromPageText(text, count)?.map((e) => e.seq);

  it('makes entries of the values, keeping rows that arrive in seq order and ordering rows that do not', () => {
    expect(seqs(page(row('1'), row('2'), row('3')), 3)).to.deep.equal([1, 2, 3]);
    expect(seqs(page(row('7'), row('5'), row('9'), row('6')), 4)).to.deep.equal([5, 6, 7, 9]);
    expect(entriesFromPageText(page(row('4', 'srecording:r1')), 1)![0]).to.deep.equal({
      seq: 4, at: '2026-11-23T09:00:00.000Z', actor: 'system:test', action: 'recording.played', subject: 'recording:r1', detailsJson: '{}', prevHash: 'p'.repeat(64), hash: 'h'.repeat(64),
    });
    expect(entriesFromPageText(page(row('1', 'n'), row('2', 's'), row('3', 'sn')), 3)!.map((e) => e.subject)).to.deep.equal([null, '', 'n']);
  });

  it('refuses a text with a separator too many or too few, so that no value is ever shifted into another', () => {
    const text = page(row('1'), row('2'));
    expect(entriesFromPageText(text, 2)).to.have.length(2);
    expect(entriesFromPageText(text + '\u001f', 2)).to.equal(undefined);
    expect(entriesFromPageText(text.replace('system:test', 'system:\u001ftest'), 2)).to.equal(undefined);
    expect(entriesFromPageText(text.replace('\u001f{}', ''), 2)).to.equal(undefined);
    expect(entriesFromPageText(text, 3)).to.equal(undefined);
    expect(entriesFromPageText(text, 1)).to.equal(undefined);
  });

  it('takes only plain decimal digits for a seq, so a tampered seq text is never read as another number', () => {
    for (const text of ['0x1A', ' 26', '26.0', '2.6e1', '+26', '026', '']) {
      expect(seqs(page(row(text)), 1)![0], JSON.stringify(text)).to.be.NaN;
    }
    expect(seqs(page(row('26')), 1)).to.deep.equal([26]);
    // Not ordered by, so the verifier finds it where the database put it.
    expect(seqs(page(row('1'), row('x'), row('2')), 3)).to.deep.equal([1, Number.NaN, 2]);
  });
});

/** §2 of docs/audit-log.md written as plainly as possible: the reference the fast code is held to. */
function specCanonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(specCanonical).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + specCanonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

describe('canonical JSON against the specification in docs/audit-log.md', () => {
  const leaf = fc.oneof(fc.string({ unit: 'binary' }), fc.maxSafeInteger(), fc.boolean(), fc.constant(null));
  /**
   * Objects with one of a few key lists each, in the same order, as details of a few actions interleaved
   * are (the canonicaliser remembers recent key lists), nested too.
   */
  const keyList = fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 8 }), { minLength: 0, maxLength: 6 });
  const sameKeyObjects = fc.array(keyList, { minLength: 1, maxLength: 3 }).chain((keyLists) => {
    const withKeys = (keys: string[], values: unknown[]) => {
      const o: Record<string, unknown> = {};
      keys.forEach((k, i) => Object.defineProperty(o, k, { value: values[i], enumerable: true, writable: true, configurable: true }));
      return o;
    };
    const object = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), tie('object')),
      object: fc.nat(keyLists.length - 1).chain((which) => {
        const keys = keyLists[which]!;
        return fc.array(fc.option(tie('value'), { nil: undefined }), { minLength: keys.length, maxLength: keys.length }).map((values) => withKeys(keys, values));
      }),
    })).object;
    return fc.array(object, { minLength: 1, maxLength: 12 });
  });

  it('writes objects whose key lists repeat, interleaved and nested, exactly as the specification does', () => {
    fc.assert(
      fc.property(sameKeyObjects, (objects) => {
        for (const o of objects) expect(canonicalJson(o)).to.equal(specCanonical(o));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes entries with such details exactly as SHA-256 over the specified canonical form', () => {
    fc.assert(
      fc.property(sameKeyObjects, fc.option(fc.string({ unit: 'binary' })), fc.string({ unit: 'binary' }), (objects, subject, actor) => {
        objects.forEach((details, i) => {
          const e = { seq: i + 1, at: '2026-11-23T09:00:00.000Z', actor: i % 2 ? actor : 'system:test', action: 'recording.played', subject, details, prevHash: GENESIS_HASH };
          const spec = specCanonical(e);
          expect(canonicalEntry(e)).to.equal(spec);
          expect(hashEntry(e)).to.equal(createHash('sha256').update(spec, 'utf8').digest('hex'));
        });
      }),
      { numRuns: 300 },
    );
  });
});
