/**
 * Domain errors carry a code and details, never an HTTP status: http/problem.ts is the only place that
 * maps them to one.
 */
export interface FieldError {
  /** JSON pointer into the input, e.g. "/metadata/endedAt". */
  pointer: string;
  detail: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: { errors?: FieldError[]; [k: string]: unknown } = {},
  ) {
    super(message);
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
