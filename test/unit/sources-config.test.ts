import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { cronForInterval, loadSourcesFile, SourcesConfigError } from '../../src/sources/index.js';

describe('SOURCES_FILE', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-sources-config-'));
    writeFileSync(path.join(dir, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const refusal = (file: string, env: Record<string, string> = {}): string => {
    try {
      loadSourcesFile(file, env);
    } catch (err) {
      expect(err).to.be.instanceOf(SourcesConfigError);
      return (err as Error).message;
    }
    throw new Error('expected the file to be refused');
  };

  it('reads a YAML file with a folder and an SFTP source, defaults filled in and the key read from its file', () => {
    const file = write(
      'sources.yaml',
      `sources:
  - name: freepbx
    adapter: folder
    path: spool
    metadata: { preset: freepbx }
  - name: puzzel
    adapter: sftp
    host: sftp.example.org
    username: gallra
    directory: /outgoing
    hostKeySha256: SHA256:${'a'.repeat(43)}
    privateKeyFile: id_ed25519
    pollInterval: 5m
    settle: 1m
    lease: 2m
    metadata: { preset: generic-json }
`,
    );
    const [folder, sftp] = loadSourcesFile(file, {});
    expect(folder).to.include({ name: 'freepbx', adapter: 'folder', path: path.join(dir, 'spool'), timeZone: 'Europe/Stockholm', deleteAtSource: true, pollIntervalMs: 60_000, settleMs: 30_000, leaseMs: 900_000 });
    expect(sftp).to.include({ adapter: 'sftp', port: 22, pollIntervalMs: 300_000, schedule: '0 */5 * * * *', settleMs: 60_000, leaseMs: 120_000 });
    expect((sftp as { privateKey: Buffer }).privateKey.toString()).to.include('OPENSSH PRIVATE KEY');
  });

  it('reads JSON and takes a password only by reference, from an environment variable', () => {
    const file = write(
      'sources.json',
      JSON.stringify({
        sources: [{ name: 'x', adapter: 'sftp', host: 'h', username: 'u', hostKeySha256: `SHA256:${'b'.repeat(43)}`, auth: 'password', passwordEnv: 'X_SFTP_PASSWORD', metadata: { preset: 'generic-json' } }],
      }),
    );
    const [s] = loadSourcesFile(file, { X_SFTP_PASSWORD: 'hunter2-but-longer' });
    expect(s).to.include({ password: 'hunter2-but-longer' });
    expect(refusal(file)).to.include('sources[0] "x": passwordEnv: the variable X_SFTP_PASSWORD is not set');
  });

  it('refuses inline secrets, naming the source and the field', () => {
    const file = write(
      'sources.yaml',
      `sources:
  - name: puzzel
    adapter: sftp
    host: h
    username: u
    hostKeySha256: SHA256:${'a'.repeat(43)}
    password: secret
    metadata: { preset: generic-json }
`,
    );
    const msg = refusal(file);
    expect(msg).to.include('sources[0] "puzzel": password: secrets are never inline');
    expect(msg).not.to.include('secret\n');
  });

  it('names each bad field of each source', () => {
    const file = write(
      'sources.yaml',
      `sources:
  - name: a
    adapter: folder
    path: x
    pollInterval: 7s
    lease: 1s
    metadata: { preset: freepbx }
    deleteAtSource: false
  - name: b
    adapter: sftp
    host: h
    username: u
    hostKeySha256: md5:00
    metadata: { preset: nonsense }
  - name: Bad Name
    adapter: ftp
`,
    );
    const msg = refusal(file);
    expect(msg).to.include('sources[0] "a": pollInterval: must divide a minute');
    expect(msg).to.include('sources[0] "a": keepReason: required when deleteAtSource is false');
    expect(msg).to.include('sources[0] "a": lease: at least 5s');
    expect(msg).to.include('sources[1] "b": hostKeySha256:');
    expect(msg).to.include('sources[1] "b": metadata.preset:');
    expect(msg).to.include('sources[2] "Bad Name": adapter:');
  });

  it('refuses a file that is not YAML, and SOURCES_FILE errors become a ConfigError naming the variable', () => {
    const file = write('sources.yaml', 'sources: [ {');
    expect(refusal(file)).to.include('is not valid YAML');
    expect(() => loadConfig({ SOURCES_FILE: file })).to.throw(ConfigError, /SOURCES_FILE: .*not valid YAML/);
    expect(loadConfig({}).sources).to.equal(undefined);
  });

  it('turns poll intervals into evenly spaced cron expressions', () => {
    expect(cronForInterval(15_000)).to.equal('*/15 * * * * *');
    expect(cronForInterval(60_000)).to.equal('0 */1 * * * *');
    expect(cronForInterval(2 * 3_600_000)).to.equal('0 0 */2 * * *');
    expect(cronForInterval(7_000)).to.equal(null);
  });
});
