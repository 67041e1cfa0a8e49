import type { AuditEntry, AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import type { Transact } from '../shared/transaction.js';
import type { ReportFacts } from './ports.js';

export const OUTCOMES = ['deleted-on-time', 'deleted-late', 'deleted-on-request', 'held', 'held-for-request', 'discarded', 'stored-not-yet-due', 'overdue'] as const;
/** The deletion reason and hold-reason prefix of data-subject requests (erasure, objection; preservation, restriction). */
const ON_REQUEST = 'subject-request';
export type Outcome = (typeof OUTCOMES)[number];
/** json; csv: the rows (gallringsrapport.csv); csv-totals: the counts and discrepancies (gallringsrapport-summering.csv). */
export type ReportFormat = 'json' | 'csv' | 'csv-totals';

export interface ReportRow {
  id: string;
  callId: string;
  startedAt: string;
  deadline: string;
  deletedAt: string | null;
  reason: string | null;
  outcome: Outcome;
  /** deleted-late: how long after the deadline; overdue: how long past it now. ISO-8601 duration. */
  late?: string;
  lateMs?: number;
  /** held: the hold in force. */
  holdId?: string;
  queue: string | null;
  /** The retention rule (its queue pattern; null: RETENTION_DAYS) and the policy version the call arrived under. */
  rule: string | null;
  policyVersion: number | null;
}

/** A version of the retention policy as the report lists it. */
export interface PolicyHistoryEntry {
  version: number;
  changedAt: string;
  changedBy: string;
  origin: string;
  rules: unknown[];
}

/** Calls of the period in one queue, by outcome. */
export interface QueueOutcomes {
  queue: string | null;
  totals: Record<Outcome, number> & { all: number };
}

export type DiscrepancyKind = 'deleted-without-audit' | 'discarded-without-audit' | 'audit-without-recording' | 'audit-without-tombstone' | 'duplicate-audit';

export interface Discrepancy {
  kind: DiscrepancyKind;
  recordingId: string;
  /** The audit entry concerned, when there is one. */
  seq?: number;
  detail: string;
}

export interface RetentionReport {
  from: string;
  to: string;
  generatedAt: string;
  recordings: ReportRow[];
  totals: Record<Outcome, number> & { all: number };
  discrepancies: Discrepancy[];
  /** Sources configured to keep their copies (deleteAtSource: false), with the written reason: copies remain there. */
  copiesKeptAtSources: Array<{ source: string; reason: string }>;
  /** The period's calls per queue, by outcome. */
  byQueue: QueueOutcomes[];
  /** Every version of the retention policy, newest first. */
  policyHistory: PolicyHistoryEntry[];
}

/** 93784000 → "P1DT2H3M4S". */
export function isoDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60 + (ms % 1000) / 1000;
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${sec || (!d && !h && !m) ? `${sec}S` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : ''}`;
}

const recordingIdOf = (e: AuditEntry): string | undefined =>
  typeof e.details.recordingId === 'string' ? e.details.recordingId : e.subject?.startsWith('recording:') ? e.subject.slice('recording:'.length) : undefined;

/**
 * What happened to every call that started in [from, to), from the tombstones, the holds and the audit
 * log, cross-checked: a tombstone needs its audit entry and an audit entry needs its tombstone.
 */
export function createRetentionReport(deps: {
  facts: ReportFacts; transaction: Transact; audit: AuditLog; clock: Clock; retentionDays: number;
  /** Sources that keep their copies (deleteAtSource: false); none by default. */
  copiesKeptAtSources?: () => Array<{ source: string; reason: string }>;
  /** The retention policy's versions, newest first; none without policies. */
  policyHistory?: () => Promise<PolicyHistoryEntry[]>;
}) {
  const { facts: repo, transaction, audit, clock } = deps;
  return async function retentionReport(actor: string, input: { from: string; to: string; format: ReportFormat }): Promise<RetentionReport> {
    const now = clock.now();
    const nowIso = now.toISOString();
    const recs = await repo.recordingsStartedIn(input.from, input.to);
    const holds = await repo.activeHolds(recs.filter((r) => r.status === 'stored').map((r) => r.id), nowIso);
    const evidence = await repo.disposalEntriesSince(input.from);
    const byRecording = new Map<string, AuditEntry[]>();
    for (const e of evidence) {
      const id = recordingIdOf(e);
      if (id) byRecording.set(id, [...(byRecording.get(id) ?? []), e]);
    }

    const discrepancies: Discrepancy[] = [];
    const rows = recs.map((r): ReportRow => {
      const base = { id: r.id, callId: r.callId, startedAt: r.startedAt, deadline: r.deadline, deletedAt: r.deletedAt, reason: r.reason, queue: r.queue, rule: r.policyRule, policyVersion: r.policyVersion };
      const entries = byRecording.get(r.id) ?? [];
      const expected = r.status === 'deleted' ? 'recording.deleted' : r.status === 'discarded' ? 'recording.discarded' : undefined;
      const matching = entries.filter((e) => e.action === expected);
      if (expected && matching.length === 0) {
        discrepancies.push({ kind: r.status === 'deleted' ? 'deleted-without-audit' : 'discarded-without-audit', recordingId: r.id, detail: `the recording is ${r.status} but the audit log has no ${expected} entry for it` });
      }
      if (matching.length > 1) {
        discrepancies.push({ kind: 'duplicate-audit', recordingId: r.id, seq: matching[1]!.seq, detail: `${matching.length} ${expected} entries for one recording` });
      }
      for (const e of entries.filter((e) => e.action !== expected)) {
        discrepancies.push({ kind: 'audit-without-tombstone', recordingId: r.id, seq: e.seq, detail: `audit entry ${e.seq} says ${e.action} but the recording is ${r.status}` });
      }
      if (r.status === 'discarded') return { ...base, outcome: 'discarded' };
      if (r.status === 'deleted') {
        if (r.reason === ON_REQUEST) return { ...base, outcome: 'deleted-on-request' };
        const lateMs = Date.parse(r.deletedAt ?? nowIso) - Date.parse(r.deadline);
        return lateMs > 0 ? { ...base, outcome: 'deleted-late', lateMs, late: isoDuration(lateMs) } : { ...base, outcome: 'deleted-on-time' };
      }
      const hold = holds.get(r.id);
      if (hold) return { ...base, outcome: hold.reason.startsWith(`${ON_REQUEST}:`) ? 'held-for-request' : 'held', holdId: hold.id };
      const overdueMs = now.getTime() - Date.parse(r.deadline);
      return overdueMs >= 0 ? { ...base, outcome: 'overdue', lateMs: overdueMs, late: isoDuration(overdueMs) } : { ...base, outcome: 'stored-not-yet-due' };
    });

    // Audit entries about recordings with no row at all: in the period when the entry's deadline says
    // the call started in it, or (without a deadline) when the entry itself falls in it.
    const inPeriod = new Set(recs.map((r) => r.id));
    const unknown = [...byRecording.keys()].filter((id) => !inPeriod.has(id));
    const existing = await repo.recordingIdsExisting(unknown);
    const retentionMs = deps.retentionDays * 86_400_000;
    for (const id of unknown) {
      if (existing.has(id)) continue;
      for (const e of byRecording.get(id)!) {
        const startedAt = typeof e.details.deadline === 'string' ? new Date(Date.parse(e.details.deadline) - retentionMs).toISOString() : e.at;
        if (startedAt >= input.from && startedAt < input.to) {
          discrepancies.push({ kind: 'audit-without-recording', recordingId: id, seq: e.seq, detail: `audit entry ${e.seq} (${e.action}) names a recording that does not exist` });
        }
      }
    }

    const totals = Object.fromEntries([...OUTCOMES.map((o) => [o, 0]), ['all', rows.length]]) as RetentionReport['totals'];
    for (const r of rows) totals[r.outcome]++;
    const queues = new Map<string | null, QueueOutcomes>();
    for (const r of rows) {
      const q = queues.get(r.queue) ?? { queue: r.queue, totals: Object.fromEntries([...OUTCOMES.map((o) => [o, 0]), ['all', 0]]) as QueueOutcomes['totals'] };
      q.totals[r.outcome]++;
      q.totals.all++;
      queues.set(r.queue, q);
    }
    const byQueue = [...queues.values()].sort((a, b) => (a.queue ?? '').localeCompare(b.queue ?? '', 'sv'));
    await transaction((tx) =>
      audit.append(tx, {
        actor,
        action: 'report.retention',
        subject: null,
        details: { from: input.from, to: input.to, format: input.format, recordings: rows.length, discrepancies: discrepancies.length },
      }),
    );
    return {
      from: input.from, to: input.to, generatedAt: nowIso, recordings: rows, totals, discrepancies, copiesKeptAtSources: deps.copiesKeptAtSources?.() ?? [],
      byQueue, policyHistory: (await deps.policyHistory?.()) ?? [],
    };
  };
}

export type RetentionReportUseCase = ReturnType<typeof createRetentionReport>;
