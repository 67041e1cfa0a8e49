import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { createDatabase, migrateLatest } from '../../src/shared/database.js';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_URL_OF = (name: string) => `postgres://postgres@127.0.0.1:5432/${name}`;

async function asAdmin(sql: string): Promise<void> {
  const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(sql);
  } finally {
    await admin.destroy();
  }
}

/**
 * One database per test run with every migration applied, copied by `create database … template` for
 * each test app: copying is much cheaper than migrating. Made on first use, so a run that never asks for
 * PostgreSQL never connects to it; named per run, because other runs share the server.
 */
let template: Promise<string> | undefined;

function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `gallra_template_${randomBytes(6).toString('hex')}`;
    await asAdmin(`create database ${name}`);
    const db = createDatabase(PG_URL_OF(name));
    try {
      await migrateLatest(db);
    } finally {
      // A template cannot be copied while anyone is connected to it.
      await db.destroy();
    }
    return name;
  })();
  return template;
}

/** Drops that test apps asked for and nobody waited for, so that the next test need not wait. */
const pendingDrops = new Set<Promise<void>>();
const failedDrops: unknown[] = [];

/** Finishes the run's pending drops and drops its template database, if it made one (mocha's global teardown calls it). */
export async function dropPostgresDatabasesOfRun(): Promise<void> {
  await Promise.all([...pendingDrops]);
  if (template) {
    const name = await template.catch(() => undefined);
    template = undefined;
    if (name) await asAdmin(`drop database if exists ${name} with (force)`);
  }
  if (failedDrops.length) throw new AggregateError(failedDrops, 'some test databases could not be dropped');
}

/**
 * Creates a throwaway database on the local PostgreSQL; `drop()` removes it, `dropLater()` leaves that
 * to the end of the run. With `migrated`, it starts as a copy of the run's template, with every
 * migration applied.
 */
export async function createPostgresDatabase(opts: { migrated?: boolean } = {}): Promise<{ url: string; drop(): Promise<void>; dropLater(): void }> {
  const name = `gallra_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(opts.migrated ? `create database ${name} template ${await migratedTemplate()}` : `create database ${name}`);
  return {
    url: PG_URL_OF(name),
    drop: () => asAdmin(`drop database if exists ${name} with (force)`),
    dropLater() {
      const p: Promise<void> = asAdmin(`drop database if exists ${name} with (force)`)
        .catch((err: unknown) => void failedDrops.push(err))
        .finally(() => pendingDrops.delete(p));
      pendingDrops.add(p);
    },
  };
}
