import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

import { requestWaits } from './database-waits.js';
import type { Transact, Tx } from './transaction.js';

export type Database = Knex;
export type Transaction = Knex.Transaction;

/** The unit-of-work port over knex: each call runs its function in one transaction. */
export function transactor(db: Database): Transact {
  return (fn) => db.transaction((trx) => fn(trx as unknown as Tx));
}

/** For a repository: the knex handle a statement runs on, the open transaction if given, else the pool. */
export function handleOf(db: Database, tx?: Tx): Knex {
  return tx ? (tx as unknown as Transaction) : db;
}

/** For a repository: the open transaction a statement must run in (locks, writes that need one). */
export function trxOf(tx: Tx): Transaction {
  return tx as unknown as Transaction;
}

/** For tests and scripts that open a knex transaction themselves: the same transaction as the port's Tx. */
export function asTx(trx: Transaction): Tx {
  return trx as unknown as Tx;
}

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../db/migrations');

export interface DatabaseOptions {
  /** SQLite: how long a statement waits for another connection's write lock before SQLITE_BUSY. Default 10 s. */
  busyTimeoutMs?: number;
  /** PostgreSQL: how long a statement waits for a lock another session holds (lock_timeout), then fails (503). Default 10 s. */
  lockTimeoutMs?: number;
  /** PostgreSQL: how long connecting may take, and how long a query waits for a pooled connection. Default 5 s and 10 s. */
  connectTimeoutMs?: number;
  acquireTimeoutMs?: number;
}

/**
 * knex's sqlite3 client begins every transaction with a plain (deferred) BEGIN: it reads first and
 * takes the write lock at its first write. In WAL mode a reader cannot wait for that lock (waiting
 * could deadlock with the writer), so when another connection (a retention run in another process)
 * is writing, the upgrade fails at once with SQLITE_BUSY and the busy timeout never applies. Our
 * transactions are units of work that write, so they begin IMMEDIATE: the write lock is taken first,
 * waiting up to the busy timeout, and then nothing in them can fail for want of it. Nested
 * transactions (savepoints) are not affected; knex offers no option for this, so its one method that
 * says BEGIN is replaced on each transaction the client makes.
 *
 * The busy timeout bounds the whole wait of a transaction, not only its wait for the lock: the one
 * connection is held by a transaction waiting for the lock, and whatever came after it (reads too)
 * waits for the connection. So the time a transaction spent waiting for the connection is taken from
 * its lock wait (busy_timeout is set to what is left for its BEGIN, then back), and the pool gives up
 * after the busy timeout (acquireConnectionTimeout): a locked database is answered 503 within the
 * busy timeout on every route instead of queueing requests behind each other's waits.
 */
function beginImmediate(db: Knex, busyTimeoutMs: number): void {
  const client = db.client as {
    transaction: (...args: unknown[]) => { begin: (conn: unknown) => Promise<unknown>; query: (conn: unknown, sql: string) => Promise<unknown> };
    acquireConnection: () => Promise<unknown>;
  };
  const transaction = client.transaction.bind(client);
  const acquireConnection = client.acquireConnection.bind(client);
  // Time spent waiting for the one connection counts against the request's busy timeout.
  client.acquireConnection = async () => {
    const started = performance.now();
    try {
      return await acquireConnection();
    } finally {
      const waits = requestWaits.getStore();
      if (waits) waits.waitedMs += performance.now() - started;
    }
  };
  const exec = (conn: unknown, sql: string) =>
    new Promise<void>((resolve, reject) => (conn as { exec: (sql: string, cb: (err: Error | null) => void) => void }).exec(sql, (err) => (err ? reject(err) : resolve())));
  client.transaction = (...args: unknown[]) => {
    const requestedAt = performance.now();
    const waits = requestWaits.getStore();
    const waitedBefore = waits?.waitedMs ?? 0;
    const trx = transaction(...args);
    trx.begin = async (conn) => {
      const left = Math.max(0, Math.floor(busyTimeoutMs - waitedBefore - (performance.now() - requestedAt)));
      if (left >= busyTimeoutMs) return trx.query(conn, 'BEGIN IMMEDIATE;');
      const started = performance.now();
      await exec(conn, `PRAGMA busy_timeout = ${left};`);
      try {
        // A failed BEGIN rejects the transaction (knex's query settles it), not this promise.
        return await trx.query(conn, 'BEGIN IMMEDIATE;');
      } finally {
        await exec(conn, `PRAGMA busy_timeout = ${busyTimeoutMs};`);
        if (waits) waits.waitedMs += performance.now() - started;
      }
    };
    return trx;
  };
}

/** sqlite:<file> (the embedded default) or postgres://… (several instances). */
export function createDatabase(url: string, opts: DatabaseOptions = {}): Database {
  // A failed query's error names the query with placeholders, not its bound values (caller keys).
  const common = { compileSqlOnError: false };
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length);
    const busyTimeoutMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000));
    const db = knexFactory({
      ...common,
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      // A query waits for the one connection at most the busy timeout (see beginImmediate). Such a wait
      // is answered 503 and logged there; knex's own console warning of it (with a stack) is left out.
      acquireConnectionTimeout: Math.max(1, busyTimeoutMs),
      log: {
        warn: (message: unknown) => {
          if (!/^Acquire connection error/.test(String(message))) console.warn(message);
        },
      },
      // One connection: SQLite serialises writers anyway, and a single connection makes every
      // transaction (and the audit chain's head) strictly ordered. temp_store = MEMORY: sorts and
      // statement journals would otherwise go to files in TMPDIR (etilqs_*), created and unlinked at
      // once; a process killed between the two left one behind, with rows of the database in it.
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { exec: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, c: unknown) => void) =>
          conn.exec(`PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;`, (err) =>
            done(err, conn),
          ),
      },
    });
    beginImmediate(db, busyTimeoutMs);
    return db;
  }
  return knexFactory({
    ...common,
    client: 'pg',
    // Bounded: a server that does not answer is an outage to report, not a request to hold forever.
    // lock_timeout: a table or row another session keeps locked is an outage to answer (55P03), not a wait without end.
    // (node-postgres takes lock_timeout in its client config; knex's types do not list it.)
    connection: { connectionString: url, types: PG_TYPES, connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000, ...{ lock_timeout: Math.max(1, Math.floor(opts.lockTimeoutMs ?? 10_000)) } } as Knex.PgConnectionConfig,
    acquireConnectionTimeout: opts.acquireTimeoutMs ?? 10_000,
    pool: { min: 0, max: 10 },
  });
}

/**
 * PostgreSQL answers bigint (count(*), seq, bytes) as text, SQLite as a number: read it as a number so
 * that both dialects return the same row. Our bigints stay far below 2^53; one that did not would
 * lose digits, so it fails loudly instead.
 */
const PG_TYPES: Knex.PgCustomTypesConfig = {
  getTypeParser: (oid, format) => {
    if (oid !== pg.types.builtins.INT8) return pg.types.getTypeParser(oid, format as 'text' | 'binary');
    return (text: string) => {
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${text} does not fit a JavaScript number`);
      return n;
    };
  },
};

export function isPostgres(db: Database | Transaction): boolean {
  return db.client.config.client === 'pg';
}

/**
 * Overwrites what rows changed or deleted in `tables` left behind on disk, so that a value masked in
 * place is not still in the file: SQLite rewrites its file (VACUUM) and empties its write-ahead log;
 * PostgreSQL vacuums the tables (dead row versions). Copies outside the database (backups, archived
 * WAL) are beyond its reach.
 */
export async function scrubFreedSpace(db: Database, tables: string[]): Promise<void> {
  if (isPostgres(db)) {
    for (const table of tables) await db.raw('VACUUM ??', [table]);
    return;
  }
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await db.raw('VACUUM');
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
}

/** True for a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY/.test(e.message ?? '');
}

/**
 * Serialises writers of one logical resource (the audit chain head, a lease) inside a transaction;
 * several names are locked in the order given, in one round trip. SQLite needs nothing: its single
 * connection already serialises transactions.
 */
export async function lockForTransaction(trx: Transaction, ...names: string[]): Promise<void> {
  if (!isPostgres(trx) || !names.length) return;
  await trx.raw(`select ${names.map(() => 'pg_advisory_xact_lock(hashtext(?))').join(', ')}`, names);
}

/** Numbers that PostgreSQL returns as strings (bigint) come back as numbers. */
export function toNumber(v: unknown): number {
  return typeof v === 'string' ? Number(v) : (v as number);
}

/** Loads db/migrations/YYYYMMDDHHMMSS_what.ts in name order; works the same from tsx and scripts. */
class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f))
      .sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    return import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href);
  }
}

export async function migrateLatest(db: Database): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource: new DirectoryMigrationSource() });
  return applied as string[];
}

export async function migrateRollbackAll(db: Database): Promise<void> {
  await db.migrate.rollback({ migrationSource: new DirectoryMigrationSource() }, true);
}

/**
 * A select that locks the rows it reads until the transaction ends (FOR UPDATE on PostgreSQL). SQLite
 * needs nothing: a write transaction excludes every other writer, and one that read a row another
 * connection changed since fails instead of writing over it.
 */
export function lockingRows(trx: Transaction, q: Knex.QueryBuilder): Knex.QueryBuilder {
  return isPostgres(trx) ? q.forUpdate() : q;
}
