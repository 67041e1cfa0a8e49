import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/**
 * The rules of `npm run lint:deps` bite: each probe breaks one, in a scratch tree with the project's own
 * config, tsconfig and node_modules, and the CLI names exactly that rule; the allowed places stay quiet.
 */
describe('the dependency rules (npm run lint:deps)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gallra-depcruise-'));
    copyFileSync(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
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

  /** The rule names the CLI reports, one per violation. */
  async function violations(): Promise<string[]> {
    const run = promisify(execFile)(process.execPath, [CLI, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    const { stdout } = await run.catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
    return result.summary.violations.map((v) => v.rule.name).sort();
  }

  it('lets repositories use knex, route files express and busboy, the storage adapters @aws-sdk', async () => {
    write({
      'src/recordings/recording-repository.ts': "import type { Knex } from 'knex';\nexport type Db = Knex;\n",
      'src/shared/database.ts': "import knex from 'knex';\nexport const make = knex;\n",
      'src/recordings/recordings.routes.ts': "import { Router } from 'express';\nimport busboy from 'busboy';\nimport { ingest } from './ingest-recording.js';\nexport const r = [Router, busboy, ingest];\n",
      'src/recordings/ingest-recording.ts': "import type { Db } from './recording-repository.js';\nexport const ingest = (db?: Db) => db;\n",
      'src/storage/s3-object-store.ts': "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n",
      'src/app.ts': "import express from 'express';\nimport { r } from './recordings/recordings.routes.js';\nexport const app = [express, r];\n",
    });
    expect(await violations()).to.deep.equal([]);
  });

  it('refuses an import cycle, also one made only of types', async () => {
    write({
      'src/access-tokens/access-tokens.ts': "import type { AuditLog } from '../audit-log/index.js';\nexport type Tokens = { audit?: AuditLog };\n",
      'src/audit-log/index.ts': "export type { AuditLog } from './append.js';\n",
      'src/audit-log/append.ts': "import type { Tokens } from '../access-tokens/access-tokens.js';\nexport type AuditLog = { tokens?: Tokens };\n",
    });
    const found = await violations();
    expect(found).to.include('no-cycles');
    expect(new Set(found)).to.deep.equal(new Set(['no-cycles']));
  });

  it('refuses knex, even its types, outside repositories, migrations and the database helper', async () => {
    write({ 'src/retention/holds.ts': "import type { Knex } from 'knex';\nexport const holds = (db: Knex) => db('holds');\n" });
    expect(await violations()).to.deep.equal(['knex-only-in-repositories']);
  });

  it('refuses a use case that opens the database helper instead of taking repositories and the transaction port', async () => {
    write({
      'src/shared/database.ts': "import type { Knex } from 'knex';\nexport type Database = Knex;\n",
      'src/retention/holds.ts': "import type { Database } from '../shared/database.js';\nexport const holds = (db: Database) => db;\n",
      'src/retention/hold-repository.ts': "import type { Database } from '../shared/database.js';\nexport const repo = (db: Database) => db;\n",
    });
    expect(await violations()).to.deep.equal(['no-database-handle-in-use-cases']);
  });

  it('refuses express and busboy in a domain module, and a domain module loading a route file', async () => {
    write({
      'src/opt-outs/opt-out-registry.ts': "import type { Request } from 'express';\nexport type R = Request;\n",
      'src/recordings/ingest-recording.ts': "import busboy from 'busboy';\nexport const b = busboy;\n",
      'src/recordings/index.ts': "export { r } from './recordings.routes.js';\n",
      'src/recordings/recordings.routes.ts': "export const r = 1;\n",
    });
    expect(await violations()).to.deep.equal(['no-http-in-domain', 'no-http-in-domain', 'no-routes-from-domain']);
  });

  it('refuses @aws-sdk outside src/storage', async () => {
    write({ 'src/retention/purge-due-recordings.ts': "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n" });
    expect(await violations()).to.deep.equal(['aws-sdk-only-in-storage']);
  });
});
