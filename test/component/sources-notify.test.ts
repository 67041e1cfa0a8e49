import { createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import type { Recording } from '../../src/recordings/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createNotifyPlatform, type NotifySource, type NotifySourceConfig } from '../../src/sources/index.js';
import {
  ACCOUNT_SID, PUBLIC_URL, recordingCallback, sid, startFakePlatform, twilioSignature, twilioSource, type FakePlatform,
} from '../helpers/notify-platform.js';
import { auditOf, storedBytes } from '../helpers/sources.js';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';

const NOW = '2026-11-23T10:00:00.000Z';
const WAV = fixture('call-pcm16-8k.wav');
const CALLER = '+46701234567';
/** Every spelling of the test caller's number that must appear nowhere. */
const NUMBER_SPELLINGS = ['0701234567', '701234567', '+46701234567', '46701234567', '070-123 45 67'];

async function recordingsOf(t: TestApp): Promise<Recording[]> {
  const { fromRow } = await import('../../src/recordings/recording-repository.js');
  return (await t.db('recordings').orderBy('created_at')).map(fromRow);
}

describe('sources: Twilio notifies, gallra fetches and deletes there', () => {
  let t: TestApp;
  let media: FakePlatform;
  let source: NotifySource;

  async function start(overrides: (m: FakePlatform) => Partial<NotifySourceConfig> = () => ({}), opts: { lookup?: LookupFunction; chunked?: boolean } = {}) {
    media = await startFakePlatform({ audio: WAV, chunked: opts.chunked });
    const config = twilioSource('twilio', media, overrides(media));
    t = await startTestApp({ clock: new ManualClock(NOW), sources: [{ config, platform: createNotifyPlatform(config, opts) }] });
    source = t.services.sources.notifySources[0]!;
  }

  afterEach(async () => {
    sinon.restore();
    await t?.close();
    await media?.close();
  });

  /** A completed call of CALLER ten minutes ago, registered at the fake platform. */
  function aCall(n: number, caller = CALLER) {
    const callSid = sid('CA', n);
    const recordingSid = sid('RE', n);
    media.addCall(callSid, { from: caller, start: '2026-11-23T09:50:00Z', end: '2026-11-23T09:53:00Z' });
    return { callSid, recordingSid, params: recordingCallback({ callSid, recordingSid, recordingUrl: media.recordingUrl(recordingSid) }) };
  }

  function notify(params: Record<string, string>, signature = twilioSignature(params), headers: Record<string, string> = {}) {
    return request(t.app).post('/v1/sources/twilio/notify').type('form').set('X-Twilio-Signature', signature).set(headers).send(params);
  }

  /** The background fetch started by the notification, then one more run: what was due is done. */
  async function settle() {
    await source.poll();
    return source.poll();
  }

  it('fetches a Twilio-signed notification, looks the caller up, stores it byte-identical and deletes it at Twilio', async () => {
    await start();
    const { callSid, recordingSid, params } = aCall(1);
    const res = await notify(params);
    expect(res.status).to.equal(202);
    expect(res.body).to.deep.equal({ status: 'accepted', recordingId: null });
    await settle();

    const [rec] = await recordingsOf(t);
    expect(rec).to.include({ callId: callSid, source: 'twilio', status: 'stored', startedAt: '2026-11-23T09:50:00.000Z', endedAt: '2026-11-23T09:53:00.000Z' });
    expect(rec!.callerKey).to.equal(t.services.callerKeys.ofE164(CALLER));
    expect((await storedBytes(t, rec!.storageKey!)).equals(WAV)).to.equal(true);
    expect(rec!.sha256).to.equal(createHash('sha256').update(WAV).digest('hex'));
    // The lookup, the audio and the deletion, in that order, with the account's credentials.
    expect(media.seen.map((s) => `${s.method} ${s.path}`)).to.deep.equal([
      `GET /2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${callSid}.json`,
      `GET /2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}.wav`,
      `DELETE /2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}.json`,
    ]);
    expect(media.deleted.has(recordingSid)).to.equal(true);
    const audit = await auditOf(t);
    expect(audit.map((e) => e.action)).to.deep.equal(['source.notified', 'recording.ingested', 'source.deleted']);
    expect(audit[2]!.details).to.include({ source: 'twilio', itemId: recordingSid });
    const item = await t.db('source_items').where({ source: 'twilio', item_id: recordingSid }).first();
    expect(item.state).to.equal('deleted');
    expect(await t.db('source_notifications').count({ n: '*' }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 0);

    // Twilio retries a callback it thinks failed: the same recording is never fetched twice.
    const again = await notify(params);
    expect(again.status).to.equal(202);
    expect(again.body.status).to.equal('duplicate');
    await settle();
    expect(await recordingsOf(t)).to.have.length(1);
    expect(media.seen).to.have.length(3);

    // The caller's number is nowhere: not in the database, the audit log or the logs.
    const everything = JSON.stringify(await t.databaseContents()) + t.logs();
    for (const s of NUMBER_SPELLINGS) expect(everything).not.to.include(s);
  });

  it('accepts the HMAC-SHA256 variant named in X-Twilio-Webhooks-Signature-Settings, and the URL with its default port', async () => {
    await start();
    const a = aCall(2);
    const r1 = await notify(a.params, twilioSignature(a.params, { algorithm: 'HMAC_SHA256' }), { 'X-Twilio-Webhooks-Signature-Settings': 'algorithm=HMAC_SHA256' });
    expect(r1.status).to.equal(202);
    const b = aCall(3);
    const r2 = await notify(b.params, twilioSignature(b.params, { url: PUBLIC_URL.replace('example/', 'example:443/') }));
    expect(r2.status).to.equal(202);
    await settle();
    expect(await recordingsOf(t)).to.have.length(2);
  });

  it('refuses a wrongly signed notification with 401 and changes nothing', async () => {
    await start();
    const { params } = aCall(4);
    const cases = [
      twilioSignature(params, { token: 'another-token' }),
      // Signed for the URL gallra sees behind the proxy, not the configured public one.
      twilioSignature(params, { url: 'http://127.0.0.1:8080/v1/sources/twilio/notify' }),
      twilioSignature({ ...params, RecordingUrl: 'https://elsewhere.example/x' }),
    ];
    for (const sig of cases) {
      const res = await notify(params, sig);
      expect(res.status).to.equal(401);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body.type).to.match(/invalid-signature$/);
    }
    const missing = await request(t.app).post('/v1/sources/twilio/notify').type('form').send(params);
    expect(missing.status).to.equal(401);
    expect(missing.body.type).to.match(/missing-signature$/);
    await settle();
    expect(await auditOf(t)).to.have.length(0);
    expect(await t.db('source_items').select()).to.have.length(0);
    expect(await t.db('source_notifications').select()).to.have.length(0);
    expect(media.seen).to.have.length(0);
  });

  it('refuses a notified URL on a host the source does not allow, and never requests it', async () => {
    await start();
    const other = await startFakePlatform({ audio: WAV });
    try {
      const { params } = aCall(5);
      const off = { ...params, RecordingUrl: other.recordingUrl(params.RecordingSid!) };
      const res = await notify(off);
      expect(res.status).to.equal(422);
      expect(res.body.type).to.match(/invalid-notification$/);
      expect(res.body.errors[0].pointer).to.equal('/RecordingUrl');
      await settle();
      expect(other.seen).to.have.length(0);
      expect(await t.db('source_items').select()).to.have.length(0);
      expect(await auditOf(t)).to.have.length(0);
    } finally {
      await other.close();
    }
  });

  it('does not follow a redirect to a host not allowed: the item is rejected, the other host never asked', async () => {
    const other = await startFakePlatform({ audio: WAV });
    try {
      await start((m) => ({ allowedHosts: [m.host], testHosts: [m.host] }));
      const { params } = aCall(6);
      const target = encodeURIComponent(other.recordingUrl(params.RecordingSid!) + '.wav');
      const redirecting = { ...params, RecordingUrl: `${media.base}/redirect-to/${target}` };
      expect((await notify(redirecting)).status).to.equal(202);
      await settle();
      expect(other.seen).to.have.length(0);
      expect(await recordingsOf(t)).to.have.length(0);
      const item = await t.db('source_items').where({ source: 'twilio' }).first();
      expect(item).to.include({ state: 'rejected', reason: 'redirect-off-host' });
      expect((await auditOf(t)).map((e) => e.action)).to.deep.equal(['source.notified', 'source.rejected']);
      // Left at Twilio: nothing was deleted.
      expect(media.deleted.size).to.equal(0);
    } finally {
      await other.close();
    }
  });

  it('follows a redirect to another allowed host (a media CDN) without sending it the account credentials', async () => {
    const cdn = await startFakePlatform({ audio: WAV });
    try {
      await start((m) => ({ allowedHosts: [m.host, cdn.host], testHosts: [m.host, cdn.host] }));
      const { params } = aCall(13);
      const target = encodeURIComponent(`${cdn.base}/a1/recordings/c${'5'.repeat(32)}.wav`);
      expect((await notify({ ...params, RecordingUrl: `${media.base}/redirect-to/${target}` })).status).to.equal(202);
      await settle();
      expect(await recordingsOf(t)).to.have.length(1);
      expect(cdn.seen).to.have.length(1);
      expect(cdn.seen[0]!.authorization).to.equal(undefined);
      expect(media.seen.find((x) => x.path.startsWith('/redirect-to/'))!.authorization).to.match(/^Basic /);
    } finally {
      await cdn.close();
    }
  });

  it('refuses an allowed host name that resolves to 127.0.0.1, without connecting', async () => {
    // media.twilio.example is allowed (not a test host) but resolves to the loopback address.
    const lookup = ((hostname: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) => {
      if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
      else cb(null, '127.0.0.1', 4);
    }) as unknown as LookupFunction;
    await start((m) => ({ allowedHosts: [m.host, `media.twilio.example:${m.port}`] }), { lookup });
    const { params } = aCall(7);
    const rebinding = { ...params, RecordingUrl: `https://media.twilio.example:${media.port}/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${params.RecordingSid}` };
    expect((await notify(rebinding)).status).to.equal(202);
    await settle();
    // The lookup (a test host) was asked; the audio never was.
    expect(media.seen.map((s) => s.method + ' ' + s.path.split('/').pop())).to.deep.equal([`GET ${params.CallSid}.json`]);
    const item = await t.db('source_items').where({ source: 'twilio' }).first();
    expect(item).to.include({ state: 'rejected', reason: 'address-not-allowed' });
    expect(await recordingsOf(t)).to.have.length(0);
  });

  it('refuses audio larger than the size cap without storing any of it, and leaves it at Twilio', async () => {
    await start(() => ({ maxFileBytes: 1024 }));
    const put = sinon.spy(t.store, 'put');
    const { params } = aCall(11);
    expect((await notify(params)).status).to.equal(202);
    await settle();
    expect(put.called).to.equal(false);
    expect(await recordingsOf(t)).to.have.length(0);
    expect(await t.db('source_items').where({ source: 'twilio' }).first()).to.include({ state: 'rejected', reason: 'too-large' });
    expect(media.deleted.size).to.equal(0);
  });

  it('stops reading audio sent without a length once it passes the cap, and keeps nothing of it', async () => {
    await start(() => ({ maxFileBytes: 1024 }), { chunked: true });
    const { params } = aCall(12);
    expect((await notify(params)).status).to.equal(202);
    await settle();
    expect(await recordingsOf(t)).to.have.length(0);
    expect(await t.db('source_items').where({ source: 'twilio' }).first()).to.include({ state: 'rejected', reason: 'too-large' });
    const left = [];
    for await (const o of t.store.list('')) left.push(o.key);
    expect(left).to.deep.equal([]);
  });

  it('retries while the media host is down, raises the alarm, and fetches once it is back', async () => {
    await start();
    const { params, recordingSid } = aCall(8);
    await media.stop();
    expect((await notify(params)).status).to.equal(202);
    await settle();
    expect(await recordingsOf(t)).to.have.length(0);
    // The alarm: the source's state, its metric and the error log.
    const [state] = (await request(t.app).get('/v1/sources').set('Authorization', `Bearer ${await t.token('admin')}`)).body.items;
    expect(state.lastError.code).to.equal('media-unreachable');
    const metrics = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(metrics.text).to.match(/gallra_source_up\{source="twilio"\} 0/);
    expect(t.logs()).to.include('a notified recording could not be fetched');
    const row = await t.db('source_notifications').where({ item_id: recordingSid }).first();
    expect(Number(row.attempts)).to.equal(1);

    // Not retried before its backoff, even if polled.
    await source.poll();
    expect(Number((await t.db('source_notifications').where({ item_id: recordingSid }).first()).attempts)).to.equal(1);

    // Still down at the first retry: the wait doubles.
    t.clock.advance(30_000);
    await source.poll();
    expect(Number((await t.db('source_notifications').where({ item_id: recordingSid }).first()).attempts)).to.equal(2);

    await media.restart();
    t.clock.advance(60_000);
    await source.poll();
    const recs = await recordingsOf(t);
    expect(recs).to.have.length(1);
    expect(recs[0]!.status).to.equal('stored');
    expect(media.deleted.has(recordingSid)).to.equal(true);
    expect(source.state().lastError).to.equal(null);
    const after = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
    expect(after.text).to.match(/gallra_source_up\{source="twilio"\} 1/);
  });

  it("discards an opted-out caller's notification and deletes it at Twilio without fetching the audio", async () => {
    await start();
    await t.services.optOuts.registry.register({ number: '070-123 45 67' }, 'system:test');
    const put = sinon.spy(t.store, 'put');
    const { params, recordingSid, callSid } = aCall(9);
    expect((await notify(params)).status).to.equal(202);
    await settle();
    expect(put.called).to.equal(false);
    expect(media.seen.map((s) => s.method + ' ' + s.path.split('/').pop())).to.deep.equal([`GET ${callSid}.json`, `DELETE ${recordingSid}.json`]);
    const [rec] = await recordingsOf(t);
    expect(rec).to.include({ status: 'discarded', reason: 'number-opted-out', storageKey: null });
    const audit = await auditOf(t);
    expect(audit.map((e) => e.action)).to.deep.equal(['opt-out.registered', 'source.notified', 'recording.discarded', 'source.deleted']);
    expect(audit[2]!.details).to.include({ audioFetched: false, itemId: recordingSid });
  });

  it('ignores a recording that is not completed, and answers 404 for a source that takes no notifications', async () => {
    await start();
    const { params } = aCall(10);
    const failed = { ...params, RecordingStatus: 'failed' };
    const res = await notify(failed);
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('ignored');
    const none = await request(t.app).post('/v1/sources/nope/notify').type('form').send(params);
    expect(none.status).to.equal(404);
    expect(await t.db('source_items').select()).to.have.length(0);
  });
});
