import type { Tx } from '../shared/transaction.js';

export interface Hold {
  id: string;
  recordingId: string;
  reason: string;
  until: string | null;
  placedAt: string;
  placedBy: string;
  releasedAt: string | null;
  releasedBy: string | null;
  lapsedAt: string | null;
}

/** A hold in force, with the call it keeps from deletion. */
export interface ActiveHold extends Hold {
  callId: string;
  startedAt: string;
  deadline: string;
}

/** The holds table: the one place that says what a hold in force is (neither released nor lapsed, and `until`, if any, still ahead). */
export interface HoldRepository {
  /** How many recordings are stored past their deadline without a hold in force. */
  unheldOverdueCount(now: Date, tx?: Tx): Promise<number>;
  /** The hold in force of each of `recordingIds` that has one: recording id → hold id. */
  activeHoldIds(recordingIds: string[], now: Date, tx?: Tx): Promise<Map<string, string>>;
  findActive(recordingId: string, now: Date, tx?: Tx): Promise<Hold | undefined>;
  /**
   * The hold in force an administrator placed by hand: not one a data-subject request placed (reason
   * subject-request:<case id>), which its case releases. A recording may carry one of each.
   */
  findActiveManual(recordingId: string, now: Date, tx?: Tx): Promise<Hold | undefined>;
  insert(tx: Tx, h: Hold): Promise<void>;
  /** True when this call released it (it was neither released nor lapsed before). */
  release(tx: Tx, id: string, at: string, by: string): Promise<boolean>;
  /** Holds still in force whose `until` is at or before `at`. */
  dueToLapse(at: string): Promise<Hold[]>;
  /** True when this call lapsed it (it was neither released nor lapsed before). */
  lapse(tx: Tx, id: string, at: string): Promise<boolean>;
  /** Every hold in force at `now`, with the call it keeps, soonest end first (open-ended last). */
  listActive(now: Date, tx?: Tx): Promise<ActiveHold[]>;
  forRecording(recordingId: string): Promise<Hold[]>;
  /** Holds in force at `now` on these recordings (any reason), first placed first. */
  inForceOn(recordingIds: string[], now: Date, tx?: Tx): Promise<Hold[]>;
  insertMany(tx: Tx, holds: Hold[]): Promise<void>;
  /** Releases every hold not yet released or lapsed with this reason; returns those it released. */
  releaseWithReason(tx: Tx, reason: string, at: string, by: string): Promise<Hold[]>;
}

/**
 * The holds a data-subject request places and releases on its caller's recordings (reason
 * subject-request:<case id>): the request asks retention, which owns the holds table. The caller audits.
 */
export interface RequestHolds {
  /** Holds in force at `now` on these recordings (any reason), first placed first. */
  inForceOn(recordingIds: string[], now: Date, tx?: Tx): Promise<Hold[]>;
  /**
   * Places one hold per recording on those still stored and not claimed by a deletion, under the row
   * lock the deletion path takes; returns the holds placed, in the order of `recordingIds`.
   */
  placeOnStored(tx: Tx, recordingIds: string[], fields: { reason: string; until: string | null; at: string; by: string }): Promise<Hold[]>;
  /** Releases every hold with this reason still in place; returns those it released. */
  releaseWithReason(tx: Tx, reason: string, at: string, by: string): Promise<Hold[]>;
}

/** The job_leases table: one row per job, taken by a single conditional write. */
export interface LeaseRepository {
  /** True when this holder now has the lease: it was free, or its last holder let it expire. */
  take(l: { name: string; holder: string; acquiredAt: string; expiresAt: string }): Promise<boolean>;
  /** False when the lease is no longer this holder's. */
  extend(name: string, holder: string, expiresAt: string): Promise<boolean>;
  drop(name: string, holder: string): Promise<void>;
}

/** An orphan the sweep has decided to delete and not yet written down as deleted. */
export interface OrphanDeletion {
  /** The object key, or the store's id of a crash leftover. */
  target: string;
  kind: 'object' | 'temp-file' | 'sidecar' | 'multipart-upload';
  storageKey: string | null;
  lastModified: string;
  recordedAt: string;
}

/** The orphan_deletions table: the sweep's intents, written before a deletion and cleared with its audit entry. */
export interface OrphanDeletionRepository {
  /** Records intents; one already recorded for a target (a crashed sweep's) is kept as it is. */
  record(tx: Tx, intents: OrphanDeletion[]): Promise<void>;
  /**
   * Removes the intents of `targets` and returns those it removed: of two sweeps finishing the same
   * intent only one gets it back, so only one writes its audit entry.
   */
  clear(tx: Tx, targets: string[]): Promise<OrphanDeletion[]>;
  /** Intents a sweep recorded and did not finish (it crashed, or the store refused), by target, a page after `after`. */
  pending(after: string | undefined, limit: number, tx?: Tx): Promise<OrphanDeletion[]>;
}

/** What the retention job counts and times (Prometheus in production). */
export interface RetentionMetrics {
  deletions: { inc(labels: { reason: string }, value?: number): void };
  failures: { inc(value?: number): void };
  runDuration: { observe(seconds: number): void };
  lastSuccess: { set(value: number): void };
}

/** The reports' read model of recordings with their holds in force (retention owns what "in force" means). */
export interface HoldReportFacts {
  /** The first-placed hold in force at `now` of each of these recordings that has one. */
  activeHolds(recordingIds: string[], now: string): Promise<Map<string, { id: string; reason: string }>>;
  /**
   * How many calls that started in [from, to) ended in each outcome, counted by the database with the
   * rules the retention report applies row by row.
   */
  outcomeCounts(from: string, to: string, now: string): Promise<Record<string, number>>;
  /** outcomeCounts per queue (null: calls without a queue), queues in name order. */
  outcomeCountsByQueue(from: string, to: string, now: string): Promise<{ queue: string | null; counts: Record<string, number> }[]>;
  /**
   * What is stored now, with and without a hold in force: how many, the oldest call's start, and how
   * many started after each of `after` (ISO instants, newest first).
   */
  storedAges(now: string, after: string[]): Promise<{ held: boolean; count: number; oldest: string | null; startedAfter: number[] }[]>;
}
