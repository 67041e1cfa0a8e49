import { isPossiblePhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * The one place that decides whether text holds a phone number. Every free-text or identifier field
 * (queue, agent, call id, request id, hold and deletion reasons, case references and notes, token
 * names, audit filters) goes through it, and so does the masking of values stored before it was this
 * strict.
 *
 * The text is normalised first (NFKC, so fullwidth and other compatibility digits become ASCII; any
 * other decimal digit too). A *run* is digits joined by at most two characters that are neither
 * letters nor digits, not counting spaces around them ("070-123 45 67", "070|1234567",
 * "070,123,45,67", "0470 - 10000"); letters end a run, so "070-1234567 eller 08-123456" is two runs.
 * Every stretch of consecutive digit groups in a run is tried, so "070-1234567, 08-123456" (one run)
 * finds both. A stretch is a number when libphonenumber accepts it: written nationally (0…) as a
 * possible Swedish number (a valid one at six digits, so "Dnr 2026-012345" is not), internationally
 * (+…, 00…) as a possible number, or as a Swedish number with its + left off (46701234567) as a valid
 * one. A run that is wholly dates and times ("2026-12-07 09:15", "08:30–09:15") is not a number, and
 * dates that begin a run ("mc-2026-11-03-0042") are not joined to what follows them.
 */

/** What `containsPhoneNumber` refuses, as a field error's detail (never the value). */
export const PHONE_NUMBER_REFUSED = 'must not contain a phone number';

/** What a masked number is replaced with in text stored before the detector caught it. */
export const NUMBER_MASK = '[nummer]';

/** At most two separator characters (neither letters nor digits), not counting up to two spaces either side ("0470 - 10000"). */
const SEPARATOR = String.raw`(?=[^\p{L}\p{N}])\s{0,2}[^\p{L}\p{N}\s]{0,2}\s{0,2}`;
const RUN = new RegExp(String.raw`\d+(?:${SEPARATOR}\d+)*`, 'gu');
const GROUP = /(\d+)|[^\d]+/g;
/** ISO (2026-12-07) and Swedish (7.12.2026, 7/12/2026) calendar dates. */
const DATE = String.raw`(?:(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])|(?:0?[1-9]|[12]\d|3[01])[./](?:0?[1-9]|1[0-2])[./](?:19|20)\d\d)`;
const TIME = String.raw`(?:[01]?\d|2[0-3])[:.][0-5]\d(?:[:.][0-5]\d)?`;
const MOMENT = String.raw`(?:${DATE}(?:(?:,?\s{1,2}|_)${TIME})?|${TIME})`;
/**
 * A run that is wholly dates and times: one, a range (– or -, / between them), or a list (", ").
 * Times joined by their own separator ("08:23:45:12:34") are not a list: that is a number.
 */
const BETWEEN_MOMENTS = String.raw`(?:\s{0,2}[-–—/]\s{0,2}|[,;]\s{0,2}|\s{1,2})`;
const ONLY_DATES_AND_TIMES = new RegExp(String.raw`^${MOMENT}(?:${BETWEEN_MOMENTS}${MOMENT})*$`, 'u');
/**
 * Dates (with their times) that begin a run, as in "2026-12-07-0001" or "2026-12-07 0701234567": no
 * number begins with a year, so their digits are not joined to what follows; what follows is checked.
 */
const LEADING_DATES = new RegExp(String.raw`^(?:${DATE}(?:(?:,?\s{1,2}|_)${TIME})?${BETWEEN_MOMENTS}?)+(?=[^\d])`, 'u');
/** The longest digit string a written number takes: 00 + 15 digits of E.164. */
const MAX_DIGITS = 17;
const MIN_DIGITS = 6;

/**
 * Identifier shapes that platforms and gallra generate, accepted whole whatever digits they hold: a
 * UUID (optionally after a short prefix: hold_…, call-…), a Twilio-style SID (two letters, 32 hex
 * digits), 64 hex digits (a SHA-256), and gallra's own ids (tok_…, sr_…, opt_…, cop_…, ses_…).
 */
const GENERATED_IDENTIFIER = new RegExp(
  '^(?:' +
    [
      String.raw`(?:[A-Za-z]{1,16}[-_.:])?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
      String.raw`[A-Za-z]{2}[0-9a-f]{32}`,
      // 46elks: one letter (c for calls, s for messages) and 32 hex digits.
      String.raw`[a-z][0-9a-f]{32}`,
      String.raw`[0-9a-f]{64}`,
      String.raw`[a-z]{2,5}_[0-9a-f]{12,32}`,
    ].join('|') +
    ')$',
  'i',
);

/** NFKC, then every remaining decimal digit (Arabic-Indic, Devanagari, …) as its ASCII digit. */
export function normaliseDigits(text: string): string {
  return text.normalize('NFKC').replace(/[^\P{Nd}0-9]/gu, (d) => {
    // Unicode keeps each script's digits contiguous, 0 to 9, so a digit's value is its distance from
    // the start of its block modulo 10.
    let cp = d.codePointAt(0)!;
    const start = cp;
    while (/\p{Nd}/u.test(String.fromCodePoint(cp - 1))) cp--;
    return String((start - cp) % 10);
  });
}

function isNumber(digits: string, plus: boolean): boolean {
  if (digits.length < MIN_DIGITS) return false;
  if (plus) return isPossiblePhoneNumber('+' + digits);
  if (digits.startsWith('00')) return isPossiblePhoneNumber('+' + digits.slice(2));
  // A six-digit serial with a leading zero ("Dnr 2026-012345") is possible but not valid: it must be valid.
  if (digits.startsWith('0')) return digits.length > MIN_DIGITS ? isPossiblePhoneNumber(digits, 'SE') : (parsePhoneNumberFromString(digits, 'SE')?.isValid() ?? false);
  // A Swedish number written internationally with its + left off (46701234567). Only Sweden's: read as
  // any country's, every 9–15-digit reference (organisation and invoice numbers) would be a candidate.
  return digits.startsWith('46') && digits.length >= 9 && (parsePhoneNumberFromString('+' + digits)?.isValid() ?? false);
}

/**
 * Where the first number in a run starts (at a + written before it, if one is), as an index into
 * `text`; -1 when the run holds none. `at` is where the run starts in `text`.
 */
function numberStart(text: string, at: number, run: string): number {
  if (ONLY_DATES_AND_TIMES.test(run)) return -1;
  const dates = LEADING_DATES.exec(run)?.[0];
  if (dates) {
    const digitAt = dates.length + run.slice(dates.length).search(/\d/);
    return numberStart(text, at + digitAt, run.slice(digitAt));
  }
  // Each group of digits, where it starts, and where a + written before it is (else where it starts).
  const groups: { digits: string; start: number }[] = [];
  let separator = /[^\p{L}\p{N}]{0,2}$/u.exec(text.slice(Math.max(0, at - 2), at))![0];
  let separatorAt = at - separator.length;
  for (const m of run.matchAll(GROUP)) {
    if (m[1] === undefined) {
      separator = m[0];
      separatorAt = at + m.index;
      continue;
    }
    const plus = separator.lastIndexOf('+');
    groups.push({ digits: m[1], start: plus < 0 ? at + m.index : separatorAt + plus });
    separator = '';
  }
  for (let i = 0; i < groups.length; i++) {
    const plus = text[groups[i]!.start] === '+';
    let digits = '';
    for (let j = i; j < groups.length && digits.length + groups[j]!.digits.length <= MAX_DIGITS; j++) {
      digits += groups[j]!.digits;
      if (isNumber(digits, plus)) return groups[i]!.start;
    }
    // A group longer than a number can be still holds one inside it ("agent0046701234567x").
    if (groups[i]!.digits.length > MAX_DIGITS) return groups[i]!.start;
  }
  return -1;
}

/**
 * Where numbers are in `normalised`: from the start of the first number in a run to the run's end (the
 * groups before it, such as a case number, hold none; those after it may belong to it).
 */
function numberRuns(normalised: string): { index: number; length: number }[] {
  const found: { index: number; length: number }[] = [];
  for (const m of normalised.matchAll(RUN)) {
    const from = numberStart(normalised, m.index, m[0]);
    if (from >= 0) found.push({ index: from, length: m.index + m[0].length - from });
  }
  return found;
}

/**
 * True when `text` holds something a person would read as a phone number, in any spelling: "070-123 45 67",
 * "+46 (0)70…", "0046 70…", "46701234567", "070|1234567", "070,123,45,67", fullwidth "０７０１２３４５６７",
 * "call-0701234567". Dates, times, case numbers ("KS 2026/1234", "Dnr 2026-00123") and organisation
 * numbers ("212000-1355") are not numbers.
 */
export function containsPhoneNumber(text: string): boolean {
  return numberRuns(normaliseDigits(text)).length > 0;
}

/**
 * True when an identifier (a call id, a request id, an audit filter's id) holds a phone number. The
 * shapes platforms and gallra generate (UUID, SID, 64 hex digits, gallra's ids) are accepted whole;
 * anything else goes through the same detector as free text.
 */
export function identifierHoldsPhoneNumber(id: string): boolean {
  return !GENERATED_IDENTIFIER.test(id) && containsPhoneNumber(id);
}

/**
 * The text with every number replaced by NUMBER_MASK (from where it starts to the end of its run: what
 * follows in the run may belong to it); the text unchanged when it holds none. The result is in
 * normalised form only when something was masked.
 */
export function maskPhoneNumbers(text: string): string {
  const normalised = normaliseDigits(text);
  const runs = numberRuns(normalised);
  if (!runs.length) return text;
  let out = '';
  let at = 0;
  for (const r of runs) {
    out += normalised.slice(at, r.index) + NUMBER_MASK;
    at = r.index + r.length;
  }
  return out + normalised.slice(at);
}
