import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  checkpointObjectBody, createSigner, GENESIS_HASH, hashEntry, ndjsonLine, parseCheckpointFile, parseExportLine, parseKeyFile, parseStrictJson,
  verifyAuditLog, type AuditEntry, type SignedCheckpoint,
} from '../../src/audit-log/index.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const signer = createSigner(pem());

function buildLog(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const unsigned = { seq, at: new Date(Date.UTC(2026, 10, 23, 9, seq)).toISOString(), actor: 'phone-system:webhook', action: 'recording.ingested', subject: `recording:r${seq}`, details: { bytes: 91950 + seq, callId: `call-${seq}` }, prevHash };
    const e = { ...unsigned, hash: hashEntry(unsigned) };
    out.push(e);
    prevHash = e.hash;
  }
  return out;
}

const LOG = buildLog(12);
const lines = (log: AuditEntry[]) => log.map((e) => ndjsonLine(e).trimEnd());
const parsed = (ls: string[]) => ls.map(parseExportLine);

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('strict reading of audit evidence (docs/audit-log.md §7)', () => {
  it('reads JSON as JSON.parse does, but refuses repeated keys and numbers not in canonical form, each with its reason', () => {
    expect(parseStrictJson('{"a":[1,-2,0,"x\\u00e5\\n"],"b":{"c":null,"d":true}}')).to.deep.equal({ a: [1, -2, 0, 'xå\n'], b: { c: null, d: true } });
    expect(Object.keys(parseStrictJson('{"__proto__":1}') as object)).to.deep.equal(['__proto__']);
    const reasons: [string, string][] = [
      ['{"a":1,"a":2}', 'repeated-key'],
      ['{"x":{"a":1,"b":2,"a":1}}', 'repeated-key'],
      ['91950.0', 'non-canonical-number'],
      ['9.195e4', 'non-canonical-number'],
      ['-0', 'non-canonical-number'],
      ['9007199254740992', 'non-canonical-number'],
      ['{"a":01}', 'not-json'],
      ['{"a":1,}', 'not-json'],
      ['{"a":1} x', 'not-json'],
      ["{'a':1}", 'not-json'],
    ];
    for (const [text, reason] of reasons) expect(() => parseStrictJson(text), text).to.throw().with.property('reason', reason);
  });

  it('agrees with JSON.parse on any JSON it accepts', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        let strict: unknown;
        try {
          strict = parseStrictJson(text);
        } catch (err) {
          // Only numbers that are not safe integers may be refused.
          expect((err as { reason: string }).reason).to.equal('non-canonical-number');
          return;
        }
        expect(strict).to.deep.equal(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('fails an export line with an extra field, a repeated key with the forged value first, a non-canonical number, a missing field or a wrong type', async () => {
    const original = lines(LOG);
    const cp = signer.sign({ seq: 12, hash: LOG[11]!.hash, at: '2026-11-23T10:00:00.000Z' });
    const base = await verifyAuditLog(parsed(original), [cp], signer.publicKey);
    expect(base.ok).to.equal(true);
    const line5 = original[4]!;
    const cases: [string, string][] = [
      [line5.replace(/}$/, ',"comment":"approved by the DPO"}'), 'extra-field'],
      [line5.replace('{"seq":5,', '{"seq":5,"actor":"admin:tok_forged",'), 'repeated-key'],
      [line5.replace('"bytes":91955', '"bytes":91955.0'), 'non-canonical-number'],
      [line5.replace('"bytes":91955', '"bytes":9.1955e4'), 'non-canonical-number'],
      [line5.replace(/,"subject":"[^"]*"/, ''), 'missing-field'],
      [line5.replace('"seq":5', '"seq":"5"'), 'wrong-type'],
      [line5.slice(0, -1), 'not-json'],
    ];
    for (const [line, reason] of cases) {
      const ls = [...original];
      ls[4] = line;
      const v = await verifyAuditLog(parsed(ls), [cp], signer.publicKey);
      expect(v.ok, line).to.equal(false);
      expect(v.firstProblem, line).to.include({ seq: 5, kind: 'malformed-entry', reason });
    }
  });

  it('fails a checkpoint file with an extra field, a repeated key, a non-canonical number, or a keyId that is not the key’s', async () => {
    const cp = signer.sign({ seq: 12, hash: LOG[11]!.hash, at: '2026-11-23T10:00:00.000Z' });
    const text = checkpointObjectBody(cp).toString('utf8');
    expect(await verifyAuditLog(LOG, parseCheckpointFile(text, 'cp'), signer.publicKey)).to.include({ ok: true });
    const cases: [string, string, string?][] = [
      [text.replace('}', ',"valid":true}'), 'malformed-checkpoint', 'extra-field'],
      [text.replace('{"seq":12,', `{"seq":12,"hash":"${'0'.repeat(64)}",`), 'malformed-checkpoint', 'repeated-key'],
      [text.replace('"seq":12', '"seq":1.2e1'), 'malformed-checkpoint', 'non-canonical-number'],
      [text.replace(cp.keyId, createSigner(pem()).keyId), 'checkpoint-key-id'],
      [text.replace(/"signature":"[^"]+"/, `"signature":"${signer.sign({ seq: 12, hash: LOG[11]!.hash, at: '2026-11-23T11:00:00.000Z' }).signature}"`), 'checkpoint-signature'],
    ];
    for (const [t, kind, reason] of cases) {
      const v = await verifyAuditLog(LOG, parseCheckpointFile(t, 'cp'), signer.publicKey);
      expect(v.ok, t).to.equal(false);
      expect(v.firstProblem!.kind, t).to.equal(kind);
      if (reason) expect(v.firstProblem!.reason, t).to.equal(reason);
    }
  });
});

describe('conflicting checkpoints (hole 2), offline', () => {
  const original = signer.sign({ seq: 8, hash: LOG[7]!.hash, at: '2026-11-23T10:00:00.000Z' });
  const forgedLog = (() => {
    const log = LOG.slice(0, 8).map((e) => ({ ...e }));
    log[5]!.details = { bytes: 1, callId: 'forged' };
    for (let i = 5; i < log.length; i++) {
      const { hash: _h, ...rest } = log[i]!;
      const unsigned = { ...rest, prevHash: log[i - 1]!.hash };
      log[i] = { ...unsigned, hash: hashEntry(unsigned) };
    }
    return log;
  })();
  const forged = signer.sign({ seq: 8, hash: forgedLog[7]!.hash, at: '2026-11-23T12:00:00.000Z' });
  const sameHashOtherTime = signer.sign({ seq: 8, hash: LOG[7]!.hash, at: '2026-11-23T10:30:00.000Z' });

  it('fails with checkpoint-conflict for every ordering of the inputs, against the original log and the forged one', async () => {
    for (const log of [LOG, forgedLog]) {
      for (const order of permutations<SignedCheckpoint>([original, forged, sameHashOtherTime])) {
        const v = await verifyAuditLog(log, order, signer.publicKey);
        expect(v.ok).to.equal(false);
        expect(v.firstProblem).to.include({ seq: 8, kind: 'checkpoint-conflict' });
      }
    }
  });

  it('accepts two checkpoints of one seq with the same hash (two instances signing one head)', async () => {
    expect(await verifyAuditLog(LOG, [sameHashOtherTime, original], signer.publicKey)).to.include({ ok: true });
  });

  it('scripts/verify-audit-export fails with checkpoint-conflict whichever order its --checkpoints come in', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gallra-offline-'));
    try {
      writeFileSync(path.join(dir, 'audit.ndjson'), forgedLog.map(ndjsonLine).join(''));
      writeFileSync(path.join(dir, 'key.pem'), signer.publicKeyPem);
      writeFileSync(path.join(dir, 'mine.json'), checkpointObjectBody(original));
      writeFileSync(path.join(dir, 'service.json'), JSON.stringify({ keyId: signer.keyId, checkpoints: [forged] }));
      for (const order of [['mine.json', 'service.json'], ['service.json', 'mine.json']]) {
        const args = ['--import', 'tsx', 'scripts/verify-audit-export.ts', '--export', path.join(dir, 'audit.ndjson'), '--public-key', path.join(dir, 'key.pem')];
        for (const f of order) args.push('--checkpoints', path.join(dir, f));
        const err = await run(process.execPath, args, { cwd: ROOT }).then(() => expect.fail('verified'), (e: { code: number; stderr: string }) => e);
        expect(err.code, order.join(' ')).to.equal(1);
        expect(err.stderr).to.match(/BROKEN at seq 8 \(checkpoint-conflict\)/);
      }
      // An extra field in the export is named by the script as well.
      writeFileSync(path.join(dir, 'audit.ndjson'), LOG.map((e) => ndjsonLine(e)).join('').replace('"seq":3,', '"seq":3,"note":"x",'));
      const args = ['--import', 'tsx', 'scripts/verify-audit-export.ts', '--export', path.join(dir, 'audit.ndjson'), '--public-key', path.join(dir, 'key.pem')];
      const err = await run(process.execPath, args, { cwd: ROOT }).then(() => expect.fail('verified'), (e: { code: number; stderr: string }) => e);
      expect(err.stderr).to.match(/BROKEN at seq 3 \(malformed-entry: extra-field\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('several verifying keys with validity periods (key rotation)', () => {
  const oldSigner = createSigner(pem());
  const newSigner = createSigner(pem());
  const rotatedAt = '2026-11-23T09:30:00.000Z';
  const before = oldSigner.sign({ seq: 4, hash: LOG[3]!.hash, at: '2026-11-23T09:10:00.000Z' });
  const after = newSigner.sign({ seq: 12, hash: LOG[11]!.hash, at: '2026-11-23T10:00:00.000Z' });
  const keyList = (notAfter: string) =>
    parseKeyFile(JSON.stringify({ keys: [{ publicKey: oldSigner.publicKeyPem, notAfter }, { publicKey: newSigner.publicKeyPem, notBefore: rotatedAt }] }));

  it('verifies checkpoints of the old and the new key, each within its validity', async () => {
    expect(await verifyAuditLog(LOG, [before, after], keyList(rotatedAt))).to.include({ ok: true });
    expect((await verifyAuditLog(LOG, [before, after], [oldSigner.publicKey, newSigner.publicKey])).ok).to.equal(true);
  });

  it('fails a checkpoint signed by a key outside its validity, or by a key that is not listed, as checkpoint-key-id', async () => {
    const late = oldSigner.sign({ seq: 12, hash: LOG[11]!.hash, at: '2026-11-23T11:00:00.000Z' });
    expect((await verifyAuditLog(LOG, [before, late], keyList(rotatedAt))).firstProblem).to.include({ seq: 12, kind: 'checkpoint-key-id' });
    expect((await verifyAuditLog(LOG, [before, after], newSigner.publicKey)).firstProblem).to.include({ seq: 4, kind: 'checkpoint-key-id' });
  });

  it('refuses a key list whose stated keyId is not the key’s own', () => {
    const text = JSON.stringify({ keys: [{ publicKey: oldSigner.publicKeyPem, keyId: newSigner.keyId }] });
    expect(() => parseKeyFile(text)).to.throw(/states keyId/);
  });

  it('scripts/verify-audit-export takes several --public-key files, PEM or key list', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gallra-offline-'));
    try {
      writeFileSync(path.join(dir, 'audit.ndjson'), LOG.map(ndjsonLine).join(''));
      writeFileSync(path.join(dir, 'old.json'), JSON.stringify({ keys: [{ publicKey: oldSigner.publicKeyPem, notAfter: rotatedAt }] }));
      writeFileSync(path.join(dir, 'new.pem'), newSigner.publicKeyPem);
      writeFileSync(path.join(dir, 'cps.json'), JSON.stringify({ keyId: newSigner.keyId, checkpoints: [before, after] }));
      const base = ['--import', 'tsx', 'scripts/verify-audit-export.ts', '--export', path.join(dir, 'audit.ndjson'), '--checkpoints', path.join(dir, 'cps.json')];
      const ok = await run(process.execPath, [...base, '--public-key', path.join(dir, 'old.json'), '--public-key', path.join(dir, 'new.pem')], { cwd: ROOT });
      expect(JSON.parse(ok.stdout)).to.include({ ok: true, entries: 12 });
      const err = await run(process.execPath, [...base, '--public-key', path.join(dir, 'new.pem')], { cwd: ROOT }).then(() => expect.fail('verified'), (e: { code: number; stderr: string }) => e);
      expect(err.stderr).to.match(/BROKEN at seq 4 \(checkpoint-key-id\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

