import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { KEK_ID } from './periods.js';
import type { KeyStore } from './ports.js';

/**
 * Key-encryption keys in a PostgreSQL database of their own (KEY_STORE_URL), shared by every instance
 * and kept out of the main database's backups. A key is made by INSERT … ON CONFLICT DO NOTHING and
 * read back, so the first writer wins and all instances wrap with the same key.
 */
export function createPgKeyStore(url: string): KeyStore {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
  // An idle connection the server closed (a restart, a failover) is replaced on the next query; unhandled, it would end the process.
  pool.on('error', () => {});
  let ready: Promise<void> | undefined;
  const ensure = () =>
    (ready ??= pool
      .query("CREATE TABLE IF NOT EXISTS gallra_key_encryption_keys (id text PRIMARY KEY, key bytea NOT NULL CHECK (length(key) = 32), created_at timestamptz NOT NULL DEFAULT now())")
      .then(() => undefined, (err: { code?: string }) => {
        // Two instances creating the table at once: the loser's IF NOT EXISTS still trips over the winner's type.
        if (err.code === '23505' || err.code === '42P07') return;
        ready = undefined;
        throw err;
      }));
  const check = (id: string) => {
    if (!KEK_ID.test(id)) throw new Error(`refused key id ${JSON.stringify(id)}`);
  };
  const read = async (id: string): Promise<Buffer | null> => {
    const r = await pool.query<{ key: Buffer }>('SELECT key FROM gallra_key_encryption_keys WHERE id = $1', [id]);
    return r.rows[0]?.key ?? null;
  };
  return {
    async read(id) {
      check(id);
      await ensure();
      return read(id);
    },
    async obtain(id) {
      check(id);
      await ensure();
      await pool.query('INSERT INTO gallra_key_encryption_keys (id, key) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, randomBytes(32)]);
      return (await read(id))!;
    },
    async destroy(id) {
      check(id);
      await ensure();
      await pool.query('DELETE FROM gallra_key_encryption_keys WHERE id = $1', [id]);
    },
    async list() {
      await ensure();
      return (await pool.query<{ id: string }>('SELECT id FROM gallra_key_encryption_keys ORDER BY id')).rows.map((r) => r.id);
    },
    async close() {
      await pool.end();
    },
  };
}
