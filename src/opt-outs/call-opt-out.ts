import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit-log/index.js';
import type { DeleteRecordings, RecordingRepository } from '../recordings/index.js';
import { DAY_MS, type Clock } from '../shared/clock.js';
import { InvalidInput, Unavailable } from '../shared/errors.js';
import type { Transact, Tx } from '../shared/transaction.js';
import type { CallOptOut, OptOutRepository } from './ports.js';
import type { OptOutSource } from './opt-out-registry.js';

/** The reason a call opted out after the fact is discarded or deleted with (the webhook's per-call flag uses it too). */
export const CALL_OPTED_OUT = 'caller-opted-out';

export type CallOptOutStatus = 'held' | 'deleted' | 'discarded' | 'pending';

export interface CallOptOutResult {
  id: string;
  callId: string;
  /** deleted: it was stored and is now gone (or was already deleted); discarded: it was never kept; pending: not arrived yet, will be discarded. */
  status: CallOptOutStatus;
  created: boolean;
}

export function createCallOptOuts(deps: {
  optOuts: OptOutRepository;
  recordings: RecordingRepository;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  deleteRecordings: DeleteRecordings;
  retentionDays: number;
  /** The configured sources' names ('webhook' is always one); a narrowed opt-out must name one of them or a source with recordings. */
  sourceNames?: () => string[];
}) {
  const { optOuts: repo, recordings, transaction, audit, clock, deleteRecordings } = deps;

  /** A narrowing names 'webhook', a configured source, or one that recordings came from (since removed from the config). */
  async function mustBeKnownSource(name: string): Promise<void> {
    if (name === 'webhook' || (deps.sourceNames?.() ?? []).includes(name) || (await recordings.anyFromSource(name))) return;
    throw new InvalidInput('invalid-input', 'Invalid recordingSource', {
      errors: [{ pointer: '/recordingSource', code: 'invalid-value', detail: "is not 'webhook', a configured source or a source any recording came from" }],
    });
  }

  return {
    /** Whether the call is opted out; with `source`, whether that source's recording of it is. */
    async isCallOptedOut(callId: string, tx?: Tx, source?: string): Promise<boolean> {
      return (await repo.findCallOptOut(callId, tx, source)) !== undefined;
    },

    /**
     * Forgets the opt-outs of calls that have not arrived within the retention period after the
     * request: such a call, had it begun before it was opted out, would be past its deadline and
     * discarded on arrival anyway, so its id is kept no longer. One transaction and audit entry each;
     * a dry run only lists them.
     */
    async expirePending(actor: string, opts: { dryRun?: boolean } = {}): Promise<string[]> {
      const before = new Date(clock.now().getTime() - deps.retentionDays * DAY_MS);
      const expired: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await repo.pendingCallOptOutsBefore(before, after, 500);
        if (!page.length) break;
        after = page[page.length - 1]!.id;
        for (const c of page) {
          if (opts.dryRun) {
            expired.push(c.id);
            continue;
          }
          const done = await transaction(async (tx) => {
            // The lock an upload of this call takes: it either arrives first (and the opt-out is kept) or after.
            await repo.lockCall(tx, c.callId);
            if (!(await repo.deletePendingCallOptOut(tx, c.id))) return false;
            await audit.append(tx, {
              actor,
              action: 'call.opt-out-expired',
              subject: `call:${c.callId}`,
              details: { callOptOutId: c.id, callId: c.callId, source: c.source, requestedAt: c.requestedAt, retentionDays: deps.retentionDays },
            });
            return true;
          });
          if (done) expired.push(c.id);
        }
      }
      return expired;
    },

    /**
     * The caller asks, during or after the call, not to keep this call. Idempotent: a repeat appends
     * nothing and retries a deletion that failed before.
     */
    async optOutCall(callId: string, input: { source?: OptOutSource; recordingSource?: string }, actor: string): Promise<CallOptOutResult> {
      // Call ids are unique per source: the opt-out covers every source's recording of the call, or with
      // recordingSource only that source's.
      const scope = input.recordingSource ?? null;
      if (scope !== null) await mustBeKnownSource(scope);
      const { optOut, all, created } = await transaction(async (tx) => {
        await repo.lockCall(tx, callId);
        const all = (await recordings.findAllByCallId(callId, tx)).filter((r) => scope === null || r.source === scope);
        const recording = all[0];
        // One opt-out per call and scope; one of every source's covers a narrowed request too.
        const existing = (await repo.findCallOptOutScoped(callId, scope, tx)) ?? (scope === null ? undefined : await repo.findCallOptOutScoped(callId, null, tx));
        if (existing) return { optOut: existing, all, created: false };
        const optOut: CallOptOut = {
          id: 'cop_' + randomBytes(8).toString('hex'),
          callId,
          source: input.source ?? null,
          recordingSource: scope,
          requestedAt: clock.now().toISOString(),
          requestedBy: actor,
          recordingId: null,
          discardedAt: null,
        };
        await repo.insertCallOptOut(tx, optOut);
        await audit.append(tx, {
          actor,
          action: 'call.opt-out-requested',
          subject: `call:${callId}`,
          details: {
            callOptOutId: optOut.id, callId, source: optOut.source, ...(scope === null ? {} : { recordingSource: scope }), recordingId: recording?.id ?? null, recordingStatus: recording?.status ?? 'not-arrived',
            ...(all.length > 1 ? { recordingIds: all.map((r) => r.id) } : {}),
          },
        });
        return { optOut, all, created: true };
      });

      if (!all.length) return { id: optOut.id, callId, status: 'pending', created };
      const stored = all.filter((r) => r.status === 'stored');
      if (stored.length) {
        // Deleted after the request is on record: the one deletion path removes the object, verifies it
        // gone, then tombstones and audits the row.
        const report = await deleteRecordings(stored, { reason: CALL_OPTED_OUT, actor, details: { callOptOutId: optOut.id } });
        if (report.failed.length) {
          throw new Unavailable('opt-out-deletion-incomplete', 'The opt-out is recorded, but the recording could not be deleted yet; repeat the request', {
            callOptOutId: optOut.id,
          });
        }
        // A hold (restriction of processing) suspends deletion; the opt-out still keeps it from playback.
        if (report.held.length) return { id: optOut.id, callId, status: 'held', created };
        return { id: optOut.id, callId, status: 'deleted', created };
      }
      return { id: optOut.id, callId, status: all.every((r) => r.status === 'discarded') ? 'discarded' : 'deleted', created };
    },
  };
}

export type CallOptOuts = ReturnType<typeof createCallOptOuts>;
