import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { checkpointObjectBody, checkpointObjectKey, createSigner } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createServices, type Services } from '../../src/services.js';
import { createLogger } from '../../src/shared/logger.js';
import { startTestApp, TEST_DATABASE, type TestApp } from '../helpers/test-app.js';

const newKey = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function grow(s: Services, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await s.transaction((tx) => s.audit.append(tx, { actor: 'trainer:tok_seed', action: 'recording.played', subject: `recording:r${i}`, details: { i } }));
  }
}

describe(`checkpoints verify against every registered public key (${TEST_DATABASE})`, () => {
  let t: TestApp;
  const first = newKey();
  beforeEach(async () => {
    t = await startTestApp({ config: { auditSigningKey: first } });
  });
  afterEach(() => t.close());

  /** The service as it starts with another signing key and no key list: the instance next to it, or after a rotation. */
  const restartedWith = (auditSigningKey: string): Services =>
    createServices({ config: { ...t.config, auditSigningKey, auditKeyList: undefined }, db: t.db, store: t.store, logger: createLogger({ level: 'silent' }), clock: t.clock });

  it('registers the signing key in the audit log once; after a rotation the old key’s checkpoints still verify, and the key list names both', async () => {
    expect(await t.services.auditCheckpoints.registerSigningKey('system:start')).to.equal(true);
    expect(await t.services.auditCheckpoints.registerSigningKey('system:start')).to.equal(false);
    await grow(t.services, 3);
    const old = (await t.services.auditCheckpoints.create())!;

    t.clock.advance(3_600_000);
    const second = newKey();
    const rotated = restartedWith(second);
    expect(await rotated.auditCheckpoints.verify()).to.deep.include({ ok: true });
    expect(await rotated.auditCheckpoints.registerSigningKey('system:start')).to.equal(true);
    await grow(rotated, 2);
    t.clock.advance(60_000);
    const next = (await rotated.auditCheckpoints.create())!;
    expect(next.keyId).to.not.equal(old.keyId);
    expect(await rotated.auditCheckpoints.verify()).to.deep.include({ ok: true, checkpoints: { valid: 2, invalid: 0, last: { seq: next.seq, hash: next.hash, at: next.at } } });
    // The first instance, still on the old key, verifies the new key's checkpoint too (and audit:verify with either key).
    expect(await t.services.auditCheckpoints.verify()).to.deep.include({ ok: true });

    const registered = [];
    for await (const e of readAuditEntries(t.db)) if (e.action === 'audit.signing-key-registered') registered.push(e);
    expect(registered.map((e) => e.details.keyId)).to.deep.equal([old.keyId, next.keyId]);
    expect(registered[0]!.details).to.include({ publicKey: createSigner(first).publicKeyPem });

    const auditor = (await rotated.tokens.create({ role: 'auditor', name: 'a' }, 'system:test')).token;
    const keys = (await request(createApp(rotated)).get('/v1/audit/public-keys').set('Authorization', `Bearer ${auditor}`).expect(200)).body.keys;
    expect(keys.map((k: { keyId: string }) => k.keyId)).to.have.members([next.keyId, old.keyId]);
  });

  it('registers a key that signed before it was registered from its first valid checkpoint, so an upgrade keeps verifying after the next rotation', async () => {
    await grow(t.services, 2);
    const before = (await t.services.auditCheckpoints.create())!;
    t.clock.advance(60_000);
    expect(await t.services.auditCheckpoints.registerSigningKey('system:start')).to.equal(true);
    const rotated = restartedWith(newKey());
    expect(await rotated.auditCheckpoints.verify()).to.deep.include({ ok: true, checkpoints: { valid: 1, invalid: 0, last: { seq: before.seq, hash: before.hash, at: before.at } } });
  });

  it('fails a checkpoint signed by a key that is neither configured, listed nor registered', async () => {
    await t.services.auditCheckpoints.registerSigningKey('system:start');
    await grow(t.services, 3);
    await t.services.auditCheckpoints.create();
    await grow(t.services, 2);
    // Someone holding the database and the store, but not a registered key, signs the head with their own.
    const head = (await t.services.auditCheckpoints.verify()).head!;
    const forged = createSigner(newKey()).sign({ seq: head.seq, hash: head.hash, at: t.clock.now().toISOString() });
    await t.store.create(checkpointObjectKey(forged.seq), checkpointObjectBody(forged), { contentType: 'application/json' });
    await t.db('audit_checkpoints').insert({ seq: forged.seq, hash: forged.hash, at: forged.at, signature: forged.signature, key_id: forged.keyId, object_key: checkpointObjectKey(forged.seq) });
    const v = await restartedWith(newKey()).auditCheckpoints.verify();
    expect(v.ok).to.equal(false);
    expect(v.firstProblem).to.include({ seq: forged.seq, kind: 'checkpoint-key-id' });
  });
});
