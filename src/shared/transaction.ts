declare const open: unique symbol;

/**
 * An open transaction. Use cases only hand it on to repositories (and the audit log), which run their
 * statements inside it; nothing else can do anything with it.
 */
export interface Tx {
  readonly [open]: true;
}

/**
 * The unit of work: runs `fn` in one transaction, committed when its promise resolves and rolled back
 * when it rejects. A use case commits a change and its audit entry together this way.
 */
export type Transact = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;
