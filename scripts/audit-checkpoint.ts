/**
 * npm run audit:checkpoint — signs the audit chain head now, as the hourly job does: the chain is
 * verified from the last proven checkpoint first, and nothing is signed over a chain that does not
 * verify. The request is itself an audit entry (audit.checkpoint-requested), which the checkpoint
 * covers. Prints the checkpoint as JSON (null when the head was signed already); exits 1 when signing
 * was refused, naming the problem, 2 on a configuration error.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { DomainError } from '../src/shared/errors.js';
import { auditCheckpointsFor } from './audit-cli.js';
import { AUDIT_CHECKPOINT_HELP, cliArgs, parseNoArgs } from './cli-args.js';
import { openCli } from './cli-context.js';

async function main(): Promise<number> {
  cliArgs('audit:checkpoint', AUDIT_CHECKPOINT_HELP, parseNoArgs);
  const { config, db } = await openCli();
  try {
    const checkpoints = auditCheckpointsFor(config, db, 'error');
    // The key that signs is registered first, so its checkpoints keep verifying after a rotation.
    await checkpoints.registerSigningKey('system:audit-checkpoint-cli');
    const checkpoint = await checkpoints.request('system:audit-checkpoint-cli');
    process.stdout.write(JSON.stringify(checkpoint) + '\n');
    process.stderr.write(checkpoint ? `audit checkpoint signed at seq ${checkpoint.seq}\n` : 'the head is signed already\n');
    return 0;
  } catch (err) {
    if (err instanceof DomainError) {
      process.stderr.write(`audit:checkpoint refused (${err.code}): ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`audit:checkpoint failed: ${(err as Error).stack ?? err}\n`);
    process.exit(3);
  },
);
