/**
 * Offline verifier: needs neither the service nor its database.
 *
 *   npm run verify-audit-export -- --export audit.ndjson --public-key audit-public.pem \
 *     [--public-key keys.json …] [--checkpoints dir-or-file …]
 *
 * Checks a complete NDJSON export (from seq 1) against the checkpoint JSON files (as stored under
 * audit-checkpoints/, returned by GET /v1/audit/checkpoints, or fetched with audit:fetch-checkpoints)
 * and the public keys (PEM files, or key lists as GET /v1/audit/public-keys returns them). Every file
 * is read strictly (docs/audit-log.md §7). Prints the verdict as JSON; exits 0 when it verifies, 1 when
 * not (naming the first problem), 2 on bad usage.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseCheckpointFile, parseExportLine, parseKeyFile, verifyAuditLog, type AuditEntry, type CheckpointCopy, type MalformedEntry } from '../src/audit-log/index.js';
import { cliArgs, parseVerifyAuditExportArgs, VERIFY_AUDIT_EXPORT_HELP } from './cli-args.js';

async function* readExport(file: string): AsyncIterable<AuditEntry | MalformedEntry> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') yield parseExportLine(line);
}

function readCheckpoints(paths: string[]): CheckpointCopy[] {
  const out: CheckpointCopy[] = [];
  for (const p of paths) {
    // A copy of the store's audit-checkpoints/ folder may hold the fs store's .meta.json sidecars.
    const files = statSync(p).isDirectory()
      ? readdirSync(p).filter((f) => f.endsWith('.json') && !f.endsWith('.meta.json')).sort().map((f) => path.join(p, f))
      : [p];
    for (const f of files) out.push(...parseCheckpointFile(readFileSync(f, 'utf8'), f));
  }
  return out;
}

async function main(): Promise<number> {
  const args = cliArgs('verify-audit-export', VERIFY_AUDIT_EXPORT_HELP, parseVerifyAuditExportArgs);
  const keys = args.publicKeys.flatMap((f) => parseKeyFile(readFileSync(f, 'utf8')));
  const verdict = await verifyAuditLog(readExport(args.exportFile), readCheckpoints(args.checkpoints), keys);
  process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
  if (verdict.ok) {
    process.stderr.write(`export OK: ${verdict.entries} entries, head seq ${verdict.head?.seq ?? 0}, ${verdict.checkpoints.valid} valid checkpoints\n`);
    return 0;
  }
  const p = verdict.firstProblem!;
  process.stderr.write(`export BROKEN at seq ${p.seq} (${p.kind}${p.reason ? `: ${p.reason}` : ''}): ${p.detail}\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`verify-audit-export failed: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
