import type { z } from 'zod';
import type { FieldError, FieldErrorCode } from './errors.js';
import { PHONE_NUMBER_REFUSED } from './phone-number-text.js';

/**
 * One zod issue as a field error: its JSON pointer, a reason code and zod's English message (which
 * never echoes the value, so nothing a client sent, such as a number, ends up in a reply). A refinement
 * names its reason with `params: { reason }`; one refused with PHONE_NUMBER_REFUSED is
 * `contains-phone-number` wherever it is declared.
 */
export function fieldErrorOf(i: z.core.$ZodIssue, prefix = ''): FieldError {
  const pointer = prefix + '/' + (i.path.length ? i.path.join('/') : ((i as { keys?: string[] }).keys ?? []).join(','));
  const required = i.code === 'invalid_type' && i.input === undefined;
  const out: FieldError = { pointer, code: reasonOf(i), detail: required ? 'is required' : i.message };
  if (i.code === 'too_big' || i.code === 'too_small') {
    const bound = i.code === 'too_big' ? i.maximum : i.minimum;
    out.limit = typeof bound === 'bigint' ? Number(bound) : bound;
  }
  return out;
}

function reasonOf(i: z.core.$ZodIssue): FieldErrorCode {
  switch (i.code) {
    case 'invalid_type':
      return i.input === undefined ? 'required' : 'wrong-type';
    case 'too_big':
      return i.origin === 'string' || i.origin === 'array' ? 'too-long' : 'too-large';
    case 'too_small':
      if (i.origin === 'string' && Number(i.minimum) <= 1) return 'required';
      return i.origin === 'string' || i.origin === 'array' ? 'too-short' : 'too-small';
    case 'invalid_format':
      return 'invalid-format';
    case 'unrecognized_keys':
      return 'unknown-field';
    case 'custom': {
      const reason = (i.params as { reason?: FieldErrorCode } | undefined)?.reason;
      if (reason) return reason;
      return i.message === PHONE_NUMBER_REFUSED ? 'contains-phone-number' : 'invalid-value';
    }
    default:
      return 'invalid-value';
  }
}
