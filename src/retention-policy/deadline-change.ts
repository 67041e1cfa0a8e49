import type { AuditLog } from '../audit-log/index.js';
import type { Tx } from '../shared/transaction.js';
import type { RecordingDeadlines } from './ports.js';

/** One stored recording's deadline brought forward by a policy version. */
export interface DeadlineChange {
  recordingId: string;
  /** The deadline it had (ISO). */
  from: string;
  /** The earlier deadline (ISO). */
  to: string;
  policyVersion: number;
  /** The rule's queue pattern, or null for RETENTION_DAYS. */
  rule: string | null;
  actor: string;
  at: string;
}

/**
 * The one place a stored recording's deadline changes: the row and its `recording.deadline-changed`
 * entry in the caller's transaction `tx`. Only ever earlier (lengthening never extends a stored
 * deadline); returns false, changing and auditing nothing, when the recording is gone or already due
 * as early.
 */
export function createChangeRecordingDeadline(deps: {
  recordings: RecordingDeadlines;
  audit: AuditLog;
  /**
   * Encryption at rest: re-wraps the recording's data key under its new deadline period's key, so that
   * every copy dies by the new deadline. Absent when recordings are stored unencrypted.
   */
  rewrapDataKey?: (tx: Tx, recordingId: string, newDeadline: Date) => Promise<void>;
}) {
  return async function changeRecordingDeadline(tx: Tx, change: DeadlineChange): Promise<boolean> {
    if (!(change.to < change.from)) return false;
    const changed = await deps.recordings.bringForward(tx, change.recordingId, change.to, change.at);
    if (!changed) return false;
    // In the same transaction: a deadline brought forward with its key still in the old period's would
    // leave the backups' copies readable until the old deadline.
    await deps.rewrapDataKey?.(tx, change.recordingId, new Date(change.to));
    await deps.audit.append(tx, {
      actor: change.actor,
      action: 'recording.deadline-changed',
      subject: `recording:${change.recordingId}`,
      details: { recordingId: change.recordingId, oldDeadline: change.from, newDeadline: change.to, policyVersion: change.policyVersion, rule: change.rule },
    });
    return true;
  };
}

export type ChangeRecordingDeadline = ReturnType<typeof createChangeRecordingDeadline>;
