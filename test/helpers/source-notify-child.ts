/**
 * A gallra process with one Twilio notify source pointed at a fake platform the parent test runs. With
 * NOTIFY=1 it receives a signed notification (202) first; then it runs the source's fetch. With KILL_AT
 * set it kills itself with SIGKILL at that step (a real kill -9: no handler, no clean-up runs):
 *   after-202       the notification is answered 202; the fetch has at most just begun
 *   during-fetch    part of the audio has been read from the platform, nothing committed
 *   after-commit    the recording is committed; the copy at Twilio not yet deleted
 * Environment: DATABASE_URL, STORE_DIR, MEDIA_HOST (host:port), CALLER_KEY_SECRET, AUDIT_SIGNING_KEY,
 * NOW (ISO), CALL_SID, RECORDING_SID, NOTIFY, KILL_AT, SWEEP=1 to run retention (its orphan sweep) after.
 * Prints the fetch's report as JSON.
 */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../../src/shared/database.js';
import { createLogger } from '../../src/shared/logger.js';
import { createNotifyPlatform, type NotifyPlatformClient } from '../../src/sources/index.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { recordingCallback, twilioSignature, twilioSource } from './notify-platform.js';
import { testConfig } from './test-app.js';

const env = process.env;
const die = (step: string) => {
  if (env.KILL_AT === step) process.kill(process.pid, 'SIGKILL');
};

const db = createDatabase(env.DATABASE_URL!);
await migrateLatest(db);
const store = createFsObjectStore({ root: env.STORE_DIR! });
const host = env.MEDIA_HOST!;
const source = twilioSource('twilio', { host, base: `http://${host}` });
const real = createNotifyPlatform(source);
const platform: NotifyPlatformClient = {
  lookupCall: (id) => real.lookupCall(id),
  async openAudio(url) {
    const body = await real.openAudio(url);
    const out = new PassThrough();
    body.once('data', () => die('during-fetch'));
    return body.pipe(out);
  },
  async deleteRecording(id) {
    die('after-commit');
    return real.deleteRecording(id);
  },
};
const clock = new ManualClock(env.NOW!);
const config = testConfig(path.dirname(env.STORE_DIR!), { databaseUrl: env.DATABASE_URL!, callerKeySecret: env.CALLER_KEY_SECRET!, auditSigningKey: env.AUDIT_SIGNING_KEY! });
const services = createServices({ config, db, store, logger: createLogger({ level: 'silent' }), clock, sources: [{ config: source, platform }] });
const notifySource = services.sources.notifySources[0]!;

if (env.NOTIFY === '1') {
  const params = recordingCallback({ callSid: env.CALL_SID!, recordingSid: env.RECORDING_SID!, recordingUrl: `http://${host}/2010-04-01/Accounts/${source.accountSid}/Recordings/${env.RECORDING_SID}` });
  const res = await request(createApp(services)).post('/v1/sources/twilio/notify').type('form').set('X-Twilio-Signature', twilioSignature(params)).send(params);
  if (res.status !== 202) throw new Error(`notification answered ${res.status}`);
  die('after-202');
}
const report = await notifySource.poll();
if (env.SWEEP === '1') await services.retention.run();
process.stdout.write(JSON.stringify(report) + '\n');
await db.destroy();
