import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { verifyChain, type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { createServices } from '../../src/services.js';
import { createLogger } from '../../src/shared/logger.js';
import { createFsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture, recordingBody, signedHeaders, type CallMeta } from '../helpers/webhook.js';

const NUMBER_FORMATS = ['070-123 45 67', '+46701234567', '0046701234567', '0701234567', '+46 70 123 45 67'];
const AUDIO = fixture('call-pcm16-8k.wav');

async function auditOf(t: TestApp): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const e of readAuditEntries(t.db)) out.push(e);
  return out;
}

function upload(t: TestApp, meta: CallMeta, audio = AUDIO) {
  const { body, contentType } = recordingBody(meta, audio);
  return request(t.app).post('/v1/recordings').set(signedHeaders(body, t.clock.now())).set('Content-Type', contentType).send(body);
}

async function objectKeys(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list('recordings/')) keys.push(o.key);
  return keys;
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The filesystem store, except that `put` writes the whole object and then waits until the test lets
 * it return: the upload is "still streaming" for as long as the test wants.
 */
function heldStore() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-optout-held-'));
  const inner = createFsObjectStore({ root: path.join(dir, 'objects') });
  const written = deferred<string>();
  const release = deferred();
  const puts = sinon.spy();
  const store: ObjectStore = {
    async put(key, body, meta) {
      puts(key);
      const r = await inner.put(key, body, meta);
      written.resolve(key);
      await release.promise;
      return r;
    },
    create: (k, b, m) => inner.create(k, b, m),
    get: (k, r) => inner.get(k, r),
    delete: (k) => inner.delete(k),
    exists: (k) => inner.exists(k),
    list: (p) => inner.list(p),
    leftovers: (p, t) => inner.leftovers(p, t),
    removeLeftovers: (ids) => inner.removeLeftovers(ids),
    ping: () => inner.ping(),
  };
  return { store, written: written.promise, release: release.resolve, puts, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('caller opt-out (registry, check, removal, webhook, after-the-fact)', () => {
  let t: TestApp;
  let phone: string;
  beforeEach(async () => {
    t = await startTestApp();
    phone = await t.token('phone-system');
  });
  afterEach(async () => {
    sinon.restore();
    await t.close();
  });

  const register = (body: object, token = phone) => request(t.app).post('/v1/opt-outs').set('Authorization', `Bearer ${token}`).send(body);
  const check = (n: unknown, token = phone) => request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${token}`).send({ number: n });
  const remove = (n: string, token = phone) => request(t.app).post('/v1/opt-outs/remove').set('Authorization', `Bearer ${token}`).send({ number: n });
  const optOutCall = (callId: string, body: object = {}, token = phone) =>
    request(t.app).post(`/v1/calls/${encodeURIComponent(callId)}/opt-out`).set('Authorization', `Bearer ${token}`).send(body);

  describe('the standing registry', () => {
    it('registers a number once: every format of it hits the same registration, audited once', async () => {
      const first = await register({ number: '070-123 45 67', source: 'ivr' });
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      expect(first.body.id).to.match(/^opt_[0-9a-f]{16}$/);
      expect(first.body.createdAt).to.equal(t.clock.now().toISOString());
      for (const n of NUMBER_FORMATS) {
        const again = await register({ number: n });
        expect(again.status, n).to.equal(200);
        expect(again.body).to.deep.equal({ id: first.body.id, createdAt: first.body.createdAt });
        expect((await check(n)).body, n).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
      }
      expect(await t.db('opt_outs').count({ n: '*' }).first()).to.deep.include({ n: 1 });
      const entries = (await auditOf(t)).filter((e) => e.action === 'opt-out.registered');
      expect(entries).to.have.length(1);
      expect(entries[0]!.subject).to.equal(`opt-out:${first.body.id}`);
      expect(entries[0]!.details).to.deep.equal({ optOutId: first.body.id, source: 'ivr', deleteExisting: false });
      expect(entries[0]!.actor).to.match(/^phone-system:tok_/);
    });

    it('answers optedOut: false for a number that is not registered, and another number does not match', async () => {
      await register({ number: '+46701234567' });
      expect((await check('+46701234568')).body).to.deep.equal({ optedOut: false, record: true });
      expect((await check('08-123 456 78')).body).to.deep.equal({ optedOut: false, record: true });
    });

    it('answers the check for registrations made before this process started (the in-memory index loads them)', async () => {
      const auth = { Authorization: `Bearer ${phone}` };
      expect((await request(t.app).post('/v1/opt-outs').set(auth).send({ number: '070-123 45 67' })).status).to.equal(201);
      expect((await request(t.app).post('/v1/opt-outs').set(auth).send({ number: '070-765 43 21' })).status).to.equal(201);
      expect((await request(t.app).post('/v1/opt-outs/remove').set(auth).send({ number: '070-765 43 21' })).body.removed).to.equal(true);
      // A restart: new services over the same database, nothing carried over in memory.
      const restarted = createApp(createServices({ config: t.config, db: t.db, store: t.store, logger: createLogger({ level: 'error' }), clock: t.clock }));
      const check = async (number: string) => (await request(restarted).post('/v1/opt-outs/check').set(auth).send({ number })).body;
      expect(await check('+46701234567')).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
      expect(await check('+46707654321')).to.deep.equal({ optedOut: false, record: true });
      expect(await check('+46709999999')).to.deep.equal({ optedOut: false, record: true });
    });

    it('stores only the keyed hash of the number', async () => {
      await register({ number: '070-123 45 67' });
      const row = await t.db('opt_outs').first();
      expect(row.caller_key).to.equal(t.services.callerKeys.of('+46701234567'));
      expect(JSON.stringify(row)).not.to.match(/70\D?123|46701/);
    });

    for (const bad of ['hello', '123', '+4670123456789012345', '']) {
      it(`refuses the unparseable number ${JSON.stringify(bad)} with 422 naming /number, changing nothing`, async () => {
        for (const send of [() => register({ number: bad }), () => check(bad), () => remove(bad)]) {
          const res = await send();
          expect(res.status).to.equal(422);
          expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
          expect(res.body.errors).to.deep.equal([{ pointer: '/number', code: res.body.errors[0].code, detail: res.body.errors[0].detail }]);
          expect(res.body.errors[0].code).to.be.oneOf(bad ? ['not-a-phone-number'] : ['not-a-phone-number', 'required']);
          // (Short inputs would match unrelated text such as the request id.)
          if (bad.length > 5) expect(JSON.stringify(res.body)).not.to.include(bad);
        }
        expect(await t.db('opt_outs').count({ n: '*' }).first()).to.deep.include({ n: 0 });
        expect((await auditOf(t)).filter((e) => e.action.startsWith('opt-out'))).to.have.length(0);
      });
    }

    it('refuses a missing or non-string number, and an unknown source, naming the field', async () => {
      let res = await register({});
      expect(res.status).to.equal(422);
      expect(res.body.errors).to.deep.equal([{ pointer: '/number', code: 'required', detail: 'is required' }]);
      res = await check(46701234567);
      expect(res.status).to.equal(422);
      expect(res.body.errors[0]).to.include({ pointer: '/number', code: 'wrong-type' });
      expect(JSON.stringify(res.body)).not.to.include('46701234567');
      res = await register({ number: '+46701234567', source: 'fax' });
      expect(res.status).to.equal(422);
      expect(res.body.errors[0].pointer).to.equal('/source');
    });

    it('lets only phone-system and admin tokens use it', async () => {
      expect((await request(t.app).post('/v1/opt-outs/check').send({ number: '+46701234567' })).status).to.equal(401);
      expect((await check('+46701234567', 'glr_not-a-token')).status).to.equal(401);
      for (const role of ['trainer', 'auditor'] as const) {
        const tok = await t.token(role);
        expect((await check('+46701234567', tok)).status, role).to.equal(403);
        expect((await register({ number: '+46701234567' }, tok)).status, role).to.equal(403);
        expect((await optOutCall('call-1', {}, tok)).status, role).to.equal(403);
      }
      const admin = await t.token('admin');
      expect((await register({ number: '+46701234567' }, admin)).status).to.equal(201);
      expect((await check('+46701234567', admin)).body).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
    });

    it('answers the check with the headers of an API answer: JSON, no-store, and the security headers', async () => {
      const res = await check('+46701234567');
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['x-request-id']).to.be.a('string');
      expect(res.text).to.equal('{"optedOut":false,"record":true}');
    });

    it('gives the check and each of its refusals every header an ordinary answer has, with the same value', async () => {
      // An ordinary answer: through helmet and the request-id middleware (here the 404 of an unknown path).
      const ordinary = await request(t.app).get('/v1/no-such-route');
      const perAnswer = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'x-request-id', 'cache-control', 'etag']);
      const shared = Object.entries(ordinary.headers).filter(([name]) => !perAnswer.has(name));
      expect(shared.map(([name]) => name)).to.include.members(['content-security-policy', 'x-content-type-options', 'x-frame-options', 'strict-transport-security']);
      const post = () => request(t.app).post('/v1/opt-outs/check');
      const answers: [string, request.Response, number][] = [
        ['answer', await check('+46701234567'), 200],
        ['no token', await post().send({ number: '+46701234567' }), 401],
        ['trainer', await check('+46701234567', await t.token('trainer')), 403],
        ['XML body', await post().set('Authorization', `Bearer ${phone}`).type('application/xml').send('<number>1</number>'), 415],
        ['bad number', await check('not a number'), 422],
      ];
      for (const [what, res, status] of answers) {
        expect(res.status, what).to.equal(status);
        for (const [name, value] of shared) expect(res.headers[name], `${what}: ${name}`).to.equal(value);
        expect(res.headers['x-request-id'], what).to.match(/^[0-9a-f-]{36}$/);
        if (status !== 200) expect(res.body.request_id, what).to.equal(res.headers['x-request-id']);
      }
    });

    it('keeps a sane X-Request-Id from the phone system and logs one request line for the check, naming the caller and never the number', async () => {
      const answered = await request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${phone}`).set('X-Request-Id', 'ivr-call-0001').send({ number: '070-123 45 67' });
      expect(answered.headers['x-request-id']).to.equal('ivr-call-0001');
      const refused = await request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${phone}`).set('X-Request-Id', 'ivr-call-0002').send({ number: 'x' });
      expect(refused.status).to.equal(422);
      expect(refused.body.request_id).to.equal('ivr-call-0002');
      const lines = t.logs().split('\n').filter((l) => l.includes('"message":"request"') && l.includes('ivr-call-000'));
      expect(lines).to.have.length(2);
      const [first, second] = lines.map((l) => JSON.parse(l));
      expect(first).to.include({ requestId: 'ivr-call-0001', method: 'POST', path: '/v1/opt-outs/check', status: 200 });
      expect(first.principal).to.match(/^tok_/);
      expect(second).to.include({ requestId: 'ivr-call-0002', status: 422 });
      expect(t.logs()).not.to.match(/070-123 45 67|0701234567|46701234567/);
    });

    it('answers a form-encoded check (number=…, as Asterisk CURL() posts it) in plain text when asked, never putting the number in a URL', async () => {
      const form = (n: string, accept?: string) => {
        const r = request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${phone}`).type('form');
        return (accept ? r.set('Accept', accept) : r).send(`number=${encodeURIComponent(n)}`);
      };
      const before = await form('070-765 43 21', 'text/plain');
      expect(before.status).to.equal(200);
      expect(before.headers['content-type']).to.match(/^text\/plain/);
      expect(before.text).to.equal('record');
      await t.services.optOuts.registry.register({ number: '+46707654321' }, 'system:test');
      const after = await form('0707654321', 'text/plain');
      expect(after.text).to.equal('do-not-record');
      expect(after.headers['cache-control']).to.equal('no-store');
      // Without Accept: text/plain the answer is the JSON one.
      const json = await form('+46707654321');
      expect(json.headers['content-type']).to.match(/^application\/json/);
      expect(json.body).to.deep.equal({ optedOut: true, record: false, reason: 'caller-opted-out' });
      const bad = await form('not a number', 'text/plain');
      expect(bad.status).to.equal(422);
      expect(bad.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(t.logs()).not.to.match(/070-765 43 21|0707654321|46707654321/);
    });

    it('refuses a check body that is not JSON or a form, is too large or is malformed, with problem+json naming why', async () => {
      const post = () => request(t.app).post('/v1/opt-outs/check').set('Authorization', `Bearer ${phone}`);
      const cases: [string, () => request.Test, number, string][] = [
        ['XML', () => post().type('application/xml').send('<number>+46701234567</number>'), 415, 'expected-json'],
        ['form over 1 KiB', () => post().type('form').send(`number=%2B46701234567&pad=${'x'.repeat(1100)}`), 413, 'body-too-large'],
        ['over 1 KiB', () => post().type('json').send(JSON.stringify({ number: '+46701234567', pad: 'x'.repeat(1100) })), 413, 'body-too-large'],
        ['malformed JSON', () => post().type('json').send('{"number": '), 400, 'invalid-json'],
        ['no body at all', () => post(), 422, 'invalid-input'],
      ];
      for (const [what, send, status, type] of cases) {
        const res = await send();
        expect(res.status, what).to.equal(status);
        expect(res.headers['content-type'], what).to.match(/^application\/problem\+json/);
        expect(res.body.type, what).to.equal(`https://gallra.example/problems/${type}`);
      }
      // An unauthenticated request is refused as such, not for its body.
      const anonymous = await request(t.app).post('/v1/opt-outs/check').type('form').send('x=1');
      expect(anonymous.status).to.equal(401);
    });

    it('removes a registration: the caller is recorded again, the key is forgotten, removal audited once', async () => {
      const reg = await register({ number: '+46701234567' });
      const res = await remove('070-123 45 67');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ removed: true, id: reg.body.id });
      expect((await check('+46701234567')).body).to.deep.equal({ optedOut: false, record: true });
      const row = await t.db('opt_outs').where({ id: reg.body.id }).first();
      expect(row.caller_key).to.equal(null);
      expect(row.removed_at).to.equal(t.clock.now().toISOString());

      expect((await remove('+46701234567')).body).to.deep.equal({ removed: false });
      const removed = (await auditOf(t)).filter((e) => e.action === 'opt-out.removed');
      expect(removed).to.have.length(1);
      expect(removed[0]!.details).to.deep.equal({ optOutId: reg.body.id });

      const meta = callMeta(t.clock.now(), { caller: '0701234567' });
      expect((await upload(t, meta)).status).to.equal(201);
      // Registering again is a new registration with a new id.
      const again = await register({ number: '+46701234567' });
      expect(again.status).to.equal(201);
      expect(again.body.id).not.to.equal(reg.body.id);
    });
  });

  describe('the webhook honours the registry', () => {
    it('discards the audio of a registered number without ever calling the store, and audits the discard with the opt-out id', async () => {
      const held = heldStore();
      const u = await startTestApp({ store: held.store });
      try {
        const tok = await u.token('phone-system');
        const reg = await request(u.app).post('/v1/opt-outs').set('Authorization', `Bearer ${tok}`).send({ number: '070-123 45 67' });
        const meta = callMeta(u.clock.now(), { caller: '0046701234567' });
        const res = await upload(u, meta);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.deep.equal({ callId: meta.callId, status: 'discarded', reason: 'number-opted-out' });
        expect(held.puts.called).to.equal(false);
        expect(await objectKeys(held.store)).to.deep.equal([]);
        const row = await u.db('recordings').where({ call_id: meta.callId }).first();
        expect(row).to.include({ status: 'discarded', reason: 'number-opted-out', caller_key: null, storage_key: null });
        const discarded = (await auditOf(u)).filter((e) => e.action === 'recording.discarded');
        expect(discarded).to.have.length(1);
        expect(discarded[0]!.details).to.include({ reason: 'number-opted-out', optOutId: reg.body.id, callId: meta.callId });
      } finally {
        await u.close();
        held.cleanup();
      }
    });

    it('cannot match a withheld number: the recording is stored', async () => {
      await register({ number: '+46701234567' });
      const res = await upload(t, callMeta(t.clock.now(), { caller: null }));
      expect(res.status).to.equal(201);
    });

    it('still discards on the per-call flag for a number that is not registered', async () => {
      const res = await upload(t, callMeta(t.clock.now(), { caller: '+46701234567', optOut: true }));
      expect(res.body).to.include({ status: 'discarded', reason: 'caller-opted-out' });
      expect(await objectKeys(t.store)).to.deep.equal([]);
    });
  });

  describe('deleteExisting', () => {
    it('deletes every stored recording of the number now, keeps others, leaves tombstones without caller key, audits each deletion', async () => {
      const mine = [callMeta(t.clock.now(), { caller: '070-123 45 67' }), callMeta(t.clock.now(), { caller: '+46701234567' })];
      const other = callMeta(t.clock.now(), { caller: '+46709999999' });
      const ids: string[] = [];
      for (const m of mine) ids.push((await upload(t, m)).body.id);
      const otherId = (await upload(t, other)).body.id;
      expect(await objectKeys(t.store)).to.have.length(3);

      const res = await register({ number: '0046701234567', deleteExisting: true, source: 'letter' });
      expect(res.status).to.equal(201);
      expect(res.body.deletedRecordings).to.equal(2);

      const keys = await objectKeys(t.store);
      expect(keys).to.have.length(1);
      expect(keys[0]).to.match(new RegExp(`${otherId}$`));
      for (const id of ids) {
        const row = await t.db('recordings').where({ id }).first();
        expect(row).to.include({ status: 'deleted', reason: 'number-opted-out', caller_key: null });
      }
      const deleted = (await auditOf(t)).filter((e) => e.action === 'recording.deleted');
      expect(deleted.map((e) => e.details.recordingId).sort()).to.deep.equal([...ids].sort());
      for (const e of deleted) expect(e.details).to.include({ optOutId: res.body.id, reason: 'number-opted-out' });

      // Asking again is harmless: nothing left to delete, nothing new audited.
      const again = await register({ number: '+46701234567', deleteExisting: true });
      expect(again.status).to.equal(200);
      expect(again.body.deletedRecordings).to.equal(0);
      expect((await auditOf(t)).filter((e) => e.action === 'recording.deleted')).to.have.length(2);
      expect((await verifyChain(await auditOf(t))).ok).to.equal(true);
    });

    it('answers 503 and keeps the registration when the store cannot delete; a repeat finishes the job', async () => {
      const meta = callMeta(t.clock.now(), { caller: '+46701234567' });
      const id = (await upload(t, meta)).body.id;
      const del = sinon.stub(t.store, 'delete').rejects(new Error('store down'));
      const res = await register({ number: '+46701234567', deleteExisting: true });
      expect(res.status).to.equal(503);
      expect((await check('+46701234567')).body.optedOut).to.equal(true);
      expect((await t.db('recordings').where({ id }).first()).status).to.equal('stored');
      del.restore();
      const again = await register({ number: '+46701234567', deleteExisting: true });
      expect(again.status).to.equal(200);
      expect(again.body.deletedRecordings).to.equal(1);
      expect(await objectKeys(t.store)).to.deep.equal([]);
    });
  });

  describe('after-the-fact opt-out of one call', () => {
    it('deletes a stored recording now, tombstoned and audited with the request', async () => {
      const meta = callMeta(t.clock.now());
      const id = (await upload(t, meta)).body.id;
      const res = await optOutCall(meta.callId, { source: 'agent' });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ callId: meta.callId, status: 'deleted' });
      expect(res.body.id).to.match(/^cop_/);
      expect(await objectKeys(t.store)).to.deep.equal([]);
      expect(await t.db('recordings').where({ id }).first()).to.include({ status: 'deleted', reason: 'caller-opted-out', caller_key: null });
      const entries = await auditOf(t);
      const requested = entries.filter((e) => e.action === 'call.opt-out-requested');
      expect(requested).to.have.length(1);
      expect(requested[0]!.details).to.include({ callOptOutId: res.body.id, callId: meta.callId, recordingId: id, recordingStatus: 'stored', source: 'agent' });
      const deleted = entries.filter((e) => e.action === 'recording.deleted');
      expect(deleted).to.have.length(1);
      expect(deleted[0]!.details).to.include({ recordingId: id, callOptOutId: res.body.id, reason: 'caller-opted-out' });
    });

    it('remembers a call that has not arrived and discards its upload when it comes', async () => {
      const meta = callMeta(t.clock.now());
      const res = await optOutCall(meta.callId);
      expect(res.status).to.equal(202);
      expect(res.body).to.include({ callId: meta.callId, status: 'pending' });

      const up = await upload(t, meta);
      expect(up.status).to.equal(200);
      expect(up.body).to.deep.equal({ callId: meta.callId, status: 'discarded', reason: 'caller-opted-out' });
      expect(await objectKeys(t.store)).to.deep.equal([]);
      const row = await t.db('call_opt_outs').where({ call_id: meta.callId }).first();
      const rec = await t.db('recordings').where({ call_id: meta.callId }).first();
      expect(row.recording_id).to.equal(rec.id);
      expect(row.discarded_at).to.equal(t.clock.now().toISOString());
      const discarded = (await auditOf(t)).filter((e) => e.action === 'recording.discarded');
      expect(discarded).to.have.length(1);
      expect(discarded[0]!.details).to.include({ callOptOutId: res.body.id, reason: 'caller-opted-out' });

      const later = await optOutCall(meta.callId);
      expect(later.status).to.equal(200);
      expect(later.body).to.deep.equal({ id: res.body.id, callId: meta.callId, status: 'discarded' });
    });

    it('is idempotent: a repeat answers the same and appends nothing', async () => {
      const meta = callMeta(t.clock.now());
      await upload(t, meta);
      const first = await optOutCall(meta.callId);
      const before = (await auditOf(t)).length;
      const again = await optOutCall(meta.callId);
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal(first.body);
      expect((await auditOf(t)).length).to.equal(before);

      const pendingCall = 'call-not-yet-here';
      const p1 = await optOutCall(pendingCall);
      const p2 = await optOutCall(pendingCall);
      expect(p1.status).to.equal(202);
      expect(p2.status).to.equal(200);
      expect(p2.body).to.deep.equal({ id: p1.body.id, callId: pendingCall, status: 'pending' });
      expect((await auditOf(t)).filter((e) => e.action === 'call.opt-out-requested')).to.have.length(2);
    });

    it('refuses a malformed call id with 422 naming it', async () => {
      const res = await optOutCall('bad call id!');
      expect(res.status).to.equal(422);
      expect(res.body.errors[0].pointer).to.equal('/callId');
      expect(await t.db('call_opt_outs').count({ n: '*' }).first()).to.deep.include({ n: 0 });
    });
  });

  describe('races: an opt-out landing while the upload streams wins', () => {
    let u: TestApp;
    let held: ReturnType<typeof heldStore>;
    let tok: string;
    beforeEach(async () => {
      held = heldStore();
      u = await startTestApp({ store: held.store });
      tok = await u.token('phone-system');
    });
    afterEach(async () => {
      held.release();
      await u.close();
      held.cleanup();
    });

    it('a registration made while the audio is being written ends the upload discarded, its object gone', async () => {
      const meta = callMeta(u.clock.now(), { caller: '070-123 45 67' });
      const uploading = upload(u, meta).then((r) => r);
      const key = await held.written;
      expect(await held.store.exists(key)).to.equal(true);

      const reg = await request(u.app).post('/v1/opt-outs').set('Authorization', `Bearer ${tok}`).send({ number: '+46701234567' });
      expect(reg.status).to.equal(201);
      held.release();

      const res = await uploading;
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ callId: meta.callId, status: 'discarded', reason: 'number-opted-out' });
      expect(await held.store.exists(key)).to.equal(false);
      expect(await objectKeys(held.store)).to.deep.equal([]);
      const row = await u.db('recordings').where({ call_id: meta.callId }).first();
      expect(row).to.include({ status: 'discarded', caller_key: null, storage_key: null });
      const actions = (await auditOf(u)).map((e) => e.action);
      expect(actions).to.include('recording.discarded');
      expect(actions).not.to.include('recording.ingested');
    });

    it('an after-the-fact opt-out of the call made while its audio is being written ends the upload discarded, its object gone', async () => {
      const meta = callMeta(u.clock.now());
      const uploading = upload(u, meta).then((r) => r);
      const key = await held.written;

      const res = await request(u.app).post(`/v1/calls/${meta.callId}/opt-out`).set('Authorization', `Bearer ${tok}`).send({});
      expect(res.status).to.equal(202);
      expect(res.body.status).to.equal('pending');
      held.release();

      const up = await uploading;
      expect(up.body).to.deep.equal({ callId: meta.callId, status: 'discarded', reason: 'caller-opted-out' });
      expect(await held.store.exists(key)).to.equal(false);
      expect((await u.db('call_opt_outs').where({ call_id: meta.callId }).first()).discarded_at).to.be.a('string');
    });

    it('deleteExisting made while the audio is being written leaves nothing stored either', async () => {
      const meta = callMeta(u.clock.now(), { caller: '+46701234567' });
      const uploading = upload(u, meta).then((r) => r);
      const key = await held.written;
      const reg = await request(u.app).post('/v1/opt-outs').set('Authorization', `Bearer ${tok}`).send({ number: '0701234567', deleteExisting: true });
      expect(reg.body.deletedRecordings).to.equal(0);
      held.release();
      expect((await uploading).body.status).to.equal('discarded');
      expect(await held.store.exists(key)).to.equal(false);
    });
  });

  describe('playback refusal', () => {
    it('never serves the audio of a stored recording whose caller later opted out (standing or for the call)', async () => {
      const trainer = await t.token('trainer');
      const play = (id: string) => request(t.app).get(`/v1/recordings/${id}/audio`).set('Authorization', `Bearer ${trainer}`);
      const mine = callMeta(t.clock.now(), { caller: '+46701234567' });
      const id = (await upload(t, mine)).body.id as string;
      expect((await play(id)).status).to.equal(200);
      await register({ number: '070-123 45 67' }); // without deleteExisting: the recording stays stored
      expect((await t.db('recordings').where({ id }).first()).status).to.equal('stored');
      const refused = await play(id);
      expect(refused.status).to.equal(410);
      expect(refused.body.type).to.match(/recording-opted-out$/);

      const other = callMeta(t.clock.now(), { caller: '+46709999999' });
      const otherId = (await upload(t, other)).body.id as string;
      sinon.stub(t.store, 'delete').resolves({ deleted: [], failed: [{ key: 'x', error: 'store down' }] });
      expect((await optOutCall(other.callId)).status).to.equal(503);
      expect((await t.db('recordings').where({ id: otherId }).first()).status).to.equal('stored');
      expect((await play(otherId)).status).to.equal(410);
    });

    it('marks a stored recording whose caller later opted out as withdrawn, even before it is deleted', async () => {
      const meta = callMeta(t.clock.now(), { caller: '+46701234567' });
      await upload(t, meta);
      const rec = await t.db('recordings').where({ call_id: meta.callId }).first();
      const asRecording = { callId: rec.call_id as string, callerKey: rec.caller_key as string };
      expect(await t.services.optOuts.isWithdrawn(asRecording)).to.equal(false);
      await register({ number: '070-123 45 67' });
      expect(await t.services.optOuts.isWithdrawn(asRecording)).to.equal(true);
      await remove('+46701234567');
      expect(await t.services.optOuts.isWithdrawn(asRecording)).to.equal(false);
      sinon.stub(t.store, 'delete').rejects(new Error('store down'));
      expect((await optOutCall(meta.callId)).status).to.equal(503);
      expect(await t.services.optOuts.isWithdrawn(asRecording)).to.equal(true);
    });
  });
});
