import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { fromRow } from '../../src/recordings/recording-repository.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createSftpSource, SourceUnreachable, type SftpSourceConfig } from '../../src/sources/index.js';
import { auditOf, filesIn, sftpSource, storedBytes } from '../helpers/sources.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../helpers/test-app.js';
import { callMeta, fixture } from '../helpers/webhook.js';

const NOW = '2026-11-23T10:00:00.000Z';
const SETTLE = 10_000;

describe('sources: an SFTP directory on a real OpenSSH sshd', function () {
  this.timeout(60_000);
  let sshd: TestSshd;
  let t: TestApp | undefined;

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });
  afterEach(async () => {
    if (t) {
      for (const p of t.services.sources.pollers) await p.close();
      await t.close();
      t = undefined;
    }
    for (const f of readdirSync(sshd.dir)) rmSync(path.join(sshd.dir, f), { recursive: true, force: true });
  });

  function config(overrides: Partial<SftpSourceConfig> = {}): SftpSourceConfig {
    return {
      ...sftpSource('puzzel', {
        host: '127.0.0.1',
        port: sshd.port,
        username: sshd.username,
        directory: sshd.dir,
        hostKeySha256: sshd.hostKeySha256,
        privateKey: sshd.userKey,
        connectTimeoutMs: 10_000,
      }),
      ...overrides,
    };
  }

  async function start(cfg: SftpSourceConfig) {
    t = await startTestApp({ clock: new ManualClock(NOW), sources: [{ config: cfg, adapter: createSftpSource(cfg) }] });
    return t.services.sources.pollers[0]!;
  }

  it('stores generic-json calls (WAV, FLAC) byte for byte, discards an opted-out caller, rejects non-audio, and leaves only the rejected file', async () => {
    const p = await start(config({ metadata: { preset: 'generic-json' }, include: '**/*.{wav,mp3,flac}' }));
    await t!.services.optOuts.registry.register({ number: '+46 70 765 43 21' }, 'system:test');
    const files = {
      a: fixture('call-pcm16-8k.wav'),
      b: fixture('call-16k.flac'),
      c: fixture('call-alaw-8k.wav'),
    };
    const metaA = callMeta(new Date(NOW), { caller: '070-123 45 67', queue: 'bygglov' });
    const metaB = callMeta(new Date(NOW), { caller: '+46701234567', agentId: null });
    const metaC = callMeta(new Date(NOW), { caller: '070-765 43 21' });
    writeFileSync(path.join(sshd.dir, 'a.wav'), files.a);
    writeFileSync(path.join(sshd.dir, 'a.json'), JSON.stringify(metaA));
    writeFileSync(path.join(sshd.dir, 'b.flac'), files.b);
    writeFileSync(path.join(sshd.dir, 'b.json'), JSON.stringify(metaB));
    writeFileSync(path.join(sshd.dir, 'c.wav'), files.c);
    writeFileSync(path.join(sshd.dir, 'c.json'), JSON.stringify(metaC));
    writeFileSync(path.join(sshd.dir, 'junk.wav'), 'not audio\n'.repeat(100));
    writeFileSync(path.join(sshd.dir, 'junk.json'), JSON.stringify(callMeta(new Date(NOW))));

    expect(await p.poll()).to.include({ listed: 4, taken: 0 });
    t!.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ taken: 2, discarded: 1, rejected: 1, deleted: 3, pending: 0 });

    const rows = (await t!.db('recordings').orderBy('call_id')).map(fromRow);
    const byCall = new Map(rows.map((r) => [r.callId, r]));
    const a = byCall.get(metaA.callId)!;
    const b = byCall.get(metaB.callId)!;
    expect(a).to.include({ source: 'puzzel', status: 'stored', queue: 'bygglov', contentType: 'audio/wav', startedAt: new Date(metaA.startedAt).toISOString() });
    expect(b).to.include({ source: 'puzzel', status: 'stored', agentId: null, contentType: 'audio/flac' });
    expect((await storedBytes(t!, a.storageKey!)).equals(files.a)).to.equal(true);
    expect((await storedBytes(t!, b.storageKey!)).equals(files.b)).to.equal(true);
    expect(byCall.get(metaC.callId)).to.include({ status: 'discarded', storageKey: null });
    expect(readdirSync(sshd.dir).sort()).to.deep.equal(['junk.json', 'junk.wav']);

    const entries = await auditOf(t!);
    expect(entries.filter((e) => e.action === 'source.deleted')).to.have.length(3);
    expect(entries.filter((e) => e.action === 'source.rejected').map((e) => e.details.reason)).to.deep.equal(['not-audio']);
    for (const hay of [(await t!.databaseContents()).toString('latin1'), t!.logs(), JSON.stringify(entries), filesIn(path.join(t!.dir, 'objects')).join('\n')]) {
      for (const n of ['701234567', '707654321', '765 43 21', '123 45 67', sshd.dir]) expect(hay).not.to.include(n);
    }
  });

  it('reads a FreePBX name from the SFTP listing', async () => {
    const p = await start(config({ name: 'freepbx', metadata: { preset: 'freepbx' } }));
    const wav = fixture('call-ulaw-8k.wav');
    writeFileSync(path.join(sshd.dir, 'q-600-0701234567-201-20261123-091500-1763885700.42.wav'), wav);
    await p.poll();
    t!.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ taken: 1, deleted: 1 });
    const [r] = (await t!.db('recordings')).map(fromRow);
    expect(r).to.include({ source: 'freepbx', callId: '1763885700.42', startedAt: '2026-11-23T08:15:00.000Z' });
    expect((await storedBytes(t!, r!.storageKey!)).equals(wav)).to.equal(true);
    expect(readdirSync(sshd.dir)).to.deep.equal([]);
  });

  it('takes Puzzel recordings with their .XML over SFTP, byte for byte, deleting both files of each and keeping the number nowhere', async () => {
    const p = await start(config({ metadata: { preset: 'puzzel-xml' } }));
    const xml = '<Recording><Session><start>2026-11-23 09:15:00</start><finish>2026-11-23 09:20:00</finish></Session><Request><remoteAddress>0701234567</remoteAddress><queue_key>q_1</queue_key></Request></Recording>';
    const wav = fixture('call-pcm16-8k.wav');
    writeFileSync(path.join(sshd.dir, '98765432_1.wav'), wav);
    writeFileSync(path.join(sshd.dir, '98765432_1.XML'), xml);
    await p.poll();
    t!.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ taken: 1, deleted: 1 });
    expect(readdirSync(sshd.dir)).to.deep.equal([]);
    const [r] = (await t!.db('recordings')).map(fromRow);
    expect(r).to.include({ source: 'puzzel', callId: '98765432-1', startedAt: '2026-11-23T08:15:00.000Z', endedAt: '2026-11-23T08:20:00.000Z', queue: 'q_1' });
    expect((await storedBytes(t!, r!.storageKey!)).equals(wav)).to.equal(true);
    for (const hay of [(await t!.databaseContents()).toString('latin1'), t!.logs(), JSON.stringify(await auditOf(t!))]) expect(hay).not.to.include('701234567');
  });

  it('takes a MixMonitor recording with its key=value sidecar over SFTP, the end from the audio', async () => {
    const p = await start(config({ name: 'asterisk', metadata: { preset: 'asterisk-mixmonitor' } }));
    const wav = fixture('call-ulaw-8k.wav');
    writeFileSync(path.join(sshd.dir, '1763885700.42.wav'), wav);
    writeFileSync(path.join(sshd.dir, '1763885700.42.txt'), 'uniqueid=1763885700.42\nepoch=1795421700\ncallerid=0701234567\n');
    await p.poll();
    t!.clock.advance(SETTLE);
    expect(await p.poll()).to.include({ taken: 1, deleted: 1 });
    expect(readdirSync(sshd.dir)).to.deep.equal([]);
    const [r] = (await t!.db('recordings')).map(fromRow);
    expect(r).to.include({ source: 'asterisk', callId: '1763885700.42', startedAt: '2026-11-23T08:15:00.000Z' });
    expect(Date.parse(r!.endedAt) - Date.parse(r!.startedAt)).to.equal(r!.durationMs);
    expect((await storedBytes(t!, r!.storageKey!)).equals(wav)).to.equal(true);
  });

  it('refuses a server whose host key is not the pinned one, takes nothing, and says so in /readyz and the metrics', async () => {
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const p = await start(config({ hostKeySha256: wrong }));
    writeFileSync(path.join(sshd.dir, 'a.wav'), fixture('call-pcm16-8k.wav'));
    writeFileSync(path.join(sshd.dir, 'a.json'), JSON.stringify(callMeta(new Date(NOW))));
    const err = await p.poll().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SourceUnreachable);
    expect((err as SourceUnreachable).code).to.equal('host-key-mismatch');
    expect((err as Error).message).to.include(sshd.hostKeySha256).and.include(wrong);
    // Backoff: the next scheduled poll waits; nothing was listed or stored.
    expect(await p.poll()).to.equal(null);
    expect(await t!.db('recordings').count({ n: '*' }).first()).to.deep.include({ n: 0 });
    expect(await t!.db('source_items').count({ n: '*' }).first()).to.deep.include({ n: 0 });
    expect(readdirSync(sshd.dir).sort()).to.deep.equal(['a.json', 'a.wav']);

    const ready = await request(t!.app).get('/readyz');
    expect(JSON.stringify(ready.body)).to.include('host-key-mismatch');
    const metrics = await request(t!.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(metrics.text).to.match(/gallra_source_up\{source="puzzel"\} 0/);
  });

  it('answers a refused login as such, without a path or key in the message', async () => {
    const p = await start(config({ username: 'someone-else' }));
    const err = (await p.poll().catch((e: unknown) => e)) as SourceUnreachable;
    expect(err).to.be.instanceOf(SourceUnreachable);
    expect(err.code).to.equal('login-refused');
    expect(err.message).not.to.include(sshd.dir);
  });
});
