import { findPhoneNumbersInText, isPossiblePhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Calendar dates and times, which the separator rule below would otherwise join into long digit runs. */
const DATES_AND_TIMES = /\b(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b|\b\d{1,2}:\d\d(?::\d\d)?\b/g;
/** What people put between the digits of a number: spaces, dashes, slashes, dots, brackets. */
const SEPARATORS_BETWEEN_DIGITS = /(?<=\d)[\s\u00a0\u2010-\u2015\-/.()]+(?=[\d(])/g;
const LETTER_DIGIT_SEAM = /(?<=\p{L})(?=\d)|(?<=\d)(?=\p{L})/gu;
/** How a number is written in Sweden: with the trunk 0, or internationally with + or 00. */
const DIALLABLE = /(?<![\d+])(?:\+|0)\d{6,}/g;

/**
 * True when `text` holds something a person would read as a phone number, in any common Swedish
 * spelling ("046-35 50 00", "+46 (0)46 35 50 00", "ring tillbaka 046/355000", "0046 70 …").
 * Separators between digits are removed first, so libphonenumber's text matcher sees each number as
 * one run; numbers it finds that are written nationally (0…) or internationally (+…, 00…) count, as do
 * digit runs so written that libphonenumber calls possible (short or unassigned ones), and valid
 * international numbers written without their + (46701234567). Case numbers (diarienummer),
 * dates and times ("Dnr 2026-1234", "2026-11-30 09:15") are not numbers.
 */
export function containsPhoneNumber(text: string): boolean {
  const normalised = text.replace(DATES_AND_TIMES, ' ').replace(LETTER_DIGIT_SEAM, ' ').replace(SEPARATORS_BETWEEN_DIGITS, '').replace(/\((?=[\d+])/g, ' ');
  for (const found of findPhoneNumbersInText(normalised, { defaultCountry: 'SE' })) {
    if (/[+0]/.test(normalised[found.startsAt] ?? '')) return true;
  }
  for (const [candidate] of normalised.matchAll(DIALLABLE)) {
    if (isPossiblePhoneNumber(candidate, 'SE')) return true;
  }
  // An international number with its + left off (46701234567).
  for (const [digits] of normalised.matchAll(/(?<![\d+])[1-9]\d{8,14}(?!\d)/g)) {
    if (parsePhoneNumberFromString('+' + digits)?.isValid()) return true;
  }
  return false;
}

/** The message a refused field carries (never the value). */
export const PHONE_NUMBER_REFUSED = 'must not contain a phone number';
