import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { createCallerKeys } from '../../src/shared/caller-key.js';
import { keepEvidence, newSecrets, scanFiles, type World } from '../../bench/chaos/harness.js';
import { scanBytes, scanText, type PiiHit } from '../../bench/chaos/pii-scan.js';

const NUMBER = '+46701234567';
const NSNS = new Set(['701234567', '739876543']);

/** How people and phone systems write +46701234567. */
const SPELLINGS = [
  '+46701234567',
  '0046701234567',
  '46701234567',
  '0701234567',
  '+46 70 123 45 67',
  '+46-70-123-45-67',
  '0046 70 123 45 67',
  '070 123 45 67',
  '070-123 45 67',
  '070-12 34 567',
  '070.123.45.67',
  '070/123 45 67',
  '070/1234567',
  '(070) 123 45 67',
  '+46 (0)70-123 45 67',
  '070\u00a0123\u00a045\u00a067',
  '070\u2013123 45 67',
  '０７０１２３４５６７',
  '＋４６ ７０ １２３ ４５ ６７',
  'CA0701234567ab',
  'call-0701234567',
  'tel:+46701234567',
  'ring0701234567nu',
];

/** The digits of a hit's text that are not masked. */
const clearDigits = (h: PiiHit) => [...h.text].filter((c) => /\p{Nd}/u.test(c)).join('');
const lastTwo = (spelling: string) => [...spelling].filter((c) => /\p{Nd}/u.test(c)).slice(-2).join('');

const RECORDINGS_COPY = 'COPY public.recordings (id, call_id, started_at, ended_at, queue, agent_id, caller_key, storage_key, content_type, bytes, sha256, duration_ms, status) FROM stdin;';
const AUDIT_COPY = 'COPY public.audit_entries (seq, at, actor, action, subject, details, prev_hash, hash) FROM stdin;';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
function recordingRow(o: { id: string; callId: string; at: string; callerKey: string; queue?: string; bytes?: string; durationMs?: string; sha?: string }): string {
  return [o.id, o.callId, o.at, o.at, o.queue ?? 'bygglov', 'agent-17', o.callerKey, `recordings/2026/12/07/${o.id}.wav`, 'audio/wav', o.bytes ?? '16044', o.sha ?? hex(o.id), o.durationMs ?? '1000', 'stored'].join('\t');
}

describe("the fault drills' PII scan", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-pii-scan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const w = { name: 'scan test', dir, secrets: newSecrets(), numbers: new Set(['+46701234567', '+46739876543']) } as unknown as World;
  const file = (name: string, text: string | Buffer) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('finds a used number in every spelling in a pg_dump field, naming the COPY table, the column and the line, with all but the last two digits masked', () => {
    for (const spelling of SPELLINGS) {
      const dump = [
        '-- PostgreSQL database dump',
        'SET statement_timeout = 0;',
        RECORDINGS_COPY,
        recordingRow({ id: '0f8fad5b-d9cb-469f-a165-70867728950e', callId: 'chaos-1', at: '2026-12-07T19:29:51.123Z', callerKey: hex('a') }),
        recordingRow({ id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', callId: 'chaos-2', at: '2026-12-07T19:29:52.000Z', callerKey: hex('b'), queue: spelling }),
        '\\.',
        '',
      ].join('\n');
      const hits = scanText(dump, { nsns: NSNS });
      expect(hits, spelling).to.have.length(1);
      expect(hits[0], spelling).to.deep.include({ kind: 'number', line: 5, where: 'COPY public.recordings column 5 (queue)' });
      expect(clearDigits(hits[0]!), `${spelling} → ${hits[0]!.text}`).to.equal(lastTwo(spelling));
    }
  });

  it('finds a used number inside JSON held by a dump field (audit details), naming the JSON pointer', () => {
    for (const spelling of SPELLINGS) {
      const details = JSON.stringify({ reason: 'note', text: `ring ${spelling} tillbaka` });
      const dump = [AUDIT_COPY, ['1', '2026-12-07T19:29:51.123Z', 'admin:tok_0123456789ab', 'recording.held', 'recording:x', details, '0'.repeat(64), hex('h')].join('\t'), '\\.', ''].join('\n');
      const hits = scanText(dump, { nsns: NSNS });
      expect(hits.map((h) => h.where), spelling).to.deep.equal(['COPY public.audit_entries column 6 (details) /text']);
    }
  });

  it('finds a used number in every spelling in a JSON log line and in a pretty-printed JSON document', () => {
    for (const spelling of SPELLINGS) {
      const log = `{"level":"info","message":"listening"}\n${JSON.stringify({ level: 'error', message: `insert into x values ('${spelling}')`, requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' })}\n`;
      const hits = scanText(log, { nsns: NSNS });
      expect(hits.map((h) => [h.line, h.where]), spelling).to.deep.equal([[2, 'JSON /message']]);
      expect(clearDigits(hits[0]!), spelling).to.equal(lastTwo(spelling));

      const doc = JSON.stringify({ contentType: 'audio/wav', meta: { callId: 'chaos-1', caller: spelling } }, null, 2);
      const inDoc = scanText(doc, { nsns: NSNS });
      expect(inDoc.map((h) => [h.line, h.where]), spelling).to.deep.equal([[5, 'JSON /meta/caller']]);
    }
  });

  it('finds a used number in a binary file (a SQLite page), also right beside a caller key or a UUID', () => {
    const key = hex('k');
    for (const spelling of ['0701234567', '+46701234567', '070-123 45 67', '０７０１２３４５６７']) {
      const page = Buffer.concat([Buffer.alloc(100, 0), Buffer.from(`7c9e6679-7425-40de-944b-e07fc1f90ae7${spelling}${key}`), Buffer.alloc(50, 0xff), Buffer.from(`${key}${spelling}`), Buffer.alloc(100, 0)]);
      const hits = scanBytes(page, { nsns: NSNS });
      expect(hits.map((h) => h.where), spelling).to.deep.equal(['binary', 'binary']);
    }
  });

  it('ignores numbers the drill never used', () => {
    expect(scanText('{"message":"call +46 70 555 00 00 or 08-123 456 78"}\n', { nsns: NSNS })).to.deep.equal([]);
  });

  it('reads no number inside caller keys, hashes, UUIDs or ids, across COPY field tabs or JSON strings (the false hits of issue 31)', () => {
    // The issue's key: a run of ten digits inside, ending in the nine digits of a number the drill used.
    const key = 'd8995f781149d49f8e54f2188cc0739810139a23ac39d8995f781149d49f8e54f';
    const nsns = new Set(['739810139']);
    const dump = [RECORDINGS_COPY, recordingRow({ id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', callId: 'chaos-1', at: '2026-12-07T19:29:51.123Z', callerKey: key, bytes: '7398', durationMs: '10139' }), '\\.', ''].join('\n');
    expect(scanText(dump, { nsns })).to.deep.equal([]);
    expect(scanText(`{"callerKey":"${key}","a":"07398","b":"10139"}\n`, { nsns })).to.deep.equal([]);
  });

  it('a dump of realistic rows (caller keys, hashes, timestamps, ids) holding no number is clean, whatever the keys (property)', () => {
    const digit = fc.constantFrom(...'0123456789');
    const nsnArb = fc.tuple(fc.constantFrom('70', '72', '73', '76', '79'), fc.string({ unit: digit, minLength: 7, maxLength: 7 })).map(([a, b]) => a + b);
    const hexLetter = fc.constantFrom(...'abcdef');
    const hexChar = fc.constantFrom(...'0123456789abcdef');
    const hexOf = (n: number) => fc.string({ unit: hexChar, minLength: n, maxLength: n });
    const uuid = fc.uuid();
    const when = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
    // Each row: a random key, or a key that holds a used number's digits (with a 0 or 46 before them) between hex letters.
    const row = (nsns: string[]) =>
      fc.record({
        id: uuid,
        callId: uuid,
        at: when,
        plain: hexOf(64),
        which: fc.nat({ max: nsns.length - 1 }),
        prefix: fc.constantFrom('', '0', '46', '0046'),
        before: fc.nat({ max: 40 }),
        left: hexLetter,
        right: hexLetter,
        fill: hexOf(64),
        split: fc.integer({ min: 1, max: 8 }),
        optId: hexOf(16),
      });
    fc.assert(
      fc.property(
        fc.uniqueArray(nsnArb, { minLength: 1, maxLength: 30 }).chain((nsns) => fc.tuple(fc.constant(nsns), fc.array(row(nsns), { minLength: 1, maxLength: 40 }))),
        fc.string({ minLength: 32, maxLength: 32, unit: hexChar }),
        ([nsns, rows], secret) => {
          const keyOf = (nsn: string) => createHmac('sha256', secret).update('+46' + nsn).digest('hex');
          const recordings: string[] = [];
          const optOuts: string[] = [];
          const audit: string[] = [];
          for (const [i, r] of rows.entries()) {
            const nsn = nsns[r.which]!;
            const inner = `${r.left}${r.prefix}${nsn}${r.right}`;
            const planted = (r.fill.slice(0, r.before) + inner + r.fill).slice(0, 64);
            const at = r.at.toISOString();
            const pgAt = at.replace('T', ' ').replace('Z', '+00');
            // bytes and duration_ms side by side hold the number's digits split in two: a tab apart.
            recordings.push(recordingRow({ id: r.id, callId: `chaos-${r.callId}`, at, callerKey: i % 2 ? planted : keyOf(nsn), bytes: nsn.slice(0, r.split), durationMs: nsn.slice(r.split), sha: i % 3 ? hex(r.plain) : planted }));
            optOuts.push([`opt_${r.optId}`, planted, 'ivr', pgAt, 'phone-system:tok_0123456789ab', '\\N', '\\N'].join('\t'));
            const details = JSON.stringify({ callerKey: planted, bytes: Number(nsn.slice(0, r.split)), durationMs: Number(nsn.slice(r.split)), id: r.id, storageKey: `recordings/2026/12/07/${r.id}.wav` });
            audit.push([String(i + 1), at, 'system:retention', 'recording.deleted', `recording:${r.id}`, details, r.plain, hex(r.plain + i)].join('\t'));
          }
          const dump = [
            '--',
            '-- PostgreSQL database dump',
            '--',
            RECORDINGS_COPY,
            ...recordings,
            '\\.',
            'COPY public.opt_outs (id, caller_key, source, created_at, created_by, removed_at, removed_by) FROM stdin;',
            ...optOuts,
            '\\.',
            AUDIT_COPY,
            ...audit,
            '\\.',
            `SELECT pg_catalog.setval('public.audit_entries_seq', ${rows.length}, true);`,
            '',
          ].join('\n');
          expect(scanText(dump, { nsns: new Set(nsns) })).to.deep.equal([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds caller keys only where asked to (logs), and ignores numbers the drill never used', () => {
    const key = createCallerKeys(w.secrets.callerKeySecret).ofE164('+46701234567');
    const f = file('keys.log', `{"caller_key":"${key}","other":"+46705550000","id":"${'0'.repeat(64)}"}\n`);
    const found = scanFiles([f], w, true);
    expect(found.map(({ file, numbers, callerKeys }) => ({ file, numbers, callerKeys }))).to.deep.equal([{ file: 'keys.log', numbers: 0, callerKeys: 1 }]);
    expect(found[0]!.hits[0]).to.deep.equal({ kind: 'caller key', line: 1, where: 'JSON /caller_key', text: `********…${key.slice(-2)}` });
    expect(scanFiles([f], w, false)).to.deep.equal([]);
  });

  it('keeps the evidence: each file with a hit copied out of the world, and every hit listed beside it', () => {
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const f = file('logs/0001-service.log', `{"level":"info"}\n{"message":"caller ${NUMBER}"}\n`);
    const findings = scanFiles([f], w, false);
    const kept = keepEvidence(w, findings, path.join(dir, 'evidence'))!;
    rmSync(f);
    expect(path.dirname(kept)).to.equal(path.join(dir, 'evidence'));
    expect(readFileSync(path.join(kept, 'logs/0001-service.log'), 'utf8')).to.include(NUMBER);
    expect(readFileSync(path.join(kept, 'hits.txt'), 'utf8')).to.equal('logs/0001-service.log:2\tnumber\tJSON /message\t+*********67\n');
  });

  it("scans the world's S3 store as s3rver/… and keeps its files too", () => {
    const s3dir = mkdtempSync(path.join(tmpdir(), 'gallra-pii-scan-s3-'));
    try {
      const world = { ...w, s3: { dir: s3dir } } as unknown as World;
      mkdirSync(path.join(s3dir, 'gallra-test', 'recordings'), { recursive: true });
      const object = path.join(s3dir, 'gallra-test', 'recordings', 'x.wav._S3rver_metadata.json');
      writeFileSync(object, JSON.stringify({ 'x-amz-meta-caller': '070-123 45 67' }));
      const findings = scanFiles([object], world, false);
      expect(findings.map((f) => [f.file, f.hits.map((h) => h.where)])).to.deep.equal([[path.join('s3rver', 'gallra-test', 'recordings', 'x.wav._S3rver_metadata.json'), ['JSON /x-amz-meta-caller']]]);
      const kept = keepEvidence(world, findings, path.join(dir, 'evidence-s3'))!;
      expect(readFileSync(path.join(kept, findings[0]!.file), 'utf8')).to.include('070-123 45 67');
    } finally {
      rmSync(s3dir, { recursive: true, force: true });
    }
  });

  it('is independent of the product: the scan module imports nothing (no number detector of src/ can blind it)', () => {
    const source = readFileSync(path.resolve(import.meta.dirname, '../../bench/chaos/pii-scan.ts'), 'utf8');
    expect(source).not.to.match(/^\s*import\s|require\(|import\(/m);
  });
});
