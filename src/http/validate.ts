import type { z } from 'zod';
import { InvalidInput, type FieldError, type ProblemCode } from '../shared/errors.js';
import { fieldErrorOf } from '../shared/field-errors.js';

/**
 * Input (a body or a query string) → typed value, or InvalidInput naming every bad field as a JSON
 * pointer. zod's messages never echo the value, so nothing a client sent (a number) ends up in a reply.
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  opts: { code?: ProblemCode; what?: string; prefix?: string } = {},
): z.infer<T> {
  // reportInput: without it zod leaves issue.input unset, and a wrong-type field would read as missing.
  const r = schema.safeParse(value ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const errors: FieldError[] = r.error.issues.map((i) => fieldErrorOf(i, opts.prefix));
  const fields = errors.map((e) => e.pointer.slice(1) || 'body').join(', ');
  throw new InvalidInput(opts.code ?? 'invalid-input', opts.what ? `Invalid ${opts.what}: ${fields}` : `Invalid ${fields}`, { errors });
}
