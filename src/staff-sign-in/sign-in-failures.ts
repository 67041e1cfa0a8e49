import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes, type RateLimiterLike } from 'rate-limiter-flexible';
import { TooManyRequests } from '../shared/errors.js';

/** How much of a token names it for counting: "glr_" and a few characters, never enough to use it. */
const TOKEN_PREFIX_LENGTH = 10;

/** A failed credential as the limiter sees it. */
export interface FailedAttempt {
  /** The client address (Express's req.ip, which believes X-Forwarded-For only from TRUST_PROXY). */
  address?: string;
  /** The credential's key: `keyForToken`, `keyForPresented` or `keyForAccount`. */
  credential?: string;
}

/** The failed-credential limiter (see createSignInFailures). */
export interface SignInFailures {
  keyForToken(token: string): string;
  keyForPresented(token: string): string;
  keyForAccount(sub: string): string;
  failed(attempt: FailedAttempt): Promise<void>;
  record(credential: string): Promise<boolean>;
  blocked(credential: string): Promise<boolean>;
  clear(credential: string): Promise<void>;
}

/** How many failures a key may have within the window, and where the per-credential counts live. */
export interface SignInFailuresOptions {
  /**
   * The shared store of per-credential counts, built for the limits given: on the database
   * (sign-in-failures-repository.ts) so every instance counts together; in memory in unit tests.
   */
  store: (limits: { points: number; duration: number }) => RateLimiterLike;
  limit?: number;
  windowMs?: number;
}

/**
 * The one limiter of failed credentials (unknown or revoked bearer tokens, the metrics token, failed
 * token sign-ins, people refused at single sign-on), over rate-limiter-flexible:
 * - per client address, in this process's memory, in front: once an address has failed `limit` times
 *   within the window its further failures answer 429 without a database write, so a flood of forged
 *   credentials costs nothing but memory (one small record per address, gone with its window);
 * - per credential (the account, the token prefix, or the presented bearer token, each by hash), in
 *   the shared store: every instance on one PostgreSQL sees the same counts, so rotating the address
 *   or the instance buys no more guesses at one credential. Its `limit`-th failure already answers
 *   "too many": a person who mistyped ten times is told to stop.
 *
 * Only failures are ever refused: a valid credential is checked and accepted whatever the counts say,
 * so nobody can lock the phone system or a colleague out by failing from their address (behind the
 * municipality's proxy everyone may share one) or by spoofing it.
 */
export function createSignInFailures(opts: SignInFailuresOptions): SignInFailures {
  const limit = opts.limit ?? 10;
  const duration = Math.ceil((opts.windowMs ?? 15 * 60_000) / 1000);
  const addresses = new RateLimiterMemory({ points: limit, duration, keyPrefix: 'address' });
  const credentials = opts.store({ points: limit - 1, duration });
  const hashed = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

  /** Consumes one point; the wait in ms when the key is over its limit, undefined otherwise. */
  async function over(limiter: RateLimiterLike, key: string): Promise<number | undefined> {
    try {
      await limiter.consume(key);
      return undefined;
    } catch (e) {
      if (e instanceof RateLimiterRes) return e.msBeforeNext;
      throw e;
    }
  }

  return {
    keyForToken: (token: string) => hashed('token:' + token.trim().slice(0, TOKEN_PREFIX_LENGTH)),
    /** A bearer token as presented (no token material is kept): rotating addresses buys no more guesses at it. */
    keyForPresented: (token: string) => hashed('presented:' + token),
    keyForAccount: (sub: string) => hashed('account:' + sub),

    /**
     * Counts one failed credential: first the address in memory (over its limit, nothing more is
     * counted), then the credential in the shared store. Throws TooManyRequests, with the seconds to
     * wait, when either is over its limit; the caller answers 401 otherwise.
     */
    async failed(attempt: FailedAttempt): Promise<void> {
      const waitMs =
        (attempt.address !== undefined ? await over(addresses, attempt.address) : undefined) ??
        (attempt.credential !== undefined ? await over(credentials, attempt.credential) : undefined);
      if (waitMs !== undefined) {
        throw new TooManyRequests('too-many-failed-sign-ins', 'Too many failed sign-ins from this address or with this credential; wait a while and try again', {
          retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
        });
      }
    },

    /** Counts one failure of a credential in the shared store; true when it has now failed `limit` times within the window. */
    async record(credential: string): Promise<boolean> {
      return (await over(credentials, credential)) !== undefined;
    },

    /** Whether the credential is at its limit now. */
    async blocked(credential: string): Promise<boolean> {
      const res = await credentials.get(credential);
      return !!res && res.consumedPoints >= limit;
    },

    /** A success forgets the credential's failures. */
    async clear(credential: string): Promise<void> {
      await credentials.delete(credential);
    },
  };
}
