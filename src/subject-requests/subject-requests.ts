import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { DeleteRecordings, Recording } from '../recordings/index.js';
import type { Hold, RequestHolds } from '../retention/index.js';
import type { CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import type { Transact, Tx } from '../shared/transaction.js';
import { Conflict, InvalidInput, NotFound, Unavailable, type FieldErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  daysBetween, dueDateFor, endOfLocalDay, isCalendarDate, latestExtensionFor, localDateOf, localDateTime, startOfLocalDay, type LocalDate,
} from './due-date.js';
import type { CallOptOutFact, CaseOptOuts, CaseRecordings, SubjectRequestRepository } from './ports.js';
import {
  DELETED_ON_REQUEST, holdReasonFor, isRequestHoldReason, type CaseCall, type SubjectRequest, type SubjectRequestKind,
} from './subject-request.js';

/** Registers a standing opt-out for a caller key (the opt-out registry, port-shaped). */
export interface OptOutRegistration {
  registerCallerKey(callerKey: string, input: { source: 'subject-request' }, actor: string): Promise<{ id: string; created: boolean }>;
}

export interface SubjectRequestDeps {
  repo: SubjectRequestRepository;
  /** The recordings capability's: the caller's recordings. */
  recordings: CaseRecordings;
  /** Retention's: holds are placed and released through the capability that owns them. */
  holds: RequestHolds;
  /** The opt-outs capability's: what the case shows of the caller's opt-outs. */
  optOutRecords: CaseOptOuts;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  callerKeys: CallerKeys;
  deleteRecordings: DeleteRecordings;
  optOuts: OptOutRegistration;
  /** SUBJECT_REQUEST_PRESERVE: keep an access request's calls from deletion while it is open. */
  preserve: boolean;
}

/**
 * The inputs of the use cases, already parsed (subject-request-input.ts: the routes and the CLI parse
 * with those schemas): text trimmed and free of phone numbers, dates well formed. What needs the clock
 * or the case is checked here.
 */
export interface OpenInput {
  kind: SubjectRequestKind;
  number: string;
  /** A Stockholm calendar date (YYYY-MM-DD) or an ISO 8601 time with offset. */
  receivedAt: string;
  reference: string;
  note?: string | null;
}

export interface ExtensionInput {
  reason: string;
  /** A calendar date (YYYY-MM-DD). */
  until: LocalDate;
}

export interface RestrictionInput {
  /** A calendar date (YYYY-MM-DD); absent or null: until the case is closed. */
  until?: LocalDate | null;
}

export interface ConfirmationInput {
  /** The number of recordings the action deletes. */
  confirm: number;
}

export interface RestrictionResult {
  held: number;
  alreadyHeld: number;
  until: string | null;
}

export interface ErasureResult {
  deleted: number;
  /** Recordings kept because a hold is in force, with the hold's reason. */
  keptUnderHold: { recordingId: string; reason: string }[];
}

export interface ObjectionResult extends ErasureResult {
  optOutId: string;
  optOutCreated: boolean;
}

/** One call gallra knows for the caller, as a case shows it: never the number or the caller key. */
export interface MatchedCall {
  recordingId: string;
  callId: string;
  startedAt: string;
  endedAt: string;
  local: { date: string; time: string; zone: string };
  queue: string | null;
  durationMs: number | null;
  contentType: string | null;
  bytes: number | null;
  sha256: string | null;
  /** stored (audio kept), held (stored under a hold), deleted, discarded (never kept). */
  state: 'stored' | 'held' | 'deleted' | 'discarded';
  deadline: string;
  holds: { reason: string; until: string | null }[];
  deletedAt: string | null;
  /** Why it was deleted or discarded, e.g. retention, subject-request, number-opted-out. */
  reason: string | null;
  /** The case that deleted it, where one did. */
  deletedBy: string | null;
  callOptOut: { requestedAt: string; source: string | null } | null;
}

export interface CaseView extends Omit<SubjectRequest, 'callerKey'> {
  daysLeft: number | null;
  overdue: boolean;
  /** The due date in force: the extended one, or one month after receipt. */
  effectiveDueDate: LocalDate;
  /** Whether the caller key is still known (closed cases forget it). */
  callerKnown: boolean;
}

export interface CaseDetails {
  request: CaseView;
  calls: MatchedCall[];
  optOut: { id: string; since: string; source: string | null } | null;
  counts: { calls: number; stored: number; held: number; deleted: number; discarded: number; deletable: number };
  nothingHeld: boolean;
}

const CLOSED_VISIBLE_DAYS = 30;
const reasonPointer = (pointer: string, code: FieldErrorCode, detail: string, limit?: number | string) =>
  new InvalidInput('invalid-subject-request', `Invalid ${pointer.slice(1)}: ${detail}`, { errors: [{ pointer, code, detail, ...(limit === undefined ? {} : { limit }) }] });

/**
 * Data-subject requests (GDPR art. 15, 17, 18, 21) as audited cases. The number is turned into the
 * caller key at once and never stored, logged, audited or returned.
 */
export function createSubjectRequests(deps: SubjectRequestDeps) {
  const { repo, recordings: recordingRows, holds: requestHolds, optOutRecords, transaction, audit, clock, logger, callerKeys } = deps;

  function view(c: SubjectRequest, now: Date): CaseView {
    const { callerKey, ...rest } = c;
    const effectiveDueDate = c.extendedUntil ?? c.dueDate;
    const active = c.status === 'open' || c.status === 'extended';
    return {
      ...rest,
      effectiveDueDate,
      daysLeft: active ? daysBetween(localDateOf(now), effectiveDueDate) : null,
      overdue: active && now.toISOString() >= c.dueAt,
      callerKnown: callerKey !== null,
    };
  }

  async function load(id: string): Promise<SubjectRequest> {
    const c = await repo.findById(id);
    if (!c) throw new NotFound('subject-request-not-found', `No subject request ${id}`);
    return c;
  }

  function requireActive(c: SubjectRequest, what: string): void {
    if (c.status === 'closed') throw new Conflict('subject-request-closed', `Case ${c.id} is closed; it cannot be ${what}`, { status: c.status });
  }

  function requireKind(c: SubjectRequest, kinds: SubjectRequestKind[], what: string): void {
    if (!kinds.includes(c.kind)) {
      throw new Conflict('wrong-kind', `A ${c.kind} case cannot be ${what}; this needs a ${kinds.join(' or ')} case`, { kind: c.kind });
    }
  }

  /** A receipt given as a calendar date starts that day in Stockholm; it is never in the future. */
  function received(value: string, now: Date): { receivedAt: string; receivedDate: LocalDate } {
    const at = isCalendarDate(value) ? startOfLocalDay(value) : new Date(value);
    const date = isCalendarDate(value) ? value : localDateOf(at);
    if (date > localDateOf(now)) throw reasonPointer('/receivedAt', 'in-the-future', 'must not be in the future');
    return { receivedAt: at.toISOString(), receivedDate: date };
  }

  async function details(c: SubjectRequest, now: Date): Promise<CaseDetails> {
    const nowIso = now.toISOString();
    const byKey = c.callerKey ? await recordingRows.withCallerKey(c.callerKey) : [];
    const caseCalls = await repo.caseCallsOf(c.id, c.callerKey);
    const known = new Set(byKey.map((r) => r.id));
    const more = await recordingRows.findByIds([...new Set(caseCalls.map((cc) => cc.recordingId))].filter((id) => !known.has(id)));
    const recordings = [...byKey, ...more].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1));
    const holds = await requestHolds.inForceOn(recordings.filter((r) => r.status === 'stored').map((r) => r.id), now);
    const holdsOf = new Map<string, Hold[]>();
    for (const h of holds) holdsOf.set(h.recordingId, [...(holdsOf.get(h.recordingId) ?? []), h]);
    const optOutsOfCall = new Map<string, CallOptOutFact[]>();
    for (const o of await optOutRecords.callOptOutsOf([...new Set(recordings.map((r) => r.callId))])) optOutsOfCall.set(o.callId, [...(optOutsOfCall.get(o.callId) ?? []), o]);
    const deletedBy = new Map(caseCalls.filter((cc) => cc.outcome === 'deleted-on-request').map((cc) => [cc.recordingId, cc.requestId]));
    const calls = recordings.map((r): MatchedCall => {
      const h = holdsOf.get(r.id) ?? [];
      const local = localDateTime(new Date(r.startedAt));
      // The opt-out that covers this recording: one of every source's, or one narrowed to its source.
      const o = optOutsOfCall.get(r.callId)?.find((x) => x.recordingSource === null || x.recordingSource === (r.source ?? 'webhook'));
      return {
        recordingId: r.id,
        callId: r.callId,
        startedAt: r.startedAt,
        endedAt: r.endedAt,
        local: { date: local.date, time: local.time, zone: local.zone },
        queue: r.queue,
        durationMs: r.durationMs ?? Date.parse(r.endedAt) - Date.parse(r.startedAt),
        contentType: r.status === 'stored' ? r.contentType : null,
        bytes: r.status === 'stored' ? r.bytes : null,
        sha256: r.status === 'stored' ? r.sha256 : null,
        state: r.status === 'stored' ? (h.length ? 'held' : 'stored') : r.status,
        deadline: r.deadline,
        holds: h.map((x) => ({ reason: x.reason, until: x.until })),
        deletedAt: r.deletedAt,
        reason: r.status === 'stored' ? null : r.reason,
        deletedBy: deletedBy.get(r.id) ?? null,
        callOptOut: o ? { requestedAt: o.requestedAt, source: o.source } : null,
      };
    });
    const optOut = c.callerKey ? await optOutRecords.findActive(c.callerKey) : undefined;
    const count = (s: MatchedCall['state']) => calls.filter((x) => x.state === s).length;
    const counts = {
      calls: calls.length,
      stored: count('stored'),
      held: count('held'),
      deleted: count('deleted'),
      discarded: count('discarded'),
      deletable: count('stored'),
    };
    return { request: view(c, now), calls, optOut: optOut ? { id: optOut.id, since: optOut.createdAt, source: optOut.source } : null, counts, nothingHeld: calls.length === 0 && !optOut };
  }

  /** Recordings of the case still stored, split by whether a hold keeps them. */
  async function storedOf(c: SubjectRequest, now: Date): Promise<{ stored: Recording[]; holds: Hold[] }> {
    if (!c.callerKey) return { stored: [], holds: [] };
    const stored = (await recordingRows.withCallerKey(c.callerKey)).filter((r) => r.status === 'stored' && r.storageKey);
    return { stored, holds: await requestHolds.inForceOn(stored.map((r) => r.id), now) };
  }

  async function placeHolds(trx: Tx, c: SubjectRequest, recordings: Recording[], until: string | null, outcome: CaseCall['outcome'], actor: string): Promise<number> {
    if (!recordings.length) return 0;
    const at = clock.now().toISOString();
    const placed = await requestHolds.placeOnStored(trx, recordings.map((r) => r.id), { reason: holdReasonFor(c.id), until, at, by: actor });
    const deadlines = new Map(recordings.map((r) => [r.id, r.deadline]));
    await audit.appendAll(
      trx,
      placed.map((h) => ({
        actor,
        action: 'hold.placed',
        subject: `recording:${h.recordingId}`,
        details: { holdId: h.id, recordingId: h.recordingId, reason: h.reason, until: h.until, deadline: deadlines.get(h.recordingId), requestId: c.id },
      })),
    );
    await repo.insertCaseCalls(trx, placed.map((h) => ({ requestId: c.id, recordingId: h.recordingId, outcome, at, holdReason: null })));
    return placed.length;
  }

  async function releaseHolds(trx: Tx, c: SubjectRequest, actor: string): Promise<number> {
    const released = await requestHolds.releaseWithReason(trx, holdReasonFor(c.id), clock.now().toISOString(), actor);
    await audit.appendAll(
      trx,
      released.map((h) => ({ actor, action: 'hold.released', subject: `recording:${h.recordingId}`, details: { holdId: h.id, recordingId: h.recordingId, requestId: c.id } })),
    );
    return released.length;
  }

  /** Erasure: every stored, unheld recording goes through the one deletion path; held ones are kept and named. */
  async function eraseStored(c: SubjectRequest, confirm: number, actor: string): Promise<ErasureResult> {
    const now = clock.now();
    const { stored, holds } = await storedOf(c, now);
    const heldIds = new Set(holds.map((h) => h.recordingId));
    const toDelete = stored.filter((r) => !heldIds.has(r.id));
    if (confirm !== toDelete.length) {
      throw new Conflict('confirmation-mismatch', `This deletes ${toDelete.length} recording(s); confirm with that number`, {
        toDelete: toDelete.length,
        keptUnderHold: heldIds.size,
        errors: [{ pointer: '/confirm', code: 'must-equal', detail: `must be ${toDelete.length}, the number of recordings this deletes`, limit: toDelete.length }],
      });
    }
    const report = await deps.deleteRecordings(toDelete, { reason: DELETED_ON_REQUEST, actor, details: { requestId: c.id, kind: c.kind } });
    const keptIds = new Set([...heldIds, ...report.held]);
    const reasonOf = new Map(holds.map((h) => [h.recordingId, h.reason]));
    const kept = [...keptIds].map((id) => ({ recordingId: id, reason: reasonOf.get(id) ?? 'held' }));
    const at = clock.now().toISOString();
    await transaction(async (trx) => {
      await repo.insertCaseCalls(trx, [
        ...report.deleted.map((id) => ({ requestId: c.id, recordingId: id, outcome: 'deleted-on-request' as const, at, holdReason: null })),
        ...kept.map((k) => ({ requestId: c.id, recordingId: k.recordingId, outcome: 'kept-under-hold' as const, at, holdReason: k.reason })),
      ]);
      await repo.markCarriedOut(trx, c.id, at);
      await audit.append(trx, {
        actor,
        action: 'subject-request.erased',
        subject: `subject-request:${c.id}`,
        details: { requestId: c.id, kind: c.kind, deleted: report.deleted.length, keptUnderHold: kept.length, failed: report.failed.length },
      });
    });
    if (report.failed.length) {
      throw new Unavailable('erasure-incomplete', 'Some recordings could not be deleted yet; repeat the erasure', { deleted: report.deleted.length, failed: report.failed.length });
    }
    return { deleted: report.deleted.length, keptUnderHold: kept };
  }

  return {
    async open(input: OpenInput, actor: string): Promise<CaseView> {
      const now = clock.now();
      const callerKey = callerKeys.of(input.number, '/number');
      const { receivedAt, receivedDate } = received(input.receivedAt, now);
      const dueDate = dueDateFor(receivedDate);
      const c: SubjectRequest = {
        id: 'sr_' + randomBytes(8).toString('hex'),
        kind: input.kind,
        callerKey,
        status: 'open',
        reference: input.reference,
        note: input.note ?? null,
        receivedAt,
        receivedDate,
        dueDate,
        dueAt: endOfLocalDay(dueDate).toISOString(),
        extendedUntil: null,
        extensionReason: null,
        openedAt: now.toISOString(),
        openedBy: actor,
        answeredAt: null,
        answeredBy: null,
        closedAt: null,
        closedBy: null,
        carriedOutAt: null,
      };
      const toPreserve = c.kind === 'access' && deps.preserve ? (await storedOf(c, now)).stored : [];
      const preserved = await transaction(async (trx) => {
        await repo.insert(trx, c);
        await audit.append(trx, {
          actor,
          action: 'subject-request.opened',
          subject: `subject-request:${c.id}`,
          details: { requestId: c.id, kind: c.kind, reference: c.reference, receivedAt: c.receivedAt, dueDate: c.dueDate },
        });
        // Preserved until answered, or three months after receipt at the latest.
        return placeHolds(trx, c, toPreserve, endOfLocalDay(latestExtensionFor(receivedDate)).toISOString(), 'preserved', actor);
      });
      logger.info('subject request opened', { requestId: c.id, kind: c.kind, preserved });
      return view(c, now);
    },

    async list(): Promise<CaseView[]> {
      const now = clock.now();
      const cases = (await repo.listCurrent(new Date(now.getTime() - CLOSED_VISIBLE_DAYS * 86_400_000).toISOString())).map((c) => view(c, now));
      // Overdue first, then open ones by due time, then answered ones, closed ones last.
      const rank = (v: CaseView) => (v.overdue ? 0 : v.status === 'closed' ? 3 : v.status === 'answered' ? 2 : 1);
      return cases.sort((a, b) => rank(a) - rank(b) || (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0));
    },

    async get(id: string): Promise<CaseDetails> {
      return details(await load(id), clock.now());
    },

    async extend(id: string, { reason, until }: ExtensionInput, actor: string): Promise<CaseView> {
      const c = await load(id);
      const latest = latestExtensionFor(c.receivedDate);
      if (until <= c.dueDate) throw reasonPointer('/until', 'not-after', `must be after the due date ${c.dueDate}`, c.dueDate);
      if (until > latest) throw reasonPointer('/until', 'too-late', `at most two more months: ${latest} at the latest`, latest);
      if (c.status !== 'open') throw new Conflict('not-extendable', `Only an open case can be extended; this one is ${c.status}`, { status: c.status });
      const dueAt = endOfLocalDay(until).toISOString();
      await transaction(async (trx) => {
        if ((await repo.extend(trx, c.id, { until, reason, dueAt })) !== 1) throw new Conflict('subject-request-changed', 'The case changed meanwhile; reload it');
        await audit.append(trx, { actor, action: 'subject-request.extended', subject: `subject-request:${c.id}`, details: { requestId: c.id, until, reason } });
      });
      return view({ ...c, status: 'extended', extendedUntil: until, extensionReason: reason, dueAt }, clock.now());
    },

    async answer(id: string, actor: string): Promise<CaseView> {
      const c = await load(id);
      if (c.status !== 'open' && c.status !== 'extended') throw new Conflict('not-answerable', `Only an open case can be answered; this one is ${c.status}`, { status: c.status });
      const at = clock.now().toISOString();
      const released = await transaction(async (trx) => {
        if ((await repo.markAnswered(trx, c.id, at, actor)) !== 1) throw new Conflict('subject-request-changed', 'The case changed meanwhile; reload it');
        // The answer ends an access request's preservation: normal deadlines apply again. A
        // restriction's holds stay until the case is closed or they lapse.
        const released = c.kind === 'access' ? await releaseHolds(trx, c, actor) : 0;
        await audit.append(trx, { actor, action: 'subject-request.answered', subject: `subject-request:${c.id}`, details: { requestId: c.id, kind: c.kind, releasedHolds: released } });
        return released;
      });
      logger.info('subject request answered', { requestId: c.id, releasedHolds: released });
      return view({ ...c, status: 'answered', answeredAt: at, answeredBy: actor }, clock.now());
    },

    async close(id: string, actor: string): Promise<CaseView> {
      const c = await load(id);
      requireActive(c, 'closed again');
      const at = clock.now().toISOString();
      await transaction(async (trx) => {
        if ((await repo.markClosed(trx, c.id, at, actor)) !== 1) throw new Conflict('subject-request-changed', 'The case changed meanwhile; reload it');
        const released = await releaseHolds(trx, c, actor);
        await audit.append(trx, { actor, action: 'subject-request.closed', subject: `subject-request:${c.id}`, details: { requestId: c.id, kind: c.kind, releasedHolds: released } });
      });
      return view({ ...c, status: 'closed', closedAt: at, closedBy: actor, callerKey: null }, clock.now());
    },

    /** Restriction (art. 18): every stored call is held with the case as its reason until it is closed or `until`. */
    async restrict(id: string, input: RestrictionInput, actor: string): Promise<RestrictionResult> {
      const c = await load(id);
      requireActive(c, 'carried out');
      requireKind(c, ['restriction'], 'restricted');
      const now = clock.now();
      let until: string | null = null;
      if (input.until) {
        if (input.until < localDateOf(now)) throw reasonPointer('/until', 'in-the-past', 'must not be in the past');
        until = endOfLocalDay(input.until).toISOString();
      }
      const { stored, holds } = await storedOf(c, now);
      const mine = new Set(holds.filter((h) => h.reason === holdReasonFor(c.id)).map((h) => h.recordingId));
      const todo = stored.filter((r) => !mine.has(r.id));
      const held = await transaction(async (trx) => {
        const n = await placeHolds(trx, c, todo, until, 'held-for-request', actor);
        await repo.markCarriedOut(trx, c.id, now.toISOString());
        await audit.append(trx, { actor, action: 'subject-request.restricted', subject: `subject-request:${c.id}`, details: { requestId: c.id, held: n, until } });
        return n;
      });
      return { held, alreadyHeld: mine.size, until };
    },

    /** Erasure (art. 17). `confirm` must name the number of recordings it deletes. */
    async erase(id: string, input: ConfirmationInput, actor: string): Promise<ErasureResult> {
      const c = await load(id);
      requireActive(c, 'carried out');
      requireKind(c, ['erasure'], 'erased');
      return eraseStored(c, input.confirm, actor);
    },

    /** Objection (art. 21): the standing opt-out is registered, then existing calls are erased. */
    async object(id: string, input: ConfirmationInput, actor: string): Promise<ObjectionResult> {
      const c = await load(id);
      requireActive(c, 'carried out');
      requireKind(c, ['objection'], 'carried out as an objection');
      if (!c.callerKey) throw new Conflict('caller-unknown', 'The case no longer knows the caller');
      // Checked before registering, so a wrong confirmation changes nothing.
      const { stored, holds } = await storedOf(c, clock.now());
      const deletable = stored.length - new Set(holds.map((h) => h.recordingId)).size;
      if (input.confirm !== deletable) {
        throw new Conflict('confirmation-mismatch', `This deletes ${deletable} recording(s); confirm with that number`, {
          toDelete: deletable,
          errors: [{ pointer: '/confirm', code: 'must-equal', detail: `must be ${deletable}, the number of recordings this deletes`, limit: deletable }],
        });
      }
      const optOut = await deps.optOuts.registerCallerKey(c.callerKey, { source: 'subject-request' }, actor);
      const erased = await eraseStored(c, input.confirm, actor);
      return { optOutId: optOut.id, optOutCreated: optOut.created, ...erased };
    },

    /** Cases open past their due date. */
    overdueCount(): Promise<number> {
      return repo.countOverdue(clock.now().toISOString());
    },

    /** For playback: a restriction case holds this recording. */
    async isRestricted(recordingId: string): Promise<boolean> {
      const held = await requestHolds.inForceOn([recordingId], clock.now());
      return repo.anyOfKind(held.filter((h) => isRequestHoldReason(h.reason)).map((h) => h.reason.slice(holdReasonFor('').length)), 'restriction');
    },

    /** For the package: the case with its calls (used by the access package). */
    details,
    load,
  };
}

export type SubjectRequests = ReturnType<typeof createSubjectRequests>;

