/**
 * Offline verifier: needs neither the service nor its database.
 *
 *   npm run verify-audit-export -- --export audit.ndjson --public-key audit-public.pem \
 *     [--checkpoints dir-or-file …]
 *
 * Checks a complete NDJSON export (from seq 1) against the checkpoint JSON files (as stored under
 * audit-checkpoints/ or returned by GET /v1/audit/checkpoints) and the public key. Prints the verdict
 * as JSON; exits 0 when it verifies, 1 when not (naming the first broken entry), 2 on bad usage.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseNdjsonLine, publicKeyFromPem, verifyAuditLog, type AuditEntry, type SignedCheckpoint } from '../src/audit-log/index.js';
import { cliArgs, parseVerifyAuditExportArgs, VERIFY_AUDIT_EXPORT_HELP } from './cli-args.js';

async function* readExport(file: string): AsyncIterable<AuditEntry> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield parseNdjsonLine(line);
}

function readCheckpoints(paths: string[]): SignedCheckpoint[] {
  const out: SignedCheckpoint[] = [];
  for (const p of paths) {
    // A copy of the store's audit-checkpoints/ folder may hold the fs store's .meta.json sidecars.
    const files = statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.json') && !f.endsWith('.meta.json')).map((f) => path.join(p, f)) : [p];
    for (const f of files) {
      const parsed = JSON.parse(readFileSync(f, 'utf8')) as SignedCheckpoint | { checkpoints: SignedCheckpoint[] };
      // Either one checkpoint object or the body of GET /v1/audit/checkpoints.
      if ('checkpoints' in parsed) out.push(...parsed.checkpoints);
      else out.push(parsed);
    }
  }
  return out;
}

async function main(): Promise<number> {
  const args = cliArgs('verify-audit-export', VERIFY_AUDIT_EXPORT_HELP, parseVerifyAuditExportArgs);
  const key = publicKeyFromPem(readFileSync(args.publicKey, 'utf8'));
  const verdict = await verifyAuditLog(readExport(args.exportFile), readCheckpoints(args.checkpoints), key);
  process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
  if (verdict.ok) {
    process.stderr.write(`export OK: ${verdict.entries} entries, head seq ${verdict.head?.seq ?? 0}, ${verdict.checkpoints.valid} valid checkpoints\n`);
    return 0;
  }
  const p = verdict.firstProblem!;
  process.stderr.write(`export BROKEN at seq ${p.seq} (${p.kind}): ${p.detail}\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`verify-audit-export failed: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
