import type { Transact, Tx } from '../../src/shared/transaction.js';

/** A fake whose state a transaction can roll back. */
export interface Snapshottable {
  snapshot(): unknown;
  restore(state: unknown): void;
}

/**
 * The unit-of-work port in memory: runs `fn`, and when it rejects puts every given fake back as it was
 * before, as a rolled-back transaction would. Calls run one after another (no isolation is modelled).
 */
export function memoryTransaction(...parts: Snapshottable[]): Transact {
  return async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const before = parts.map((p) => p.snapshot());
    try {
      return await fn({} as Tx);
    } catch (err) {
      parts.forEach((p, i) => p.restore(before[i]));
      throw err;
    }
  };
}

/** A Map-backed table: rows by key, cloned for snapshots. */
export class MemoryTable<K, V> implements Snapshottable {
  rows = new Map<K, V>();
  snapshot(): unknown {
    return structuredClone(this.rows);
  }
  restore(state: unknown): void {
    this.rows = state as Map<K, V>;
  }
  values(): V[] {
    return [...this.rows.values()];
  }
}
