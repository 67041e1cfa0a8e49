import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { checkReceipt } from '../../scripts/receipt-check.js';
import { asTx } from '../../src/shared/database.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

/** The Python verifier exactly as docs/receipts.md prints it. */
function pythonVerifier(): string {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/receipts.md'), 'utf8');
  const m = /<!-- verify_receipt\.py begins -->\n```python\n([\s\S]*?)```\n<!-- verify_receipt\.py ends -->/.exec(doc);
  if (!m) throw new Error('docs/receipts.md has no verify_receipt.py block');
  return m[1]!;
}

/** Every one-line change of a receipt: a number off by one, a character of a base64 value or a name changed. */
function alterations(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((line, k) => {
    if (!line || k === 0) return;
    let changed: string;
    const num = /^(index )?(\d+)$/.exec(line);
    if (num) changed = `${num[1] ?? ''}${Number(num[2]) + 1}`;
    else {
      const at = Math.max(line.indexOf(' ') + 1, Math.floor(line.length / 2));
      changed = line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
    }
    out.push([...lines.slice(0, k), changed, ...lines.slice(k + 1)].join('\n'));
  });
  const hashes = lines.findIndex((l) => l === '');
  out.push([...lines.slice(0, 3), ...lines.slice(4)].join('\n')); // a proof hash dropped (or the blank line)
  out.push([...lines.slice(0, hashes), lines[hashes - 1]!, ...lines.slice(hashes)].join('\n')); // one repeated
  return out.filter((t) => t !== text);
}

describe('receipts checked offline, by the Node tool and by the Python verifier in docs/receipts.md', () => {
  let t: TestApp;
  let dir: string;
  beforeEach(async () => {
    t = await startTestApp();
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-receipts-'));
    writeFileSync(path.join(dir, 'verify_receipt.py'), pythonVerifier());
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const python = (receipt: string, pem: string) => {
    writeFileSync(path.join(dir, 'r.tlog-proof'), receipt);
    writeFileSync(path.join(dir, 'key.pem'), pem);
    return spawnSync('python3', [path.join(dir, 'verify_receipt.py'), path.join(dir, 'r.tlog-proof'), path.join(dir, 'key.pem')], { encoding: 'utf8' });
  };

  it('accepts every genuine receipt and refuses every altered one', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
      ids.push((await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body).expect(201)).body.id);
      for (let k = 0; k < 4 + i * 5; k++) await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played', subject: `recording:${ids[i]}`, details: { note: 'åäö "x"' } }));
    }
    const admin = await t.token('admin');
    for (const id of ids) await request(t.app).delete(`/v1/recordings/${id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' }).expect(200);
    const pem = (await request(t.app).get('/v1/transparency/key')).body.publicKey as string;
    const receipts = [
      ...(await Promise.all(ids.map(async (id) => (await request(t.app).get(`/v1/transparency/deleted/${id}`).expect(200)).body.tlogProof as string))),
      (await t.services.receipts.forEntry(1)).tlogProof,
      (await t.services.receipts.forEntry(17)).tlogProof,
    ];
    for (const receipt of receipts) {
      const ok = python(receipt, pem);
      expect(ok.status, ok.stderr).to.equal(0);
      const node = checkReceipt(receipt, pem);
      expect(node.ok, node.reason).to.equal(true);
      expect(JSON.parse(ok.stdout)).to.deep.equal(node.projection);
    }
    let refused = 0;
    for (const altered of alterations(receipts[0]!)) {
      const r = python(altered, pem);
      expect(r.status, `accepted:\n${altered}`).to.equal(1);
      expect(r.stderr).to.match(/^REFUSED: /);
      expect(checkReceipt(altered, pem).ok, `node accepted:\n${altered}`).to.equal(false);
      refused++;
    }
    expect(refused).to.be.greaterThan(8);
    const otherKey = (await import('node:crypto')).generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(python(receipts[0]!, otherKey).status).to.equal(1);
  });
});
