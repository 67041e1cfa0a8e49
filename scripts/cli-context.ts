import { ConfigError, loadResolvedConfig, type ResolvedConfig } from '../src/config.js';
import { createDatabase, migrateLatest, type Database } from '../src/shared/database.js';

/** What every CLI needs: validated config (secrets resolved as the service resolves them) and a migrated database. */
export async function openCli(): Promise<{ config: ResolvedConfig; db: Database }> {
  let config: ResolvedConfig;
  try {
    config = loadResolvedConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const db = createDatabase(config.databaseUrl);
  await migrateLatest(db);
  return { config, db };
}

export function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
