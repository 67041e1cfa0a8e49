/**
 * Argument parsing for every CLI, with node:util.parseArgs: each CLI's options, its --help text and a
 * parse function that returns the parsed arguments, `'help'`, or throws a UsageError naming what is
 * wrong. Kept apart from the scripts themselves so that tests can parse without running anything.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h' } } as const satisfies Options;

/** parseArgs in strict mode, its errors turned into UsageErrors that name the argument. */
function parse<O extends Options>(argv: string[], options: O, allowPositionals: boolean) {
  try {
    return parseArgs({ args: argv, options: { ...HELP, ...options }, allowPositionals, strict: true });
  } catch (err) {
    const e = err as { code?: string; message: string };
    const arg = /'(-[^']*)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && arg) throw new UsageError(`unknown argument ${arg}`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument ${/'([^']*)'/.exec(e.message)?.[1] ?? ''}`.trim());
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(e.message.replace(/^Option '(-[-\w]*)[^']*' argument missing$/, '$1 needs a value'));
    throw new UsageError(e.message);
  }
}

// token -----------------------------------------------------------------------------------------

export const TOKEN_HELP = `Creates, lists and revokes access tokens. The new token is printed once, alone on the last line;
only its hash is kept. Changes are audited as admin:cli@$USER.

usage:
  npm run token -- create --role <trainer|auditor|admin|phone-system> --name "Name of the person or system"
  npm run token -- list
  npm run token -- revoke <token id>

options:
  --role ROLE    create: trainer, auditor, admin or phone-system
  --name NAME    create: who or what the token is for
  -h, --help     this text

Reads the same environment as the service (DATABASE_URL, DATA_DIR). Exit codes: 0 done, 2 bad usage
or configuration.`;

export type TokenArgs = { command: 'create'; role: string; name: string } | { command: 'list' } | { command: 'revoke'; id: string };

export function parseTokenArgs(argv: string[]): TokenArgs | 'help' {
  const { values, positionals } = parse(argv, { role: { type: 'string' }, name: { type: 'string' } }, true);
  if (values.help) return 'help';
  const [command, ...rest] = positionals;
  if (command === 'create') {
    if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
    if (!values.role) throw new UsageError('create needs --role');
    if (!values.name) throw new UsageError('create needs --name');
    return { command, role: values.role, name: values.name };
  }
  if (values.role !== undefined || values.name !== undefined) throw new UsageError(`--role and --name belong to create`);
  if (command === 'list') {
    if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
    return { command };
  }
  if (command === 'revoke') {
    if (rest.length !== 1) throw new UsageError('revoke needs exactly one token id');
    return { command, id: rest[0]! };
  }
  throw new UsageError(command ? `unknown command ${command}` : 'a command is needed: create, list or revoke');
}

// send-recording --------------------------------------------------------------------------------

export const SEND_RECORDING_HELP = `Posts a recording to gallra the way a phone system should: multipart (metadata, then audio),
signed as Standard Webhooks over the raw bytes. The file is streamed (once to sign, once to send), so
any size works. Prints the HTTP status and the response body.

usage:
  npm run send-recording -- [options] <audio file>

options:
  --url URL            the service (default http://localhost:$PORT, PORT defaulting to 8080)
  --secret whsec_…     signing secret (default: WEBHOOK_SECRETS, or the one generated in DATA_DIR)
  --call-id ID         the call's id (default demo-<uuid>)
  --caller NUMBER      the caller's number, any common format (default +46 46 35 50 00)
  --withheld           the caller's number was withheld (not with --caller)
  --started-at ISO     when the call started (default: --duration seconds ago)
  --duration SECONDS   the call's length (default 180)
  --queue QUEUE        the queue the call came through (default medborgarcenter)
  --agent ID           the agent who took the call
  --opt-out            the caller declined recording: the service must discard the audio
  -h, --help           this text

Options and the file may come in any order. Exit codes: 0 on a 2xx answer, 1 on any other answer or
when the service cannot be reached, 2 on bad usage.`;

export interface SendRecordingArgs {
  file: string;
  url?: string;
  secret?: string;
  callId?: string;
  /** null: withheld. */
  caller: string | null;
  startedAt?: Date;
  durationS: number;
  queue: string;
  agentId: string | null;
  optOut: boolean;
}

export function parseSendRecordingArgs(argv: string[]): SendRecordingArgs | 'help' {
  const { values, positionals } = parse(
    argv,
    {
      url: { type: 'string' },
      secret: { type: 'string' },
      'call-id': { type: 'string' },
      caller: { type: 'string' },
      withheld: { type: 'boolean' },
      'started-at': { type: 'string' },
      duration: { type: 'string' },
      queue: { type: 'string' },
      agent: { type: 'string' },
      'opt-out': { type: 'boolean' },
    },
    true,
  );
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one audio file only (got ${positionals.length})` : 'an audio file is needed');
  if (values.withheld && values.caller !== undefined) throw new UsageError('--caller and --withheld exclude each other');
  const durationS = values.duration === undefined ? 180 : Number(values.duration);
  if (!Number.isFinite(durationS) || durationS <= 0) throw new UsageError(`--duration must be a positive number of seconds (got ${values.duration})`);
  let startedAt: Date | undefined;
  if (values['started-at'] !== undefined) {
    startedAt = new Date(values['started-at']);
    if (Number.isNaN(startedAt.getTime())) throw new UsageError(`--started-at must be an ISO 8601 time (got ${values['started-at']})`);
  }
  if (values.url !== undefined && !URL.canParse(values.url)) throw new UsageError(`--url must be a URL (got ${values.url})`);
  return {
    file: positionals[0]!,
    url: values.url,
    secret: values.secret,
    callId: values['call-id'],
    caller: values.withheld ? null : (values.caller ?? '+46 46 35 50 00'),
    startedAt,
    durationS,
    queue: values.queue ?? 'medborgarcenter',
    agentId: values.agent ?? null,
    optOut: values['opt-out'] ?? false,
  };
}

// retention -------------------------------------------------------------------------------------

export const RETENTION_HELP = `One retention run from the shell, under the same lease as the service's scheduled runs: deletes
every recording past its deadline that no hold suspends, and sweeps orphaned objects. Prints the
report as JSON on stdout and a summary on stderr.

usage:
  npm run retention [-- --dry-run]

options:
  --dry-run    list what a run would delete and change nothing
  -h, --help   this text

Reads the same environment as the service. Exit codes: 0 done, 1 when anything failed or is overdue,
2 on bad usage or configuration, 75 when another instance holds the lease.`;

export function parseRetentionArgs(argv: string[]): { dryRun: boolean } | 'help' {
  const { values } = parse(argv, { 'dry-run': { type: 'boolean' } }, false);
  if (values.help) return 'help';
  return { dryRun: values['dry-run'] ?? false };
}

// verify-audit-export ---------------------------------------------------------------------------

export const VERIFY_AUDIT_EXPORT_HELP = `Offline verifier of an audit log export: needs neither the service nor its database. Checks a
complete NDJSON export (from seq 1) against the signed checkpoints and the public keys, reading every
file strictly (docs/audit-log.md §7.1), and prints the verdict as JSON.

usage:
  npm run verify-audit-export -- --export audit.ndjson --public-key audit-public.pem [--public-key …] [--checkpoints <dir|file> …]

options:
  --export FILE         the NDJSON export (GET /v1/audit)
  --public-key FILE     a public key (PEM), or a key list with validity periods (GET /v1/audit/public-keys);
                        repeatable, e.g. after a key rotation
  --checkpoints PATH    a checkpoint JSON file, a folder of them (a copy of the store's
                        audit-checkpoints/, or audit:fetch-checkpoints --into), or the body of
                        GET /v1/audit/checkpoints; repeatable, in any order
  -h, --help            this text

Exit codes: 0 it verifies, 1 it does not (naming the first problem), 2 on bad usage.`;

export interface VerifyAuditExportArgs {
  exportFile: string;
  publicKeys: string[];
  checkpoints: string[];
}

export function parseVerifyAuditExportArgs(argv: string[]): VerifyAuditExportArgs | 'help' {
  const { values } = parse(
    argv,
    { export: { type: 'string' }, 'public-key': { type: 'string', multiple: true }, checkpoints: { type: 'string', multiple: true } },
    false,
  );
  if (values.help) return 'help';
  if (!values.export) throw new UsageError('--export is needed');
  if (!values['public-key']?.length) throw new UsageError('--public-key is needed');
  return { exportFile: values.export, publicKeys: values['public-key'], checkpoints: values.checkpoints ?? [] };
}

// audit:fetch-checkpoints -----------------------------------------------------------------------

export const AUDIT_FETCH_CHECKPOINTS_HELP = `For auditors: keeps your own copies of the service's signed checkpoints, one file per seq
(DIR/000000000042.json, the same bytes as the store's object). A copy you already have is never
replaced: the same checkpoint again is skipped; a different one for a seq you hold is refused and
reported, because it is evidence that the log was rewritten.

usage:
  npm run audit:fetch-checkpoints -- --into DIR --token-file FILE [--url URL]

options:
  --into DIR          where your copies live (created if missing)
  --token-file FILE   a file holding an auditor's or admin's bearer token
  --url URL           the service (default http://localhost:8080)
  -h, --help          this text

Exit codes: 0 done, 1 when a copy was refused or the service answered an error, 2 on bad usage.`;

export interface FetchCheckpointsArgs {
  into: string;
  tokenFile: string;
  url: string;
}

export function parseFetchCheckpointsArgs(argv: string[]): FetchCheckpointsArgs | 'help' {
  const { values } = parse(argv, { into: { type: 'string' }, 'token-file': { type: 'string' }, url: { type: 'string' } }, false);
  if (values.help) return 'help';
  if (!values.into) throw new UsageError('--into is needed');
  if (!values['token-file']) throw new UsageError('--token-file is needed');
  const url = values.url ?? 'http://localhost:8080';
  if (!URL.canParse(url)) throw new UsageError(`--url must be a URL (got ${url})`);
  return { into: values.into, tokenFile: values['token-file'], url };
}

// CLIs without options of their own -------------------------------------------------------------

export const AUDIT_VERIFY_HELP = `Recomputes the audit chain in the configured database and holds it against every signed checkpoint
(database rows and store objects). Prints the verdict as JSON.

usage:
  npm run audit:verify

options:
  -h, --help   this text

Reads the same environment as the service. Exit codes: 0 the log verifies, 1 it does not (naming the
first broken entry), 2 on bad usage or configuration.`;

export const AUDIT_CHECKPOINT_HELP = `Signs the audit chain head now, as the hourly job does. The chain is verified from the last proven
checkpoint first; nothing is signed over a chain that does not verify. The request is itself audited
(audit.checkpoint-requested) and covered by the checkpoint. Prints the checkpoint as JSON (null when
the head is signed already).

usage:
  npm run audit:checkpoint

options:
  -h, --help   this text

Reads the same environment as the service. Exit codes: 0 signed (or signed already), 1 refused (naming
the problem), 2 on bad usage or configuration.`;

export const MIGRATE_HELP = `Applies every pending database migration, then masks phone numbers in values stored before every
field was checked (queues, agents, call ids, hold reasons, case references and notes, token names),
appending one audit entry that says what it changed. The service also does both at start.

usage:
  npm run migrate

options:
  -h, --help   this text

Reads DATABASE_URL and DATA_DIR. Exit codes: 0 done, 2 on bad usage or configuration.`;

export const STORAGE_LIFECYCLE_HELP = `Puts gallra's lifecycle rules on the configured S3 bucket: expiry of recordings/ one day after
RETENTION_DAYS, and clean-up of incomplete multipart uploads. Other rules on the bucket are kept.

usage:
  npm run storage:lifecycle

options:
  -h, --help   this text

Needs STORAGE_DRIVER=s3 and S3_BUCKET. Exit codes: 0 done, 1 when the rules could not be applied or
the configuration is wrong, 2 on bad usage.`;

export function parseNoArgs(argv: string[]): Record<string, never> | 'help' {
  const { values } = parse(argv, {}, false);
  return values.help ? 'help' : {};
}

/**
 * Parses `process.argv` for a CLI: prints the help and exits 0 on --help, prints what is wrong and
 * the usage and exits 2 on bad usage.
 */
export function cliArgs<T>(name: string, help: string, parser: (argv: string[]) => T | 'help', argv = process.argv.slice(2)): T {
  let parsed: T | 'help';
  try {
    parsed = parser(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const usage = /^usage:\n([\s\S]*?)\n\n/m.exec(help)?.[1] ?? '';
    process.stderr.write(`${name}: ${err.message}\nusage:\n${usage}\n(--help for more)\n`);
    process.exit(2);
  }
  if (parsed === 'help') {
    process.stdout.write(`${help}\n`);
    process.exit(0);
  }
  return parsed;
}

// subject-request -------------------------------------------------------------------------------

export const SUBJECT_REQUEST_HELP = `Data-subject requests (GDPR art. 15, 17, 18, 21) for a registrar at a terminal. The caller's phone
number is asked for on the terminal without echo, or read from standard input (its first line); it is
never taken as an argument, which shell history and the process list would keep. Actions are audited
as admin:cli@<user>.

usage:
  npm run subject-request -- access --reference REF --received DATE [--note TEXT] [--out extract.zip]
  npm run subject-request -- restriction --reference REF --received DATE [--note TEXT] [--until DATE]
  npm run subject-request -- erasure|objection --reference REF --received DATE [--note TEXT] [--confirm N]
  npm run subject-request -- list
  npm run subject-request -- show|answer|close <case id>
  npm run subject-request -- package <case id> --out extract.zip
  npm run subject-request -- erase <case id> --confirm N

options:
  --reference REF   the municipality's case number (diarienummer); never a phone number
  --received DATE   when the request arrived (YYYY-MM-DD, Stockholm); due one calendar month later
  --note TEXT       optional note on the case
  --out FILE        write the register extract (ZIP) there; progress goes to stderr
  --until DATE      restriction: hold the calls until this date (default: until the case is closed)
  --confirm N       erasure and objection: delete only if N is the number of calls that would go
  -h, --help        this text

Without --confirm, an erasure or objection case is opened and the number of calls it would delete is
printed; nothing is deleted. Reads the same environment as the service. Exit codes: 0 done, 1 refused
or failed (the reason on stderr), 2 bad usage or configuration.`;

export type SubjectRequestArgs =
  | { command: 'open'; kind: 'access' | 'restriction' | 'erasure' | 'objection'; reference: string; received: string; note?: string; out?: string; until?: string; confirm?: number }
  | { command: 'list' }
  | { command: 'show' | 'answer' | 'close'; id: string }
  | { command: 'package'; id: string; out: string }
  | { command: 'erase'; id: string; confirm: number };

export function parseSubjectRequestArgs(argv: string[]): SubjectRequestArgs | 'help' {
  const { values, positionals } = parse(
    argv,
    {
      reference: { type: 'string' },
      received: { type: 'string' },
      note: { type: 'string' },
      out: { type: 'string' },
      until: { type: 'string' },
      confirm: { type: 'string' },
    },
    true,
  );
  if (values.help) return 'help';
  const [command, ...rest] = positionals;
  const confirm = values.confirm === undefined ? undefined : Number(values.confirm);
  if (confirm !== undefined && (!Number.isInteger(confirm) || confirm < 0)) throw new UsageError(`--confirm must be a whole number (got ${values.confirm})`);
  const only = (allowed: string[]) => {
    for (const k of Object.keys(values)) if (k !== 'help' && !allowed.includes(k)) throw new UsageError(`--${k} does not belong to ${command}`);
  };
  const id = () => {
    if (rest.length !== 1 || !/^sr_[0-9a-f]{16}$/.test(rest[0]!)) throw new UsageError(`${command} needs one case id (sr_…)`);
    return rest[0]!;
  };
  switch (command) {
    case 'access':
    case 'restriction':
    case 'erasure':
    case 'objection': {
      if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
      only(['reference', 'received', 'note', ...(command === 'access' ? ['out'] : command === 'restriction' ? ['until'] : ['confirm'])]);
      if (!values.reference) throw new UsageError(`${command} needs --reference`);
      if (!values.received) throw new UsageError(`${command} needs --received`);
      return { command: 'open', kind: command, reference: values.reference, received: values.received, note: values.note, out: values.out, until: values.until, confirm };
    }
    case 'list':
      if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
      only([]);
      return { command };
    case 'show':
    case 'answer':
    case 'close':
      only([]);
      return { command, id: id() };
    case 'package':
      only(['out']);
      if (!values.out) throw new UsageError('package needs --out');
      return { command, id: id(), out: values.out };
    case 'erase':
      only(['confirm']);
      if (confirm === undefined) throw new UsageError('erase needs --confirm N');
      return { command, id: id(), confirm };
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'a command is needed: access, restriction, erasure, objection, list, show, package, answer, close or erase');
  }
}
