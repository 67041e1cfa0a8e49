/** npm run migrate — applies every pending migration (the service also does this at start). */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig } from '../src/config.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
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
await db.destroy();
