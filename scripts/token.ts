/**
 * npm run token -- create --role <trainer|auditor|admin|phone-system> --name "…"
 * npm run token -- list
 * npm run token -- revoke <id>
 * The new token is printed once, alone on the last line; only its hash is kept. --help for more.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { createAccessTokenRepository, createAccessTokens } from '../src/access-tokens/index.js';
import { createAuditLog, createAuditRepository } from '../src/audit-log/index.js';
import { transactor } from '../src/shared/database.js';
import { DomainError } from '../src/shared/errors.js';
import { systemClock } from '../src/shared/clock.js';
import { cliArgs, parseTokenArgs, TOKEN_HELP } from './cli-args.js';
import { fail, openCli } from './cli-context.js';

const args = cliArgs('token', TOKEN_HELP, parseTokenArgs);

const { db } = await openCli();
const tokens = createAccessTokens({
  tokens: createAccessTokenRepository(db),
  transaction: transactor(db),
  audit: createAuditLog({ clock: systemClock, entries: createAuditRepository(db) }),
  clock: systemClock,
});
// Changes made from the shell are audited as the operator at this machine.
const actor = `admin:cli@${process.env.USER ?? 'operator'}`;
try {
  if (args.command === 'create') {
    const { token, accessToken } = await tokens.create({ role: args.role, name: args.name }, actor);
    process.stderr.write(`Created ${accessToken.id} (${accessToken.role}, "${accessToken.name}"). Keep the token below safe: it is not shown again.\n`);
    process.stdout.write(`${token}\n`);
  } else if (args.command === 'list') {
    const rows = await tokens.list();
    if (!rows.length) process.stdout.write('no access tokens\n');
    for (const t of rows) {
      process.stdout.write(`${t.id}\t${t.role}\t${t.revokedAt ? 'revoked ' + t.revokedAt : 'active'}\tcreated ${t.createdAt}\t${t.name}\n`);
    }
  } else {
    const t = await tokens.revoke(args.id, actor);
    process.stdout.write(`${t.id} revoked at ${t.revokedAt}\n`);
  }
} catch (err) {
  await db.destroy();
  if (err instanceof DomainError) fail(`error: ${err.message}`);
  throw err;
}
await db.destroy();
