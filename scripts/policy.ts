/**
 * npm run policy -- show
 * npm run policy -- set FILE
 * The retention policy per queue from the shell: set stores FILE's rules (JSON or YAML) as the next
 * version, audited as the operator at this machine. --help for more.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { createServices } from '../src/services.js';
import { systemClock } from '../src/shared/clock.js';
import { DomainError } from '../src/shared/errors.js';
import { createLogger } from '../src/shared/logger.js';
import { createStore } from '../src/storage/index.js';
import { cliArgs, parsePolicyArgs, POLICY_HELP } from './cli-args.js';
import { fail, openCli } from './cli-context.js';

const args = cliArgs('policy', POLICY_HELP, parsePolicyArgs);
const { config, db } = await openCli();
const services = createServices({ config, db, store: createStore(config), logger: createLogger({ level: config.logLevel, stream: process.stderr }), clock: systemClock });
const actor = `admin:cli@${process.env.USER ?? 'operator'}`;
try {
  if (args.command === 'show') {
    process.stdout.write(`${JSON.stringify(await services.retentionPolicy.current(), null, 2)}\n`);
  } else {
    let body: unknown;
    try {
      body = parseYaml(readFileSync(args.file, 'utf8')); // YAML is a superset of JSON
    } catch (err) {
      fail(`policy: cannot read ${args.file}: ${(err as Error).message}`);
    }
    const saved = await services.retentionPolicy.set(body, actor, 'cli');
    process.stdout.write(`${JSON.stringify(saved, null, 2)}\n`);
    process.stderr.write(`retention policy version ${saved.version}; shortened deadlines of stored recordings change at the next retention run\n`);
  }
} catch (err) {
  await db.destroy();
  if (err instanceof DomainError) fail(`policy: ${err.message}`);
  throw err;
}
await db.destroy();
