import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
/** The two runs of `npm run lint:deps`: the module rules over every tree, the folder cycles over src/. */
const CONFIGS = ['.dependency-cruiser.cjs', '.dependency-cruiser-folders.cjs'];

/** The domain and use-case files as the rules define them (the `from` of no-infrastructure-in-domain). */
const domainRule = (createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: { name: string; from: { path: string; pathNot: string[] } }[];
}).forbidden.find((r) => r.name === 'no-infrastructure-in-domain')!;
const isDomainFile = (file: string) => new RegExp(domainRule.from.path).test(file) && !domainRule.from.pathNot.some((p) => new RegExp(p).test(file));

/**
 * dependency-cruiser sees imports, not `process.env`: the domain and use-case files under `root` that
 * read the environment (only src/config.ts may).
 */
function environmentReaders(root: string): string[] {
  const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .map((f) => path.posix.join('src', f.split(path.sep).join('/')))
    .filter((f) => f.endsWith('.ts') && isDomainFile(f));
  return files.filter((f) => /\bprocess\s*(\.\s*env\b|\[\s*['"`]env['"`]\s*\])/.test(readFileSync(path.join(root, f), 'utf8'))).sort();
}

/** Every table the migrations create. */
function tables(root: string): string[] {
  const dir = path.join(root, 'db/migrations');
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).flatMap((f) => [...readFileSync(path.join(dir, f), 'utf8').matchAll(/createTable\(\s*'([a-z_]+)'/g)].map((m) => m[1]!));
  return [...new Set(names)].sort();
}

/**
 * Tables that a capability other than their owner reads, each read-only and inside one query with the
 * owner's rows (a join or an EXISTS), where going through the owner's port would split one statement
 * in two or lose its atomicity. Writes never cross: a new entry needs the same justification.
 */
const READ_ACROSS: Record<string, Record<string, string>> = {
  recordings: {
    retention: 'holds joined to the recordings they keep (overdue count, holds in force with their call, the report read model)',
    'opt-outs': 'an after-the-fact opt-out is pending while no recording of its call exists (EXISTS in the conditional delete)',
    'audit-log': "the audit search links a call id and its recording's id (subquery)",
  },
  access_tokens: { web: "a session is open only while its token is not revoked (one join on every request)" },
  users: { web: "a person's session shows their name (one join on every request)" },
};

/**
 * dependency-cruiser sees imports, not SQL: which capabilities (folders under src/) name each table in a
 * query (`db('t')`, `'t as x'`, `join('t'`, raw `from t` / `join t` / `into t` / `update t`, a stored-text
 * source's `table: 't'`), other than the one that owns it, beyond what READ_ACROSS lists.
 */
function tablesTouchedAcross(root: string): string[] {
  const known = tables(root);
  if (!known.length) return [];
  const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => f.endsWith('.ts') && f.includes('/') && !f.startsWith('shared/'));
  const byTable = new Map<string, Set<string>>();
  const alt = known.join('|');
  const patterns = [new RegExp(`['"\`](${alt})(?:\\s+as\\s+\\w+)?['"\`]`, 'g'), new RegExp(`\\b(?:from|join|into|update)\\s+(${alt})\\b`, 'gi')];
  for (const f of files) {
    const capability = f.slice(0, f.indexOf('/'));
    const text = readFileSync(path.join(root, 'src', f), 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) byTable.set(m[1]!, (byTable.get(m[1]!) ?? new Set()).add(capability));
  }
  const out: string[] = [];
  for (const [table, caps] of byTable) {
    const others = [...caps].filter((c) => !(READ_ACROSS[table] && c in READ_ACROSS[table]!));
    if (others.length > 1) out.push(`${table}: ${others.sort().join(', ')}`);
  }
  return out.sort();
}

/**
 * The rules of `npm run lint:deps` bite: each probe breaks one, in a scratch tree with the project's own
 * config, tsconfig and node_modules, and the CLI names exactly that rule; the allowed places stay quiet.
 */
describe('the dependency rules (npm run lint:deps)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-depcruise-'));
    for (const config of CONFIGS) copyFileSync(path.join(ROOT, config), path.join(dir, config));
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(files: Record<string, string>): void {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
  }

  /** The rule names the two runs report, one per violation. */
  async function violations(): Promise<string[]> {
    const trees = ['src', 'jobs', 'scripts', 'db'].filter((t) => existsSync(path.join(dir, t)));
    const names: string[] = [];
    for (const [config, roots] of [[CONFIGS[0], trees], [CONFIGS[1], ['src']]] as const) {
      const run = promisify(execFile)(process.execPath, [CLI, ...roots, '--config', config, '--output-type', 'json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
      const { stdout } = await run.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
      names.push(...result.summary.violations.map((v) => v.rule.name));
    }
    return names.sort();
  }

  it('lets repositories use knex, route files express and busboy, the storage adapters @aws-sdk', async () => {
    write({
      'src/recordings/recording-repository.ts': "import type { Knex } from 'knex';\nexport type Db = Knex;\n",
      'src/shared/database.ts': "import knex from 'knex';\nexport const make = knex;\n",
      'src/recordings/recordings.routes.ts': "import { Router } from 'express';\nimport busboy from 'busboy';\nimport { ingest } from './ingest-recording.js';\nexport const r = [Router, busboy, ingest];\n",
      'src/recordings/ports.ts': "export interface Recordings { add(id: string): Promise<void> }\n",
      'src/recordings/ingest-recording.ts': "import type { Recordings } from './ports.js';\nexport const ingest = (db?: Recordings) => db;\n",
      'src/recordings/index.ts': "export { ingest } from './ingest-recording.js';\nexport * from './recording-repository.js';\n",
      'src/retention/retention-metrics.ts': "import { Counter } from 'prom-client';\nexport const c = Counter;\n",
      'src/retention/purge-due-recordings.ts': "import { ingest } from '../recordings/index.js';\nexport const p = ingest;\n",
      'db/migrations/20261123100000_x.ts': "import type { Knex } from 'knex';\nexport const up = (k: Knex) => k;\n",
      'src/retention/index.ts': "export { c } from './retention-metrics.js';\n",
      'src/main.ts': "import { c } from './retention/index.js';\nexport const m = c;\n",
      'src/storage/s3-object-store.ts': "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n",
      'src/app.ts': "import express from 'express';\nimport { r } from './recordings/recordings.routes.js';\nexport const app = [express, r];\n",
    });
    expect(await violations()).to.deep.equal([]);
  });

  it('refuses an import cycle, also one made only of types', async () => {
    write({
      'src/access-tokens/access-tokens.ts': "import type { AuditLog } from '../audit-log/index.js';\nexport type Tokens = { audit?: AuditLog };\n",
      'src/audit-log/index.ts': "export type { AuditLog } from './append.js';\n",
      'src/access-tokens/index.ts': "export type { Tokens } from './access-tokens.js';\n",
      'src/audit-log/append.ts': "import type { Tokens } from '../access-tokens/index.js';\nexport type AuditLog = { tokens?: Tokens };\n",
    });
    const found = await violations();
    expect(found).to.include('no-cycles');
    expect(new Set(found)).to.deep.equal(new Set(['no-cycles', 'no-folder-cycles']));
  });

  it('refuses knex, even its types, outside repositories, migrations and the database helper', async () => {
    write({ 'src/retention/holds.ts': "import type { Knex } from 'knex';\nexport const holds = (db: Knex) => db('holds');\n" });
    expect(await violations()).to.deep.equal(['knex-only-in-repositories', 'no-infrastructure-in-domain']);
  });

  it('refuses a use case that opens the database helper instead of taking repositories and the transaction port', async () => {
    write({
      'src/shared/database.ts': "import type { Knex } from 'knex';\nexport type Database = Knex;\n",
      'src/retention/holds.ts': "import type { Database } from '../shared/database.js';\nexport const holds = (db: Database) => db;\n",
      'src/retention/hold-repository.ts': "import type { Database } from '../shared/database.js';\nexport const repo = (db: Database) => db;\n",
    });
    expect(await violations()).to.deep.equal(['no-adapters-in-use-cases', 'no-database-handle-in-use-cases']);
  });

  it('refuses express and busboy in a domain module, and a domain module loading a route file', async () => {
    write({
      'src/opt-outs/opt-out-registry.ts': "import type { Request } from 'express';\nexport type R = Request;\n",
      'src/recordings/ingest-recording.ts': "import busboy from 'busboy';\nexport const b = busboy;\n",
      'src/recordings/index.ts': "export { r } from './recordings.routes.js';\n",
      'src/recordings/recordings.routes.ts': "export const r = 1;\n",
    });
    expect(await violations()).to.deep.equal(['no-http-in-domain', 'no-http-in-domain', 'no-infrastructure-in-domain', 'no-routes-from-domain']);
  });

  it('refuses @aws-sdk outside src/storage', async () => {
    write({ 'src/retention/purge-due-recordings.ts': "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n" });
    expect(await violations()).to.deep.equal(['aws-sdk-only-in-storage']);
  });

  it("refuses an import past another capability's index.ts, from a capability, a script or the app", async () => {
    write({
      'src/web/index.ts': "export type { Person } from './sessions.js';\n",
      'src/web/sessions.ts': "export interface Person { sub: string }\n",
      'src/staff-sign-in/staff-sign-in.ts': "import type { Person } from '../web/sessions.js';\nexport type P = Person;\n",
      'src/staff-sign-in/role-mapping.ts': "import type { Person } from '../web/index.js';\nexport type Q = Person;\n",
      'scripts/token.ts': "import type { Person } from '../src/web/sessions.js';\nexport type R = Person;\n",
      'src/app.ts': "import type { Person } from './web/sessions.js';\nexport type S = Person;\n",
    });
    expect(await violations()).to.deep.equal(['capabilities-through-index', 'capabilities-through-index', 'routes-only-from-app']);
  });

  it("lets config.ts load a capability's settings schema (*-config.ts), and nothing else past its index", async () => {
    write({
      'src/sources/index.ts': "export type { SourceConfig } from './source-config.js';\n",
      'src/sources/source-config.ts': "export interface SourceConfig { name: string }\n",
      'src/sources/poll-source.ts': "export interface Poll { every: number }\n",
      'src/config.ts': "import type { SourceConfig } from './sources/source-config.js';\nimport type { Poll } from './sources/poll-source.js';\nexport type C = [SourceConfig, Poll];\n",
    });
    expect(await violations()).to.deep.equal(['config-reads-schemas-only']);
  });

  it('refuses a migration that imports from src/', async () => {
    write({
      'src/shared/caller-key.ts': "export const keyOf = (s: string) => s;\n",
      'db/migrations/20261123100000_x.ts': "import { keyOf } from '../../src/shared/caller-key.js';\nexport const up = keyOf;\n",
    });
    expect(await violations()).to.deep.equal(['migrations-import-nothing-from-src']);
  });

  it("refuses a use case that imports an adapter's types", async () => {
    write({
      'src/recordings/recording-repository.ts': "export function createRecordingRepository() { return { one: 1 }; }\nexport type RecordingRepository = ReturnType<typeof createRecordingRepository>;\n",
      'src/recordings/playback.ts': "import type { RecordingRepository } from './recording-repository.js';\nexport const play = (r: RecordingRepository) => r;\n",
      'src/storage/s3-object-store.ts': "export type S3Store = { put(): void };\n",
      'src/retention/purge-due-recordings.ts': "import type { S3Store } from '../storage/s3-object-store.js';\nexport type P = S3Store;\n",
    });
    expect(await violations()).to.deep.equal(['capabilities-through-index', 'no-adapters-in-use-cases', 'no-adapters-in-use-cases']);
  });

  it('refuses express types, node-cron, pg, sqlite3, knex and prom-client in domain and use-case files', async () => {
    write({
      'src/opt-outs/opt-out-registry.ts': "import type { Request } from 'express-serve-static-core';\nexport type R = Request;\n",
      'src/retention/cron-schedule.ts': "import cron from 'node-cron';\nexport const c = cron;\n",
      'src/shared/clock.ts': "import type { Pool } from 'pg';\nexport type P = Pool;\n",
      'src/audit-log/append.ts': "import sqlite3 from 'sqlite3';\nexport const s = sqlite3;\n",
      'src/subject-requests/index.ts': "import { Gauge } from 'prom-client';\nexport const g = Gauge;\n",
    });
    expect(await violations()).to.deep.equal(Array(5).fill('no-infrastructure-in-domain'));
  });

  it('refuses a cycle between folders made of modules that form none', async () => {
    write({
      'src/web/index.ts': "export { sessions } from './sessions.js';\n",
      'src/web/sessions.ts': "export const sessions = 1;\n",
      'src/web/session.routes.ts': "import { failures } from '../staff-sign-in/index.js';\nexport const r = failures;\n",
      'src/staff-sign-in/index.ts': "export { failures } from './sign-in-failures.js';\n",
      'src/staff-sign-in/sign-in-failures.ts': "export const failures = 1;\n",
      'src/staff-sign-in/staff-sign-in.ts': "import { sessions } from '../web/index.js';\nexport const s = sessions;\n",
    });
    const found = await violations();
    expect(found).to.not.include('no-cycles');
    expect(found.length).to.be.greaterThan(0);
    expect(new Set(found)).to.deep.equal(new Set(['no-folder-cycles']));
  });

  it('finds process.env in a use case, which dependency-cruiser cannot see, and nowhere in the domain of the real tree', () => {
    write({
      'src/config.ts': 'export const port = process.env.PORT;\n',
      'src/retention/holds.ts': 'export const days = Number(process.env.RETENTION_DAYS);\n',
      'src/opt-outs/opt-out-registry.ts': "export const key = process['env'].KEY;\n",
      'src/opt-outs/opt-out-repository.ts': 'export const url = process.env.DATABASE_URL;\n',
    });
    expect(environmentReaders(dir)).to.deep.equal(['src/opt-outs/opt-out-registry.ts', 'src/retention/holds.ts']);
    expect(environmentReaders(ROOT)).to.deep.equal([]);
  });

  it('finds a table that two capabilities query, which dependency-cruiser cannot see, and none in the real tree', () => {
    write({
      'db/migrations/20260101000000_t.ts': "export const up = (k) => k.schema.createTable('holds', () => {}).createTable('subject_requests', () => {});\n",
      'src/retention/hold-repository.ts': "export const q = (db) => db('holds').insert({});\n",
      'src/subject-requests/subject-request-repository.ts': "export const q = (trx) => [trx('subject_requests'), trx('holds').insert({})];\n",
    });
    expect(tablesTouchedAcross(dir)).to.deep.equal(['holds: retention, subject-requests']);
    write({ 'src/reports/report-repository.ts': "export const q = (db) => db.raw('select 1 from holds h where h.until > ?', [0]);\n" });
    expect(tablesTouchedAcross(dir)).to.deep.equal(['holds: reports, retention, subject-requests']);
    expect(tables(ROOT)).to.include.members(['recordings', 'holds', 'subject_requests', 'opt_outs', 'audit_entries']);
    expect(tablesTouchedAcross(ROOT)).to.deep.equal([]);
  });
});
