/**
 * npm run token -- create --role <trainer|auditor|admin|phone-system> --name "…"
 * npm run token -- list
 * npm run token -- revoke <id>
 * The new token is printed once, alone on the last line; only its hash is kept.
 */
import { createAccessTokens } from '../src/access-tokens/index.js';
import { createAuditLog } from '../src/audit-log/index.js';
import { DomainError } from '../src/shared/errors.js';
import { systemClock } from '../src/shared/clock.js';
import { fail, openCli, parseArgs } from './cli-context.js';

const USAGE = `usage:
  npm run token -- create --role <trainer|auditor|admin|phone-system> --name "Name of the person or system"
  npm run token -- list
  npm run token -- revoke <token id>`;

const { flags, positional } = parseArgs(process.argv.slice(2));
const command = positional[0];
if (!command || !['create', 'list', 'revoke'].includes(command)) fail(USAGE);

const { db } = await openCli();
const tokens = createAccessTokens({ db, audit: createAuditLog({ clock: systemClock }), clock: systemClock });
// Changes made from the shell are audited as the operator at this machine.
const actor = `admin:cli@${process.env.USER ?? 'operator'}`;
try {
  if (command === 'create') {
    if (typeof flags.role !== 'string' || typeof flags.name !== 'string') fail(USAGE);
    const { token, accessToken } = await tokens.create({ role: flags.role, name: flags.name }, actor);
    process.stderr.write(`Created ${accessToken.id} (${accessToken.role}, "${accessToken.name}"). Keep the token below safe: it is not shown again.\n`);
    process.stdout.write(`${token}\n`);
  } else if (command === 'list') {
    const rows = await tokens.list();
    if (!rows.length) process.stdout.write('no access tokens\n');
    for (const t of rows) {
      process.stdout.write(`${t.id}\t${t.role}\t${t.revokedAt ? 'revoked ' + t.revokedAt : 'active'}\tcreated ${t.createdAt}\t${t.name}\n`);
    }
  } else {
    const id = positional[1];
    if (!id) fail(USAGE);
    const t = await tokens.revoke(id, actor);
    process.stdout.write(`${t.id} revoked at ${t.revokedAt}\n`);
  }
} catch (err) {
  await db.destroy();
  if (err instanceof DomainError) fail(`error: ${err.message}`);
  throw err;
}
await db.destroy();
