import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import sinon from 'sinon';
import request from 'supertest';
import type { Recording } from '../../src/recordings/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase } from '../../src/shared/database.js';
import { createFolderSource, SourceUnreachable, type SourceAdapter, type SourceConfig } from '../../src/sources/index.js';
import { auditOf, filesIn, folderSource, storedBytes } from '../helpers/sources.js';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture } from '../helpers/webhook.js';

const NOW = '2026-11-23T10:00:00.000Z';
const SETTLE = 10_000;
const WAV = fixture('call-pcm16-8k.wav');
/** Every spelling of the test caller's number that must appear nowhere. */
const NUMBER_SPELLINGS = ['0701234567', '701234567', '+46701234567', '46701234567', '070-123 45 67', '070-1234567'];

async function recordingsOf(t: TestApp): Promise<Recording[]> {
  const { fromRow } = await import('../../src/recordings/recording-repository.js');
  return (await t.db('recordings').orderBy('created_at')).map(fromRow);
}

describe('sources: a folder polled for recordings', () => {
  let t: TestApp;
  let dir: string;
  let adapter: SourceAdapter;

  async function start(overrides: Partial<SourceConfig> = {}) {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-source-'));
    adapter = createFolderSource({ root: dir });
    t = await startTestApp({ clock: new ManualClock(NOW), sources: [{ config: { ...folderSource('pbx', dir), ...overrides } as SourceConfig, adapter }] });
    return t.services.sources.pollers[0]!;
  }

  /** Two polls a settle time apart: what is there and unchanged is taken by the second. */
  async function pollTwice() {
    const p = t.services.sources.pollers[0]!;
    await p.poll();
    t.clock.advance(SETTLE);
    return p.poll();
  }

  afterEach(async () => {
    sinon.restore();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a generic-json item byte for byte with its metadata, then deletes audio and sidecar at the source, audited', async () => {
    await start();
    const meta = callMeta(new Date(NOW), { caller: '070-123 45 67', queue: 'bygglov' });
    writeFileSync(path.join(dir, 'call-a.wav'), WAV);
    writeFileSync(path.join(dir, 'call-a.json'), JSON.stringify(meta));
    const sidecarBytes = statSync(path.join(dir, 'call-a.json')).size;

    const first = await t.services.sources.pollers[0]!.poll();
    expect(first).to.include({ listed: 1, taken: 0 });
    t.clock.advance(SETTLE);
    const report = await t.services.sources.pollers[0]!.poll();
    expect(report).to.include({ listed: 1, taken: 1, deleted: 1, pending: 0, rejected: 0 });

    const [r] = await recordingsOf(t);
    expect(r).to.include({ source: 'pbx', callId: meta.callId, status: 'stored', queue: 'bygglov', agentId: 'agent-17', bytes: WAV.length });
    expect(r!.startedAt).to.equal(new Date(meta.startedAt).toISOString());
    expect(r!.endedAt).to.equal(new Date(meta.endedAt).toISOString());
    expect(r!.callerKey).to.equal(t.services.callerKeys.of('+46701234567'));
    expect((await storedBytes(t, r!.storageKey!)).equals(WAV)).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal([]);

    const entries = await auditOf(t);
    const ingested = entries.filter((e) => e.action === 'recording.ingested');
    const deleted = entries.filter((e) => e.action === 'source.deleted');
    expect(ingested).to.have.length(1);
    expect(ingested[0]!.actor).to.equal('source:pbx');
    expect(ingested[0]!.details).to.include({ source: 'pbx', callId: meta.callId });
    expect(deleted).to.have.length(1);
    expect(deleted[0]!.details).to.deep.equal({ source: 'pbx', itemId: ingested[0]!.details.itemId, bytes: WAV.length + sidecarBytes });
  });

  it('reads a FreePBX file name in Stockholm time (end = start + audio duration) and keeps the number nowhere', async () => {
    await start({ metadata: { preset: 'freepbx' } });
    const name = 'q-600-0701234567-201-20261123-091500-1763885700.42.wav';
    writeFileSync(path.join(dir, name), WAV);
    const report = await pollTwice();
    expect(report).to.include({ taken: 1, deleted: 1 });

    const [r] = await recordingsOf(t);
    expect(r).to.include({ source: 'pbx', callId: '1763885700.42', queue: '600', status: 'stored' });
    // 09:15:00 in Stockholm in November is 08:15:00Z (CET, UTC+1).
    expect(r!.startedAt).to.equal('2026-11-23T08:15:00.000Z');
    expect(r!.durationMs).to.be.greaterThan(10_000);
    expect(Date.parse(r!.endedAt) - Date.parse(r!.startedAt)).to.equal(r!.durationMs);
    expect(r!.callerKey).to.equal(t.services.callerKeys.of('+46701234567'));
    expect(readdirSync(dir)).to.deep.equal([]);

    const haystacks = [
      (await t.databaseContents()).toString('latin1'),
      t.logs(),
      JSON.stringify(await auditOf(t)),
      filesIn(path.join(t.dir, 'objects')).join('\n'),
    ];
    for (const hay of haystacks) for (const n of NUMBER_SPELLINGS) expect(hay).not.to.include(n);
    for (const hay of haystacks) expect(hay).not.to.include(name);
  });

  it('takes Puzzel recordings with their .XML, deleting both files of each', async () => {
    await start({ metadata: { preset: 'puzzel-xml' } });
    const xml = '<Recording><Session><start>2026-11-23 09:15:00</start><finish>2026-11-23 09:20:00</finish></Session><Request><remoteAddress>0701234567</remoteAddress><queue_key>q_1</queue_key></Request></Recording>';
    writeFileSync(path.join(dir, '98765432_1.wav'), WAV);
    writeFileSync(path.join(dir, '98765432_1.XML'), xml);
    writeFileSync(path.join(dir, '98765432_2.wav'), fixture('call-alaw-8k.wav'));
    writeFileSync(path.join(dir, '98765432_2.XML'), xml);
    expect(await pollTwice()).to.include({ taken: 2, deleted: 2 });
    expect(readdirSync(dir)).to.deep.equal([]);
    const recs = await recordingsOf(t);
    expect(recs.map((r) => r.callId).sort()).to.deep.equal(['98765432-1', '98765432-2']);
    expect(recs[0]).to.include({ startedAt: '2026-11-23T08:15:00.000Z', endedAt: '2026-11-23T08:20:00.000Z', queue: 'q_1' });
  });

  it('takes a MixMonitor recording with its key=value sidecar, the end from the audio', async () => {
    await start({ metadata: { preset: 'asterisk-mixmonitor' } });
    writeFileSync(path.join(dir, '1763885700.42.wav'), WAV);
    writeFileSync(path.join(dir, '1763885700.42.txt'), 'uniqueid=1763885700.42\nepoch=1795421700\ncallerid=0701234567\n');
    expect(await pollTwice()).to.include({ taken: 1, deleted: 1 });
    expect(readdirSync(dir)).to.deep.equal([]);
    const [r] = await recordingsOf(t);
    expect(r).to.include({ callId: '1763885700.42', startedAt: '2026-11-23T08:15:00.000Z' });
    expect(Date.parse(r!.endedAt) - Date.parse(r!.startedAt)).to.equal(r!.durationMs);
  });

  it('takes a time in the repeated autumn hour as the earlier instant and says so; refuses a time in the skipped spring hour', async () => {
    await start({ metadata: { preset: 'freepbx' } });
    writeFileSync(path.join(dir, 'q-600-0701234567-201-20261025-023000-1761352200.1.wav'), WAV);
    writeFileSync(path.join(dir, 'q-600-0701234567-201-20260329-023000-1774747800.1.wav'), WAV);
    const report = await pollTwice();
    expect(report).to.include({ taken: 1, rejected: 1 });
    const [r] = await recordingsOf(t);
    expect(r!.startedAt).to.equal('2026-10-25T00:30:00.000Z'); // 02:30 CEST, not 02:30 CET
    const entries = await auditOf(t);
    expect(entries.find((e) => e.action === 'recording.ingested')!.details).to.have.property('startedAtAmbiguous');
    expect(entries.filter((e) => e.action === 'source.rejected').map((e) => e.details.reason)).to.deep.equal(['nonexistent-local-time']);
    expect(readdirSync(dir)).to.deep.equal(['q-600-0701234567-201-20260329-023000-1774747800.1.wav']);
  });

  it("discards an opted-out caller's file without storing it, and deletes it at the source", async () => {
    await start({ metadata: { preset: 'freepbx' } });
    await t.services.optOuts.registry.register({ number: '070-123 45 67' }, 'system:test');
    const put = sinon.spy(t.store, 'put');
    writeFileSync(path.join(dir, 'q-600-0701234567-201-20261123-091500-1763885700.7.wav'), WAV);
    const report = await pollTwice();
    expect(report).to.include({ taken: 0, discarded: 1, deleted: 1 });
    expect(put.called).to.equal(false);
    expect(filesIn(path.join(t.dir, 'objects'))).to.deep.equal([]);
    const [r] = await recordingsOf(t);
    expect(r).to.include({ status: 'discarded', storageKey: null, callerKey: null });
    const actions = (await auditOf(t)).map((e) => e.action);
    expect(actions.filter((a) => a === 'recording.discarded')).to.have.length(1);
    expect(actions.filter((a) => a === 'source.deleted')).to.have.length(1);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('takes a file that is still growing only once it has stopped growing', async () => {
    const p = await start();
    const meta = callMeta(new Date(NOW));
    writeFileSync(path.join(dir, 'long.json'), JSON.stringify(meta));
    writeFileSync(path.join(dir, 'long.wav'), WAV.subarray(0, 50_000));
    expect(await p.poll()).to.include({ taken: 0 });
    t.clock.advance(SETTLE);
    appendFileSync(path.join(dir, 'long.wav'), WAV.subarray(50_000, 120_000));
    expect(await p.poll()).to.include({ taken: 0 });
    t.clock.advance(SETTLE / 2);
    appendFileSync(path.join(dir, 'long.wav'), WAV.subarray(120_000));
    expect(await p.poll()).to.include({ taken: 0 });
    t.clock.advance(SETTLE / 2);
    // Unchanged, but not yet for the whole settle time since it last grew.
    expect(await p.poll()).to.include({ taken: 0 });
    t.clock.advance(SETTLE / 2);
    expect(await p.poll()).to.include({ taken: 1 });
    const [r] = await recordingsOf(t);
    expect((await storedBytes(t, r!.storageKey!)).equals(WAV)).to.equal(true);
  });

  it('rejects a file that is not audio, leaves it at the source and does not retry it until it changes', async () => {
    const p = await start();
    writeFileSync(path.join(dir, 'notes.wav'), 'this is not audio at all, just text that someone saved with a .wav name\n'.repeat(20));
    writeFileSync(path.join(dir, 'notes.json'), JSON.stringify(callMeta(new Date(NOW))));
    expect(await pollTwice()).to.include({ rejected: 1, taken: 0, deleted: 0 });
    t.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ rejected: 0, taken: 0 });
    t.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ rejected: 0, taken: 0 });
    expect(readdirSync(dir).sort()).to.deep.equal(['notes.json', 'notes.wav']);
    const rejected = (await auditOf(t)).filter((e) => e.action === 'source.rejected');
    expect(rejected).to.have.length(1);
    expect(rejected[0]!.details).to.include({ source: 'pbx', reason: 'not-audio' });
    expect(await t.services.sources.items.rejected('pbx')).to.have.length(1);
    expect(await recordingsOf(t)).to.deep.equal([]);

    // Replaced by real audio: seen anew, taken, and both files deleted.
    writeFileSync(path.join(dir, 'notes.wav'), WAV);
    expect(await pollTwice()).to.include({ taken: 1, deleted: 1 });
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('rejects missing metadata, a start in the future and a file over the cap, and leaves them all', async () => {
    const p = await start({ maxFileBytes: 100_000 });
    writeFileSync(path.join(dir, 'alone.wav'), WAV.subarray(0, 60_000));
    writeFileSync(path.join(dir, 'future.wav'), WAV.subarray(0, 60_000));
    writeFileSync(path.join(dir, 'future.json'), JSON.stringify(callMeta(new Date(Date.parse(NOW) + 3_600_000))));
    writeFileSync(path.join(dir, 'big.wav'), WAV);
    writeFileSync(path.join(dir, 'big.json'), JSON.stringify(callMeta(new Date(NOW))));
    expect(await pollTwice()).to.include({ rejected: 3 });
    const reasons = (await auditOf(t)).filter((e) => e.action === 'source.rejected').map((e) => e.details.reason);
    expect(reasons.sort()).to.deep.equal(['future-start', 'missing-metadata', 'too-large']);
    expect(readdirSync(dir)).to.have.length(5);
    expect(await p.poll()).to.include({ rejected: 0 });
  });

  it('retries a deletion at the source that failed, counting it in the metric and /readyz until it succeeds', async () => {
    const p = await start();
    writeFileSync(path.join(dir, 'c.wav'), WAV);
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify(callMeta(new Date(NOW))));
    const remove = sinon.stub(adapter, 'remove').rejects(new SourceUnreachable('folder-unwritable', 'a file cannot be removed (EACCES)'));
    expect(await pollTwice()).to.include({ taken: 1, deleted: 0, pending: 1 });

    const metrics = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(metrics.text).to.match(/gallra_source_copies_pending\{source="pbx"\} 1/);
    const ready = await request(t.app).get('/readyz');
    expect(ready.body.checks?.sources ?? ready.body).to.satisfy((b: unknown) => JSON.stringify(b).includes('"copiesPending":1'));

    remove.restore();
    t.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ deleted: 1, pending: 0 });
    expect(readdirSync(dir)).to.deep.equal([]);
    const again = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(again.text).to.match(/gallra_source_copies_pending\{source="pbx"\} 0/);
    expect((await auditOf(t)).filter((e) => e.action === 'source.deleted')).to.have.length(1);
  });

  it('leaves copies at a source with deleteAtSource false, and the overview and the report say so with the reason', async () => {
    const reason = 'The recorder deletes its own files after 24 hours (ticket 2026-118).';
    const p = await start({ deleteAtSource: false, keepReason: reason });
    writeFileSync(path.join(dir, 'k.wav'), WAV);
    writeFileSync(path.join(dir, 'k.json'), JSON.stringify(callMeta(new Date(NOW))));
    expect(await pollTwice()).to.include({ taken: 1, deleted: 0, pending: 0 });
    expect(await p.poll()).to.include({ taken: 0, deleted: 0 });
    expect(readdirSync(dir).sort()).to.deep.equal(['k.json', 'k.wav']);
    const admin = await t.token('admin');
    const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
    const overview = await request(t.app).get('/v1/reports/overview').query(period).set('Authorization', `Bearer ${admin}`);
    expect(overview.body.copiesKeptAtSources).to.deep.equal([{ source: 'pbx', reason }]);
    const report = await request(t.app).get('/v1/reports/retention').query(period).set('Authorization', `Bearer ${admin}`);
    expect(report.body.copiesKeptAtSources).to.deep.equal([{ source: 'pbx', reason }]);
    // The totals file an auditor opens in Excel says it too: one row per such source, its reason as the value.
    const totals = await request(t.app).get('/v1/reports/retention').query({ ...period, format: 'csv-totals' }).set('Authorization', `Bearer ${admin}`).expect(200);
    const rows: Record<string, string>[] = parse(totals.text, { bom: true, delimiter: ';', columns: true });
    expect(rows.filter((r) => r.Uppgift.startsWith('Kopior finns kvar'))).to.deep.equal([
      { Uppgift: 'Kopior finns kvar hos källan pbx, som inte raderar dem', Värde: reason, 'Inspelnings-id': '' },
    ]);
  });

  describe('crash safety: a poll that dies at a step is finished by the next', () => {
    async function expectFinished() {
      const recs = await recordingsOf(t);
      expect(recs).to.have.length(1);
      const actions = (await auditOf(t)).map((e) => e.action);
      expect(actions.filter((a) => a === 'recording.ingested')).to.have.length(1);
      expect(actions.filter((a) => a === 'source.deleted')).to.have.length(1);
      expect(readdirSync(dir)).to.deep.equal([]);
      // One object (the filesystem store keeps its metadata beside it).
      expect(filesIn(path.join(t.dir, 'objects')).filter((f) => !f.endsWith('.meta.json'))).to.have.length(1);
    }

    it('fails inside the transaction that commits the recording and marks the item taken: nothing of it stays', async () => {
      const p = await start();
      writeFileSync(path.join(dir, 'k.wav'), WAV);
      writeFileSync(path.join(dir, 'k.json'), JSON.stringify(callMeta(new Date(NOW))));
      const markTaken = sinon.stub(t.services.sources.items, 'markTaken').rejects(new Error('killed'));
      expect(await pollTwice()).to.include({ taken: 0, retry: 1 });
      markTaken.restore();
      expect(await recordingsOf(t)).to.deep.equal([]);
      expect(readdirSync(dir)).to.have.length(2);
      t.clock.advance(SETTLE);
      expect(await p.poll()).to.include({ taken: 1, deleted: 1 });
      await expectFinished();
    });

    it('fails after the commit, before the copy is deleted: the next poll deletes it', async () => {
      const p = await start();
      writeFileSync(path.join(dir, 'k.wav'), WAV);
      writeFileSync(path.join(dir, 'k.json'), JSON.stringify(callMeta(new Date(NOW))));
      const remove = sinon.stub(adapter, 'remove').rejects(new Error('killed'));
      expect(await pollTwice()).to.include({ taken: 1, deleted: 0, pending: 1 });
      remove.restore();
      t.clock.advance(SETTLE);
      expect(await p.poll()).to.include({ taken: 0, deleted: 1, pending: 0 });
      await expectFinished();
    });

    it('dies after the copy was deleted at the source, before the deletion was audited', async () => {
      const p = await start();
      writeFileSync(path.join(dir, 'k.wav'), WAV);
      writeFileSync(path.join(dir, 'k.json'), JSON.stringify(callMeta(new Date(NOW))));
      const markDeleted = sinon.stub(t.services.sources.items, 'markDeleted').rejects(new Error('killed'));
      await pollTwice().catch(() => undefined);
      markDeleted.restore();
      expect(readdirSync(dir)).to.deep.equal([]);
      expect((await auditOf(t)).filter((e) => e.action === 'source.deleted')).to.have.length(0);
      t.clock.advance(SETTLE);
      expect(await p.poll()).to.include({ deleted: 1 });
      await expectFinished();
    });
  });

  it('stores each call once when two instances, each with its own database pool, poll the same folder at once', async () => {
    await start();
    // A second connection pool on the same database, as a second process would have.
    const db2 = createDatabase(t.config.databaseUrl);
    const second = await startTestApp({
      db: db2,
      clock: t.clock,
      config: { callerKeySecret: t.config.callerKeySecret },
      store: t.store,
      sources: [{ config: folderSource('pbx', dir), adapter: createFolderSource({ root: dir }) }],
    });
    try {
      for (let i = 0; i < 6; i++) {
        writeFileSync(path.join(dir, `c${i}.wav`), WAV);
        writeFileSync(path.join(dir, `c${i}.json`), JSON.stringify(callMeta(new Date(NOW))));
      }
      const [a, b] = [t.services.sources.pollers[0]!, second.services.sources.pollers[0]!];
      await Promise.all([a.poll(), b.poll()]);
      t.clock.advance(SETTLE);
      const [ra, rb] = await Promise.all([a.poll(), b.poll()]);
      expect(ra!.taken + rb!.taken).to.equal(6);
      const recs = await recordingsOf(t);
      expect(recs).to.have.length(6);
      const actions = (await auditOf(t)).map((e) => e.action);
      expect(actions.filter((x) => x === 'recording.ingested')).to.have.length(6);
      expect(actions.filter((x) => x === 'source.deleted')).to.have.length(6);
      expect(readdirSync(dir)).to.deep.equal([]);
    } finally {
      await db2.destroy();
      rmSync(second.dir, { recursive: true, force: true });
    }
  });

  it('keeps a call id per source: the webhook and a source may both deliver call 42, and an opt-out of it covers both', async () => {
    const p = await start();
    const meta = callMeta(new Date(NOW), { callId: 'call-42' });
    await t.services.ingest.receive(
      { callId: 'call-42', startedAt: new Date(meta.startedAt), endedAt: new Date(meta.endedAt), callerKey: null, queue: null, agentId: null, optOut: false },
      (await import('node:stream')).Readable.from([fixture('call-alaw-8k.wav')]),
      Promise.resolve(true),
    );
    writeFileSync(path.join(dir, 'x.wav'), WAV);
    writeFileSync(path.join(dir, 'x.json'), JSON.stringify(meta));
    await p.poll();
    t.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ taken: 1 });
    const recs = await recordingsOf(t);
    expect(recs.map((r) => [r.source, r.callId]).sort()).to.deep.equal([
      ['pbx', 'call-42'],
      ['webhook', 'call-42'],
    ]);

    // An after-the-fact opt-out of call 42 covers both sources' recordings.
    const r = await t.services.optOuts.calls.optOutCall('call-42', {}, 'system:test');
    expect(r.status).to.equal('deleted');
    expect((await recordingsOf(t)).map((x) => x.status)).to.deep.equal(['deleted', 'deleted']);
  });

  describe('a call opt-out narrowed to one source (recordingSource)', () => {
    const viaWebhook = (callId: string, meta: ReturnType<typeof callMeta>) =>
      t.services.ingest.receive(
        { callId, startedAt: new Date(meta.startedAt), endedAt: new Date(meta.endedAt), callerKey: null, queue: null, agentId: null, optOut: false },
        Readable.from([fixture('call-alaw-8k.wav')]),
        Promise.resolve(true),
      );
    let phoneToken: string | undefined;
    const optOut = async (callId: string, body: object) =>
      request(t.app).post(`/v1/calls/${callId}/opt-out`).set('Authorization', `Bearer ${(phoneToken ??= await t.token('phone-system'))}`).send(body);
    beforeEach(() => (phoneToken = undefined));
    async function deliver(name: string, meta: ReturnType<typeof callMeta>) {
      writeFileSync(path.join(dir, `${name}.wav`), WAV);
      writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(meta));
      return pollTwice();
    }
    const statusBySource = async () => Object.fromEntries((await recordingsOf(t)).map((r) => [r.source, r.status]));

    it("deletes only that source's stored recording of the call id, audited with the narrowing", async () => {
      await start();
      const meta = callMeta(new Date(NOW), { callId: 'call-43' });
      await viaWebhook('call-43', meta);
      expect(await deliver('y', meta)).to.include({ taken: 1 });

      const res = await optOut('call-43', { source: 'ivr', recordingSource: 'pbx' });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ callId: 'call-43', status: 'deleted' });
      expect(await statusBySource()).to.deep.equal({ pbx: 'deleted', webhook: 'stored' });
      const webhookRec = (await recordingsOf(t)).find((r) => r.source === 'webhook')!;
      expect(await storedBytes(t, webhookRec.storageKey!)).to.have.length.greaterThan(0);
      const requested = (await auditOf(t)).filter((e) => e.action === 'call.opt-out-requested');
      expect(requested).to.have.length(1);
      expect(requested[0]!.details).to.include({ callId: 'call-43', source: 'ivr', recordingSource: 'pbx', recordingStatus: 'stored' });
      expect((await auditOf(t)).filter((e) => e.action === 'recording.deleted')).to.have.length(1);
      // The webhook's recording is still served: the narrowed opt-out does not withdraw it.
      expect(await t.services.optOuts.isWithdrawn(webhookRec)).to.equal(false);

      // An opt-out of every source's recording afterwards is a new one and takes the webhook's too.
      const wide = await optOut('call-43', {});
      expect(wide.status).to.equal(200);
      expect(wide.body.id).not.to.equal(res.body.id);
      expect(await statusBySource()).to.deep.equal({ pbx: 'deleted', webhook: 'deleted' });
    });

    it("before the call arrives: discards that source's copy when it comes and keeps the webhook's", async () => {
      await start();
      const meta = callMeta(new Date(NOW), { callId: 'call-44' });
      const res = await optOut('call-44', { recordingSource: 'pbx' });
      expect(res.status).to.equal(202);
      expect(res.body).to.include({ status: 'pending' });
      await viaWebhook('call-44', meta);
      expect(await deliver('z', meta)).to.include({ discarded: 1, deleted: 1 });
      expect(await statusBySource()).to.deep.equal({ pbx: 'discarded', webhook: 'stored' });
      const row = await t.db('call_opt_outs').where({ call_id: 'call-44' }).first();
      expect(row).to.include({ recording_source: 'pbx' });
      expect(row.recording_id).to.equal((await recordingsOf(t)).find((r) => r.source === 'pbx')!.id);
      expect(readdirSync(dir)).to.deep.equal([]);
      // A repeat is the same opt-out and appends nothing.
      const before = (await auditOf(t)).length;
      const again = await optOut('call-44', { recordingSource: 'pbx' });
      expect(again.body).to.deep.equal({ id: res.body.id, callId: 'call-44', status: 'discarded' });
      expect((await auditOf(t)).length).to.equal(before);
    });

    it('refuses an unknown source name with a 422 problem naming recordingSource, and changes nothing', async () => {
      await start();
      const meta = callMeta(new Date(NOW), { callId: 'call-45' });
      await viaWebhook('call-45', meta);
      phoneToken = await t.token('phone-system');
      const before = (await auditOf(t)).length;
      for (const name of ['no-such-source', 'Not A Name!']) {
        const res = await optOut('call-45', { recordingSource: name });
        expect(res.status, name).to.equal(422);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.body.errors.map((e: { pointer: string }) => e.pointer), name).to.deep.equal(['/recordingSource']);
      }
      expect(await t.db('call_opt_outs')).to.have.length(0);
      expect((await auditOf(t)).length).to.equal(before);
      expect(await statusBySource()).to.deep.equal({ webhook: 'stored' });
    });
  });
});
