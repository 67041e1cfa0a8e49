import type { AuditLog } from '../audit-log/index.js';
import type { DeleteRecordings } from '../recordings/index.js';
import type { CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import type { Database, Transaction } from '../shared/database.js';
import { createCallOptOuts } from './call-opt-out.js';
import { createOptOutDiscardPolicy } from './discard-policy.js';
import { createOptOutRegistry } from './opt-out-registry.js';

export { optOutRoutes } from './opt-outs.routes.js';
export { NUMBER_OPTED_OUT, OPT_OUT_SOURCES, SUBJECT_REQUEST_SOURCE, type OptOutSource, type OptOutRegistry } from './opt-out-registry.js';
export { CALL_OPTED_OUT } from './call-opt-out.js';

export interface OptOutDeps {
  db: Database;
  audit: AuditLog;
  clock: Clock;
  callerKeys: CallerKeys;
  deleteRecordings: DeleteRecordings;
}

/** The standing registry, after-the-fact opt-outs of single calls, and the policy the webhook asks. */
export function createOptOuts(deps: OptOutDeps) {
  const registry = createOptOutRegistry(deps);
  const calls = createCallOptOuts(deps);
  return {
    registry,
    calls,
    isCallerOptedOut: registry.isCallerOptedOut,
    isCallOptedOut: calls.isCallOptedOut,
    /**
     * For playback: a recording whose caller opted out (standing or for this call) is never served,
     * even while its deletion is still pending.
     */
    async isWithdrawn(db: Database | Transaction, recording: { callId: string; callerKey: string | null }): Promise<boolean> {
      return (await registry.isCallerOptedOut(db, recording.callerKey)) || (await calls.isCallOptedOut(db, recording.callId));
    },
    discardPolicy: createOptOutDiscardPolicy({ clock: deps.clock }),
  };
}

export type OptOuts = ReturnType<typeof createOptOuts>;
