import type { Readable } from 'node:stream';

/** A byte range, inclusive at both ends as in HTTP Range; `end` omitted means to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface StoredObject {
  body: Readable;
  /** Bytes in `body` (the range's length when a range was asked for). */
  bytes: number;
  /** Size of the whole object. */
  totalBytes: number;
  contentType: string;
}

export interface DeleteResult {
  /** Keys that are gone (every version, on a versioned bucket); a key that was already missing counts. */
  deleted: string[];
  failed: { key: string; error: string }[];
}

/**
 * What a process killed in the middle of a write leaves in the store besides objects: never readable
 * through `get` or `list`, never deleted by `delete`, and call audio all the same.
 */
export interface Leftover {
  /** What `removeLeftovers` takes; made by the adapter, opaque to callers. */
  id: string;
  /**
   * `temp-file`: a write that never reached its rename (filesystem); `sidecar`: metadata whose object
   * is gone (filesystem); `multipart-upload`: an upload neither completed nor aborted, its parts billed
   * and kept (S3).
   */
  kind: 'temp-file' | 'sidecar' | 'multipart-upload';
  /** The object key it was written for, where the store can tell. */
  key?: string;
  /** When it was last written (a multipart upload: when it was started). */
  lastModified: Date;
}

/**
 * The one port to object storage. Only operations every adapter can honour. Keys are always made by
 * the server (never from request input); adapters still refuse keys that could escape their root.
 */
export interface ObjectStore {
  /**
   * Streams `body` to `key`. Resolves only when the object is durably stored; on failure nothing is left at `key`.
   * `sha256`, when given, returns the hex SHA-256 of the whole body and may be called once the body has
   * ended: a store that must hash what it sends (S3's signed payload) uses it instead of hashing again,
   * and a store that checks it refuses a body that does not match.
   */
  put(key: string, body: Readable, meta: { contentType: string; sha256?: () => string }): Promise<{ bytes: number }>;
  /**
   * Stores `body` at `key` only if nothing is there yet; never replaces an object. Resolves
   * `{ created: false }` and leaves the existing object untouched when `key` is taken (the caller
   * compares contents). Adapters make the test and the write one atomic step where the backend can
   * (an exclusive link on a filesystem, `If-None-Match: *` on S3). `retainUntil` asks for a
   * compliance-mode retention where the store has one (S3 Object Lock); stores without it ignore it.
   */
  create(key: string, body: Buffer, meta: { contentType: string; retainUntil?: Date }): Promise<{ created: boolean }>;
  /** Throws ObjectNotFound when absent. */
  get(key: string, range?: ByteRange): Promise<StoredObject>;
  /** Removes every version of each key. Never throws for a missing key; reports per-key failures. */
  delete(keys: string[]): Promise<DeleteResult>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }>;
  /**
   * Leftovers under `prefix` last modified at or before `olderThan`. A younger one may belong to a write
   * still in progress; the caller picks the age (a grace period) after which none can.
   */
  leftovers(prefix: string, olderThan: Date): AsyncIterable<Leftover>;
  /**
   * Removes leftovers by id, verified gone; one already gone counts as removed (so a removal repeated
   * after a crash succeeds). Refuses, with InvalidKey, an id that does not name a leftover of this
   * store's kind (an object's key above all); reports per-id failures.
   */
  removeLeftovers(ids: string[]): Promise<DeleteResult>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
}

export class ObjectNotFound extends Error {
  constructor(readonly key: string) {
    super(`no object at ${key}`);
    this.name = 'ObjectNotFound';
  }
}

export class InvalidKey extends Error {
  constructor(readonly key: string) {
    super(`refused object key ${JSON.stringify(key)}`);
    this.name = 'InvalidKey';
  }
}

/** Keys the server makes: prefix/yyyy/mm/dd/<uuid>. Anything else is refused by every adapter. */
export const KEY_PATTERN = /^[a-z0-9-]+(\/[A-Za-z0-9._-]+)*$/;

export function assertValidKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((s) => s === '.' || s === '..') || key.length > 200) {
    throw new InvalidKey(key);
  }
}
