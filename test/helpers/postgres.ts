import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates a throwaway database on the local PostgreSQL; `drop()` removes it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gallra_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  await admin.destroy();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    async drop() {
      const a = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
      await a.raw(`drop database if exists ${name} with (force)`);
      await a.destroy();
    },
  };
}
