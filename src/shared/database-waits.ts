import { AsyncLocalStorage } from 'node:async_hooks';

/** What one request has waited on the database so far (SQLite): its waits together stay within the busy timeout. */
export const requestWaits = new AsyncLocalStorage<{ waitedMs: number }>();

/**
 * Runs `fn` (a request) with its own count of database waits: on SQLite a request that already waited
 * for the connection (behind transactions waiting for another process's lock) waits for the write lock
 * only for what is left of the busy timeout, so the request is answered (503) within it.
 */
export function countDatabaseWaits<T>(fn: () => T): T {
  return requestWaits.run({ waitedMs: 0 }, fn);
}
