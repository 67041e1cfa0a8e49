/**
 * npm run migrate — applies every pending migration and masks phone numbers in values stored before
 * every field was checked (the service also does both at start).
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig } from '../src/config.js';
import { createAccessTokenStoredText } from '../src/access-tokens/index.js';
import { createAuditLog, createAuditRepository } from '../src/audit-log/index.js';
import { createCallOptOutStoredText } from '../src/opt-outs/index.js';
import { createRecordingStoredText } from '../src/recordings/index.js';
import { createHoldStoredText } from '../src/retention/index.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest, scrubFreedSpace, transactor } from '../src/shared/database.js';
import { createLogger } from '../src/shared/logger.js';
import { createNumberMasking } from '../src/stored-numbers/index.js';
import { createSubjectRequestStoredText } from '../src/subject-requests/index.js';
import { cliArgs, MIGRATE_HELP, parseNoArgs } from './cli-args.js';
import { fail } from './cli-context.js';

cliArgs('migrate', MIGRATE_HELP, parseNoArgs);

let url: string;
try {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  url = config.databaseUrl;
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const db = createDatabase(url);
const applied = await migrateLatest(db);
process.stdout.write(applied.length ? `applied:\n${applied.map((m) => `  ${m}`).join('\n')}\n` : 'database is up to date\n');
process.stdout.write(`now at ${await db.migrate.currentVersion()}\n`);
const masked = await createNumberMasking({
  sources: [createRecordingStoredText(db), createCallOptOutStoredText(db), createHoldStoredText(db), ...createSubjectRequestStoredText(db), createAccessTokenStoredText(db)],
  transaction: transactor(db),
  audit: createAuditLog({ clock: systemClock, entries: createAuditRepository(db) }),
  logger: createLogger({ level: 'error' }),
  scrub: (tables) => scrubFreedSpace(db, tables),
})('system:migrate');
process.stdout.write(masked.masked ? `masked ${masked.masked} stored values that held a phone number (audited as stored-numbers.masked)\n` : 'no stored value holds a phone number\n');
await db.destroy();
