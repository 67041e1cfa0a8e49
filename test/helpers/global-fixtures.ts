import knexFactory from 'knex';
import { dropPostgresDatabasesOfRun, PG_ADMIN_URL } from './postgres.js';
import { DATABASE_NAMES, TEST_DATABASE } from './test-database.js';

/** Mocha's global setup: names the run's database kind and, on PostgreSQL, fails at once when the server cannot be reached. */
export async function mochaGlobalSetup(): Promise<void> {
  console.log(`\n  database: ${DATABASE_NAMES[TEST_DATABASE]} (GALLRA_TEST_DB=${TEST_DATABASE})`);
  if (TEST_DATABASE !== 'postgres') return;
  const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('select 1');
  } catch (err) {
    throw new Error(`PostgreSQL is needed at ${PG_ADMIN_URL} (trust auth) for GALLRA_TEST_DB=postgres: ${(err as Error).message}`);
  } finally {
    await admin.destroy();
  }
}

/** Mocha's global teardown: drops the run's PostgreSQL databases that are left (see postgres.ts). */
export async function mochaGlobalTeardown(): Promise<void> {
  await dropPostgresDatabasesOfRun();
}
