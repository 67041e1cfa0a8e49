import type { ChainState } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { DAY_MS } from '../shared/clock.js';
import { addDays, localDateOf, startOfLocalDay } from '../subject-requests/index.js';
import type { ReportFacts } from './ports.js';
import { OUTCOMES, type PolicyHistoryEntry, type QueueOutcomes, type RetentionReport } from './retention-report.js';

/** Ages of what is stored are counted in whole days up to this; older calls share the last bucket. */
export const AGE_DAYS = 30;
/** The overview draws one bar per day: a longer period is asked for in pieces, or read in the report. */
export const OVERVIEW_MAX_DAYS = 366;

export interface DeletionDay {
  /** A Stockholm calendar date. */
  date: string;
  /** Recordings (not discarded calls) whose deadline falls on this day. */
  due: number;
  /** Deleted this day, at or before the deadline (or on a data-subject request). */
  onTime: number;
  /** Deleted this day, after the deadline. */
  late: number;
}

export interface AgeBucket {
  /** Whole days since the call started; the last bucket (AGE_DAYS) holds everything older too. */
  days: number;
  unheld: number;
  held: number;
}

export interface ComplianceOverview {
  from: string;
  to: string;
  generatedAt: string;
  /** The same counts as the retention report's totals for the period. */
  totals: RetentionReport['totals'];
  deletionsPerDay: DeletionDay[];
  stored: {
    count: number;
    held: number;
    /** The headline: the oldest stored call without a hold, in whole days (must stay under the retention period). */
    oldestUnheldDays: number | null;
    oldestHeldDays: number | null;
    retentionDays: number;
    byAge: AgeBucket[];
    /**
     * Stored calls without a caller number, per source: a platform that gives none (an Amazon Connect
     * recording whose flow sets no caller) or a withheld number. No opt-out or data-subject request can match them.
     */
    unknownCaller: { count: number; bySource: Array<{ source: string; count: number }> };
  };
  chain: { ok: boolean; checkedAt: string | null; head: { seq: number; hash: string } | null; problem: { seq: number; kind: string } | null; acknowledged: boolean };
  latestCheckpoint: { seq: number; hash: string; at: string; keyId: string } | null;
  /** Sources configured to keep their copies (deleteAtSource: false), with the written reason: copies remain there. */
  copiesKeptAtSources: Array<{ source: string; reason: string }>;
  /** The period's calls per queue, by outcome (the report's byQueue). */
  byQueue: QueueOutcomes[];
  /** Every version of the retention policy, newest first. */
  policyHistory: PolicyHistoryEntry[];
}

/**
 * The auditor's landing page in figures: what happened to the period's calls, deletions per day
 * against their deadlines, the age of what is stored now, and the state of the audit chain.
 */
export function createComplianceOverview(deps: {
  facts: ReportFacts;
  clock: Clock;
  retentionDays: number;
  /** Verifies the chain from its last proven checkpoint and returns the state (cheap once verified). */
  checkChain: () => Promise<ChainState>;
  checkpoints: () => Promise<{ seq: number; hash: string; at: string; keyId: string }[]>;
  /** Sources that keep their copies (deleteAtSource: false); none by default. */
  copiesKeptAtSources?: () => Array<{ source: string; reason: string }>;
  policyHistory?: () => Promise<PolicyHistoryEntry[]>;
}) {
  const { facts, clock } = deps;
  return async function complianceOverview(input: { from: string; to: string }): Promise<ComplianceOverview> {
    const now = clock.now();
    const nowIso = now.toISOString();

    const totalsOf = (counts: Record<string, number>) =>
      Object.fromEntries([...OUTCOMES.map((o) => [o, counts[o] ?? 0]), ['all', Object.values(counts).reduce((a, b) => a + b, 0)]]) as ComplianceOverview['totals'];
    const perQueue = await facts.outcomeCountsByQueue(input.from, input.to, nowIso);
    const counts: Record<string, number> = {};
    for (const q of perQueue) for (const [o, n] of Object.entries(q.counts)) counts[o] = (counts[o] ?? 0) + n;
    const totals = totalsOf(counts);

    // One entry per Stockholm day of the period, the days with nothing included.
    const days: DeletionDay[] = [];
    for (let d = localDateOf(new Date(input.from)); startOfLocalDay(d).toISOString() < input.to; d = addDays(d, 1)) days.push({ date: d, due: 0, onTime: 0, late: 0 });
    const byDate = new Map(days.map((d) => [d.date, d]));
    for (const r of await facts.deletionsAndDeadlinesIn(input.from, input.to)) {
      if (r.deadline >= input.from && r.deadline < input.to) byDate.get(localDateOf(new Date(r.deadline)))!.due++;
      if (r.status === 'deleted' && r.deletedAt && r.deletedAt >= input.from && r.deletedAt < input.to) {
        const day = byDate.get(localDateOf(new Date(r.deletedAt)))!;
        // As the report decides: a deletion on request is never late, any other after its deadline is.
        if (r.reason !== 'subject-request' && r.deletedAt > r.deadline) day.late++;
        else day.onTime++;
      }
    }

    // startedAfter[k]: calls younger than k days; bucket k holds those k to k+1 days old.
    const thresholds = Array.from({ length: AGE_DAYS }, (_, k) => new Date(now.getTime() - (k + 1) * DAY_MS).toISOString());
    const groups = await facts.storedAges(nowIso, thresholds);
    const group = (held: boolean) => groups.find((g) => g.held === held) ?? { count: 0, oldest: null, startedAfter: thresholds.map(() => 0) };
    const bucketsOf = (g: { count: number; startedAfter: number[] }) => [...g.startedAfter.map((n, k) => n - (k ? g.startedAfter[k - 1]! : 0)), g.count - (g.startedAfter.at(-1) ?? 0)];
    const [unheld, held] = [group(false), group(true)];
    const [u, h] = [bucketsOf(unheld), bucketsOf(held)];
    const ageDays = (oldest: string | null) => (oldest === null ? null : Math.floor((now.getTime() - Date.parse(oldest)) / DAY_MS));

    const withoutCaller = await facts.storedWithoutCaller();
    const chain = await deps.checkChain();
    const latest = (await deps.checkpoints()).at(-1);
    return {
      from: input.from,
      to: input.to,
      generatedAt: nowIso,
      totals,
      deletionsPerDay: days,
      stored: {
        count: unheld.count + held.count,
        held: held.count,
        oldestUnheldDays: ageDays(unheld.oldest),
        oldestHeldDays: ageDays(held.oldest),
        retentionDays: deps.retentionDays,
        byAge: u.map((n, k) => ({ days: k, unheld: n, held: h[k]! })),
        unknownCaller: { count: withoutCaller.reduce((a, b) => a + b.count, 0), bySource: withoutCaller },
      },
      chain: {
        ok: chain.ok,
        checkedAt: chain.at ?? null,
        head: chain.head ?? null,
        problem: chain.problem ? { seq: chain.problem.seq, kind: chain.problem.kind } : null,
        acknowledged: !!chain.acknowledged,
      },
      latestCheckpoint: latest ? { seq: latest.seq, hash: latest.hash, at: latest.at, keyId: latest.keyId } : null,
      copiesKeptAtSources: deps.copiesKeptAtSources?.() ?? [],
      byQueue: perQueue.map((q) => ({ queue: q.queue, totals: totalsOf(q.counts) })),
      policyHistory: (await deps.policyHistory?.()) ?? [],
    };
  };
}

export type ComplianceOverviewUseCase = ReturnType<typeof createComplianceOverview>;
