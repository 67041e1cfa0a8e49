import { generateKeyPairSync, sign } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { signedNote } from '../../src/audit-log/index.js';
import { asTx } from '../../src/shared/database.js';
import { checkReceipt } from '../../scripts/receipt-check.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders } from '../helpers/webhook.js';

/** A witness key pair as the C2SP formats want it. */
export function witnessKey(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = signedNote.rawEd25519(publicKey);
  return { name, privateKey, raw, vkey: signedNote.verifierKey(name, raw, signedNote.KEY_TYPES.cosignatureV1), sign: (m: Buffer) => sign(null, m, privateKey) };
}

describe('the transparency log: signed tree heads, public deletion receipts, witnesses', () => {
  let t: TestApp;
  const witness = witnessKey('dso.kommun.example/witness');
  beforeEach(async () => {
    t = await startTestApp({ config: { transparency: { origin: 'kommun.example/gallra', witnessKeys: [witness.vkey], signIntervalMs: 60_000, publicRequestsPerMinute: 30 } } });
  });
  afterEach(async () => t.close());

  async function ingest(): Promise<string> {
    const { body, contentType } = recordingBody(callMeta(t.clock.now()), fixture('call-8k.mp3'));
    const res = await request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body).expect(201);
    return res.body.id as string;
  }

  it('serves a signed C2SP checkpoint without sign-in, and the deletion receipt of a recording once it is deleted', async () => {
    const id = await ingest();
    const pem = (await request(t.app).get('/v1/transparency/key').expect(200)).body.publicKey as string;
    await request(t.app).get(`/v1/transparency/deleted/${id}`).expect(404);
    const admin = await t.token('admin');
    await request(t.app).delete(`/v1/recordings/${id}`).set('Authorization', `Bearer ${admin}`).send({ reason: 'recorded by mistake' }).expect(200);

    const res = await request(t.app).get(`/v1/transparency/deleted/${id}`).set('Origin', 'https://kommun.example').expect(200);
    expect(res.headers['access-control-allow-origin']).to.equal('*');
    expect(res.body.projection).to.include({ action: 'recording.deleted', subject: `recording:${id}` });
    expect(Object.keys(res.body.projection).sort()).to.deep.equal(['action', 'at', 'commitment', 'seq', 'subject']);
    expect(res.text).not.to.match(/admin:|recorded by mistake|reason|actor/);
    const verdict = checkReceipt(res.body.tlogProof, pem);
    expect(verdict, verdict.reason).to.include({ ok: true, origin: 'kommun.example/gallra' });
    expect(verdict.projection).to.deep.equal(res.body.projection);
    // The checkpoint the receipt needed was signed on demand: it is now the public one.
    const cp = (await request(t.app).get('/v1/transparency/checkpoint').expect(200)).text;
    expect(cp.split('\n').slice(0, 2)).to.deep.equal(['kommun.example/gallra', String(verdict.treeSize)]);
    expect(res.body.tlogProof.endsWith(cp)).to.equal(true);
    expect((await t.store.exists(`audit-tree-heads/${String(verdict.treeSize).padStart(12, '0')}.note`))).to.equal(true);

    // Any altered receipt is refused.
    const tampered = [
      res.body.tlogProof.replace(/^index (\d+)$/m, (_: string, n: string) => `index ${Number(n) + 1}`),
      res.body.tlogProof.replace(/\nkommun\.example\/gallra\n(\d+)\n/, (_: string, n: string) => `\nkommun.example/gallra\n${Number(n) + 1}\n`),
      res.body.tlogProof.replace(/^extra (.+)$/m, (_: string, b: string) => `extra ${Buffer.from(Buffer.from(b, 'base64').toString().replace('recording.deleted', 'recording.ingested')).toString('base64')}`),
    ];
    for (const text of tampered) {
      expect(text).not.to.equal(res.body.tlogProof);
      expect(checkReceipt(text, pem).ok).to.equal(false);
    }
    expect(checkReceipt(res.body.tlogProof, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()).ok).to.equal(false);
    await request(t.app).get('/v1/transparency/deleted/not-a-uuid').expect(422);
  });

  it('signs a head on demand at most once per interval, and each later head is consistent with the earlier', async () => {
    for (let i = 0; i < 5; i++) await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played' }));
    const first = await t.services.treeHeads.covering(5);
    await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played' }));
    const err = await t.services.treeHeads.covering(6).catch((e: Error) => e);
    expect(err).to.have.property('code', 'tree-head-pending');
    t.clock.advance(61_000);
    const second = await t.services.treeHeads.covering(6);
    expect(second.size).to.be.greaterThan(first.size);
    const proof = (await request(t.app).get(`/v1/transparency/consistency?from=${first.size}&to=${second.size}`).expect(200)).body;
    expect(Buffer.from(proof.fromRoot, 'base64').equals(first.root)).to.equal(true);
  });

  it('accepts a cosignature only from a registered witness key, and serves it with the checkpoint', async () => {
    await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played' }));
    const head = (await t.services.treeHeads.sign())!;
    const body = signedNote.parseNote(head.note)!.body;
    const cosigned = (w: ReturnType<typeof witnessKey>) => signedNote.noteText(body, [signedNote.cosignatureLine(w.name, w.raw, 1_780_000_000, w.sign, body)]);
    await request(t.app).post('/v1/transparency/cosignatures').type('text/plain').send(cosigned(witnessKey('stranger.example/w'))).expect(403);
    const ok = await request(t.app).post('/v1/transparency/cosignatures').type('text/plain').send(cosigned(witness)).expect(201);
    expect(ok.body).to.deep.equal({ size: head.size, accepted: [witness.name] });
    const entry = await t.db('audit_entries').where({ action: 'audit.cosignature-accepted' }).first();
    expect(JSON.parse(entry.details)).to.include({ size: head.size, witness: witness.name });
    const cp = (await request(t.app).get('/v1/transparency/checkpoint').expect(200)).text;
    expect(cp.startsWith(head.note)).to.equal(true);
    expect(cp.split('\n').filter((l) => l.startsWith('\u2014'))).to.have.length(2);
  });

  it('limits each client address to the configured requests a minute', async () => {
    for (let i = 0; i < 30; i++) await request(t.app).get('/v1/transparency/key').expect(200);
    const res = await request(t.app).get('/v1/transparency/key').expect(429);
    expect(res.body.type).to.match(/too-many-requests$/);
    expect(Number(res.headers['retry-after'])).to.be.within(1, 60);
  });
});
