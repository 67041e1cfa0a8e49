/**
 * npm run retention [-- --dry-run] — one retention run from the shell, under the same lease as the
 * service's scheduled runs. --dry-run lists what a run would delete and changes nothing. Prints the
 * report as JSON; exits 1 when anything failed or is overdue, 2 on a configuration error, 75 when
 * another instance holds the lease.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { runRetentionOnce } from '../jobs/retention.js';
import { ConfigError, loadResolvedConfig, type ResolvedConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { createKeyStore } from '../src/encryption/index.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createStore } from '../src/storage/index.js';
import { cliArgs, parseRetentionArgs, RETENTION_HELP } from './cli-args.js';

async function main(): Promise<number> {
  const { dryRun } = cliArgs('retention', RETENTION_HELP, parseRetentionArgs);
  let config: ResolvedConfig;
  try {
    config = loadResolvedConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`retention: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const db = createDatabase(config.databaseUrl);
  const keyStore = createKeyStore(config.encryption!);
  try {
    await migrateLatest(db);
    const logger = createLogger({ level: config.logLevel, stream: process.stderr });
    const services = createServices({ config, db, store: createStore(config), logger, clock: systemClock, keyStore });
    const r = await runRetentionOnce(services, { dryRun });
    if (!r.ran) {
      process.stderr.write('retention: another instance is running retention right now; nothing done\n');
      return 75;
    }
    const { report } = r;
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(
      `${dryRun ? 'would delete' : 'deleted'} ${report.deleted.length} of ${report.due} due (cutoff ${report.cutoff}), ` +
        `${report.held.length} held, ${report.failed.length} failed, ${report.skipped ? `${report.skipped} skipped, ` : ''}${report.orphans.deleted.length} orphans, ${report.overdue} overdue\n` +
        (report.stoppedEarly ? `stopped early after ${report.stoppedEarly}; the next run goes on\n` : ''),
    );
    return report.failed.length || report.overdue || report.stoppedEarly ? 1 : 0;
  } finally {
    await db.destroy();
    await keyStore.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`retention failed: ${(err as Error).stack ?? err}\n`);
    process.exit(3);
  },
);
