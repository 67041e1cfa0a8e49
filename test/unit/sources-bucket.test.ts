import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createCallerKeys } from '../../src/shared/caller-key.js';
import { ItemRejected, presetFor, type PresetContext } from '../../src/sources/metadata-presets.js';
import { loadSourcesFile, parseSources, SourcesConfigError } from '../../src/sources/index.js';

const keys = createCallerKeys('x'.repeat(40));
const ctx: PresetContext = { callerKeys: keys, timeZone: 'Europe/Stockholm', now: new Date('2026-11-23T10:00:00Z'), futureToleranceMs: 300_000, maxCallDurationMs: 86_400_000 };
const CONVERSATION = '0b2f8a3e-7c1d-4e5f-9a6b-1c2d3e4f5a6b';
const FOLDER = `org/year=2026/month=11/day=23/hour=8/conversation_id=${CONVERSATION}`;
const CONTACT = '5ca32fbd-8f92-46af-92a5-6b0f970f0efe';

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ItemRejected);
    return (err as ItemRejected).reason;
  }
  throw new Error('expected a rejection');
}

describe('bucket sources: presets and settings', () => {
  describe('genesys-bulk-export', () => {
    const genesys = presetFor({ preset: 'genesys-bulk-export' });
    const meta = (fields: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ conversationId: CONVERSATION, conversationStartTime: '2026-11-23T08:15:00.000Z', conversationEndTime: '2026-11-23T08:20:00Z', ani: 'sip:+46701234567@sbc.example;user=phone', ...fields }));

    it('puts the metadata file beside the recording, named by the recording id', () => {
      expect(genesys.sidecarsOf(`${FOLDER}/rec-1.wav`)).to.deep.equal([`${FOLDER}/rec-1_metadata.json`]);
    });

    it('reads conversation id, times, queue, agent and the ANI in its tel:/sip: forms', () => {
      const md = genesys.read(`${FOLDER}/rec-1.opus`, meta({ queueIds: ['q-1'], userIds: ['u-1', 'u-2'] }), ctx);
      expect(md.meta).to.include({ callId: CONVERSATION, queue: 'q-1', agentId: 'u-1', callerKey: keys.of('+46701234567') });
      expect(md.meta.startedAt.toISOString()).to.equal('2026-11-23T08:15:00.000Z');
      expect(md.endFromDuration).to.equal(false);
    });

    it('keeps a call without an ANI as unknown caller, and falls back to the recording times', () => {
      const md = genesys.read(`${FOLDER}/rec-1.wav`, meta({ ani: undefined, conversationStartTime: undefined, conversationEndTime: undefined, recordingStartTime: '2026-11-23T08:16:00Z', recordingEndTime: '2026-11-23T08:19:00Z' }), ctx);
      expect(md.meta.callerKey).to.equal(null);
      expect(md.meta.startedAt.toISOString()).to.equal('2026-11-23T08:16:00.000Z');
    });

    it('rejects another layout, a missing or unreadable metadata file, and a conversation id that is not the folder\'s', () => {
      expect(rejection(() => genesys.read('org/rec-1.wav', meta({}), ctx))).to.equal('unrecognised-file-name');
      expect(rejection(() => genesys.read(`${FOLDER}/rec-1.wav`, null, ctx))).to.equal('missing-metadata');
      expect(rejection(() => genesys.read(`${FOLDER}/rec-1.wav`, Buffer.from('{not json'), ctx))).to.equal('unreadable-metadata');
      expect(rejection(() => genesys.read(`${FOLDER}/rec-1.wav`, meta({ conversationId: 'another' }), ctx))).to.equal('invalid-metadata');
    });
  });

  describe('amazon-connect', () => {
    const connect = presetFor({ preset: 'amazon-connect' });
    const key = (name: string) => `connect/kommun/CallRecordings/2026/11/23/${name}`;

    it('reads the contact id and the UTC time from the name, the end from the audio, and reads attributes', () => {
      expect(connect.usesAttributes).to.equal(true);
      expect(connect.sidecarsOf(key(`${CONTACT}_20261123T08:15_UTC.wav`))).to.deep.equal([]);
      const md = connect.read(key(`${CONTACT}_20261123T08:15_UTC.wav`), null, ctx, new Map([['caller', 'tel:+46701234567'], ['queue', 'bygglov'], ['agent', 'a-1']]));
      expect(md.meta).to.include({ callId: CONTACT, queue: 'bygglov', agentId: 'a-1', callerKey: keys.of('+46701234567') });
      expect(md.meta.startedAt.toISOString()).to.equal('2026-11-23T08:15:00.000Z');
      expect(md.endFromDuration).to.equal(true);
    });

    it('takes start and end from attributes where the set-up gives them; none is unknown caller', () => {
      const md = connect.read(key(`${CONTACT}_20261123T08:15:30_UTC.wav`), null, ctx, new Map([['startedat', '2026-11-23T08:14:00Z'], ['endedat', '2026-11-23T08:18:00Z']]));
      expect(md.meta.startedAt.toISOString()).to.equal('2026-11-23T08:14:00.000Z');
      expect(md.endFromDuration).to.equal(false);
      expect(md.meta.callerKey).to.equal(null);
      expect(connect.read(key(`${CONTACT}_20261123T08:15_UTC.wav`), null, ctx, null).meta.callerKey).to.equal(null);
    });

    it('rejects a name that is not a Connect recording', () => {
      expect(rejection(() => connect.read(key('notes_20261123T08:15_UTC.wav'), null, ctx, null))).to.equal('unrecognised-file-name');
      expect(rejection(() => connect.read(key(`${CONTACT}_20261123T08:15.wav`), null, ctx, null))).to.equal('unrecognised-file-name');
    });
  });

  describe('the bucket source in SOURCES_FILE', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'gallra-bucket-config-'));
      writeFileSync(path.join(dir, 'key_id'), 'AKIAEXAMPLE\n');
      writeFileSync(path.join(dir, 'secret'), 'c2VjcmV0\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const source = { name: 'connect', adapter: 'bucket', bucket: 'kommun-connect', region: 'us-east-1', metadata: { preset: 'amazon-connect' }, accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S' };
    const env = { K: 'AKIA', S: 'secret' };

    it('reads a YAML bucket source with its keys from files, defaults filled in', () => {
      const file = path.join(dir, 'sources.yaml');
      writeFileSync(file, 'sources:\n  - name: genesys\n    adapter: bucket\n    bucket: kommun-genesys-export\n    prefix: org/\n    region: eu-north-1\n    accessKeyIdFile: key_id\n    secretAccessKeyFile: secret\n    metadata: { preset: genesys-bulk-export }\n    settle: 0s\n');
      const [s] = loadSourcesFile(file, {});
      expect(s).to.deep.include({
        adapter: 'bucket', bucket: 'kommun-genesys-export', prefix: 'org/', region: 'eu-north-1', forcePathStyle: false, settleMs: 0, listPageSize: 1000,
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'c2VjcmV0' }, requestChecksum: 'when_supported',
        residency: { region: 'eu-north-1', eea: true, place: 'Stockholm, Sweden' },
      });
    });

    it('refuses a region outside the EU/EEA unless ALLOW_NON_EEA_REGION names it', () => {
      expect(() => parseSources({ sources: [source] }, env, dir)).to.throw(SourcesConfigError, /us-east-1.*not a known EU\/EEA region/);
      const [allowed] = parseSources({ sources: [source] }, { ...env, ALLOW_NON_EEA_REGION: 'us-east-1:test bucket of the supplier' }, dir);
      expect(allowed).to.deep.include({ residency: { region: 'us-east-1', eea: false, exception: { region: 'us-east-1', reason: 'test bucket of the supplier' } } });
    });

    it('refuses an inline secret and a missing key, never falling back to the store\'s credentials', () => {
      expect(() => parseSources({ sources: [{ ...source, region: 'eu-north-1', secretAccessKey: 'inline' }] }, env, dir)).to.throw(/secretAccessKey: secrets are never inline/);
      expect(() => parseSources({ sources: [{ ...source, region: 'eu-north-1', secretAccessKeyEnv: undefined }] }, env, dir)).to.throw(/secretAccessKeyFile: required/);
      expect(() => parseSources({ sources: [{ ...source, region: 'eu-north-1', accessKeyIdEnv: 'UNSET' }] }, env, dir)).to.throw(/the variable UNSET is not set/);
    });
  });
});
