import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadSourcesFile, SourcesConfigError, type NotifySourceConfig } from '../../src/sources/index.js';

describe('SOURCES_FILE: notify sources (Twilio, 46elks)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-notify-config-'));
    writeFileSync(path.join(dir, 'twilio-token'), 'tok-0123456789\n');
    writeFileSync(path.join(dir, 'elks-password'), 'elks-secret\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => {
    writeFileSync(path.join(dir, 'sources.yaml'), text);
    return path.join(dir, 'sources.yaml');
  };
  const refusal = (text: string): string => {
    try {
      loadSourcesFile(write(text), {});
    } catch (err) {
      expect(err).to.be.instanceOf(SourcesConfigError);
      return (err as Error).message;
    }
    throw new Error('expected the file to be refused');
  };

  it("reads a Twilio and a 46elks source: the platforms' API hosts allowed by default, secrets from files", () => {
    const [tw, elks] = loadSourcesFile(
      write(`sources:
  - name: twilio
    adapter: notify
    platform: twilio
    publicUrl: https://gallra.kommun.se/v1/sources/twilio/notify
    accountSid: AC${'0'.repeat(32)}
    authTokenFile: twilio-token
  - name: elks
    adapter: notify
    platform: 46elks
    publicUrl: https://gallra.kommun.se/v1/sources/elks/notify
    basicUser: elks
    basicPasswordFile: elks-password
`),
      {},
    ) as NotifySourceConfig[];
    expect(tw).to.include({ adapter: 'notify', platform: 'twilio', authToken: 'tok-0123456789', apiBase: 'https://api.twilio.com', deleteAtSource: true, mediaFormat: 'wav' });
    expect(tw!.allowedHosts).to.deep.equal(['api.twilio.com']);
    expect(tw!.testHosts).to.deep.equal([]);
    expect(elks).to.include({ platform: '46elks', basicUser: 'elks', basicPassword: 'elks-secret', deleteAtSource: false });
    expect(elks!.allowedHosts).to.deep.equal(['api.46elks.com']);
    // 46elks has no deletion: the page and the report say why copies stay (for 72 hours).
    expect(elks!.keepReason).to.match(/72-hour/);
  });

  it('refuses a Twilio source without its account or token, a 46elks one without Basic credentials, and inline secrets', () => {
    const msg = refusal(`sources:
  - name: twilio
    adapter: notify
    platform: twilio
    publicUrl: https://gallra.kommun.se/v1/sources/twilio/notify
  - name: elks
    adapter: notify
    platform: 46elks
    publicUrl: https://gallra.kommun.se/v1/sources/elks/notify
    password: hunter2
`);
    expect(msg).to.include('"twilio": accountSid: required for Twilio');
    expect(msg).to.include('"twilio": authTokenFile: required');
    expect(msg).to.include('"elks": password: secrets are never inline');
  });

  it("refuses allowed hosts that leave out the platform's API host", () => {
    const msg = refusal(`sources:
  - name: twilio
    adapter: notify
    platform: twilio
    publicUrl: https://gallra.kommun.se/v1/sources/twilio/notify
    accountSid: AC${'0'.repeat(32)}
    authTokenFile: twilio-token
    allowedHosts: [media.example.org]
`);
    expect(msg).to.include('allowedHosts: must include the API host api.twilio.com');
  });

  it('refuses plain http for the public URL unless its host is a test host', () => {
    const msg = refusal(`sources:
  - name: elks
    adapter: notify
    platform: 46elks
    publicUrl: http://gallra.kommun.se/v1/sources/elks/notify
    basicUser: elks
    basicPasswordFile: elks-password
`);
    expect(msg).to.include('publicUrl: https only');
  });
});
