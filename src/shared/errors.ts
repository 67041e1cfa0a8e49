import type { FieldErrorCode, ProblemCode } from './problem-codes.js';

export type { FieldErrorCode, ProblemCode } from './problem-codes.js';

/**
 * Domain errors carry a code and details, never an HTTP status: http/problem.ts is the only place that
 * maps them to one.
 */
export interface FieldError {
  /** JSON pointer into the input, e.g. "/metadata/endedAt". */
  pointer: string;
  /** Why, as a code from FIELD_ERROR_CODES: what clients show, in their own language. */
  code: FieldErrorCode;
  /** The same in English, for developers; clients do not show it. */
  detail: string;
  /** The bound the code refers to: a length, a number, a date, minutes (call-too-long), days (period-too-long). */
  limit?: number | string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly details: { errors?: FieldError[]; [k: string]: unknown } = {},
    /** What went wrong underneath (a driver's error): for the log, never for the client. */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Malformed request: missing parts, unparseable JSON, wrong order. */
export class BadRequest extends DomainError {}
/** Well-formed but semantically invalid input. */
export class InvalidInput extends DomainError {}
export class Unauthenticated extends DomainError {}
export class Forbidden extends DomainError {}
export class NotFound extends DomainError {}
export class Conflict extends DomainError {}
/** A row with that key exists already (a unique constraint), e.g. a concurrent retry won. */
export class AlreadyExists extends Conflict {}
export class Gone extends DomainError {}
export class TooLarge extends DomainError {}
export class UnsupportedMedia extends DomainError {}
export class RangeNotSatisfiable extends DomainError {}
export class TooManyRequests extends DomainError {}
/** The client took too long to send its request. */
export class TimedOut extends DomainError {}
/** A dependency (store, database) failed; the operation may be retried. */
export class Unavailable extends DomainError {}

/** SQLite result codes of a database that is busy, locked, full, read-only or cannot be reached. */
const SQLITE_UNAVAILABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL', 'SQLITE_NOLFS']);
/** Node's system errors of a peer that is gone or slow, and of a disk that is full or read-only. */
const SYSTEM_UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND',
  'ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE',
]);
/**
 * PostgreSQL SQLSTATEs of a server that cannot serve now: connection exceptions (08), insufficient
 * resources (53: disk full, out of memory, too many connections), operator intervention (57P01–57P05,
 * and 57014, a statement cancelled by its timeout), a read-only (standby) server (25006), and the
 * transaction rollbacks that a retry resolves (40001 serialization failure, 40P01 deadlock), and a lock
 * another session held past lock_timeout (55P03).
 */
function isPostgresUnavailable(code: string, message: string): boolean {
  return (
    /^(08|53)[0-9A-Z]{3}$/.test(code) ||
    /^57P0[1-5]$/.test(code) ||
    ['57014', '25006', '40001', '40P01', '55P03'].includes(code) ||
    // A database that does not allow connections (ALTER DATABASE … ALLOW_CONNECTIONS false).
    (code === '55000' && /not currently accepting connections/.test(message))
  );
}
/** What node-postgres and knex's pool throw, without a code, when the server is gone or slow. */
const CLIENT_UNAVAILABLE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Knex: Timeout acquiring a connection)/;
const NAMES_UNAVAILABLE = new Set(['KnexTimeoutError', 'TimeoutError', 'RequestTimeout']);

function unavailableKind(err: unknown, depth = 0): 'database' | 'dependency' | undefined {
  if (err === null || typeof err !== 'object' || depth > 3) return undefined;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const name = typeof e.name === 'string' ? e.name : '';
  if (code && SQLITE_UNAVAILABLE.has(code.split('_').slice(0, 2).join('_'))) return 'database';
  if (code && isPostgresUnavailable(code, message)) return 'database';
  if (name === 'KnexTimeoutError' || CLIENT_UNAVAILABLE.test(message.split(' - ').pop() ?? '')) return 'database';
  if (code && SYSTEM_UNAVAILABLE.has(code)) return 'dependency';
  if (NAMES_UNAVAILABLE.has(name)) return 'dependency';
  return unavailableKind(e.cause, depth + 1);
}

/**
 * The driver's error of a database or store that cannot serve now (refused, reset, timed out, busy,
 * locked, full, read-only) as an `Unavailable` with a neutral message, the original kept as its cause
 * for the log; undefined for anything else (a constraint, a bug). Never throws.
 */
export function asUnavailable(err: unknown): Unavailable | undefined {
  let kind: ReturnType<typeof unavailableKind>;
  try {
    kind = unavailableKind(err);
  } catch {
    return undefined;
  }
  if (kind === 'database') return new Unavailable('database-unavailable', 'The database cannot serve this request now; retry later', {}, { cause: err });
  if (kind === 'dependency') return new Unavailable('dependency-unavailable', 'A service gallra depends on cannot be reached now; retry later', {}, { cause: err });
  return undefined;
}
