/**
 * Argument parsing for every CLI, with commander: each CLI's program (its options, commands and
 * generated --help text) and a parse function that returns the parsed arguments, `'help'`, or throws a
 * UsageError naming what is wrong. Kept apart from the scripts themselves so that tests can parse
 * without running anything.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export class UsageError extends Error {}

type Done<T> = (result: T) => void;

/** A program that throws instead of exiting and prints nothing itself (cliArgs decides what is printed). */
function program(name: string, description: string, notes: string): Command {
  return new Command(name)
    .description(description)
    .addHelpText('after', `\n${notes}`)
    .helpCommand(false)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
}

/** Runs a program on argv: the value its action hands over, 'help' for --help, or a UsageError. */
function parseWith<T>(build: (done: Done<T>) => Command, argv: string[], noCommand?: string): T | 'help' {
  let result: T | undefined;
  try {
    build((r) => (result = r)).parse(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed') return 'help';
    if (err.code === 'commander.help' && noCommand) throw new UsageError(noCommand);
    throw new UsageError(err.message.replace(/^error: /, ''));
  }
  return result!;
}

/** The --help text commander generates for a program. */
function helpOf<T>(build: (done: Done<T>) => Command): string {
  let text = '';
  build(() => undefined)
    .configureOutput({ writeOut: (s) => (text += s) })
    .outputHelp();
  return text.trimEnd();
}

/** An option value check for commander: the value, or an InvalidArgumentError saying what it must be. */
const checked = <T>(convert: (v: string) => T | undefined, must: string) => (v: string) => {
  const out = convert(v);
  if (out === undefined) throw new InvalidArgumentError(must);
  return out;
};
const url = checked((v) => (URL.canParse(v) ? v : undefined), 'must be a URL');
const collect = (v: string, previous: string[] = []) => [...previous, v];

// token -----------------------------------------------------------------------------------------

export type TokenArgs = { command: 'create'; role: string; name: string } | { command: 'list' } | { command: 'revoke'; id: string };

function tokenProgram(done: Done<TokenArgs>): Command {
  const p = program(
    'token',
    'Creates, lists and revokes access tokens. The new token is printed once, alone on the last line; only its hash is kept. Changes are audited as admin:cli@$USER.',
    'Reads the same environment as the service (DATABASE_URL, DATA_DIR). Exit codes: 0 done, 2 bad usage\nor configuration.',
  )
    .option('--role <role>', 'create: trainer, auditor, admin or phone-system')
    .option('--name <name>', 'create: who or what the token is for');
  const notForCreate = () => {
    const o = p.opts();
    if (o.role !== undefined || o.name !== undefined) throw new UsageError('--role and --name belong to create');
  };
  p.command('create')
    .description('creates a token (--role, --name) and prints it once')
    .action(() => {
      const { role, name } = p.opts<{ role?: string; name?: string }>();
      if (!role) throw new UsageError('create needs --role');
      if (!name) throw new UsageError('create needs --name');
      done({ command: 'create', role, name });
    });
  p.command('list')
    .description('lists the tokens, never their secrets')
    .action(() => {
      notForCreate();
      done({ command: 'list' });
    });
  p.command('revoke')
    .description('revokes a token')
    .argument('<token id>')
    .action((id: string) => {
      notForCreate();
      done({ command: 'revoke', id });
    });
  return p;
}

export const TOKEN_HELP = helpOf(tokenProgram);
export const parseTokenArgs = (argv: string[]) => parseWith(tokenProgram, argv, 'a command is needed: create, list or revoke');

// send-recording --------------------------------------------------------------------------------

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

function sendRecordingProgram(done: Done<SendRecordingArgs>): Command {
  return program(
    'send-recording',
    'Posts a recording to gallra the way a phone system should: multipart (metadata, then audio), signed as Standard Webhooks over the raw bytes. The file is streamed (once to sign, once to send), so any size works. Prints the HTTP status and the response body.',
    'Options and the file may come in any order. Exit codes: 0 on a 2xx answer, 1 on any other answer or\nwhen the service cannot be reached, 2 on bad usage.',
  )
    .argument('<file>', 'the audio file')
    .option('--url <url>', 'the service (default http://localhost:$PORT, PORT defaulting to 8080)', url)
    .option('--secret <whsec_…>', 'signing secret (default: WEBHOOK_SECRETS, or the one generated in DATA_DIR)')
    .option('--call-id <id>', "the call's id (default demo-<uuid>)")
    .addOption(new Option('--caller <number>', "the caller's number, any common format (default +46 46 35 50 00)").conflicts('withheld'))
    .option('--withheld', "the caller's number was withheld (not with --caller)")
    .option('--started-at <iso>', 'when the call started (default: --duration seconds ago)', checked((v) => (Number.isNaN(Date.parse(v)) ? undefined : new Date(v)), 'must be an ISO 8601 time'))
    .option('--duration <seconds>', "the call's length", checked((v) => (Number(v) > 0 && Number.isFinite(Number(v)) ? Number(v) : undefined), 'must be a positive number of seconds'), 180)
    .option('--queue <queue>', 'the queue the call came through', 'medborgarcenter')
    .option('--agent <id>', 'the agent who took the call')
    .option('--opt-out', 'the caller declined recording: the service must discard the audio')
    .action((file: string, o: { url?: string; secret?: string; callId?: string; caller?: string; withheld?: boolean; startedAt?: Date; duration: number; queue: string; agent?: string; optOut?: boolean }) =>
      done({
        file,
        url: o.url,
        secret: o.secret,
        callId: o.callId,
        caller: o.withheld ? null : (o.caller ?? '+46 46 35 50 00'),
        startedAt: o.startedAt,
        durationS: o.duration,
        queue: o.queue,
        agentId: o.agent ?? null,
        optOut: o.optOut ?? false,
      }),
    );
}

export const SEND_RECORDING_HELP = helpOf(sendRecordingProgram);
export const parseSendRecordingArgs = (argv: string[]) => parseWith(sendRecordingProgram, argv);

// retention -------------------------------------------------------------------------------------

function retentionProgram(done: Done<{ dryRun: boolean }>): Command {
  return program(
    'retention',
    "One retention run from the shell, under the same lease as the service's scheduled runs: deletes every recording past its deadline that no hold suspends, and sweeps orphaned objects. Prints the report as JSON on stdout and a summary on stderr.",
    'Reads the same environment as the service. Exit codes: 0 done, 1 when anything failed or is overdue,\n2 on bad usage or configuration, 75 when another instance holds the lease.',
  )
    .option('--dry-run', 'list what a run would delete and change nothing')
    .action((o: { dryRun?: boolean }) => done({ dryRun: o.dryRun ?? false }));
}

export const RETENTION_HELP = helpOf(retentionProgram);
export const parseRetentionArgs = (argv: string[]) => parseWith(retentionProgram, argv);

// policy ----------------------------------------------------------------------------------------

export type PolicyArgs = { command: 'show' } | { command: 'set'; file: string };

function policyProgram(done: Done<PolicyArgs>): Command {
  const p = program(
    'policy',
    'Shows or replaces the retention policy per queue (docs/retention.md). set reads the rules from a JSON or YAML file ({ "rules": [ { "match": { "queue": "bygg*" }, "retainDays": 7 } ] }) and stores them as a new version, audited as admin:cli@$USER.',
    'Reads the same environment as the service. While RETENTION_POLICY_FILE is set, that file is the policy and set\nis refused. Exit codes: 0 done, 2 bad usage, configuration or rules.',
  );
  p.command('show')
    .description('prints the policy in force and its version as JSON')
    .action(() => done({ command: 'show' }));
  p.command('set')
    .description('stores the rules in FILE as the next version and prints it')
    .argument('<file>', 'a JSON or YAML file with { rules: [...] }')
    .action((file: string) => done({ command: 'set', file }));
  return p;
}

export const POLICY_HELP = helpOf(policyProgram);
export const parsePolicyArgs = (argv: string[]) => parseWith(policyProgram, argv, 'a command is needed: show or set FILE');

// verify-audit-export ---------------------------------------------------------------------------

export interface VerifyAuditExportArgs {
  exportFile: string;
  publicKeys: string[];
  checkpoints: string[];
}

function verifyAuditExportProgram(done: Done<VerifyAuditExportArgs>): Command {
  return program(
    'verify-audit-export',
    'Offline verifier of an audit log export: needs neither the service nor its database. Checks a complete NDJSON export (from seq 1) against the signed checkpoints and the public keys, reading every file strictly (docs/audit-log.md §7.1), and prints the verdict as JSON.',
    'Exit codes: 0 it verifies, 1 it does not (naming the first problem), 2 on bad usage.',
  )
    .requiredOption('--export <file>', 'the NDJSON export (GET /v1/audit)')
    .requiredOption('--public-key <file>', 'a public key (PEM), or a key list with validity periods (GET /v1/audit/public-keys); repeatable, e.g. after a key rotation', collect)
    .option('--checkpoints <path>', "a checkpoint JSON file, a folder of them (a copy of the store's audit-checkpoints/, or audit:fetch-checkpoints --into), or the body of GET /v1/audit/checkpoints; repeatable, in any order", collect)
    .action((o: { export: string; publicKey: string[]; checkpoints?: string[] }) => done({ exportFile: o.export, publicKeys: o.publicKey, checkpoints: o.checkpoints ?? [] }));
}

export const VERIFY_AUDIT_EXPORT_HELP = helpOf(verifyAuditExportProgram);
export const parseVerifyAuditExportArgs = (argv: string[]) => parseWith(verifyAuditExportProgram, argv);

// audit:fetch-checkpoints -----------------------------------------------------------------------

export interface FetchCheckpointsArgs {
  into: string;
  tokenFile: string;
  url: string;
}

function fetchCheckpointsProgram(done: Done<FetchCheckpointsArgs>): Command {
  return program(
    'audit:fetch-checkpoints',
    "For auditors: keeps your own copies of the service's signed checkpoints, one file per seq (DIR/000000000042.json, the same bytes as the store's object). A copy you already have is never replaced: the same checkpoint again is skipped; a different one for a seq you hold is refused and reported, because it is evidence that the log was rewritten.",
    'Exit codes: 0 done, 1 when a copy was refused or the service answered an error, 2 on bad usage.',
  )
    .requiredOption('--into <dir>', 'where your copies live (created if missing)')
    .requiredOption('--token-file <file>', "a file holding an auditor's or admin's bearer token")
    .option('--url <url>', 'the service', url, 'http://localhost:8080')
    .action((o: FetchCheckpointsArgs) => done({ into: o.into, tokenFile: o.tokenFile, url: o.url }));
}

export const AUDIT_FETCH_CHECKPOINTS_HELP = helpOf(fetchCheckpointsProgram);
export const parseFetchCheckpointsArgs = (argv: string[]) => parseWith(fetchCheckpointsProgram, argv);

// CLIs without options of their own -------------------------------------------------------------

const NO_ARGS: Record<string, [description: string, notes: string]> = {
  'storage:encrypt': [
    'Encrypts, in place, the audio of every stored recording that is still plaintext (stored before encryption at rest): the wrapped data key is committed first, the encrypted object replaces the plaintext in one write and is checked against the recording\'s SHA-256, then its key is recorded and audited (storage.object-encrypted). On a versioned bucket the plaintext versions are deleted once the encrypted one is verified. Crash-safe and resumable: run it again and it goes on; the service reads both formats meanwhile. Progress on stderr; the report as JSON on stdout.',
    'Reads the same environment as the service (KEY_STORE_DIR or KEY_STORE_URL too). Exit codes: 0 done, 1 a\nrecording failed its check (nothing of it lost), 2 on bad usage or configuration.',
  ],
  'audit:verify': [
    'Recomputes the audit chain in the configured database and holds it against every signed checkpoint (database rows and store objects). Prints the verdict as JSON.',
    'Reads the same environment as the service. Exit codes: 0 the log verifies, 1 it does not (naming the\nfirst broken entry), 2 on bad usage or configuration.',
  ],
  'audit:checkpoint': [
    'Signs the audit chain head now, as the hourly job does. The chain is verified from the last proven checkpoint first; nothing is signed over a chain that does not verify. The request is itself audited (audit.checkpoint-requested) and covered by the checkpoint. Prints the checkpoint as JSON (null when the head is signed already).',
    'Reads the same environment as the service. Exit codes: 0 signed (or signed already), 1 refused (naming\nthe problem), 2 on bad usage or configuration.',
  ],
  migrate: [
    'Applies every pending database migration, then masks phone numbers in values stored before every field was checked (queues, agents, call ids, hold reasons, case references and notes, token names), appending one audit entry that says what it changed. The service also does both at start.',
    'Reads DATABASE_URL and DATA_DIR. Exit codes: 0 done, 2 on bad usage or configuration.',
  ],
  'storage:lifecycle': [
    "Puts gallra's lifecycle rules on the configured S3 bucket: expiry of recordings/ one day after RETENTION_DAYS, and clean-up of incomplete multipart uploads. Other rules on the bucket are kept.",
    'Needs STORAGE_DRIVER=s3 and S3_BUCKET. Exit codes: 0 done, 1 when the rules could not be applied or\nthe configuration is wrong, 2 on bad usage.',
  ],
};

const noArgsProgram = (name: string) => (done: Done<Record<string, never>>) => program(name, ...NO_ARGS[name]!).action(() => done({}));

export const AUDIT_VERIFY_HELP = helpOf(noArgsProgram('audit:verify'));
export const AUDIT_CHECKPOINT_HELP = helpOf(noArgsProgram('audit:checkpoint'));
export const MIGRATE_HELP = helpOf(noArgsProgram('migrate'));
export const STORAGE_LIFECYCLE_HELP = helpOf(noArgsProgram('storage:lifecycle'));
export const STORAGE_ENCRYPT_HELP = helpOf(noArgsProgram('storage:encrypt'));
export const parseNoArgs = (argv: string[]) => parseWith(noArgsProgram('migrate'), argv);

/**
 * Parses `process.argv` for a CLI: prints the help and exits 0 on --help, prints what is wrong and
 * the usage line and exits 2 on bad usage.
 */
export function cliArgs<T>(name: string, help: string, parser: (argv: string[]) => T | 'help', argv = process.argv.slice(2)): T {
  let parsed: T | 'help';
  try {
    parsed = parser(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n${help.split('\n')[0]}\n(--help for more)\n`);
    process.exit(2);
  }
  if (parsed === 'help') {
    process.stdout.write(`${help}\n`);
    process.exit(0);
  }
  return parsed;
}

// subject-request -------------------------------------------------------------------------------

export type SubjectRequestArgs =
  | { command: 'open'; kind: 'access' | 'restriction' | 'erasure' | 'objection'; reference: string; received: string; note?: string; out?: string; until?: string; confirm?: number }
  | { command: 'list' }
  | { command: 'show' | 'answer' | 'close'; id: string }
  | { command: 'package'; id: string; out: string }
  | { command: 'erase'; id: string; confirm: number };

interface SubjectRequestOptions {
  reference?: string;
  received?: string;
  note?: string;
  out?: string;
  until?: string;
  confirm?: number;
}

const CASE_ID = /^sr_[0-9a-f]{16}$/;

function subjectRequestProgram(done: Done<SubjectRequestArgs>): Command {
  // The options belong to the program, so they may come before or after the command; each command
  // then refuses those that are not its own.
  const p = program(
    'subject-request',
    "Data-subject requests (GDPR art. 15, 17, 18, 21) for a registrar at a terminal. The caller's phone number is asked for on the terminal without echo, or read from standard input (its first line); it is never taken as an argument, which shell history and the process list would keep. Actions are audited as admin:cli@<user>.",
    'Without --confirm, an erasure or objection case is opened and the number of calls it would delete is\nprinted; nothing is deleted. Reads the same environment as the service. Exit codes: 0 done, 1 refused\nor failed (the reason on stderr), 2 bad usage or configuration.',
  )
    .option('--reference <ref>', "the municipality's case number (diarienummer); never a phone number")
    .option('--received <date>', 'when the request arrived (YYYY-MM-DD, Stockholm); due one calendar month later')
    .option('--note <text>', 'optional note on the case')
    .option('--out <file>', 'write the register extract (ZIP) there; progress goes to stderr')
    .option('--until <date>', 'restriction: hold the calls until this date (default: until the case is closed)')
    .option('--confirm <n>', 'erasure and objection: delete only if N is the number of calls that would go', checked((v) => (Number.isInteger(Number(v)) && Number(v) >= 0 ? Number(v) : undefined), 'must be a whole number'));
  const opts = (command: string, allowed: (keyof SubjectRequestOptions)[]): SubjectRequestOptions => {
    const o = p.opts<SubjectRequestOptions>();
    for (const k of Object.keys(o)) if (!allowed.includes(k as keyof SubjectRequestOptions)) throw new UsageError(`--${k} does not belong to ${command}`);
    return o;
  };
  const idArgument = (cmd: Command) => cmd.argument('<case id>', 'sr_…', checked((v) => (CASE_ID.test(v) ? v : undefined), 'must be a case id (sr_…)'));

  for (const kind of ['access', 'restriction', 'erasure', 'objection'] as const) {
    const own = kind === 'access' ? (['out'] as const) : kind === 'restriction' ? (['until'] as const) : (['confirm'] as const);
    p.command(kind)
      .description(`opens ${kind === 'restriction' ? 'a' : 'an'} ${kind} case (--reference, --received, --note, ${own.map((o) => `--${o}`).join(', ')})`)
      .action(() => {
        const o = opts(kind, ['reference', 'received', 'note', ...own]);
        if (!o.reference) throw new UsageError(`${kind} needs --reference`);
        if (!o.received) throw new UsageError(`${kind} needs --received`);
        done({ command: 'open', kind, reference: o.reference, received: o.received, note: o.note, out: o.out, until: o.until, confirm: o.confirm });
      });
  }
  p.command('list')
    .description('lists the open cases')
    .action(() => {
      opts('list', []);
      done({ command: 'list' });
    });
  for (const command of ['show', 'answer', 'close'] as const) {
    idArgument(p.command(command).description({ show: 'shows a case', answer: 'marks a case answered', close: 'closes a case' }[command])).action((id: string) => {
      opts(command, []);
      done({ command, id });
    });
  }
  idArgument(p.command('package').description('writes the register extract of an access case (--out)')).action((id: string) => {
    const o = opts('package', ['out']);
    if (!o.out) throw new UsageError('package needs --out');
    done({ command: 'package', id, out: o.out });
  });
  idArgument(p.command('erase').description('deletes the calls of an erasure or objection case (--confirm N)')).action((id: string) => {
    const o = opts('erase', ['confirm']);
    if (o.confirm === undefined) throw new UsageError('erase needs --confirm N');
    done({ command: 'erase', id, confirm: o.confirm });
  });
  return p;
}

export const SUBJECT_REQUEST_HELP = helpOf(subjectRequestProgram);
export const parseSubjectRequestArgs = (argv: string[]) =>
  parseWith(subjectRequestProgram, argv, 'a command is needed: access, restriction, erasure, objection, list, show, package, answer, close or erase');
