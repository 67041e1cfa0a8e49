import winston from 'winston';
import { DomainError } from './errors.js';

export type Logger = winston.Logger;

/**
 * JSON logs. Nothing personal is ever passed to the logger: phone numbers never leave the request
 * handler that normalises them, so there is nothing to redact here.
 */
export function createLogger(opts: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? 'info';
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'gallra' },
    transports: [opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console()],
  });
}

/**
 * What the log may say about an error: its name and code (and a driver's errno, syscall, severity),
 * and its cause the same way. The message and stack only of an error no driver made: knex prefixes a
 * failed query's message with the query, and PostgreSQL's detail quotes the failing row, so a
 * driver's text can carry bound values (a caller key). Never throws.
 */
export function errorFacts(err: unknown, opts: { stack?: boolean } = {}, depth = 0): Record<string, unknown> {
  try {
    if (err === null || typeof err !== 'object') return { type: typeof err };
    const e = err as { name?: unknown; code?: unknown; errno?: unknown; syscall?: unknown; severity?: unknown; message?: unknown; stack?: unknown; cause?: unknown };
    const facts: Record<string, unknown> = { name: typeof e.name === 'string' ? e.name : 'Error' };
    const fromDriver = e.code !== undefined && !(err instanceof DomainError);
    for (const k of ['code', 'errno', 'syscall', 'severity'] as const) {
      const v = e[k];
      if (typeof v === 'string' || typeof v === 'number') facts[k] = v;
    }
    if (!fromDriver && typeof e.message === 'string') facts.message = e.message;
    if (!fromDriver && opts.stack !== false && typeof e.stack === 'string' && !(err instanceof DomainError)) facts.stack = e.stack;
    if (e.cause !== undefined && depth < 3) facts.cause = errorFacts(e.cause, opts, depth + 1);
    return facts;
  } catch {
    return { name: 'Error' };
  }
}

/** errorFacts as one line, for reports that carry an error as text. */
export function errorSummary(err: unknown): string {
  const f = errorFacts(err, { stack: false });
  return [f.name, f.code, f.message].filter((v) => v !== undefined && v !== '').join(': ');
}
