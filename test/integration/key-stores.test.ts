import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDirKeyStore, createPgKeyStore, type KeyStore } from '../../src/encryption/index.js';
import { createPostgresDatabase } from '../helpers/postgres.js';
import { itOn } from '../helpers/test-database.js';

async function firstWriterWins(a: KeyStore, b: KeyStore): Promise<void> {
  const id = 'period-20261223T10';
  const keys = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).obtain(id)));
  expect(keys[0]).to.have.length(32);
  for (const k of keys) expect(k.equals(keys[0]!)).to.equal(true);
  expect((await b.read(id))!.equals(keys[0]!)).to.equal(true);
  expect(await a.list()).to.deep.equal([id]);
  await a.destroy(id);
  expect(await b.read(id)).to.equal(null);
  await b.destroy(id); // already gone: counts as destroyed
  expect(() => a.obtain('../etc/passwd')).to.throw;
  await a.obtain('../x').then(
    () => expect.fail('a key id outside the pattern was taken'),
    (err: Error) => expect(err.message).to.match(/refused key id/),
  );
}

describe('encryption at rest: key stores', () => {
  it('directory: made once whoever asks first, 0600, destroyed beyond reading', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gallra-keystore-'));
    try {
      const a = createDirKeyStore(dir);
      await a.obtain('hold-20261223T09');
      expect(statSync(path.join(dir, 'hold-20261223T09.key')).mode & 0o777).to.equal(0o600);
      await a.destroy('hold-20261223T09');
      await firstWriterWins(a, createDirKeyStore(dir));
      expect(readdirSync(dir)).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itOn('postgres')('PostgreSQL (KEY_STORE_URL): two instances get the same key, the first writer wins, a delete destroys it for both', async () => {
    const pg = await createPostgresDatabase({ migrated: false });
    const [a, b] = [createPgKeyStore(pg.url), createPgKeyStore(pg.url)];
    try {
      await firstWriterWins(a, b);
    } finally {
      await a.close();
      await b.close();
      pg.dropLater();
    }
  });
});
