import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDatabase, migrateLatest, type Database } from '../../src/shared/database.js';
import { createPostgresDatabase } from './postgres.js';

/**
 * The database kinds every component and integration test runs on, in the spirit of Backstage's
 * TestDatabases. A run tests one kind, named by GALLRA_TEST_DB (default SQLite): `npm test` runs mocha
 * once per kind, so test files need no loop and their bodies stay as they are.
 */
export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASE_KINDS: readonly DatabaseKind[] = ['sqlite', 'postgres'];
export const DATABASE_NAMES: Record<DatabaseKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

function kindOfRun(): DatabaseKind {
  const v = process.env.GALLRA_TEST_DB ?? 'sqlite';
  if (!(DATABASE_KINDS as string[]).includes(v)) throw new Error(`GALLRA_TEST_DB must be one of ${DATABASE_KINDS.join(', ')}, not "${v}"`);
  return v as DatabaseKind;
}

/** The kind this run tests. */
export const TEST_DATABASE: DatabaseKind = kindOfRun();

/**
 * `it` for a test that concerns one kind only (its title says which): run in that kind's run, and
 * shown as pending in the other, so the report says what this run left to the other one.
 */
export function itOn(kind: DatabaseKind): Mocha.PendingTestFunction | Mocha.TestFunction {
  return kind === TEST_DATABASE ? it : it.skip;
}

export interface TestDatabase {
  kind: DatabaseKind;
  url: string;
  /** Migrated to the latest schema. */
  db: Database;
  /** Every byte the database holds (SQLite: its files with the WAL; PostgreSQL: a data dump), to search for what must not be there. */
  contents(): Promise<Buffer>;
  /** Closes the pool and removes the database. */
  close(): Promise<void>;
}

/** A fresh, migrated database of the run's kind (or `kind`); SQLite's file goes into `dir`. */
export async function createTestDatabase(dir: string, kind: DatabaseKind = TEST_DATABASE): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const file = path.join(dir, 'gallra.sqlite');
    const url = `sqlite:${file}`;
    const db = createDatabase(url);
    await migrateLatest(db);
    return {
      kind,
      url,
      db,
      async contents() {
        return Buffer.concat(
          readdirSync(dir)
            .filter((f) => f.startsWith(path.basename(file)))
            .map((f) => readFileSync(path.join(dir, f))),
        );
      },
      close: () => db.destroy(),
    };
  }
  const pg = await createPostgresDatabase({ migrated: true });
  const db = createDatabase(pg.url);
  return {
    kind,
    url: pg.url,
    db,
    async contents() {
      const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', '--no-owner', pg.url], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    },
    async close() {
      await db.destroy();
      pg.dropLater();
    },
  };
}
