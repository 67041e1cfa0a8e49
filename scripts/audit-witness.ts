/**
 * npm run audit:witness -- --log URL --key WITNESS_KEY.pem [--name NAME] [--state FILE] [--log-key VKEY]
 * Checks the log's latest checkpoint against the one seen last and cosigns it (docs/receipts.md §5).
 * Exits 0 when it cosigned, 1 when it refused (and says why), 2 on a usage or network error.
 * --print-key prints the witness's verifier key for TRANSPARENCY_WITNESS_KEYS.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runWitness, witnessKeyOf } from './witness.js';

const program = new Command('audit:witness')
  .description("Witness gallra's transparency log: check consistency, then cosign the latest checkpoint")
  .requiredOption('--key <pem>', "the witness's Ed25519 private key (PEM)")
  .option('--log <url>', "the log's base URL, e.g. https://gallra.kommun.example")
  .option('--name <name>', 'the witness key name', 'witness.example/gallra-witness')
  .option('--state <file>', 'where the checkpoint seen last is kept', 'witness-state.json')
  .option('--log-key <vkey>', "the log's verifier key (otherwise pinned on first use)")
  .option('--print-key', "print the witness's verifier key and exit")
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
program.parse(process.argv);
const o = program.opts<{ key: string; log?: string; name: string; state: string; logKey?: string; printKey?: boolean }>();
try {
  const pem = readFileSync(o.key, 'utf8');
  if (o.printKey) {
    process.stdout.write(witnessKeyOf(pem, o.name).vkey + '\n');
    process.exit(0);
  }
  if (!o.log) throw new Error('--log URL is required');
  const r = await runWitness({ log: o.log, privateKeyPem: pem, name: o.name, stateFile: o.state, ...(o.logKey ? { logKey: o.logKey } : {}) });
  process.stderr.write(`audit:witness: ${r.cosigned ? '' : 'REFUSED: '}${r.message}\n`);
  process.exit(r.cosigned ? 0 : 1);
} catch (err) {
  process.stderr.write(`audit:witness: ${(err as Error).message}\n`);
  process.exit(2);
}
