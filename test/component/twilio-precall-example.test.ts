import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import twilio from 'twilio';
import { ManualClock } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const require = createRequire(import.meta.url);
const FUNCTION = path.resolve(import.meta.dirname, '../../docs/integrations/twilio-precall-function.js');

type Handler = (context: Record<string, string>, event: Record<string, string>, callback: (err: unknown, twiml?: { toString(): string }) => void) => Promise<void>;

/**
 * docs/integrations/twilio-precall-function.js, run as Twilio runs a Function (the global Twilio is the
 * twilio package), against gallra over HTTP: its pre-call check request and gallra's answer go through
 * the test app, which checks every response against /openapi.json.
 */
describe('docs: the Twilio Function that asks gallra before recording', () => {
  let t: TestApp;
  let server: Server;
  let handler: Handler;
  let context: Record<string, string>;

  before(() => {
    (globalThis as { Twilio?: unknown }).Twilio = twilio;
    handler = (require(FUNCTION) as { handler: Handler }).handler;
  });
  after(() => delete (globalThis as { Twilio?: unknown }).Twilio);

  beforeEach(async () => {
    t = await startTestApp({ clock: new ManualClock('2026-11-23T10:00:00.000Z') });
    server = createServer(t.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    context = { GALLRA_URL: base, GALLRA_TOKEN: await t.token('phone-system'), GALLRA_SOURCE: 'twilio', QUEUE_NAME: 'kundtjanst' };
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await t.close();
  });

  const run = (event: Record<string, string>) =>
    new Promise<string>((resolve, reject) => {
      handler(context, event, (err, twiml) => (err ? reject(err) : resolve(twiml!.toString()))).catch(reject);
    });

  it("records a caller who has not opted out, with gallra's notify URL as the recording callback", async () => {
    const xml = await run({ From: '+46701234567', To: '+46101234500', CallSid: 'CA' + '1'.repeat(32) });
    expect(xml).to.include('record="record-from-answer-dual"');
    expect(xml).to.include(`recordingStatusCallback="${context.GALLRA_URL}/v1/sources/twilio/notify"`);
    expect(xml).to.include('<Queue>kundtjanst</Queue>');
  });

  it('does not record an opted-out caller, a withheld number, or when gallra does not answer yes', async () => {
    await t.services.optOuts.registry.register({ number: '070-123 45 67' }, 'system:test');
    for (const From of ['+46701234567', 'anonymous']) {
      const xml = await run({ From, To: '+46101234500' });
      expect(xml, From).not.to.include('record=');
      expect(xml).to.include('<Dial><Queue>kundtjanst</Queue></Dial>');
    }
    context.GALLRA_TOKEN = 'not-a-token';
    expect(await run({ From: '+46709999999' })).not.to.include('record=');
  });
});
