import type { DiscardPolicy } from '../recordings/index.js';
import type { Clock } from '../shared/clock.js';
import { CALL_OPTED_OUT } from './call-opt-out.js';
import type { OptOutRepository } from './ports.js';
import { NUMBER_OPTED_OUT } from './opt-out-registry.js';

/**
 * What the webhook asks before reading the audio and again in the transaction that would keep it.
 * The second time it takes the same locks as a registration or a call opt-out, so whichever commits
 * first is seen by the other.
 */
export function createOptOutDiscardPolicy(deps: { optOuts: OptOutRepository; clock: Clock }): DiscardPolicy {
  const repo = deps.optOuts;
  return {
    async reasonToDiscard(call, tx) {
      if (tx) {
        // Always in this order (caller, then call) so two transactions cannot wait on each other.
        await repo.lockCallerAndCall(tx, call.callerKey, call.callId);
      }
      const found = await repo.findOptOutsOfCall(call, tx);
      if (found.number) return NUMBER_OPTED_OUT;
      if (found.call) return CALL_OPTED_OUT;
      return null;
    },

    async onDiscarded(tx, call) {
      const because: Record<string, unknown> = {};
      const callOptOut = await repo.findCallOptOut(call.callId, tx, call.source ?? 'webhook');
      if (callOptOut) {
        await repo.markCallDiscarded(tx, callOptOut.id, call.recordingId, deps.clock.now().toISOString());
        because.callOptOutId = callOptOut.id;
      }
      if (call.reason === NUMBER_OPTED_OUT && call.callerKey) {
        const optOutId = await repo.findActiveId(call.callerKey, tx);
        if (optOutId) because.optOutId = optOutId;
      }
      return because;
    },
  };
}
