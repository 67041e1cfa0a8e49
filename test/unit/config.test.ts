import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, resolveSecrets } from '../../src/config.js';

describe('configuration', () => {
  it('runs on embedded defaults with no configuration at all', () => {
    const c = loadConfig({});
    expect(c).to.include({ port: 8080, storageDriver: 'fs', retentionDays: 30, maxRecordingBytes: 512 * 1024 * 1024 });
    expect(c.databaseUrl).to.equal(`sqlite:${path.resolve('./data/gallra.sqlite')}`);
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('names the controller from CONTROLLER_*, DPO_CONTACT; outside production a key not set reads as not configured', () => {
    const given = { CONTROLLER_NAME: 'Lunds kommun, kommunstyrelsen', CONTROLLER_ORG_NUMBER: '212000-1124', CONTROLLER_CONTACT: 'Box 41, 221 00 Lund', DPO_CONTACT: 'dataskyddsombud@lund.se' };
    expect(loadConfig(given).controller).to.deep.equal({ name: given.CONTROLLER_NAME, orgNumber: '212000-1124', contact: 'Box 41, 221 00 Lund', dpoContact: 'dataskyddsombud@lund.se', configured: true });
    const partly = loadConfig({ CONTROLLER_NAME: 'Lunds kommun' }).controller;
    expect(partly).to.deep.equal({ name: 'Lunds kommun', orgNumber: '[ej konfigurerat: CONTROLLER_ORG_NUMBER]', contact: '[ej konfigurerat: CONTROLLER_CONTACT]', dpoContact: '[ej konfigurerat: DPO_CONTACT]', configured: false });
  });

  it('refuses to start with NODE_ENV=production without the controller, naming each missing key and why', () => {
    let message = '';
    try {
      loadConfig({ NODE_ENV: 'production', CONTROLLER_NAME: 'Lunds kommun' });
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const key of ['CONTROLLER_ORG_NUMBER', 'CONTROLLER_CONTACT', 'DPO_CONTACT']) expect(message).to.match(new RegExp(`${key}: required when NODE_ENV=production: the register extract`));
    expect(message).not.to.include('CONTROLLER_NAME');
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ CONTROLLER_ORG_NUMBER: 'Lund' }, /CONTROLLER_ORG_NUMBER: a Swedish organisation number/],
    [{ CONTROLLER_CONTACT: 'Box 41\nLund' }, /CONTROLLER_CONTACT: one line/],
    [{ PORT: 'eighty' }, /PORT/],
    [{ RETENTION_DAYS: '0' }, /RETENTION_DAYS/],
    [{ STORAGE_DRIVER: 'ftp' }, /STORAGE_DRIVER/],
    [{ STORAGE_DRIVER: 's3' }, /S3_BUCKET: required when STORAGE_DRIVER=s3/],
    [{ S3_BUCKET: 'rec', S3_SSE: 'aws:kms' }, /S3_SSE_KMS_KEY_ID/],
    [{ WEBHOOK_SECRETS: 'hunter2' }, /WEBHOOK_SECRETS/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ RETENTION_MARGIN: 'an hour' }, /RETENTION_MARGIN/],
    [{ TRUST_PROXY: 'true' }, /TRUST_PROXY: takes the proxies' addresses now, not true.*TRUST_PROXY=10\.0\.0\.5/],
    [{ TRUST_PROXY: '1' }, /TRUST_PROXY: takes the proxies' addresses now, not a hop count.*TRUST_PROXY=10\.0\.0\.5/],
    [{ TRUST_PROXY: '2' }, /TRUST_PROXY: takes the proxies' addresses now, not a hop count/],
    [{ TRUST_PROXY: '10.0.0.1, not-an-address' }, /TRUST_PROXY/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /TRUST_PROXY/],
    [{ MAX_CALL_DURATION: 'a day' }, /MAX_CALL_DURATION/],
    [{ METRICS_LISTEN: '9464' }, /METRICS_LISTEN/],
  ];
  for (const [env, message] of bad) {
    it(`refuses ${JSON.stringify(env)} naming the variable`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('reads TRUST_PROXY as off or a list of proxy addresses, never a hop count or "trust everyone"', () => {
    expect(loadConfig({}).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: '10.1.2.3, 192.168.0.0/16,loopback, ::1' }).trustProxy).to.deep.equal(['10.1.2.3', '192.168.0.0/16', 'loopback', '::1']);
  });

  it('has limits for the HTTP edge by default, and a shutdown deadline', () => {
    const { edge, maxCallDurationMs } = loadConfig({});
    expect(maxCallDurationMs).to.equal(24 * 3_600_000);
    expect(edge).to.include({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, uploadTimeoutMs: 3_600_000, bodyIdleTimeoutMs: 15_000, shutdownTimeoutMs: 30_000 });
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '5s', METRICS_LISTEN: '127.0.0.1:9464' }).edge).to.deep.include({ shutdownTimeoutMs: 5_000, metricsListen: { host: '127.0.0.1', port: 9464 } });
  });

  it('bounds every wait on the S3 store: connecting, one silent attempt, one operation over all attempts', () => {
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'rec' }).s3).to.include({ connectTimeoutMs: 3_000, requestTimeoutMs: 10_000, operationTimeoutMs: 10_000 });
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'rec', S3_OPERATION_TIMEOUT: '4s' }).s3).to.include({ operationTimeoutMs: 4_000 });
    expect(() => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'rec', S3_OPERATION_TIMEOUT: 'soon' })).to.throw(ConfigError, /S3_OPERATION_TIMEOUT/);
  });

  it('never echoes a secret value in its error', () => {
    try {
      loadConfig({ CALLER_KEY_SECRET: 'short-secret' });
      expect.fail('should refuse');
    } catch (e) {
      expect((e as Error).message).to.include('CALLER_KEY_SECRET').and.not.include('short-secret');
    }
  });

  it('generates missing secrets once, mode 0600, and reuses them on the next start', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gallra-cfg-'));
    try {
      const first = resolveSecrets(loadConfig({ DATA_DIR: dir }));
      const second = resolveSecrets(loadConfig({ DATA_DIR: dir }));
      expect(second.callerKeySecret).to.equal(first.callerKeySecret);
      expect(second.webhookSecrets).to.deep.equal(first.webhookSecrets);
      expect(first.webhookSecrets[0]).to.match(/^whsec_/);
      const file = path.join(dir, 'secrets/caller-key-secret');
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(readFileSync(file, 'utf8').trim()).to.equal(first.callerKeySecret);
      // Configured secrets win over generated ones.
      const configured = resolveSecrets(loadConfig({ DATA_DIR: dir, CALLER_KEY_SECRET: 'x'.repeat(40) }));
      expect(configured.callerKeySecret).to.equal('x'.repeat(40));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
