/**
 * npm run audit:verify-receipt -- FILE --key PUBLIC.pem [--witness VKEY…] — checks a receipt (a C2SP
 * tlog-proof file, or a JSON receipt with its tlogProof) offline. Prints the entry's public projection
 * as JSON; exits 0 when it verifies, 1 when it does not (and says why), 2 on a usage error.
 *
 * The check itself (receipt-check.ts) uses node:crypto only, nothing of gallra's code; the Node.js
 * version guard below is the one every npm-run CLI starts with.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { checkReceipt } from './receipt-check.js';

const program = new Command('audit:verify-receipt')
  .description('Check a gallra receipt (C2SP tlog-proof) against the log\'s public key, offline')
  .argument('<file>', 'the .tlog-proof file (or a JSON receipt)')
  .requiredOption('--key <pem>', "the log's Ed25519 public key, PEM (GET /v1/transparency/key or /v1/audit/public-key)")
  .option('--witness <vkey...>', 'witness verifier keys whose cosignature must be on the checkpoint')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
program.parse(process.argv);
const opts = program.opts<{ key: string; witness?: string[] }>();
let text: string;
let pem: string;
try {
  text = readFileSync(program.args[0]!, 'utf8');
  pem = readFileSync(opts.key, 'utf8');
} catch (err) {
  process.stderr.write(`audit:verify-receipt: ${(err as Error).message}\n`);
  process.exit(2);
}
const v = checkReceipt(text, pem, { witnessKeys: opts.witness ?? [] });
if (v.ok) {
  process.stdout.write(JSON.stringify(v.projection, null, 2) + '\n');
  process.stderr.write(`receipt OK: entry ${v.projection!.seq} (${v.projection!.action}) is in the log ${v.origin} of ${v.treeSize} entries${v.witnesses!.length ? `, cosigned by ${v.witnesses!.join(', ')}` : ''}\n`);
  process.exit(0);
}
process.stderr.write(`receipt REFUSED: ${v.reason}\n`);
process.exit(1);
