import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import { recordingRepository, type DeleteRecordings } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import { lockForTransaction, type Database, type Transaction } from '../shared/database.js';
import { Unavailable } from '../shared/errors.js';
import * as repo from './opt-out-repository.js';
import type { OptOutSource } from './opt-out-registry.js';

/** The reason a call opted out after the fact is discarded or deleted with (the webhook's per-call flag uses it too). */
export const CALL_OPTED_OUT = 'caller-opted-out';

/** Serialises an after-the-fact opt-out of a call with that call's upload committing (see the discard policy). */
export function lockCall(trx: Transaction, callId: string): Promise<void> {
  return lockForTransaction(trx, callLockName(callId));
}

export function callLockName(callId: string): string {
  return `opt-out:call:${callId}`;
}

export type CallOptOutStatus = 'held' | 'deleted' | 'discarded' | 'pending';

export interface CallOptOutResult {
  id: string;
  callId: string;
  /** deleted: it was stored and is now gone (or was already deleted); discarded: it was never kept; pending: not arrived yet, will be discarded. */
  status: CallOptOutStatus;
  created: boolean;
}

export function createCallOptOuts(deps: { db: Database; audit: AuditLog; clock: Clock; deleteRecordings: DeleteRecordings }) {
  const { db, audit, clock, deleteRecordings } = deps;
  return {
    async isCallOptedOut(dbOrTrx: Database | Transaction, callId: string): Promise<boolean> {
      return (await repo.findCallOptOut(dbOrTrx, callId)) !== undefined;
    },

    /**
     * The caller asks, during or after the call, not to keep this call. Idempotent: a repeat appends
     * nothing and retries a deletion that failed before.
     */
    async optOutCall(callId: string, input: { source?: OptOutSource }, actor: string): Promise<CallOptOutResult> {
      const { optOut, recording, created } = await db.transaction(async (trx) => {
        await lockCall(trx, callId);
        const recording = await recordingRepository.findByCallId(trx, callId);
        const existing = await repo.findCallOptOut(trx, callId);
        if (existing) return { optOut: existing, recording, created: false };
        const optOut: repo.CallOptOut = {
          id: 'cop_' + randomBytes(8).toString('hex'),
          callId,
          source: input.source ?? null,
          requestedAt: clock.now().toISOString(),
          requestedBy: actor,
          recordingId: null,
          discardedAt: null,
        };
        await repo.insertCallOptOut(trx, optOut);
        await audit.append(trx, {
          actor,
          action: 'call.opt-out-requested',
          subject: `call:${callId}`,
          details: { callOptOutId: optOut.id, callId, source: optOut.source, recordingId: recording?.id ?? null, recordingStatus: recording?.status ?? 'not-arrived' },
        });
        return { optOut, recording, created: true };
      });

      if (!recording) return { id: optOut.id, callId, status: 'pending', created };
      if (recording.status === 'stored') {
        // Deleted after the request is on record: the one deletion path removes the object, verifies it
        // gone, then tombstones and audits the row.
        const report = await deleteRecordings([recording], { reason: CALL_OPTED_OUT, actor, details: { callOptOutId: optOut.id } });
        if (report.failed.length) {
          throw new Unavailable('opt-out-deletion-incomplete', 'The opt-out is recorded, but the recording could not be deleted yet; repeat the request', {
            callOptOutId: optOut.id,
          });
        }
        // A hold (restriction of processing) suspends deletion; the opt-out still keeps it from playback.
        if (report.held.length) return { id: optOut.id, callId, status: 'held', created };
        return { id: optOut.id, callId, status: 'deleted', created };
      }
      return { id: optOut.id, callId, status: recording.status === 'discarded' ? 'discarded' : 'deleted', created };
    },
  };
}

export type CallOptOuts = ReturnType<typeof createCallOptOuts>;
