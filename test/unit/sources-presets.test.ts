import { expect } from 'chai';
import { createCallerKeys } from '../../src/shared/caller-key.js';
import { ItemRejected, presetFor, type PresetContext } from '../../src/sources/metadata-presets.js';

const keys = createCallerKeys('x'.repeat(40));
const ctx: PresetContext = { callerKeys: keys, timeZone: 'Europe/Stockholm', now: new Date('2026-11-23T10:00:00Z'), futureToleranceMs: 300_000, maxCallDurationMs: 86_400_000 };
const CALLER_KEY = keys.of('+46701234567');

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ItemRejected);
    return (err as ItemRejected).reason;
  }
  throw new Error('expected a rejection');
}

describe('source metadata presets', () => {
  describe('puzzel-xml', () => {
    const puzzel = presetFor({ preset: 'puzzel-xml' });
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<Recording>
  <Session><sessionId>98765432</sessionId><start>2026-11-23 09:15:00</start><finish>2026-11-23 09:18:30</finish><accessNumber>+46771000000</accessNumber></Session>
  <Request><remoteAddress>0701234567</remoteAddress><queue_key>q_bygglov</queue_key></Request>
  <Agent><user_id>4711</user_id></Agent>
</Recording>`;

    it('reads the XML beside <session>_<n>.wav: one call id per recording, local times in Stockholm', () => {
      expect(puzzel.sidecarsOf('out/98765432_1.wav')).to.deep.equal(['out/98765432_1.XML', 'out/98765432_1.xml']);
      const md = puzzel.read('out/98765432_1.wav', Buffer.from(xml), ctx);
      expect(md.meta).to.deep.include({ callId: '98765432-1', callerKey: CALLER_KEY, queue: 'q_bygglov', agentId: '4711' });
      expect(md.meta.startedAt.toISOString()).to.equal('2026-11-23T08:15:00.000Z');
      expect(md.meta.endedAt.toISOString()).to.equal('2026-11-23T08:18:30.000Z');
      expect(md.endFromDuration).to.equal(false);
    });

    it('rejects a missing or unreadable XML and a name that is not <session>_<n>', () => {
      expect(rejection(() => puzzel.read('98765432_1.wav', null, ctx))).to.equal('missing-metadata');
      expect(rejection(() => puzzel.read('98765432_1.wav', Buffer.from('<Recording><Session></Recording>'), ctx))).to.equal('unreadable-metadata');
      expect(rejection(() => puzzel.read('recording.wav', Buffer.from(xml), ctx))).to.equal('unrecognised-file-name');
      expect(rejection(() => puzzel.read('98765432_1.wav', Buffer.from('<Recording><remoteAddress>070</remoteAddress></Recording>'), ctx))).to.equal('missing-metadata');
    });
  });

  describe('asterisk-mixmonitor', () => {
    const mix = presetFor({ preset: 'asterisk-mixmonitor' });

    it('reads a key=value sidecar with the Unix start time; the end comes from the audio', () => {
      expect(mix.sidecarsOf('m/1763885700.42.wav')).to.deep.equal(['m/1763885700.42.json', 'm/1763885700.42.txt', 'm/1763885700.42.meta']);
      const md = mix.read('m/1763885700.42.wav', Buffer.from('# written by MixMonitor\nuniqueid=1763885700.42\nepoch=1763885700\ncallerid=+46701234567\nqueue=600\n'), ctx);
      expect(md.meta).to.deep.include({ callId: '1763885700.42', callerKey: CALLER_KEY, queue: '600', agentId: null });
      expect(md.meta.startedAt.toISOString()).to.equal(new Date(1763885700 * 1000).toISOString());
      expect(md.endFromDuration).to.equal(true);
    });

    it('reads a JSON sidecar with an ISO start and a duration; an anonymous caller has no key', () => {
      const md = mix.read('x.wav', Buffer.from(JSON.stringify({ callId: 'c-1', startedAt: '2026-11-23T09:00:00+01:00', duration: 95, caller: 'anonymous' })), ctx);
      expect(md.meta.callerKey).to.equal(null);
      expect(md.meta.endedAt.toISOString()).to.equal('2026-11-23T08:01:35.000Z');
      expect(rejection(() => mix.read('x.wav', Buffer.from('no equals sign here'), ctx))).to.equal('unreadable-metadata');
    });
  });

  describe('custom', () => {
    it('reads named groups from the file name with a Luxon time format in the source zone', () => {
      const custom = presetFor({ preset: 'custom', pattern: '^(?<startedAt>\\d{8}-\\d{6})_(?<caller>\\+?\\d+)_(?<callId>[A-Za-z0-9.]+)\\.wav$', timeFormat: 'yyyyMMdd-HHmmss' });
      const md = custom.read('20260701-120000_0701234567_abc.1.wav', null, ctx);
      expect(md.meta).to.deep.include({ callId: 'abc.1', callerKey: CALLER_KEY });
      expect(md.meta.startedAt.toISOString()).to.equal('2026-07-01T10:00:00.000Z'); // CEST
      expect(rejection(() => custom.read('other.wav', null, ctx))).to.equal('unrecognised-file-name');
    });
  });

  describe('freepbx and generic-json', () => {
    it('keeps a call from a withheld number without a caller key, and rejects a start in the future', () => {
      const md = presetFor({ preset: 'freepbx' }).read('q-600-anonymous-201-20261123-091500-1763885700.42.wav', null, ctx);
      expect(md.meta.callerKey).to.equal(null);
      const future = JSON.stringify({ callId: 'f', startedAt: '2026-11-23T12:00:00Z', endedAt: '2026-11-23T12:05:00Z', caller: null });
      expect(rejection(() => presetFor({ preset: 'generic-json' }).read('f.wav', Buffer.from(future), ctx))).to.equal('future-start');
    });
  });
});
