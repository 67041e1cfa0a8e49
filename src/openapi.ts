import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { publicConsistencyQuery, publicReceipt, recordingIdParams, transparencyKey } from './audit-log/transparency.routes.js';
import { acknowledgementBody, consistencyProof, consistencyQuery, exportQuery, inclusionProof, inclusionQuery } from './audit-log/audit.routes.js';
import { callBody, callId, checkBody, numberBody, registerBody } from './opt-outs/opt-outs.routes.js';
import { policyBodySchema } from './retention-policy/index.js';
import { callMetadataSchema } from './recordings/index.js';
import { listQuery } from './recordings/playback.routes.js';
import { overviewQuery, retentionReportQuery } from './reports/reports.routes.js';
import { deleteBody, holdBody } from './retention/retention.routes.js';
import {
  caseDetails, caseIdParams, caseList, caseView, confirmBody, erasureResult, extendBody, objectionResult, openBody, restrictBody, restrictionResult,
} from './subject-requests/subject-requests.routes.js';
import { signIn } from './web/session.routes.js';
import { FIELD_ERROR_CODES, PROBLEM_CODES } from './shared/problem-codes.js';
import { problemType } from './http/problem.js';

/**
 * The API as OpenAPI 3.1, made by zod-openapi from the zod schemas the routes parse their input with
 * (request bodies, queries, the webhook's metadata) and the shapes they answer with (below). Served
 * at /openapi.json; the component tests check every response they see against it.
 */

const problem = z
  .looseObject({
    type: z.enum(PROBLEM_CODES.map(problemType) as [string, ...string[]]).meta({ description: 'One of the catalogue of problems (src/shared/problem-codes.ts); clients key their texts on it' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional().meta({ description: 'In English, for developers; the web interface shows its own text for the type' }),
    errors: z
      .array(
        z.object({
          pointer: z.string(),
          code: z.enum(FIELD_ERROR_CODES).meta({ description: 'Why the field was refused' }),
          detail: z.string(),
          limit: z.union([z.number(), z.string()]).optional().meta({ description: 'The bound a too-long, too-large, not-after, too-late or must-equal refers to' }),
        }),
      )
      .optional(),
    request_id: z.string().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const uuid = z.string().meta({ format: 'uuid' });
const instant = z.string().meta({ format: 'date-time' });
const recordingStatus = z.enum(['stored', 'discarded', 'deleted']);

const recordingView = z
  .object({
    id: uuid,
    callId: z.string(),
    status: recordingStatus,
    startedAt: instant,
    endedAt: instant,
    durationMs: z.number().int().nullable(),
    queue: z.string().nullable(),
    agentId: z.string().nullable(),
    contentType: z.string().nullable(),
    bytes: z.number().int().nullable(),
    deadline: instant,
    daysLeft: z.number().int(),
    deletedAt: instant.nullable(),
  })
  .loose()
  .meta({ id: 'Recording' });

const stored = z.object({ id: uuid, callId: z.string(), status: z.enum(['stored', 'deleted']), bytes: z.number().int(), sha256: z.string(), deadline: instant }).meta({ id: 'StoredRecording' });
const discarded = z.object({ callId: z.string(), status: z.literal('discarded'), reason: z.string() }).meta({ id: 'DiscardedRecording' });
const hold = z
  .object({ id: z.string(), recordingId: uuid, reason: z.string(), until: instant.nullable(), placedAt: instant, placedBy: z.string(), releasedAt: instant.nullable(), releasedBy: z.string().nullable(), lapsedAt: instant.nullable() })
  .meta({ id: 'Hold' });
const count = z.number().int().min(0);
const outcomeTotals = z
  .object({
    'deleted-on-time': count, 'deleted-late': count, 'deleted-on-request': count, held: count, 'held-for-request': count, discarded: count, 'stored-not-yet-due': count, overdue: count, all: count,
  })
  .meta({ id: 'OutcomeTotals', description: "Calls of the period by outcome: the retention report's totals" });
const complianceOverview = z
  .object({
    from: instant,
    to: instant,
    generatedAt: instant,
    totals: outcomeTotals,
    deletionsPerDay: z.array(z.object({ date: z.string().meta({ format: 'date' }), due: count, onTime: count, late: count })),
    stored: z.object({
      count, held: count, oldestUnheldDays: z.number().int().nullable(), oldestHeldDays: z.number().int().nullable(), retentionDays: z.number().int(),
      byAge: z.array(z.object({ days: z.number().int(), unheld: count, held: count })),
      unknownCaller: z
        .object({ count, bySource: z.array(z.object({ source: z.string(), count })) })
        .meta({ description: 'Stored calls kept without a caller number (the platform gave none, or it was withheld): no opt-out or data-subject request can match them' }),
    }),
    chain: z.object({
      ok: z.boolean(), checkedAt: instant.nullable(), head: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
      problem: z.object({ seq: z.number().int(), kind: z.string() }).nullable(), acknowledged: z.boolean(),
    }),
    latestCheckpoint: z.object({ seq: z.number().int(), hash: z.string(), at: instant, keyId: z.string() }).nullable(),
    copiesKeptAtSources: z.array(z.object({ source: z.string(), reason: z.string() })).meta({ description: 'Sources configured with deleteAtSource: false: copies of their recordings remain there' }),
    byQueue: z.array(z.object({ queue: z.string().nullable(), totals: outcomeTotals })).meta({ description: "The period's calls per queue, by outcome" }),
    policyHistory: z
      .array(z.object({ version: z.number().int(), changedAt: instant, changedBy: z.string(), origin: z.string(), rules: z.array(z.looseObject({})), appliedAt: instant.nullable().optional() }))
      .meta({ description: 'Every version of the retention policy per queue, newest first' }),
  })
  .meta({ id: 'ComplianceOverview' });
const activeHold = hold
  .extend({ callId: z.string(), startedAt: instant, deadline: instant, manual: z.boolean().meta({ description: 'Placed by hand (released here); false for a data-subject request\'s hold, released by its case' }) })
  .meta({ id: 'ActiveHold' });

// The ceiling is RETENTION_DAYS, known only at run time: the document states the configuration's largest.
const rulesBody = policyBodySchema(3650).meta({ id: 'RetentionPolicyRules', description: 'The rules; retainDays is at most RETENTION_DAYS (a larger one is refused with 422 naming it)' });
const policyRule = z.looseObject({ match: z.object({ queue: z.string() }), retainDays: z.number().int().optional(), record: z.literal(false).optional() });
const policyView = z
  .object({
    version: z.number().int().min(0).meta({ description: 'The stored version (0: no rules set; every call keeps RETENTION_DAYS)' }),
    rules: z.array(policyRule),
    changedAt: instant.nullable(),
    changedBy: z.string().nullable(),
    origin: z.enum(['api', 'file', 'cli']).nullable(),
    ceilingDays: z.number().int().meta({ description: 'RETENTION_DAYS: no rule keeps a call longer' }),
    file: z.string().nullable().meta({ description: 'RETENTION_POLICY_FILE when the policy comes from that file (then read-only here)' }),
    editable: z.boolean(),
  })
  .meta({ id: 'RetentionPolicy' });
const policyVersion = z
  .object({ version: z.number().int(), rules: z.array(policyRule), origin: z.enum(['api', 'file', 'cli']), changedBy: z.string(), changedAt: instant, appliedAt: instant.nullable() })
  .meta({ id: 'RetentionPolicyVersion' });

const PROBLEM_STATUSES = { 400: 'Bad request', 401: 'Authentication required', 403: 'Forbidden', 404: 'Not found', 408: 'Request timeout', 409: 'Conflict', 410: 'Gone', 413: 'Content too large', 415: 'Unsupported media type', 416: 'Range not satisfiable', 422: 'Unprocessable content', 429: 'Too many requests', 500: 'Internal error', 503: 'Service unavailable' } as const;
type ProblemStatus = keyof typeof PROBLEM_STATUSES;
/** Every route can answer these: no or a bad credential, a blocked one, a slow client, an outage. */
const ALWAYS: ProblemStatus[] = [400, 401, 403, 408, 413, 415, 422, 429, 500, 503];

const json = (schema: z.ZodType, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const problems = (...extra: ProblemStatus[]): ZodOpenApiResponsesObject =>
  Object.fromEntries(
    [...new Set([...ALWAYS, ...extra])].map((s) => [
      String(s),
      {
        description: PROBLEM_STATUSES[s],
        // A database or store that cannot serve now: retry after this many seconds.
        ...(s === 503 ? { headers: z.object({ 'Retry-After': z.string().regex(/^\d+$/).meta({ description: 'Seconds to wait before retrying' }) }) } : {}),
        content: { 'application/problem+json': { schema: problem } },
      },
    ]),
  );
const op = (o: ZodOpenApiOperationObject & { extraProblems?: ProblemStatus[] }): ZodOpenApiOperationObject => {
  const { extraProblems = [], ...rest } = o;
  return { ...rest, responses: { ...problems(...extraProblems), ...rest.responses } };
};
const bearer: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];
const jsonBody = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const recordingIdParam = z.object({ id: uuid });
const audio = { 'audio/wav': { schema: z.string().meta({ format: 'binary' }) }, 'audio/mpeg': { schema: z.string().meta({ format: 'binary' }) }, 'audio/ogg': { schema: z.string().meta({ format: 'binary' }) }, 'audio/flac': { schema: z.string().meta({ format: 'binary' }) } };

export function openApiDocument(): ReturnType<typeof createDocument> {
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'gallra', version: '0.1.0', description: 'Recorded calls kept exactly as long as promised, then deleted provably.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token (npm run token)' },
        session: { type: 'apiKey', in: 'cookie', name: 'gallra_session' },
        webhook: { type: 'apiKey', in: 'header', name: 'webhook-signature', description: 'Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature over the raw body' },
        metrics: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
        twilioSignature: { type: 'apiKey', in: 'header', name: 'X-Twilio-Signature', description: "Twilio's HMAC (SHA-1, or SHA-256 per X-Twilio-Webhooks-Signature-Settings) over the source's configured public URL and the sorted form fields" },
        platformBasic: { type: 'http', scheme: 'basic', description: "46elks and others: the source's basicUser and its password (basicPasswordFile)" },
      },
    },
    paths: {
      '/v1/recordings': {
        post: op({
          summary: "A finished call (the phone system's signed webhook)",
          security: [{ webhook: [] }],
          requestBody: {
            content: {
              'multipart/form-data': {
                schema: z.object({ metadata: callMetadataSchema, audio: z.string().meta({ format: 'binary' }) }),
                encoding: { metadata: { contentType: 'application/json' } },
              },
            },
          },
          responses: { 201: json(stored, 'Stored'), 200: json(z.union([stored, discarded]), 'A retry of a call already received, or a discarded call') },
          extraProblems: [409],
        }),
        get: op({ summary: 'List recordings', security: bearer, requestParams: { query: listQuery }, responses: { 200: json(z.object({ items: z.array(recordingView), nextCursor: z.string().nullable() })) } }),
      },
      '/v1/recordings/filters': {
        get: op({
          summary: 'The queues and agents of the recordings the caller may list (for pickers)',
          security: bearer,
          responses: { 200: json(z.object({ queues: z.array(z.string()), agentIds: z.array(z.string()) })) },
        }),
      },
      '/v1/holds': {
        get: op({
          summary: 'Holds in force, with the call each keeps',
          security: bearer,
          responses: { 200: json(z.object({ items: z.array(activeHold) })) },
        }),
      },
      '/v1/recordings/{id}': {
        get: op({ summary: 'One recording', security: bearer, requestParams: { path: recordingIdParam }, responses: { 200: json(recordingView) }, extraProblems: [404, 410] }),
        delete: op({
          summary: 'Delete a recording now',
          security: bearer,
          requestParams: { path: recordingIdParam },
          requestBody: jsonBody(deleteBody),
          responses: { 200: json(z.looseObject({ id: uuid, callId: z.string(), status: recordingStatus, deadline: instant })) },
          extraProblems: [404, 409, 410],
        }),
      },
      '/v1/recordings/{id}/audio': {
        get: op({ summary: 'The audio, with Range support', security: bearer, requestParams: { path: recordingIdParam }, responses: { 200: { description: 'The audio', content: audio }, 206: { description: 'A range of the audio', content: audio } }, extraProblems: [404, 410, 416] }),
        head: op({ summary: 'Length and type of the audio (checks the store)', security: bearer, requestParams: { path: recordingIdParam }, responses: { 200: { description: 'The audio is there' } }, extraProblems: [404, 410] }),
      },
      '/v1/recordings/{id}/hold': {
        post: op({ summary: 'Place a hold', security: bearer, requestParams: { path: recordingIdParam }, requestBody: jsonBody(holdBody), responses: { 201: json(hold, 'Placed') }, extraProblems: [404, 409, 410] }),
        delete: op({ summary: 'Release the hold', security: bearer, requestParams: { path: recordingIdParam }, responses: { 200: json(hold, 'Released') }, extraProblems: [404] }),
      },
      '/v1/retention-policy': {
        get: op({ summary: 'The retention policy per queue and its version (admin, auditor)', security: bearer, responses: { 200: json(policyView) } }),
        put: op({
          summary: 'Replace the rules (admin); answered with the stored version',
          description: 'An exact queue name beats a glob, a longer glob a shorter one, and between equals the shortest retention wins (record: false shortest). retainDays is at most RETENTION_DAYS. Refused (409) while RETENTION_POLICY_FILE is the policy.',
          security: bearer,
          requestBody: jsonBody(rulesBody),
          responses: { 200: json(policyView) },
          extraProblems: [409],
        }),
      },
      '/v1/retention-policy/preview': {
        post: op({
          summary: 'What saving these rules would do to stored recordings (admin); nothing changes',
          security: bearer,
          requestBody: jsonBody(rulesBody),
          responses: { 200: json(z.object({ shortened: count, deletedAtNextRun: count })) },
        }),
      },
      '/v1/retention-policy/history': {
        get: op({ summary: 'Every version of the retention policy, newest first (admin, auditor)', security: bearer, responses: { 200: json(z.object({ items: z.array(policyVersion) })) } }),
      },
      '/v1/retention/overdue': {
        get: op({ summary: 'Recordings still stored past their deadline', security: bearer, responses: { 200: json(z.object({ count: z.number().int(), recordings: z.array(z.object({ id: uuid, callId: z.string(), startedAt: instant, deadline: instant, holdId: z.string().nullable() })) })) } }),
      },
      '/v1/opt-outs': {
        post: op({
          summary: 'Register an opt-out',
          security: bearer,
          requestBody: jsonBody(registerBody),
          responses: {
            201: json(z.looseObject({ id: z.string(), createdAt: instant }), 'Registered'),
            200: json(z.looseObject({ id: z.string(), createdAt: instant }), 'Already registered'),
          },
        }),
      },
      '/v1/opt-outs/check': {
        post: op({
          summary: 'Did this caller opt out? (before recording)',
          description:
            'JSON, or a form (number=…) for IVRs and dialplans that cannot send JSON (Asterisk CURL()). With Accept: text/plain the answer is the single word record or do-not-record.',
          security: bearer,
          requestBody: { content: { 'application/json': { schema: checkBody }, 'application/x-www-form-urlencoded': { schema: checkBody } } },
          responses: {
            200: {
              description: 'The answer: phone systems should act on record (optedOut alone does not cover queues that are never recorded)',
              content: {
                'application/json': {
                  schema: z.object({
                    optedOut: z.boolean().meta({ description: 'The caller opted out (kept for systems that read only this)' }),
                    record: z.boolean().meta({ description: 'Whether to record the call' }),
                    reason: z.enum(['caller-opted-out', 'queue-not-recorded']).optional().meta({ description: 'Why not, when record is false' }),
                  }),
                },
                'text/plain': { schema: z.enum(['record', 'do-not-record']) },
              },
            },
          },
        }),
      },
      '/v1/opt-outs/preview': {
        post: op({ summary: 'What deleting existing recordings of a number would delete', security: bearer, requestBody: jsonBody(numberBody), responses: { 200: json(z.looseObject({})) } }),
      },
      '/v1/opt-outs/remove': {
        post: op({ summary: 'The caller consents again', security: bearer, requestBody: jsonBody(numberBody), responses: { 200: json(z.object({ removed: z.boolean(), id: z.string().optional() })) } }),
      },
      '/v1/sources': {
        get: op({ summary: 'The sources polled for recordings: state, copies still there, rejected items (admin)', security: bearer, responses: { 200: json(z.object({ items: z.array(z.looseObject({ name: z.string() })) })) } }),
      },
      '/v1/sources/{name}/poll': {
        post: op({
          summary: 'Poll a source now (admin; audited)',
          security: bearer,
          requestParams: { path: z.object({ name: z.string() }) },
          responses: { 200: json(z.object({ report: z.looseObject({}).nullable(), error: z.looseObject({ code: z.string(), message: z.string() }).nullable() })) },
          extraProblems: [404],
        }),
      },
      '/v1/sources/{name}/notify': {
        post: op({
          summary: "A platform's notification of a finished recording (Twilio recordingStatusCallback, 46elks recordcall)",
          description:
            "Authenticated by the platform's own scheme, checked against the source's configured publicUrl. Answered 202 once the notification is durable; gallra then looks the call up (Twilio), asks the opt-outs, fetches the audio from the source's allowed hosts and deletes the platform's copy. A repeated notification of the same recording answers duplicate; a recording still in progress or failed answers 200 ignored.",
          security: [{ twilioSignature: [] }, { platformBasic: [] }],
          requestParams: { path: z.object({ name: z.string() }) },
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': {
                schema: z.looseObject({
                  AccountSid: z.string().optional(), CallSid: z.string().optional(), RecordingSid: z.string().optional(), RecordingUrl: z.string().optional(), RecordingStatus: z.string().optional(),
                  callid: z.string().optional(), wav: z.string().optional(), created: z.string().optional(), duration: z.string().optional(), from: z.string().optional(),
                }),
              },
            },
          },
          responses: {
            202: json(z.object({ status: z.enum(['accepted', 'duplicate']), recordingId: z.string().nullable() }), 'Accepted: the recording is fetched in the background'),
            200: json(z.object({ status: z.literal('ignored'), recordingId: z.null() }), 'Nothing to fetch (a recording in progress or failed)'),
          },
          extraProblems: [404],
        }),
      },
      '/v1/calls/{callId}/opt-out': {
        post: op({
          summary: "Opt one call out after the fact: every source's recording of the call id, or with recordingSource one source's",
          security: bearer,
          requestParams: { path: z.object({ callId }) },
          requestBody: jsonBody(callBody),
          responses: { 200: json(z.object({ id: z.string(), callId: z.string(), status: z.string() })), 202: json(z.object({ id: z.string(), callId: z.string(), status: z.string() }), 'Pending: the call has not arrived yet') },
        }),
      },
      '/v1/audit': {
        get: op({
          summary: 'Export the audit log',
          security: bearer,
          requestParams: { query: exportQuery },
          responses: { 200: { description: 'NDJSON or CSV', content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } } } },
        }),
      },
      '/v1/audit/verify': { get: op({ summary: 'Verify the chain against signed checkpoints', security: bearer, responses: { 200: json(z.looseObject({ ok: z.boolean() })) } }) },
      '/v1/audit/checkpoints': {
        get: op({ summary: 'Signed chain heads', security: bearer, responses: { 200: json(z.looseObject({ keyId: z.string(), checkpoints: z.array(z.looseObject({})) })) } }),
        post: op({
          summary: 'Sign the head now',
          security: bearer,
          responses: { 201: json(z.object({ checkpoint: z.looseObject({}) }), 'Signed'), 200: json(z.object({ checkpoint: z.null() }), 'Already signed') },
          extraProblems: [409],
        }),
      },
      '/v1/audit/acknowledgements': {
        post: op({ summary: 'Accept a problem the service found, naming it', security: bearer, requestBody: jsonBody(acknowledgementBody), responses: { 201: json(z.looseObject({}), 'Acknowledged') }, extraProblems: [409] }),
      },
      '/v1/audit/proofs/inclusion': {
        get: op({ summary: 'Inclusion proof of an entry in the Merkle tree of a size (auditor)', security: bearer, requestParams: { query: inclusionQuery }, responses: { 200: json(inclusionProof) } }),
      },
      '/v1/audit/proofs/consistency': {
        get: op({ summary: 'Consistency proof between two tree sizes (auditor)', security: bearer, requestParams: { query: consistencyQuery }, responses: { 200: json(consistencyProof) } }),
      },
      '/v1/audit/public-keys': { get: op({ summary: 'Every checkpoint signing key', security: bearer, responses: { 200: json(z.object({ keys: z.array(z.looseObject({})) })) } }) },
      '/v1/audit/public-key': { get: op({ summary: "The checkpoints' Ed25519 public key", security: bearer, responses: { 200: { description: 'PEM', content: { 'application/x-pem-file': { schema: z.string() } } } } }) },
      '/v1/reports/retention': {
        get: op({
          summary: 'Per-call retention outcome; format=csv: the rows for Swedish Excel (gallringsrapport.csv), format=csv-totals: the counts and discrepancies (gallringsrapport-summering.csv)',
          security: bearer,
          requestParams: { query: retentionReportQuery },
          responses: { 200: { description: 'JSON or CSV', content: { 'application/json': { schema: z.looseObject({}) }, 'text/csv': { schema: z.string() } } } },
        }),
      },
      '/v1/reports/overview': {
        get: op({
          summary: 'The compliance overview: outcomes of the period, deletions per day against deadlines, the age of what is stored, the chain',
          security: bearer,
          requestParams: { query: overviewQuery },
          responses: { 200: json(complianceOverview) },
        }),
      },
      '/v1/subject-requests': {
        post: op({ summary: 'Open a data-subject request', security: bearer, requestBody: jsonBody(openBody), responses: { 201: json(caseView, 'Opened') } }),
        get: op({ summary: 'Open cases, and those closed in the last 30 days', security: bearer, responses: { 200: json(caseList) } }),
      },
      '/v1/subject-requests/{id}': {
        get: op({ summary: 'One case and its calls', security: bearer, requestParams: { path: caseIdParams }, responses: { 200: json(caseDetails) }, extraProblems: [404] }),
      },
      '/v1/subject-requests/{id}/package': {
        get: op({ summary: 'The register extract (ZIP)', security: bearer, requestParams: { path: caseIdParams }, responses: { 200: { description: 'ZIP', content: { 'application/zip': { schema: z.string().meta({ format: 'binary' }) } } } }, extraProblems: [404, 409, 410] }),
      },
      '/v1/subject-requests/{id}/receipts': {
        get: op({
          summary: 'Deletion receipts of an erasure or objection case (ZIP: kvitton/<call>.tlog-proof and kvitton.html)',
          security: bearer,
          requestParams: { path: caseIdParams },
          responses: { 200: { description: 'ZIP', content: { 'application/zip': { schema: z.string().meta({ format: 'binary' }) } } } },
          extraProblems: [404, 409],
        }),
      },
      '/v1/subject-requests/{id}/extend': {
        post: op({ summary: 'Extend an open case by up to two months (art. 12(3))', security: bearer, requestParams: { path: caseIdParams }, requestBody: jsonBody(extendBody), responses: { 200: json(caseView) }, extraProblems: [404, 409] }),
      },
      '/v1/subject-requests/{id}/answer': {
        post: op({ summary: "Mark a case answered (ends an access request's preservation)", security: bearer, requestParams: { path: caseIdParams }, responses: { 200: json(caseView) }, extraProblems: [404, 409] }),
      },
      '/v1/subject-requests/{id}/close': {
        post: op({ summary: "Close a case: its holds are released and it forgets the caller key", security: bearer, requestParams: { path: caseIdParams }, responses: { 200: json(caseView) }, extraProblems: [404, 409] }),
      },
      '/v1/subject-requests/{id}/restrict': {
        post: op({ summary: "Restriction (art. 18): hold the caller's stored calls", security: bearer, requestParams: { path: caseIdParams }, requestBody: jsonBody(restrictBody), responses: { 200: json(restrictionResult) }, extraProblems: [404, 409] }),
      },
      '/v1/subject-requests/{id}/erase': {
        post: op({
          summary: "Erasure (art. 17): delete the caller's unheld calls; confirm names their number",
          security: bearer,
          requestParams: { path: caseIdParams },
          requestBody: jsonBody(confirmBody),
          responses: { 200: json(erasureResult) },
          extraProblems: [404, 409],
        }),
      },
      '/v1/subject-requests/{id}/object': {
        post: op({
          summary: "Objection (art. 21): register the standing opt-out, then delete the caller's unheld calls; confirm names their number",
          security: bearer,
          requestParams: { path: caseIdParams },
          requestBody: jsonBody(confirmBody),
          responses: { 200: json(objectionResult) },
          extraProblems: [404, 409],
        }),
      },
      '/v1/session': {
        post: op({
          summary: 'Sign in to the web interface with an access token (only without OIDC_ISSUER, or with ALLOW_TOKEN_SIGNIN)',
          requestBody: jsonBody(signIn),
          responses: { 201: json(z.object({ role: z.string(), roles: z.array(z.string()), name: z.string(), csrfToken: z.string(), expiresAt: instant }), 'Signed in') },
        }),
        get: op({
          summary: "Who is signed in, and the session's CSRF token for requests that change something",
          security: bearer,
          responses: { 200: json(z.object({ role: z.string(), roles: z.array(z.string()), name: z.string(), via: z.string(), csrfToken: z.string().optional() })) },
        }),
        delete: op({
          summary: "Sign out; a person signed in with the identity provider is also sent to the provider's sign-out",
          responses: { 204: { description: 'Signed out' }, 200: json(z.object({ signOutUrl: z.string() }), "Signed out of gallra; the provider's sign-out page") },
        }),
      },
      '/v1/transparency/checkpoint': {
        get: op({
          summary: 'The latest signed tree head (C2SP tlog-checkpoint note) with its witnesses\' cosignatures; no sign-in',
          responses: { 200: { description: 'Signed note', content: { 'text/plain': { schema: z.string() } } } },
          extraProblems: [404],
        }),
      },
      '/v1/transparency/key': { get: op({ summary: "The log's public key (C2SP verifier key and PEM); no sign-in", responses: { 200: json(transparencyKey) } }) },
      '/v1/transparency/consistency': {
        get: op({ summary: 'Consistency proof between two tree sizes, for witnesses; no sign-in', requestParams: { query: publicConsistencyQuery }, responses: { 200: json(consistencyProof) } }),
      },
      '/v1/transparency/deleted/{recordingId}': {
        get: op({
          summary: "Receipt of a recording's deletion entry (public projection and C2SP tlog-proof); no sign-in",
          requestParams: { path: recordingIdParams },
          responses: { 200: json(publicReceipt) },
          extraProblems: [404],
        }),
      },
      '/v1/transparency/cosignatures': {
        post: op({
          summary: "A witness's cosignature (C2SP tlog-cosignature) of a signed tree head; accepted for registered witness keys only",
          requestBody: { content: { 'text/plain': { schema: z.string() } } },
          responses: { 201: json(z.object({ size: z.number().int(), accepted: z.array(z.string()) }), 'Accepted') },
          extraProblems: [404],
        }),
      },
      '/v1/sign-in': {
        get: {
          summary: 'Which sign-ins the web interface offers, and the controller its footer names',
          responses: {
            200: json(
              z.object({
                oidc: z.boolean(),
                token: z.boolean(),
                controller: z.object({
                  name: z.string(), orgNumber: z.string(), contact: z.string(), dpoContact: z.string(),
                  configured: z.boolean().meta({ description: 'false: some CONTROLLER_* or DPO_CONTACT key is not set and reads "[ej konfigurerat: <KEY>]"' }),
                }),
              }),
            ),
          },
        },
      },
      '/v1/people': {
        get: op({
          summary: 'The names behind actors: user:<sub> (staff signed in with the identity provider) and <role>:<token id> (access tokens)',
          security: bearer,
          responses: {
            200: json(z.object({ items: z.array(z.object({ actor: z.string(), kind: z.enum(['person', 'token']), name: z.string(), roles: z.array(z.string()), lastSignedInAt: instant.nullable() })) })),
          },
        }),
      },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: json(z.object({ status: z.literal('ok') })) } } },
      '/readyz': {
        get: {
          summary: 'Readiness: database, store, overdue recordings',
          responses: { 200: json(z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.unknown()) })), 503: json(z.object({ status: z.literal('not-ready'), checks: z.record(z.string(), z.unknown()) }), 'Not ready') },
        },
      },
      '/metrics': {
        get: op({ summary: 'Prometheus metrics (METRICS_TOKEN, or on METRICS_LISTEN)', security: [{ metrics: [] }], responses: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: z.string() } } } }, extraProblems: [404] }),
      },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: json(z.looseObject({ openapi: z.string() })) } } },
    },
  });
}
