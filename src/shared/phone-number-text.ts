import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Whether free text (a case number, a reason, a note) seems to contain a phone number, so that a
 * number typed into the wrong field is refused before it reaches the database or the audit log.
 * A run of digits (spaces, dashes, dots, slashes and brackets allowed in between) counts when it is
 * written the way numbers are dialled in Sweden (a leading +, 00 or 0 and at least seven digits), or
 * when it is a valid number once read as international (46701234567). A diarienummer such as
 * "KS 2026/1234" or "BN 2026-000456" is neither.
 */
export function looksLikePhoneNumber(text: string): boolean {
  const runs = text.match(/\+?\d[\d\s().\/-]*\d/g) ?? [];
  return runs.some((run) => {
    const digits = run.replace(/\D/g, '');
    if (digits.length < 7) return false;
    if (run.startsWith('+') || digits.startsWith('0')) return true;
    return digits.length >= 9 && (parsePhoneNumberFromString('+' + digits)?.isValid() ?? false);
  });
}
