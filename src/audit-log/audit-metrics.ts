import { Gauge, type Registry } from 'prom-client';
import type { ChainState } from './checkpoints.js';

/** gallra_audit_chain_ok: 1 while the last verification passed (or none has run yet), 0 once it failed. */
export function createAuditMetrics(registry: Registry, state: () => ChainState) {
  return {
    chainOk: new Gauge({
      name: 'gallra_audit_chain_ok',
      help: 'Whether the audit chain verified from the last proven checkpoint to the head at the last check (1) or not (0); an acknowledged problem still reads 0',
      registers: [registry],
      collect() {
        this.set(state().ok ? 1 : 0);
      },
    }),
  };
}

/** The /readyz check: not ready while the chain fails verification, unless an admin acknowledged the problem. */
export function auditChainReadinessCheck(state: () => ChainState, startPending: () => object | undefined = () => undefined) {
  return {
    name: 'audit-chain',
    async check() {
      const s = state();
      // The start-up verification failed (the store did not answer) and is being retried: not ready, and why.
      const pending = s.checked ? undefined : startPending();
      if (pending) return { ok: false, details: { verified: false, pending: 'start-up verification, retried until the store answers', ...pending } };
      if (!s.checked) return { ok: true, details: { verified: false } };
      if (s.ok) return { ok: true, details: { verified: true, at: s.at, verifiedFrom: s.verifiedFrom, headSeq: s.head?.seq ?? 0 } };
      return {
        ok: !!s.acknowledged,
        details: {
          verified: true,
          at: s.at,
          firstBrokenSeq: s.problem!.seq,
          kind: s.problem!.kind,
          detail: s.problem!.detail,
          ...(s.acknowledged ? { acknowledgedBy: s.acknowledged.entrySeq } : {}),
        },
      };
    },
  };
}
