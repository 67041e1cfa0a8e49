/**
 * npm run bench:audit — verification and export throughput of the audit log.
 *
 * Builds a log of BENCH_AUDIT_ENTRIES entries (default 1 000 000) in a fresh SQLite database, then:
 *  1. floor: SHA-256 over the same canonical bytes with node:crypto alone (bytes prepared beforehand);
 *  2. verifyAuditLog over the entries in memory (canonicalisation + hashing + link checks);
 *  3. the service's full verification from the database (paged reads + checkpoint check);
 *  4. export of the whole log over HTTP on loopback as NDJSON (MB/s);
 *  5. inclusion proofs (GET /v1/audit/proofs/inclusion's use case) at the full size, from the stored
 *     Merkle tree on SQLite, then on PostgreSQL (BENCH_PG_URL, default the local server; a fresh
 *     database holding the same tree): p50/p99 latency of one proof, target p99 < 5 ms.
 * Figures are printed as entries/s and as ratios against the floor measured in the same run.
 *
 * The heap is collected once before step 3, so that the service's verification starts from a heap like
 * a service process (or `npm run audit:verify`) has, rather than inheriting what building and loading
 * the log left behind, about 1.8 GB: with it, every young-generation collection during step 3 took
 * 8–16 ms instead of 2–3 ms, a quarter of the step's time and none of it the verifier's. Steps 1 and 2
 * are left as they were: a full collection just before a phase also changes how V8 sizes the heap
 * during it, and before the floor it made the floor slower, which would flatter every ratio.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createApp } from '../src/app.js';
import { canonicalEntry, canonicalJson, GENESIS_HASH, hashEntry, verifyAuditLog, type AuditEntry } from '../src/audit-log/index.js';
import { loadConfig, type ResolvedConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { ManualClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest, type Database } from '../src/shared/database.js';
import { leafOfEntry } from '../src/audit-log/append.js';
import { appendToTree, type TreeNode } from '../src/audit-log/merkle.js';
import { createAuditRepository, createAuditTree } from '../src/audit-log/index.js';
import pg from 'pg';
import { createLogger } from '../src/shared/logger.js';
import { createFsObjectStore } from '../src/storage/index.js';

const N = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const ACTIONS = ['recording.ingested', 'recording.deleted', 'recording.played', 'hold.placed'];
const out = (s: string) => process.stdout.write(s + '\n');
const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en')} entries/s`;
// gc() without a command-line flag, so the npm script stays as it is; called only before step 3.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function* makeLog(n: number): Generator<AuditEntry> {
  let prevHash = GENESIS_HASH;
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  for (let i = 1; i <= n; i++) {
    const id = `${i.toString(16).padStart(8, '0')}-3c1e-4d55-9a4e-0c2f3b1d7a61`;
    const unsigned = {
      seq: i,
      at: new Date(start + i * 1000).toISOString(),
      actor: i % 4 ? 'system:retention' : 'trainer:tok_8f2c91aa',
      action: ACTIONS[i % ACTIONS.length]!,
      subject: `recording:${id}`,
      details: { recordingId: id, callId: `call-${i}`, bytes: 48_000 + (i % 1000), deadline: new Date(start + i * 1000 + 30 * 86_400_000).toISOString(), reason: 'retention-expired' },
      prevHash,
    };
    const e = { ...unsigned, hash: hashEntry(unsigned) };
    prevHash = e.hash;
    yield e;
  }
}

const treeRows: { level: number; idx: number; hash: string; salt: string | null }[] = [];

async function loadTree(db: Database, rows: typeof treeRows): Promise<void> {
  for (let i = 0; i < rows.length; i += 20_000) {
    await db.transaction(async (trx) => {
      for (let k = i; k < Math.min(i + 20_000, rows.length); k += 200) await trx('audit_tree').insert(rows.slice(k, Math.min(k + 200, i + 20_000)));
    });
  }
}

/** One proof at a time, for random entries of the whole tree: p50 and p99 of the use case's time. */
async function proofLatency(label: string, db: Database): Promise<void> {
  const tree = createAuditTree({ entries: createAuditRepository(db) });
  const size = await tree.size();
  const times: number[] = [];
  for (let i = 0; i < 2200; i++) {
    const seq = 1 + Math.floor(Math.random() * size);
    const t0 = process.hrtime.bigint();
    const p = await tree.inclusion(seq);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (p.size !== size) throw new Error(`proof of size ${p.size}, expected ${size}`);
    if (i >= 200) times.push(ms); // the first 200 warm the caches and the JIT
  }
  times.sort((a, b) => a - b);
  const q = (f: number) => times[Math.min(times.length - 1, Math.floor(f * times.length))]!;
  out(`  inclusion proof (${label}, tree of ${size.toLocaleString('en')}): p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${q(1).toFixed(2)} ms over ${times.length} proofs  (target p99 < 5 ms; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gallra-bench-audit-'));
  const db = createDatabase(`sqlite:${path.join(dir, 'gallra.sqlite')}`);
  try {
    await migrateLatest(db);
    out(`audit bench: ${N.toLocaleString('en')} entries (BENCH_AUDIT_ENTRIES to change)`);
    let t0 = process.hrtime.bigint();
    const entries: AuditEntry[] = [];
    for (const e of makeLog(N)) entries.push(e);
    out(`  built the chain in ${secs(t0).toFixed(1)} s`);

    // 1. The floor: hashing the same canonical bytes, prepared beforehand.
    const canon = entries.map((e) => Buffer.from(canonicalEntry(e), 'utf8'));
    const bytes = canon.reduce((s, b) => s + b.length, 0);
    t0 = process.hrtime.bigint();
    let x = 0;
    for (const b of canon) x ^= createHash('sha256').update(b).digest()[0]!;
    const floorS = secs(t0);
    canon.length = 0;
    out(`  floor  (node:crypto SHA-256 of ${(bytes / 1e6).toFixed(0)} MB canonical bytes): ${floorS.toFixed(2)} s, ${rate(N, floorS)} [${x}]`);

    // 2. Verification in memory.
    t0 = process.hrtime.bigint();
    const v = await verifyAuditLog(entries, [], null);
    const memS = secs(t0);
    if (!v.ok) throw new Error(`bench log does not verify: ${JSON.stringify(v.firstProblem)}`);
    out(`  verify (in memory):        ${memS.toFixed(2)} s, ${rate(N, memS)}  → ${(floorS / memS).toFixed(2)} × floor throughput`);

    // 3. The service's verification from the database, with a signed checkpoint at the head. Rows are
    //    written as append.ts writes them: details as canonical JSON text.
    t0 = process.hrtime.bigint();
    // The Merkle tree as append.ts stores it: every leaf (with its salt) and every perfect subtree.
    let peaks: TreeNode[] = [];
    for (let i = 0; i < entries.length; i += 50_000) {
      const slice = entries.slice(i, i + 50_000);
      const leaves = slice.map((e) => leafOfEntry(canonicalEntry(e), e));
      const r = appendToTree(peaks, i, leaves.map((l) => l.hash));
      peaks = r.peaks;
      treeRows.push(...r.nodes.map((n) => ({ level: n.level, idx: n.index, hash: n.hash.toString('hex'), salt: n.level === 0 ? leaves[n.index - i]!.salt : null })));
      await db.transaction(async (trx) => {
        const rows = slice.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details: canonicalJson(e.details), prev_hash: e.prevHash, hash: e.hash }));
        await trx.batchInsert('audit_entries', rows, 100);
      });
    }
    entries.length = 0;
    await loadTree(db, treeRows);
    out(`  loaded SQLite (entries and ${treeRows.length.toLocaleString('en')} tree nodes) in ${secs(t0).toFixed(1)} s`);
    const config = {
      port: 0, host: '127.0.0.1', dataDir: dir, databaseUrl: `sqlite:${path.join(dir, 'gallra.sqlite')}`, storageDriver: 'fs', webhookSecrets: ['whsec_' + Buffer.from('bench-bench-bench-bench-bench-32').toString('base64')],
      webhookToleranceMs: 300_000, callerKeySecret: 'b'.repeat(64), auditSigningKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      retentionDays: 30, retentionSchedule: '*/15 * * * *', orphanGraceMs: 3_600_000, maxRecordingBytes: 1 << 20, maxCallDurationMs: 86_400_000, edge: loadConfig({}).edge, sessionTtlMs: 3_600_000, sessionIdleMs: 1_800_000, allowTokenSignIn: false, trustProxy: false, logLevel: 'silent',
    } as ResolvedConfig;
    const services = createServices({ config, db, store: createFsObjectStore({ root: path.join(dir, 'objects') }), logger: createLogger({ level: 'silent' }), clock: new ManualClock('2026-06-01T00:00:00.000Z') });
    await services.auditCheckpoints.create();
    collectGarbage();
    t0 = process.hrtime.bigint();
    const dbv = await services.auditCheckpoints.verify();
    const dbS = secs(t0);
    if (!dbv.ok) throw new Error(`database log does not verify: ${JSON.stringify(dbv.firstProblem)}`);
    out(`  verify (SQLite, service):  ${dbS.toFixed(2)} s, ${rate(N, dbS)}  → ${(floorS / dbS).toFixed(2)} × floor throughput`);

    // 4. Export over HTTP on loopback.
    const { token } = await services.tokens.create({ role: 'auditor', name: 'bench' }, 'system:bench');
    const server = createApp(services).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    t0 = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${port}/v1/audit`, { headers: { Authorization: `Bearer ${token}` } });
    let got = 0;
    let lines = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      got += chunk.length;
      for (const c of chunk) if (c === 10) lines++;
    }
    const exS = secs(t0);
    server.close();
    out(`  export (NDJSON over HTTP): ${lines.toLocaleString('en')} lines, ${(got / 1e6).toFixed(0)} MB in ${exS.toFixed(2)} s → ${(got / 1e6 / exS).toFixed(1)} MB/s, ${rate(lines, exS)}`);
    out(`  targets: verify 1 000 000 in < 10 s and ≥ 0.5 × floor`);

    // 5. Inclusion proofs at the full size, SQLite then PostgreSQL.
    await proofLatency('SQLite', db);
    const pgUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `gallra_bench_audit_${process.pid}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    try {
      await admin.connect();
    } catch (err) {
      out(`  PostgreSQL: not reachable at ${pgUrl} (${(err as Error).message}); skipped`);
      return;
    }
    await admin.query(`create database ${name}`);
    const pgDb = createDatabase(pgUrl.replace(/\/[^/]*$/, `/${name}`));
    try {
      await migrateLatest(pgDb);
      t0 = process.hrtime.bigint();
      // Proofs read the tree and the head's seq only: the tree is loaded whole, the entries by their head.
      await pgDb('audit_entries').insert({ seq: N, at: '2026-06-01T00:00:00.000Z', actor: 'system:bench', action: 'bench.head', subject: null, details: '{}', prev_hash: GENESIS_HASH, hash: GENESIS_HASH });
      await loadTree(pgDb, treeRows);
      out(`  loaded PostgreSQL (${treeRows.length.toLocaleString('en')} tree nodes) in ${secs(t0).toFixed(1)} s`);
      await proofLatency('PostgreSQL', pgDb);
    } finally {
      await pgDb.destroy();
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    }
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
