import { z } from 'zod';
import { InvalidInput, type FieldErrorCode } from '../shared/errors.js';
import { fieldErrorOf } from '../shared/field-errors.js';
import { containsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import { isCalendarDate } from './due-date.js';
import { KINDS } from './subject-request.js';
import type { ConfirmationInput, ExtensionInput, OpenInput, RestrictionInput } from './subject-requests.js';

/**
 * What a registrar sends to open and carry out a case, as zod schemas: the route file parses request
 * bodies with them (and /openapi.json describes them from them), the CLI parses its options with them,
 * so a reference or note holding a phone number is refused the same way wherever it is typed. Rules
 * that need the clock or the case (a receipt in the future, an extension past the latest date) stay in
 * the use case.
 */

// A check that fails names its reason (src/shared/field-errors.ts); `abort` keeps one error per field.
const failing = (message: string, reason: FieldErrorCode) => ({ message, params: { reason }, abort: true });

/** Free text a person types: trimmed, bounded, and never a phone number. */
const text = (max: number) =>
  z
    .string({ error: 'must be text' })
    .trim()
    .refine((v) => v !== '', failing('must not be empty', 'required'))
    .max(max, { message: `at most ${max} characters`, abort: true })
    .refine((v) => !containsPhoneNumber(v), failing(PHONE_NUMBER_REFUSED, 'contains-phone-number'));

/** Empty, blank, null or absent: no text. */
const optionalText = (max: number) =>
  z
    .string({ error: 'must be text' })
    .nullish()
    .transform((v) => (v?.trim() ? v : null))
    .pipe(text(max).nullable());

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const isIsoTime = (v: string) => ISO_TIME.test(v) && !Number.isNaN(Date.parse(v));

const calendarDate = z
  .string({ error: 'a date (YYYY-MM-DD)' })
  .refine(isCalendarDate, failing('a date (YYYY-MM-DD)', 'invalid-format'))
  .meta({ format: 'date', description: 'A calendar date in Stockholm (YYYY-MM-DD)' });

export const openBody = z
  .object({
    kind: z.enum(KINDS, { error: `one of ${KINDS.join(', ')}` }),
    number: z.string({ error: 'is required' }).meta({ description: "The data subject's phone number, in any common spelling. Never stored, logged or returned: turned into the caller key at once" }),
    receivedAt: z
      .string({ error: 'is required (YYYY-MM-DD or an ISO 8601 time)' })
      .trim()
      .refine((v) => v !== '', failing('is required (YYYY-MM-DD or an ISO 8601 time)', 'required'))
      .refine((v) => isCalendarDate(v) || isIsoTime(v), failing('expected a date (YYYY-MM-DD) or an ISO 8601 time with offset', 'invalid-format'))
      .meta({ description: 'When the request arrived: a Stockholm calendar date (YYYY-MM-DD) or an ISO 8601 time with offset; not in the future', examples: ['2026-11-02', '2026-11-02T09:30:00+01:00'] }),
    reference: text(100).meta({ description: "The municipality's case number (diarienummer); never a phone number" }),
    note: optionalText(1000).optional().meta({ description: 'At most 1000 characters; never a phone number' }),
  })
  .meta({ id: 'SubjectRequestOpen' }) satisfies z.ZodType<OpenInput>;

export const extendBody = z
  .object({
    reason: text(500).meta({ description: 'Why more time is needed; never a phone number' }),
    until: calendarDate.meta({ description: 'The new due date: after the due date, at most two more months (three after receipt)' }),
  })
  .meta({ id: 'SubjectRequestExtension' }) satisfies z.ZodType<ExtensionInput>;

export const restrictBody = z
  .object({
    until: z
      .string({ error: 'a date (YYYY-MM-DD)' })
      .refine((v) => v === '' || isCalendarDate(v), failing('a date (YYYY-MM-DD)', 'invalid-format'))
      .nullish()
      .transform((v) => v || null)
      .meta({ description: 'Hold the calls until the end of this day (not in the past); absent, empty or null: until the case is closed' }),
  })
  .meta({ id: 'SubjectRequestRestriction' }) satisfies z.ZodType<RestrictionInput>;

export const confirmBody = z
  .object({
    confirm: z.number({ error: 'the number of recordings this deletes' }).int().min(0).meta({ description: 'The number of recordings this deletes (counts.deletable of the case); anything else changes nothing' }),
  })
  .meta({ id: 'SubjectRequestConfirmation' }) satisfies z.ZodType<ConfirmationInput>;

/**
 * Input → typed value, or InvalidInput (invalid-subject-request) naming each bad field by its JSON
 * pointer and reason code. Messages never echo a value, so a number typed in a wrong field stays out.
 */
export function parseCaseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => fieldErrorOf(i));
  throw new InvalidInput('invalid-subject-request', `Invalid ${errors.map((e) => `${e.pointer.slice(1)}: ${e.detail}`).join('; ')}`, { errors });
}
