import type { Readable } from 'node:stream';
import type { Tx } from '../shared/transaction.js';

/**
 * A file a source offers, as its adapter lists it. `path` is relative to the source's directory and
 * may hold the caller's number (FreePBX names do): it lives in memory only, for the one poll that
 * listed it, and is never stored, logged or audited. The item's id (a keyed hash of it) is.
 */
export interface SourceEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * A place gallra polls for recordings (an SFTP directory, a local or mounted folder). Adapters turn
 * their client's errors into `SourceUnreachable` (the whole source) or `SourceItemGone` (one file)
 * with messages that hold no path.
 */
export interface SourceAdapter {
  /** Every regular file under the source's directory (recursively), with size and modification time. */
  list(): Promise<SourceEntry[]>;
  /** The file's bytes as a stream; the file is never copied to a temporary file on our side. */
  read(path: string): Promise<Readable>;
  /** A small file read whole (a sidecar); SourceItemGone when it is not there. */
  readSmall(path: string, maxBytes: number): Promise<Buffer>;
  /**
   * The item's attributes where the place keeps any beside the bytes (an S3 object's user metadata and
   * tags), names lower-cased; absent where it keeps none (folders, SFTP). SourceItemGone when it is not there.
   */
  attributesOf?(path: string): Promise<Map<string, string>>;
  /** Removes the file; a file already gone counts as removed. */
  remove(path: string): Promise<void>;
  /** Ends the connection, if the adapter holds one. */
  close(): Promise<void>;
}

/** The source could not be reached or refused us (host key, login, network): nothing was taken. */
export class SourceUnreachable extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One file (a sidecar) is not there. */
export class SourceItemGone extends Error {}

export type SourceItemState = 'seen' | 'taking' | 'taken' | 'rejected' | 'deleted';

/** What gallra remembers of one file at a source: never its path. */
export interface SourceItem {
  source: string;
  itemId: string;
  state: SourceItemState;
  size: number;
  mtimeMs: number;
  /** When size and mtime were first seen as they are now. */
  seenAt: string;
  leaseOwner: string | null;
  leaseUntil: string | null;
  recordingId: string | null;
  outcome: 'stored' | 'discarded' | 'duplicate' | null;
  reason: string | null;
  /** The file name with every digit masked (a number cannot survive it), for the web interface. */
  maskedName: string | null;
  bytes: number | null;
  takenAt: string | null;
  updatedAt: string;
}

/** The source_items table. */
export interface SourceItemRepository {
  /** The items of a source not yet finished (every state but 'deleted'), and deleted ones listed again. */
  ofSource(source: string, itemIds: string[]): Promise<Map<string, SourceItem>>;
  /** Items taken (committed) whose copy at the source is not deleted yet. */
  pendingDeletion(source: string): Promise<SourceItem[]>;
  /** Writes the intent rows of newly seen files in one statement; a row another instance wrote first is left as it is. In `tx` when given. */
  insertSeen(items: Array<{ source: string; itemId: string; size: number; mtimeMs: number; at: string; maskedName: string }>, tx?: Tx): Promise<void>;
  /** The file changed (or came back after deletion/rejection): it is seen anew. */
  resetSeen(item: { source: string; itemId: string; size: number; mtimeMs: number; at: string; maskedName: string }): Promise<void>;
  /**
   * Takes the lease on those items that are seen, or taking under an expired lease, in one conditional
   * write, and answers the ids this call got: of several instances exactly one wins each item.
   */
  claim(source: string, itemIds: string[], owner: string, now: string, until: string): Promise<Set<string>>;
  /**
   * The item's recording is committed (or the call discarded): its copy is now pending deletion. In `tx`,
   * the transaction that commits the recording, when given.
   */
  markTaken(
    source: string, itemId: string, owner: string, fields: { recordingId: string | null; outcome: 'stored' | 'discarded' | 'duplicate'; bytes: number; at: string }, tx?: Tx,
  ): Promise<void>;
  /** Gives the lease back without a result (the store or the source failed; the next poll retries). */
  release(source: string, itemId: string, owner: string): Promise<void>;
  /** Rejected, in the transaction of its audit entry; false when another instance holds the lease. */
  markRejected(tx: Tx, source: string, itemId: string, owner: string, fields: { reason: string; at: string }): Promise<boolean>;
  /** The copy at the source is gone, in the transaction of its audit entry; false when someone else recorded it first. */
  markDeleted(tx: Tx, source: string, itemId: string, at: string): Promise<boolean>;
  /** Per source: items pending deletion (with the oldest taken time) and rejected items. */
  counts(): Promise<Array<{ source: string; pending: number; oldestPendingAt: string | null; rejected: number }>>;
  /** Rejected items of a source (for the web interface and tests). */
  rejected(source: string): Promise<SourceItem[]>;
}

// --- notify sources -----------------------------------------------------------------------------------

/** What a notify source keeps of one notification until its recording is taken: never a number. */
export interface SourceNotification {
  source: string;
  /** The platform's recording id; the source_items key. */
  itemId: string;
  callId: string;
  mediaUrl: string;
  /** From the notification when it carries the caller (46elks); null when it must be looked up (Twilio). */
  callerKey: string | null;
  startedAt: string | null;
  endedAt: string | null;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  receivedAt: string;
}

/** The source_notifications table. */
export interface SourceNotificationRepository {
  /** Writes the notification (a repeated one is left as it is); true when it is new. In `tx`, with its source_items row and audit entry. */
  insert(tx: Tx, n: Omit<SourceNotification, 'attempts' | 'lastError'>): Promise<boolean>;
  /** Notifications of a source whose next attempt is due, oldest first. */
  due(source: string, now: string, limit: number): Promise<SourceNotification[]>;
  /** A failed attempt: the next one not before `next`. */
  failed(source: string, itemId: string, f: { attempts: number; next: string; error: string }): Promise<void>;
  /** The recording is taken (or the item rejected): nothing is fetched again. In `tx` when given. */
  remove(source: string, itemId: string, tx?: Tx): Promise<void>;
  /** Per source: notifications waiting, and those whose last attempt failed. */
  waiting(source: string): Promise<{ waiting: number; failing: number; oldestFailingSince: string | null; lastError: string | null }>;
}
