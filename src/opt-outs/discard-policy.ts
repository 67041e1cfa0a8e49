import type { DiscardPolicy } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import type { Database, Transaction } from '../shared/database.js';
import { CALL_OPTED_OUT, lockCall } from './call-opt-out.js';
import * as repo from './opt-out-repository.js';
import { lockCaller, NUMBER_OPTED_OUT } from './opt-out-registry.js';

function inTransaction(db: Database | Transaction): db is Transaction {
  return (db as Transaction).isTransaction === true;
}

/**
 * What the webhook asks before reading the audio and again in the transaction that would keep it.
 * The second time it takes the same locks as a registration or a call opt-out, so whichever commits
 * first is seen by the other.
 */
export function createOptOutDiscardPolicy(deps: { clock: Clock }): DiscardPolicy {
  return {
    async reasonToDiscard(db, call) {
      if (inTransaction(db)) {
        // Always in this order (caller, then call) so two transactions cannot wait on each other.
        if (call.callerKey) await lockCaller(db, call.callerKey);
        await lockCall(db, call.callId);
      }
      if (call.callerKey && (await repo.findActiveId(db, call.callerKey))) return NUMBER_OPTED_OUT;
      if (await repo.findCallOptOut(db, call.callId)) return CALL_OPTED_OUT;
      return null;
    },

    async onDiscarded(trx, call) {
      const because: Record<string, unknown> = {};
      const callOptOut = await repo.findCallOptOut(trx, call.callId);
      if (callOptOut) {
        await repo.markCallDiscarded(trx, callOptOut.id, call.recordingId, deps.clock.now().toISOString());
        because.callOptOutId = callOptOut.id;
      }
      if (call.reason === NUMBER_OPTED_OUT && call.callerKey) {
        const optOutId = await repo.findActiveId(trx, call.callerKey);
        if (optOutId) because.optOutId = optOutId;
      }
      return because;
    },
  };
}
