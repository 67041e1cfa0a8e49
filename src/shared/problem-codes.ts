/**
 * Every problem the service can answer, by code: the last segment of an RFC 9457 problem's `type`
 * (https://gallra.example/problems/<code>). A DomainError's code is one of these (the type checker
 * holds every `new X('code', …)` to it), the OpenAPI document lists them as an enum, and the web
 * interface has a Swedish and an English text for each (a test walks this list).
 */
export const PROBLEM_CODES = [
  // Authentication and roles
  'authentication-required', 'invalid-credentials', 'invalid-sign-in', 'too-many-failed-sign-ins', 'token-sign-in-disabled',
  'no-role', 'forbidden', 'csrf-check-failed', 'metrics-token-required',
  // The phone system's webhook
  'missing-signature', 'invalid-signature', 'stale-signature',
  // Uploads
  'expected-multipart', 'invalid-multipart', 'metadata-first', 'metadata-too-large', 'missing-metadata', 'missing-audio', 'duplicate-metadata',
  'duplicate-audio', 'too-many-parts', 'unexpected-part', 'invalid-metadata-json', 'invalid-metadata', 'unsupported-audio', 'recording-too-large',
  'incomplete-body', 'quarantine-full', 'too-many-uploads', 'recording-exists', 'call-id-conflict',
  // Recordings, playback, holds, deletion
  'recording-not-found', 'invalid-recording-id', 'invalid-cursor', 'recording-not-stored', 'recording-deleted', 'recording-discarded',
  'recording-expired', 'recording-opted-out', 'recording-restricted', 'recording-missing', 'recording-held', 'recording-being-deleted',
  'range-not-satisfiable', 'invalid-hold', 'already-held', 'hold-not-found', 'hold-changed',
  // Retention policy per queue
  'invalid-retention-policy', 'retention-policy-from-file',
  // Opt-outs and numbers
  'invalid-number', 'already-opted-out', 'opt-out-deletion-incomplete',
  // Data-subject requests
  'invalid-subject-request', 'subject-request-not-found', 'subject-request-closed', 'subject-request-changed', 'wrong-kind', 'not-extendable',
  'not-answerable', 'caller-unknown', 'confirmation-mismatch', 'erasure-incomplete',
  // Access tokens
  'invalid-role', 'invalid-name', 'token-not-found',
  // Sources (recordings taken from where the phone systems put them)
  'source-not-found', 'invalid-notification',
  // Audit log
  'audit-chain-ok', 'audit-chain-broken', 'audit-problem-differs', 'checkpoint-exists', 'checkpoint-conflict',
  // Transparency log (receipts, signed tree heads, witnesses)
  'tree-head-pending', 'tree-inconsistent', 'invalid-cosignature', 'unknown-tree-head', 'receipt-not-found', 'too-many-requests',
  // Any request
  'invalid-query', 'invalid-input', 'expected-json', 'invalid-json', 'body-too-large', 'invalid-path', 'bad-request', 'not-found',
  'request-timeout', 'database-unavailable', 'storage-unavailable', 'store-unavailable', 'dependency-unavailable', 'internal',
  // At start only (never answered over HTTP): the secrets differ from the database's
  'secret-mismatch',
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];

/**
 * Why one field was refused, beside its JSON pointer in a problem's `errors`: the web interface says
 * it in Swedish or English from this code (and `limit`, where given), never from the English detail.
 */
export const FIELD_ERROR_CODES = [
  'required', 'wrong-type', 'too-short', 'too-long', 'too-small', 'too-large', 'invalid-format', 'invalid-value', 'unknown-field',
  'contains-phone-number', 'not-a-phone-number', 'in-the-future', 'in-the-past', 'before-start', 'too-late', 'not-after', 'reserved-prefix',
  'must-equal', 'invalid-cursor', 'call-too-long', 'period-too-long',
] as const;

export type FieldErrorCode = (typeof FIELD_ERROR_CODES)[number];
