import { z } from 'zod';
import type { CallerKeys } from '../shared/caller-key.js';
import { containsPhoneNumber, identifierHoldsPhoneNumber, PHONE_NUMBER_REFUSED } from '../shared/phone-number-text.js';
import { BadRequest, DomainError, InvalidInput, type FieldError } from '../shared/errors.js';
import { fieldErrorOf } from '../shared/field-errors.js';

/** The webhook's metadata once validated. The number is already gone: only its keyed hash remains. */
export interface CallMetadata {
  callId: string;
  startedAt: Date;
  endedAt: Date;
  callerKey: string | null;
  queue: string | null;
  agentId: string | null;
  optOut: boolean;
}

const isoWithOffset = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, 'ISO 8601 date-time with an offset, e.g. 2026-11-23T09:15:00+01:00')
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a real date-time');

// Stored and shown to trainers: never a phone number, however it is spelled.
const shortText = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\u0000-\u001f]*$/, 'no control characters')
  .refine((v) => !containsPhoneNumber(v), PHONE_NUMBER_REFUSED);

/** Why a call id holding a number is refused (never the value). */
export const CALL_ID_REFUSED = `${PHONE_NUMBER_REFUSED}: the call id is stored, audited and shown to staff; send the platform's own call id (a UUID or SID)`;

/** The `metadata` part as JSON. */
export const callMetadataSchema = z.object({
  callId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, '1–128 characters of A–Z a–z 0–9 . _ : -')
    .refine((v) => !/^\.+$/.test(v), 'not only dots')
    // Stored, audited, shown in case views and written into register extracts' file names.
    .refine((v) => !identifierHoldsPhoneNumber(v), CALL_ID_REFUSED),
  startedAt: isoWithOffset,
  endedAt: isoWithOffset,
  caller: z.string().max(40, 'at most 40 characters').nullable(),
  queue: shortText.nullable().optional(),
  agentId: shortText.nullable().optional(),
  optOut: z.boolean().optional().default(false),
});

/** What makes a call's times believable. */
export interface CallTimeLimits {
  now: Date;
  /** How far ahead of the server's clock a call may start (the webhook's clock tolerance). */
  futureToleranceMs: number;
  maxCallDurationMs: number;
}

/**
 * Parses and validates the `metadata` part; errors name each field as a JSON pointer. A call that
 * starts in the future would be kept until then and never be overdue, so it is refused, as is one
 * longer than any call can be.
 */
export function parseCallMetadata(raw: string, callerKeys: CallerKeys, limits: CallTimeLimits): CallMetadata {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BadRequest('invalid-metadata-json', 'The metadata part is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new BadRequest('invalid-metadata-json', 'The metadata part must be a JSON object');
  }
  const parsed = callMetadataSchema.safeParse(json);
  if (!parsed.success) {
    // zod's message for the caller field never echoes the value.
    const errors: FieldError[] = parsed.error.issues.map((i) => fieldErrorOf(i));
    throw new InvalidInput('invalid-metadata', `Invalid metadata: ${errors.map((e) => e.pointer.slice(1)).join(', ')}`, { errors });
  }
  const m = parsed.data;
  const startedAt = new Date(m.startedAt);
  const endedAt = new Date(m.endedAt);
  if (endedAt < startedAt) {
    throw new InvalidInput('invalid-metadata', 'endedAt is before startedAt', { errors: [{ pointer: '/endedAt', code: 'before-start', detail: 'must be ≥ startedAt' }] });
  }
  if (startedAt.getTime() > limits.now.getTime() + limits.futureToleranceMs) {
    throw new InvalidInput('invalid-metadata', 'startedAt is in the future', {
      errors: [{ pointer: '/startedAt', code: 'in-the-future', detail: `must not be more than ${Math.round(limits.futureToleranceMs / 1000)} s ahead of the server's time` }],
    });
  }
  if (endedAt.getTime() - startedAt.getTime() > limits.maxCallDurationMs) {
    throw new InvalidInput('invalid-metadata', 'The call is longer than the longest call accepted', {
      errors: [{ pointer: '/endedAt', code: 'call-too-long', detail: `at most ${Math.round(limits.maxCallDurationMs / 60_000)} minutes after startedAt`, limit: Math.round(limits.maxCallDurationMs / 60_000) }],
    });
  }
  let callerKey: string | null = null;
  if (m.caller !== null && m.caller.trim() !== '') {
    try {
      callerKey = callerKeys.of(m.caller, '/caller');
    } catch (e) {
      if (e instanceof DomainError) throw new InvalidInput('invalid-metadata', 'caller is not a phone number', e.details);
      throw e;
    }
  }
  return { callId: m.callId, startedAt, endedAt, callerKey, queue: m.queue ?? null, agentId: m.agentId ?? null, optOut: m.optOut };
}
