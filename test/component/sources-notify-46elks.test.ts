import { expect } from 'chai';
import request from 'supertest';
import { ManualClock } from '../../src/shared/clock.js';
import { createNotifyPlatform, type NotifySource } from '../../src/sources/index.js';
import { elksSource, startFakePlatform, type FakePlatform } from '../helpers/notify-platform.js';
import { auditOf, storedBytes } from '../helpers/sources.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture } from '../helpers/webhook.js';

const NOW = '2026-11-23T10:00:00.000Z';
const WAV = fixture('call-pcm16-8k.wav');
const CALL_ID = 'c' + '0701234567'.padEnd(32, 'a');

describe('sources: 46elks notifies with HTTP Basic, gallra fetches; nothing to delete there', () => {
  let t: TestApp;
  let media: FakePlatform;
  let source: NotifySource;

  beforeEach(async () => {
    media = await startFakePlatform({ audio: WAV });
    const config = elksSource('elks', media);
    t = await startTestApp({ clock: new ManualClock(NOW), sources: [{ config, platform: createNotifyPlatform(config) }] });
    source = t.services.sources.notifySources[0]!;
  });
  afterEach(async () => {
    await t.close();
    await media.close();
  });

  const fields = () => ({ callid: CALL_ID, wav: `${media.base}/a1/recordings/${CALL_ID}.wav`, created: '2026-11-23T09:53:00.000000', duration: '180', from: '+46701234567', to: '+46101234500' });
  const notify = (user = 'elks', password = 'elks-password-0123') => request(t.app).post('/v1/sources/elks/notify').auth(user, password).type('form').send(fields());

  it("takes the recording with the caller from the notification, keeps the platform's call id (digits and all), and deletes nothing", async () => {
    const res = await notify();
    expect(res.status).to.equal(202);
    await source.poll();
    await source.poll();
    const [rec] = await t.db('recordings');
    expect(rec).to.include({ call_id: CALL_ID, source: 'elks', status: 'stored', started_at: '2026-11-23T09:50:00.000Z', ended_at: '2026-11-23T09:53:00.000Z' });
    expect(rec.caller_key).to.equal(t.services.callerKeys.ofE164('+46701234567'));
    expect((await storedBytes(t, rec.storage_key)).equals(WAV)).to.equal(true);
    expect(media.seen.map((s) => s.method)).to.deep.equal(['GET']);
    expect((await auditOf(t)).map((e) => e.action)).to.deep.equal(['source.notified', 'recording.ingested']);
    // The Inleverans page: nothing pending deletion, and why copies stay at 46elks.
    const [overview] = (await request(t.app).get('/v1/sources').set('Authorization', `Bearer ${await t.token('admin')}`)).body.items;
    expect(overview).to.include({ name: 'elks', adapter: 'notify', deleteAtSource: false, copiesPending: 0 });
    expect(overview.keepReason).to.match(/72-hour fetch window/);
  });

  it('refuses wrong or missing Basic credentials with 401 and writes nothing', async () => {
    expect((await notify('elks', 'wrong')).status).to.equal(401);
    const none = await request(t.app).post('/v1/sources/elks/notify').type('form').send(fields());
    expect(none.status).to.equal(401);
    expect(none.body.type).to.match(/authentication-required$/);
    expect(await t.db('source_items').select()).to.have.length(0);
    expect(await auditOf(t)).to.have.length(0);
  });

  it('limits guessed passwords like every other failed credential (429), and stores nothing', async () => {
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await notify('elks', `guess-${i}`)).status);
    expect(statuses.slice(0, 10)).to.deep.equal(Array(10).fill(401));
    expect(statuses[10]).to.equal(429);
    expect(await t.db('source_items').select()).to.have.length(0);
  });
});
