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

/** --name value / --flag pairs and positional arguments. */
export function parseArgs(argv: string[]): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (v !== undefined) flags[k] = v;
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags[k] = argv[++i]!;
      else flags[k] = true;
    } else positional.push(a);
  }
  return { flags, positional };
}
