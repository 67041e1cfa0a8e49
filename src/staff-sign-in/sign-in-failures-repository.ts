import { RateLimiterCompatibleAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../shared/clock.js';
import { lockForTransaction, type Database } from '../shared/database.js';

/** What one key's row holds: its failures in the window that began at `windowStartedAt` (ms). */
interface FailureRow {
  failures: number;
  windowStartedAt: number;
}

/**
 * A rate-limiter-flexible limiter whose counts live in `sign_in_failures` (one row per account or
 * token prefix, by hash), for the per-credential counts every instance shares. The library's own
 * PostgreSQL and SQLite stores read `Date.now()` and create their table themselves; this one takes
 * time from the injected clock and uses the table the migrations own, the same on both databases
 * (on SQLite there is one instance, but the counts still survive a restart). Counting is a
 * read-modify-write under a lock per key, so instances sharing one PostgreSQL count together.
 */
export class SignInFailuresStore extends RateLimiterCompatibleAbstract {
  /** Failures a key may have within `duration` seconds; the next is refused. */
  readonly points: number;
  readonly duration: number;
  // What the library sets on a limiter it holds as insurance; this one has no use for them.
  override blockDuration = 0;
  override execEvenly = false;
  override readonly keyPrefix = '';

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    limits: { points: number; duration: number },
  ) {
    super();
    this.points = limits.points;
    this.duration = limits.duration;
  }

  /** Counts `points` failures; rejects with the RateLimiterRes once the key is over `points`. */
  override async consume(key: string | number, points = 1): Promise<RateLimiterRes> {
    const res = this.resOf(await this.add(String(key), points));
    if (res.consumedPoints > this.points) throw res;
    return res;
  }

  override async penalty(key: string | number, points = 1): Promise<RateLimiterRes> {
    return this.resOf(await this.add(String(key), points));
  }

  override async reward(key: string | number, points = 1): Promise<RateLimiterRes> {
    return this.resOf(await this.add(String(key), -points));
  }

  override async get(key: string | number): Promise<RateLimiterRes | null> {
    const r = await this.db('sign_in_failures').where({ key: String(key) }).first();
    const row = r ? rowOf(r) : undefined;
    return row && this.clock.now().getTime() - row.windowStartedAt < this.duration * 1000 ? this.resOf(row) : null;
  }

  override async set(key: string | number, points: number): Promise<RateLimiterRes> {
    return this.resOf(await this.add(String(key), points, true));
  }

  override async block(key: string | number): Promise<RateLimiterRes> {
    return this.set(key, this.points + 1);
  }

  override async delete(key: string | number): Promise<boolean> {
    return (await this.db('sign_in_failures').where({ key: String(key) }).delete()) > 0;
  }

  /** Adds to the key's failures, or starts a new window once the last has passed (or when `restart`). */
  private async add(key: string, points: number, restart = false): Promise<FailureRow> {
    const now = this.clock.now().getTime();
    const windowMs = this.duration * 1000;
    const row = await this.db.transaction(async (trx) => {
      await lockForTransaction(trx, `sign-in-failures:${key}`);
      const r = await trx('sign_in_failures').where({ key }).first();
      const current = r ? rowOf(r) : undefined;
      const next = restart || !current || now - current.windowStartedAt >= windowMs
        ? { failures: points, windowStartedAt: now }
        : { failures: current.failures + points, windowStartedAt: current.windowStartedAt };
      const values = { failures: next.failures, window_started_at: new Date(next.windowStartedAt).toISOString() };
      if (r) await trx('sign_in_failures').where({ key }).update(values);
      else await trx('sign_in_failures').insert({ key, ...values });
      return next;
    });
    // A new window also sweeps the windows that have passed, so that random tokens (a new prefix
    // each) cannot grow the table: it holds at most one window's worth of keys.
    if (row.windowStartedAt === now && row.failures === points) {
      await this.db('sign_in_failures').where('window_started_at', '<', new Date(now - windowMs).toISOString()).delete();
    }
    return row;
  }

  private resOf(row: FailureRow): RateLimiterRes {
    const msBeforeNext = Math.max(row.windowStartedAt + this.duration * 1000 - this.clock.now().getTime(), 0);
    return new RateLimiterRes(Math.max(this.points - row.failures, 0), msBeforeNext, row.failures, row.failures === 1);
  }
}

function rowOf(r: { failures: unknown; window_started_at: string }): FailureRow {
  return { failures: Number(r.failures), windowStartedAt: Date.parse(r.window_started_at) };
}
