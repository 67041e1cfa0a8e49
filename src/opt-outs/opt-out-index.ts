import type { OptOutRepository } from './ports.js';

/**
 * The caller keys with an opt-out in force, held in memory for the IVR's pre-call check.
 *
 * Why: the phone system asks before every call and the caller waits for the answer. On SQLite every
 * query goes through the one connection and libuv's thread pool, and under load that round trip is
 * what pushes the check's p99 past its target (bench:optout); a set look-up does not wait. The index is only as fresh as the
 * writes this process sees, so it is used only where this process is the registry's only writer
 * (SQLite: one instance by design). On PostgreSQL another instance may register a number at any
 * moment, so the check asks the database there.
 *
 * The upload path never relies on it: ingest asks the database, inside its commit transaction.
 *
 * Keys are kept as 32-byte binary strings rather than 64 hex characters: half the memory.
 */
export interface OptOutIndex {
  has(callerKey: string): Promise<boolean>;
  /** Called by the registry after a registration commits, before it answers. */
  added(callerKey: string): void;
  /** Called by the registry after a removal commits, before it answers. */
  removed(callerKey: string): void;
}

const compact = (callerKey: string) => Buffer.from(callerKey, 'hex').toString('latin1');

export function createOptOutIndex(optOuts: Pick<OptOutRepository, 'activeCallerKeys'>): OptOutIndex {
  let keys: Set<string> | undefined;
  let loading: Promise<Set<string>> | undefined;
  // Changes committed while the load's SELECT was running: the SELECT may or may not have seen them,
  // so they are applied again on top of what it returned (adding and removing are idempotent).
  let pending: Array<(set: Set<string>) => void> = [];

  function load(): Promise<Set<string>> {
    loading ??= (async () => {
      const set = new Set<string>();
      for (const key of await optOuts.activeCallerKeys()) set.add(compact(key));
      for (const change of pending) change(set);
      pending = [];
      keys = set;
      return set;
    })().catch((err: unknown) => {
      // A failed load is retried by the next check instead of leaving the index broken for good.
      loading = undefined;
      pending = [];
      throw err;
    });
    return loading;
  }

  function change(fn: (set: Set<string>) => void): void {
    if (keys) fn(keys);
    else if (loading) pending.push(fn);
    // Not loaded and not loading: the first load reads the committed change from the database.
  }

  return {
    async has(callerKey) {
      return (keys ?? (await load())).has(compact(callerKey));
    },
    added(callerKey) {
      const k = compact(callerKey);
      change((set) => set.add(k));
    },
    removed(callerKey) {
      const k = compact(callerKey);
      change((set) => set.delete(k));
    },
  };
}
