import type { Tx } from '../shared/transaction.js';

/** One rule of the retention policy: which queue(s) it matches and what it says about their calls. */
export type PolicyRule = { match: { queue: string } } & ({ retainDays: number; record?: undefined } | { record: false; retainDays?: undefined });

/** A stored version of the policy. Version 0 is the empty policy (every call keeps RETENTION_DAYS). */
export interface PolicyVersion {
  version: number;
  rules: PolicyRule[];
  /** Who made it: an actor ('token:…', 'user:…', 'system:policy-file', 'cli:policy'). */
  changedBy: string;
  changedAt: string;
  /** Where it came from: 'api' (the web interface or PUT), 'file' (RETENTION_POLICY_FILE), 'cli'. */
  origin: PolicyOrigin;
  /** When a retention run brought the stored recordings' deadlines in line with it; null until then. */
  appliedAt: string | null;
}

export type PolicyOrigin = 'api' | 'file' | 'cli';

/** The versions of the policy: table retention_policy_versions, owned by this capability. */
export interface PolicyRepository {
  /** The newest version, or undefined before the first change. */
  latest(tx?: Tx): Promise<PolicyVersion | undefined>;
  /** Every version, newest first. */
  history(): Promise<PolicyVersion[]>;
  /** Appends the next version; the caller holds the lock from `lockForChange`. */
  insert(tx: Tx, v: Omit<PolicyVersion, 'appliedAt'>): Promise<void>;
  /** Serialises policy changes (two admins saving at once get consecutive versions). */
  lockForChange(tx: Tx): Promise<void>;
  markApplied(tx: Tx, version: number, at: string): Promise<void>;
}

/** A stored recording as the policy sees it: no caller, no storage. */
export interface StoredDeadline {
  id: string;
  queue: string | null;
  startedAt: string;
  deadline: string;
}

/**
 * What the policy needs of the recordings (the recordings capability owns the table): the stored
 * recordings page by page, and one conditional change of a deadline.
 */
export interface RecordingDeadlines {
  /** Stored recordings by id after `afterId`. */
  storedPage(afterId: string | undefined, limit: number): Promise<StoredDeadline[]>;
  /**
   * Sets the deadline of a still-stored recording whose deadline is later than `deadline`; returns
   * whether it changed (false: gone, or already as early).
   */
  bringForward(tx: Tx, id: string, deadline: string, at: string): Promise<boolean>;
}
