import { createHash } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { SignInFailuresRepository } from './ports.js';

/** How much of a token names it for counting: "glr_" and a few characters, never enough to use it. */
const TOKEN_PREFIX_LENGTH = 10;

/**
 * Failed sign-ins counted per account (the provider's subject) or per token prefix, never per
 * address: behind the municipality's proxy every colleague shares one address. The counts live in
 * the database, so every instance sees the same ones. A valid credential is never refused: only
 * further failures of a key that reached `limit` within `windowMs` are answered "too many".
 */
export function createSignInFailures(deps: { repo: SignInFailuresRepository; clock: Clock; limit?: number; windowMs?: number }) {
  const limit = deps.limit ?? 10;
  const windowMs = deps.windowMs ?? 15 * 60_000;
  const hashed = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');
  return {
    keyForToken: (token: string) => hashed('token:' + token.trim().slice(0, TOKEN_PREFIX_LENGTH)),
    keyForAccount: (sub: string) => hashed('account:' + sub),

    /** Counts one failure; true when the key has now failed `limit` times within the window. */
    async record(key: string): Promise<boolean> {
      const now = deps.clock.now();
      const n = await deps.repo.update(key, (c) => {
        const fresh = !c || now.getTime() - Date.parse(c.windowStartedAt) >= windowMs;
        const failures = fresh ? 1 : c.failures + 1;
        const windowStartedAt = fresh ? now.toISOString() : c.windowStartedAt;
        const blockedUntil = failures >= limit ? new Date(Date.parse(windowStartedAt) + windowMs).toISOString() : null;
        return { failures, windowStartedAt, blockedUntil };
      });
      // A new key's first failure also sweeps the windows that have passed, so that random tokens
      // (a new prefix each) cannot grow the table: it holds at most one window's worth of keys.
      if (n.failures === 1) await deps.repo.removeStale(new Date(now.getTime() - windowMs).toISOString());
      return n.blockedUntil !== null && Date.parse(n.blockedUntil) > now.getTime();
    },

    /** Whether the key is at its limit now. */
    async blocked(key: string): Promise<boolean> {
      const c = await deps.repo.find(key);
      return !!c?.blockedUntil && Date.parse(c.blockedUntil) > deps.clock.now().getTime();
    },

    /** A success forgets the key's failures. */
    async clear(key: string): Promise<void> {
      await deps.repo.remove(key);
    },
  };
}

export type SignInFailures = ReturnType<typeof createSignInFailures>;
