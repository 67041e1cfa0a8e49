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
export function createChangeRecordingDeadline(deps: { recordings: RecordingDeadlines; audit: AuditLog }) {
  return async function changeRecordingDeadline(tx: Tx, change: DeadlineChange): Promise<boolean> {
    if (!(change.to < change.from)) return false;
    const changed = await deps.recordings.bringForward(tx, change.recordingId, change.to, change.at);
    if (!changed) return false;
    // ENCRYPTION (#27): the recording's data key is re-wrapped here, in this same transaction `tx`,
    // for its new deadline (the integrator wires the encryption capability's call in).
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
