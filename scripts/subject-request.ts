/**
 * npm run subject-request -- … — data-subject requests from a terminal (see SUBJECT_REQUEST_HELP).
 * The number is read without echo from the terminal, or from standard input; never from argv.
 */
import '../src/shared/require-supported-node.js'; // first: refuse an unsupported Node.js before loading anything
import { createWriteStream } from 'node:fs';
import { userInfo } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { ConfigError, loadResolvedConfig, type ResolvedConfig } from '../src/config.js';
import { SecretMismatch } from '../src/secrets/index.js';
import { createServices } from '../src/services.js';
import { createKeyStore } from '../src/encryption/index.js';
import { systemClock } from '../src/shared/clock.js';
import { createDatabase, migrateLatest } from '../src/shared/database.js';
import { DomainError } from '../src/shared/errors.js';
import { createLogger } from '../src/shared/logger.js';
import { createStore } from '../src/storage/index.js';
import { confirmBody, openBody, parseCaseInput, restrictBody } from '../src/subject-requests/index.js';
import { cliArgs, parseSubjectRequestArgs, SUBJECT_REQUEST_HELP, type SubjectRequestArgs } from './cli-args.js';

const actor = `admin:cli@${userInfo().username}`;

/** The number: typed at a terminal with echo off, or the first line of piped standard input. */
async function readNumber(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) {
      text += String(chunk);
      if (text.includes('\n')) break;
    }
    return text.split(/\r?\n/).find((l) => l.trim())?.trim() ?? '';
  }
  process.stderr.write("The caller's phone number (not shown): ");
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed.trim());
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

async function run(args: SubjectRequestArgs, s: ReturnType<typeof createServices>): Promise<number> {
  const { requests, packages } = s.subjectRequests;
  // The same schemas as the API's bodies: a reference or note holding a phone number is refused here too.
  const confirm = (n: number) => parseCaseInput(confirmBody, { confirm: n });
  const writePackage = async (id: string, out: string) => {
    const pkg = await packages.open(id, actor, { onProgress: (p) => process.stderr.write(`  ${p.index}/${p.total} ${p.file}\n`) });
    await pipeline(pkg.stream, createWriteStream(out, { flags: 'wx', mode: 0o600 }));
    process.stderr.write(`wrote ${out}: ${pkg.recordings} recording(s), ${pkg.files} files\n`);
  };
  switch (args.command) {
    case 'list':
      print(await requests.list());
      return 0;
    case 'show':
      print(await requests.get(args.id));
      return 0;
    case 'answer':
      print(await requests.answer(args.id, actor));
      return 0;
    case 'close':
      print(await requests.close(args.id, actor));
      return 0;
    case 'package':
      await writePackage(args.id, args.out);
      return 0;
    case 'erase': {
      const c = await requests.load(args.id);
      print(c.kind === 'objection' ? await requests.object(args.id, confirm(args.confirm), actor) : await requests.erase(args.id, confirm(args.confirm), actor));
      return 0;
    }
    case 'open': {
      const number = await readNumber();
      const c = await requests.open(parseCaseInput(openBody, { kind: args.kind, number, receivedAt: args.received, reference: args.reference, note: args.note }), actor);
      process.stderr.write(`opened ${args.kind} case ${c.id}, due ${c.dueDate}\n`);
      if (args.kind === 'access') {
        if (args.out) await writePackage(c.id, args.out);
        print(await requests.get(c.id));
        return 0;
      }
      if (args.kind === 'restriction') {
        print({ case: c, ...(await requests.restrict(c.id, parseCaseInput(restrictBody, { until: args.until }), actor)) });
        return 0;
      }
      if (args.confirm === undefined) {
        const d = await requests.get(c.id);
        process.stderr.write(
          `this would delete ${d.counts.deletable} call(s) (${d.counts.held} held ones are kept); nothing deleted.\n` +
            `to go ahead: npm run subject-request -- erase ${c.id} --confirm ${d.counts.deletable}\n`,
        );
        print(d);
        return 0;
      }
      print({ case: c, ...(args.kind === 'objection' ? await requests.object(c.id, confirm(args.confirm), actor) : await requests.erase(c.id, confirm(args.confirm), actor)) });
      return 0;
    }
  }
}

async function main(): Promise<number> {
  const args = cliArgs('subject-request', SUBJECT_REQUEST_HELP, parseSubjectRequestArgs);
  let config: ResolvedConfig;
  try {
    config = loadResolvedConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`subject-request: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const db = createDatabase(config.databaseUrl);
  const keyStore = createKeyStore(config.encryption!);
  try {
    await migrateLatest(db);
    const logger = createLogger({ level: config.logLevel, stream: process.stderr });
    const services = createServices({ config, db, store: createStore(config), logger, clock: systemClock, keyStore });
    // Numbers are turned into caller keys here: with another secret than the service's they would match nothing.
    await services.secretFingerprints.verify({ CALLER_KEY_SECRET: config.callerKeySecret }, 'system:subject-request');
    return await run(args, services);
  } catch (err) {
    if (err instanceof SecretMismatch) {
      process.stderr.write(`subject-request: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DomainError) {
      const fields = err.details.errors?.map((e) => ` ${e.pointer}: ${e.detail}`).join(';') ?? '';
      process.stderr.write(`subject-request: ${err.message}${fields ? ` (${fields.trim()})` : ''}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.destroy();
    await keyStore.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`subject-request failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
