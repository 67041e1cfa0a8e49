import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { MerkleTree } from 'merkletreejs';
import request from 'supertest';
import { leafData, leafHash, verifyConsistency, verifyInclusion } from '../../src/audit-log/index.js';
import { asTx, migrateLatest } from '../../src/shared/database.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const sha = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
/** Independent RFC 6962 root (merkletreejs with the RFC's prefixes) over leaf hashes. */
const referenceRoot = (leaves: Buffer[]) => new MerkleTree(leaves, (d: Buffer) => sha(Buffer.from([1]), d), { duplicateOdd: false }).getRoot();
const b64 = (s: string) => Buffer.from(s, 'base64');

describe('the audit log as a Merkle tree: stored with each append, proofs for auditors', () => {
  let t: TestApp;
  beforeEach(async () => (t = await startTestApp()));
  afterEach(async () => t.close());

  /** Every leaf as the projection of its entry recomputed from the export and the stored salts. */
  async function leavesFromEntries(): Promise<Buffer[]> {
    const entries = await t.db('audit_entries').orderBy('seq');
    const out: Buffer[] = [];
    for (const e of entries) {
      const { projection, leafHash: h } = await t.services.auditTree.projection(Number(e.seq));
      expect(projection).to.include({ seq: Number(e.seq), at: e.at, action: e.action, subject: e.subject });
      expect(h.equals(leafHash(leafData(projection)))).to.equal(true);
      out.push(h);
    }
    return out;
  }

  it('keeps the tree of concurrent appends equal to an independent implementation, and answers proofs that verify', async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.db.transaction(async (trx): Promise<void> => {
          if (i % 3) await t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played', subject: `recording:r${i}`, details: { i } });
          else await t.services.audit.appendAll(asTx(trx), [{ actor: 'system:test', action: 'a.b' }, { actor: 'system:test', action: 'c.d', subject: 'call:x' }]);
        }),
      ),
    );
    const leaves = await leavesFromEntries();
    const n = leaves.length;
    expect(n).to.equal(80);
    expect((await t.services.auditTree.root(n)).equals(referenceRoot(leaves))).to.equal(true);

    const auditor = await t.token('auditor');
    for (const [seq, size] of [[1, 1], [1, n], [37, 50], [n, n], [64, 64], [65, 80]] as const) {
      const res = await request(t.app).get(`/v1/audit/proofs/inclusion?seq=${seq}&size=${size}`).set('Authorization', `Bearer ${auditor}`).expect(200);
      expect(res.body).to.include({ index: seq - 1, size });
      expect(b64(res.body.root).equals(referenceRoot(leaves.slice(0, size)))).to.equal(true);
      expect(verifyInclusion(seq - 1, size, leaves[seq - 1]!, res.body.hashes.map(b64), b64(res.body.root))).to.equal(true);
      expect(verifyInclusion(seq - 1, size, leaves[seq % n]!, res.body.hashes.map(b64), b64(res.body.root))).to.equal(false);
    }
    for (const [from, to] of [[1, n], [7, 8], [13, 77], [n, n], [32, 64]] as const) {
      const res = await request(t.app).get(`/v1/audit/proofs/consistency?from=${from}&to=${to}`).set('Authorization', `Bearer ${auditor}`).expect(200);
      expect(b64(res.body.fromRoot).equals(referenceRoot(leaves.slice(0, from)))).to.equal(true);
      expect(verifyConsistency(from, to, res.body.hashes.map(b64), b64(res.body.fromRoot), b64(res.body.toRoot))).to.equal(true);
    }
    const bad = await request(t.app).get(`/v1/audit/proofs/inclusion?seq=5&size=${n + 100}`).set('Authorization', `Bearer ${auditor}`).expect(422);
    expect(bad.body.errors[0]).to.include({ pointer: '/size', code: 'too-large' });
    await request(t.app).get('/v1/audit/proofs/consistency?from=9&to=3').set('Authorization', `Bearer ${auditor}`).expect(422);
    await request(t.app).get('/v1/audit/proofs/inclusion?seq=1').expect(401);
    await request(t.app).get('/v1/audit/proofs/inclusion?seq=1').set('Authorization', `Bearer ${await t.token('trainer')}`).expect(403);
  });

  it('gives the entries of a log older than the tree their leaves when migrating, and goes on appending', async () => {
    for (let i = 0; i < 37; i++) await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played', subject: `recording:r${i}` }));
    const rootBefore = await t.services.auditTree.root(37);
    // The tree's migration undone and done again over the existing log: new salts, so new leaves, same entries.
    const last = await t.db('knex_migrations').where('name', 'like', '%audit_merkle_tree').first();
    expect(last).to.not.equal(undefined);
    await (await import('../../db/migrations/20261208500000_audit_merkle_tree.js')).down(t.db);
    await t.db('knex_migrations').where({ id: last.id }).del();
    expect(await t.db.schema.hasTable('audit_tree')).to.equal(false);
    await migrateLatest(t.db);
    const leaves = await leavesFromEntries();
    expect(leaves).to.have.length(37);
    const rootAfter = await t.services.auditTree.root(37);
    expect(rootAfter.equals(referenceRoot(leaves))).to.equal(true);
    expect(rootAfter.equals(rootBefore)).to.equal(false);
    await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played' }));
    expect((await t.services.auditTree.root(38)).equals(referenceRoot(await leavesFromEntries()))).to.equal(true);
  });

  it('builds the tree again when entries were written around it, so that appending never fails', async () => {
    for (let i = 0; i < 10; i++) await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played' }));
    await t.db('audit_tree').where('level', '>', 0).del();
    await t.db('audit_tree').where({ level: 0, idx: 3 }).del();
    await t.db.transaction((trx) => t.services.audit.append(asTx(trx), { actor: 'system:test', action: 'recording.played' }));
    const leaves = await leavesFromEntries();
    expect((await t.services.auditTree.root(11)).equals(referenceRoot(leaves))).to.equal(true);
  });
});
