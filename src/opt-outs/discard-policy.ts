import type { DiscardPolicy } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import { lockForTransaction, type Database, type Transaction } from '../shared/database.js';
import { CALL_OPTED_OUT, callLockName } from './call-opt-out.js';
import * as repo from './opt-out-repository.js';
import { callerLockName, NUMBER_OPTED_OUT } from './opt-out-registry.js';

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
        await lockForTransaction(db, ...(call.callerKey ? [callerLockName(call.callerKey)] : []), callLockName(call.callId));
      }
      const found = await repo.findOptOutsOfCall(db, call);
      if (found.number) return NUMBER_OPTED_OUT;
      if (found.call) return CALL_OPTED_OUT;
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
