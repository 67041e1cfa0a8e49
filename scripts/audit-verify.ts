/**
 * npm run audit:verify — recomputes the audit chain in the configured database and holds it against
 * every signed checkpoint (database rows and store objects). Prints the verdict as JSON; exits 1 and
 * names the first broken entry when the log does not verify, 2 on a configuration error.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { ConfigError, loadResolvedConfig, type ResolvedConfig } from '../src/config.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { auditCheckpointsFor } from './audit-cli.js';
import { AUDIT_VERIFY_HELP, cliArgs, parseNoArgs } from './cli-args.js';

async function main(): Promise<number> {
  cliArgs('audit:verify', AUDIT_VERIFY_HELP, parseNoArgs);
  let config: ResolvedConfig;
  try {
    config = loadResolvedConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`audit:verify: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const db = createDatabase(config.databaseUrl);
  try {
    await migrateLatest(db);
    const verdict = await auditCheckpointsFor(config, db).verify();
    process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
    if (verdict.ok) {
      process.stderr.write(`audit log OK: ${verdict.entries} entries, head seq ${verdict.head?.seq ?? 0}, ${verdict.checkpoints.valid} checkpoints\n`);
      return 0;
    }
    const p = verdict.firstProblem!;
    process.stderr.write(`audit log BROKEN at seq ${p.seq} (${p.kind}${p.reason ? `: ${p.reason}` : ''}): ${p.detail}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`audit:verify failed: ${(err as Error).stack ?? err}\n`);
    process.exit(3);
  },
);
