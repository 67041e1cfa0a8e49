import { createCallOptOuts } from './call-opt-out.js';
import { createOptOutDiscardPolicy } from './discard-policy.js';
import { createOptOutRegistry, type RegistryDeps } from './opt-out-registry.js';

export { NUMBER_OPTED_OUT, OPT_OUT_SOURCES, SUBJECT_REQUEST_SOURCE, type OptOutSource, type OptOutRegistry, type PreCallAnswer } from './opt-out-registry.js';
export { CALL_OPTED_OUT } from './call-opt-out.js';
export type { CallOptOut, OptOut, OptOutRepository } from './ports.js';
export { createOptOutRepository, createCallOptOutStoredText } from './opt-out-repository.js';

export type OptOutDeps = RegistryDeps & { sourceNames?: () => string[] };

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
    async isWithdrawn(recording: { callId: string; callerKey: string | null; source?: string }): Promise<boolean> {
      return (await registry.isCallerOptedOut(recording.callerKey)) || (await calls.isCallOptedOut(recording.callId, undefined, recording.source ?? 'webhook'));
    },
    discardPolicy: createOptOutDiscardPolicy({ optOuts: deps.optOuts, clock: deps.clock }),
  };
}

export type OptOuts = ReturnType<typeof createOptOuts>;
