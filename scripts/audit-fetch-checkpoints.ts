/**
 * npm run audit:fetch-checkpoints -- --into DIR --token-file FILE [--url https://gallra.example]
 *
 * For auditors: keeps your own copies of the service's signed checkpoints, one file per seq
 * (DIR/000000000042.json, the same bytes as the store's object). A copy you already have is never
 * replaced: the same checkpoint again is skipped; a different one for a seq you hold is refused and
 * reported (exit 1), because it is evidence that the log was rewritten. Your copies are what
 * `scripts/verify-audit-export.ts --checkpoints DIR` holds the export against.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkpointObjectBody, parseCheckpointFile } from '../src/audit-log/index.js';
import { AUDIT_FETCH_CHECKPOINTS_HELP, cliArgs, parseFetchCheckpointsArgs } from './cli-args.js';

async function main(): Promise<number> {
  const values = cliArgs('audit:fetch-checkpoints', AUDIT_FETCH_CHECKPOINTS_HELP, parseFetchCheckpointsArgs);
  const token = readFileSync(values.tokenFile, 'utf8').trim();
  const url = new URL('/v1/audit/checkpoints', values.url);
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  if (!res.ok) {
    process.stderr.write(`audit:fetch-checkpoints: ${url} answered ${res.status}\n`);
    return 1;
  }
  const copies = parseCheckpointFile(await res.text(), url.toString());
  mkdirSync(values.into, { recursive: true });
  let saved = 0;
  let kept = 0;
  const refused: string[] = [];
  for (const c of copies) {
    if ('malformed' in c) {
      refused.push(`the service sent a checkpoint that cannot be read (${c.malformed.reason}): ${c.malformed.detail}`);
      continue;
    }
    const body = checkpointObjectBody(c);
    const file = path.join(values.into, `${String(c.seq).padStart(12, '0')}.json`);
    try {
      writeFileSync(file, body, { flag: 'wx', mode: 0o444 });
      saved++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const mine = parseCheckpointFile(readFileSync(file, 'utf8'), file)[0];
      if (mine && !('malformed' in mine) && checkpointObjectBody(mine).equals(body)) kept++;
      else refused.push(`seq ${c.seq}: the service now serves a checkpoint that differs from your copy ${file} (kept unchanged)`);
    }
  }
  process.stderr.write(`audit:fetch-checkpoints: ${saved} saved, ${kept} already held, ${refused.length} refused\n`);
  for (const r of refused) process.stderr.write(`  REFUSED ${r}\n`);
  return refused.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`audit:fetch-checkpoints failed: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
