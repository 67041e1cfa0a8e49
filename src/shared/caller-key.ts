import { createHmac, createSecretKey } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { InvalidInput } from './errors.js';

/**
 * A caller's number is normalised to E.164 and kept only as HMAC-SHA256(secret, E.164): equal for
 * every way the same number is written, and useless without the secret.
 */
export type CallerKey = string;

export function normaliseNumber(input: string, pointer = '/number'): string {
  const raw = input.trim();
  // "00" is the international prefix from Sweden; libphonenumber reads it with region SE as well,
  // but being explicit keeps "0046…" and "+46…" identical whatever the default region.
  const candidate = raw.startsWith('00') ? '+' + raw.slice(2) : raw;
  const parsed = parsePhoneNumberFromString(candidate, 'SE');
  if (!parsed || !parsed.isPossible()) {
    throw new InvalidInput('invalid-number', 'The phone number could not be understood', {
      errors: [{ pointer, code: 'not-a-phone-number', detail: 'expected an E.164 number (+46701234567) or a Swedish number (070-123 45 67)' }],
    });
  }
  return parsed.number;
}

export function createCallerKeys(secret: string) {
  // The same key bytes as passing the string itself (UTF-8), made once instead of on every hash.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    /** Keyed hash of an already-normalised E.164 number. */
    ofE164(e164: string): CallerKey {
      return createHmac('sha256', key).update(e164, 'utf8').digest('hex');
    },
    /** Normalise, then hash. Throws InvalidInput naming `pointer` when the number is not a phone number. */
    of(number: string, pointer?: string): CallerKey {
      return this.ofE164(normaliseNumber(number, pointer));
    },
  };
}

export type CallerKeys = ReturnType<typeof createCallerKeys>;
