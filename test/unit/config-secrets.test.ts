import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError, loadConfig, loadResolvedConfig } from '../../src/config.js';

const CALLER_KEY_SECRET = 'c'.repeat(64);
const WEBHOOK_SECRETS = 'whsec_' + Buffer.from('a webhook secret of 32 bytes ...').toString('base64');
const AUDIT_SIGNING_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PG = 'postgres://postgres@127.0.0.1:5432/gallra';
/** What NODE_ENV=production requires besides the secrets: the controller the register extract names. */
const CONTROLLER = { CONTROLLER_NAME: 'Provstads kommun', CONTROLLER_ORG_NUMBER: '212000-0001', CONTROLLER_CONTACT: 'Box 1, 100 00 Provstad', DPO_CONTACT: 'dso@provstad.example' };

describe('configuration: secrets are explicit where instances share data, and may come from files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-config-secrets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function refusal(env: Record<string, string>): ConfigError {
    try {
      loadResolvedConfig({ DATA_DIR: path.join(dir, 'data'), ...env });
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    return expect.fail('the configuration was accepted');
  }

  it('refuses to start on PostgreSQL without explicit secrets, naming every missing variable in one line, and generates nothing', () => {
    const err = refusal({ DATABASE_URL: PG });
    expect(err.message.split('\n')).to.have.length(1);
    expect(err.message).to.match(/CALLER_KEY_SECRET/).and.match(/WEBHOOK_SECRETS/).and.match(/AUDIT_SIGNING_KEY/).and.match(/PostgreSQL/);
    expect(existsSync(path.join(dir, 'data', 'secrets'))).to.equal(false);
  });

  it('refuses to start with NODE_ENV=production on SQLite without explicit secrets, naming only the missing one', () => {
    const err = refusal({ NODE_ENV: 'production', ...CONTROLLER, CALLER_KEY_SECRET, AUDIT_SIGNING_KEY });
    expect(err.message.split('\n')).to.have.length(1);
    expect(err.message).to.match(/WEBHOOK_SECRETS/).and.match(/NODE_ENV=production/);
    expect(err.message).to.not.match(/CALLER_KEY_SECRET|AUDIT_SIGNING_KEY/);
    expect(existsSync(path.join(dir, 'data', 'secrets'))).to.equal(false);
  });

  it('starts on PostgreSQL with every secret given', () => {
    const c = loadResolvedConfig({ DATA_DIR: path.join(dir, 'data'), DATABASE_URL: PG, CALLER_KEY_SECRET, WEBHOOK_SECRETS, AUDIT_SIGNING_KEY });
    expect(c).to.include({ callerKeySecret: CALLER_KEY_SECRET, auditSigningKey: AUDIT_SIGNING_KEY });
    expect(c.webhookSecrets).to.deep.equal([WEBHOOK_SECRETS]);
    expect(existsSync(path.join(dir, 'data', 'secrets'))).to.equal(false);
  });

  it('reads each secret from its *_FILE (as container secrets are mounted), trailing newline dropped', () => {
    const files = { CALLER_KEY_SECRET, WEBHOOK_SECRETS, AUDIT_SIGNING_KEY };
    const env: Record<string, string> = { DATA_DIR: path.join(dir, 'data'), DATABASE_URL: PG, NODE_ENV: 'production', ...CONTROLLER };
    for (const [name, value] of Object.entries(files)) {
      const file = path.join(dir, name.toLowerCase());
      writeFileSync(file, value.trim() + '\n', { mode: 0o400 });
      env[`${name}_FILE`] = file;
    }
    const c = loadResolvedConfig(env);
    expect(c.callerKeySecret).to.equal(CALLER_KEY_SECRET);
    expect(c.webhookSecrets).to.deep.equal([WEBHOOK_SECRETS]);
    expect(c.auditSigningKey).to.equal(AUDIT_SIGNING_KEY.trim());
  });

  it('validates a secret read from a file like one given directly, naming the file variable and never the value', () => {
    const file = path.join(dir, 'caller-key');
    writeFileSync(file, 'short\n');
    expect(() => loadConfig({ CALLER_KEY_SECRET_FILE: file })).to.throw(ConfigError, /CALLER_KEY_SECRET_FILE.*at least 32 characters/);
    try {
      loadConfig({ CALLER_KEY_SECRET_FILE: file });
    } catch (err) {
      expect((err as Error).message).to.not.include('short');
    }
  });

  it('refuses a secret given both directly and as a file', () => {
    const file = path.join(dir, 'caller-key');
    writeFileSync(file, CALLER_KEY_SECRET);
    expect(() => loadConfig({ CALLER_KEY_SECRET, CALLER_KEY_SECRET_FILE: file })).to.throw(ConfigError, /CALLER_KEY_SECRET.*CALLER_KEY_SECRET_FILE.*not both/);
  });

  it('refuses a secret file it cannot read, naming the variable and the file', () => {
    const missing = path.join(dir, 'nowhere');
    expect(() => loadConfig({ WEBHOOK_SECRETS_FILE: missing })).to.throw(ConfigError, new RegExp(`WEBHOOK_SECRETS_FILE: cannot read ${missing} \\(ENOENT\\)`));
    const locked = path.join(dir, 'locked');
    writeFileSync(locked, AUDIT_SIGNING_KEY);
    chmodSync(locked, 0o000);
    if (process.getuid?.() !== 0) {
      expect(() => loadConfig({ AUDIT_SIGNING_KEY_FILE: locked })).to.throw(ConfigError, /AUDIT_SIGNING_KEY_FILE: cannot read .*\(EACCES\)/);
    }
    expect(() => loadConfig({ AUDIT_SIGNING_KEY_FILE: dir })).to.throw(ConfigError, /AUDIT_SIGNING_KEY_FILE: cannot read .*\(EISDIR\)/);
  });

  it('refuses, where secrets must be given, a secret file inside DATA_DIR (every backup of the data would carry it)', () => {
    const data = path.join(dir, 'data');
    const file = path.join(data, 'keys', 'caller-key');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, CALLER_KEY_SECRET);
    expect(() => loadConfig({ DATA_DIR: data, NODE_ENV: 'production', ...CONTROLLER, CALLER_KEY_SECRET_FILE: file })).to.throw(ConfigError, /CALLER_KEY_SECRET_FILE: .* is inside DATA_DIR/);
    expect(loadConfig({ DATA_DIR: data, CALLER_KEY_SECRET_FILE: file }).callerKeySecret).to.equal(CALLER_KEY_SECRET);
  });

  it('still generates the secrets once into DATA_DIR for the quick start (SQLite, no NODE_ENV=production)', () => {
    const c = loadResolvedConfig({ DATA_DIR: path.join(dir, 'data') });
    expect(c.callerKeySecret).to.have.length(64);
    for (const f of ['webhook-secret', 'caller-key-secret', 'audit-signing-key.pem']) expect(existsSync(path.join(dir, 'data', 'secrets', f))).to.equal(true);
    expect(loadResolvedConfig({ DATA_DIR: path.join(dir, 'data') }).callerKeySecret).to.equal(c.callerKeySecret);
  });
});
