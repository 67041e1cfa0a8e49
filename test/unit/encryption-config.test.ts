import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('encryption at rest: the key store configuration', () => {
  it('encrypts with no configuration, the key store in ./keys beside ./data', () => {
    const c = loadConfig({ DATA_DIR: '/srv/gallra/data' });
    expect(c.encryption).to.deep.equal({ keyStore: { kind: 'dir', dir: path.resolve('/srv/gallra/keys') }, periodHours: 1 });
  });

  it('refuses a KEY_STORE_DIR inside DATA_DIR or beside the SQLite database, naming it', () => {
    expect(() => loadConfig({ DATA_DIR: '/srv/gallra/data', KEY_STORE_DIR: '/srv/gallra/data/keys' })).to.throw(ConfigError, /KEY_STORE_DIR: \/srv\/gallra\/data\/keys is inside DATA_DIR/);
    expect(() => loadConfig({ DATA_DIR: '/srv/gallra/data', DATABASE_URL: 'sqlite:/srv/db/gallra.sqlite', KEY_STORE_DIR: '/srv/db/keys' })).to.throw(ConfigError, /KEY_STORE_DIR: .* inside the database's directory/);
    expect(loadConfig({ DATA_DIR: '/srv/gallra/data', KEY_STORE_DIR: '/vault/gallra-keys' }).encryption?.keyStore).to.deep.equal({ kind: 'dir', dir: '/vault/gallra-keys' });
  });

  it('takes a PostgreSQL key store of its own, never the main database, and a period that divides a day', () => {
    const env = { DATA_DIR: '/srv/gallra/data', CALLER_KEY_SECRET: 'x'.repeat(64), WEBHOOK_SECRETS: 'whsec_' + Buffer.alloc(32).toString('base64'), DATABASE_URL: 'postgres://gallra@db/gallra' };
    expect(loadConfig({ ...env, KEY_STORE_URL: 'postgres://keys@keydb/gallra_keys' }).encryption?.keyStore).to.deep.equal({ kind: 'postgres', url: 'postgres://keys@keydb/gallra_keys' });
    expect(() => loadConfig({ ...env, KEY_STORE_URL: env.DATABASE_URL })).to.throw(ConfigError, /KEY_STORE_URL: is the main database/);
    expect(() => loadConfig({ DATA_DIR: '/srv/gallra/data', KEY_STORE_URL: 'postgres://k@h/k', KEY_STORE_DIR: '/k' })).to.throw(ConfigError, /not together with KEY_STORE_URL/);
    expect(() => loadConfig({ DATA_DIR: '/srv/gallra/data', KEY_PERIOD_HOURS: '5' })).to.throw(ConfigError, /KEY_PERIOD_HOURS: a whole number of hours that divides a day/);
    expect(loadConfig({ DATA_DIR: '/srv/gallra/data', KEY_PERIOD_HOURS: '6' }).encryption?.periodHours).to.equal(6);
  });
});
