import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { LeaseRepository } from './ports.js';

/** A held lease; renew it while working, release it when done. */
export interface Lease {
  name: string;
  holder: string;
  /** False once the lease was lost (expired and taken by another instance). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/** Mutual exclusion between instances: one lease per job, which expires unless renewed. */
export function createRunLeases(deps: { leases: LeaseRepository; clock: Clock; logger: Logger }) {
  const { leases, clock, logger } = deps;

  async function acquire(name: string, ttlMs: number): Promise<Lease | null> {
    const holder = randomUUID();
    const now = clock.now();
    if (!(await leases.take({ name, holder, acquiredAt: now.toISOString(), expiresAt: new Date(now.getTime() + ttlMs).toISOString() }))) return null;
    return {
      name,
      holder,
      async renew() {
        const expires = new Date(clock.now().getTime() + ttlMs).toISOString();
        return leases.extend(name, holder, expires);
      },
      async release() {
        await leases.drop(name, holder);
      },
    };
  }

  return {
    acquire,

    /**
     * Runs `fn` only if the lease is free, renewing it every third of its lifetime while `fn` runs.
     * Returns `{ ran: false }` when another instance holds it.
     */
    async runExclusive<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }> {
      const lease = await acquire(name, ttlMs);
      if (!lease) return { ran: false };
      const stopRenewing = keepRenewing(lease, ttlMs, logger);
      try {
        return { ran: true, result: await fn() };
      } finally {
        stopRenewing();
        await lease.release().catch((err: Error) => logger.warn('could not release a job lease; it expires by itself', { lease: name, err: errorFacts(err) }));
      }
    },
  };
}

export type RunLeases = ReturnType<typeof createRunLeases>;

/** Renews in the background (unref'd: never keeps the process alive); returns the stopper. */
export function keepRenewing(lease: Lease, ttlMs: number, logger: Logger): () => void {
  const timer = setInterval(() => {
    lease.renew().then(
      (ok) => {
        if (!ok) logger.error('a job lease was lost while its run was still going', { lease: lease.name });
      },
      (err: Error) => logger.warn('renewing a job lease failed', { lease: lease.name, err: errorFacts(err) }),
    );
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
