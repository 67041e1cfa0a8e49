/** A call recording as the service knows it. The caller is only ever a keyed hash. */
export interface Recording {
  id: string;
  callId: string;
  /** Where it came from: 'webhook' (the default) or a configured source's name; call ids are unique per source. */
  source?: string;
  startedAt: string;
  endedAt: string;
  queue: string | null;
  agentId: string | null;
  callerKey: string | null;
  storageKey: string | null;
  contentType: string | null;
  bytes: number | null;
  sha256: string | null;
  durationMs: number | null;
  /** stored: the audio is in the store; deleted: a tombstone; discarded: never stored. */
  status: 'stored' | 'deleted' | 'discarded';
  reason: string | null;
  /** The latest deadline: a shortened retention rule may have brought it forward since the call arrived. */
  deadline: string;
  /** The retention policy version the call arrived under (null: none set, or before policies). */
  policyVersion?: number | null;
  /** The queue pattern of the rule that set its first deadline (null: RETENTION_DAYS). */
  policyRule?: string | null;
  deletedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Storage keys are made by the server: recordings/yyyy/mm/dd/hhmmssSSS-<id> (UTC, at upload). The id
 * ties an object to its row; the time first makes keys in a folder sort in upload order, so recordings
 * that fall due together (deadline order) sit side by side and a deletion batch can be verified with a
 * short listing of its key range instead of a request per key.
 */
export function storageKeyFor(id: string, at: Date): string {
  const d = at.toISOString(); // 2026-11-23T10:15:12.345Z
  return `recordings/${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}${d.slice(20, 23)}-${id}`;
}

export const RECORDINGS_PREFIX = 'recordings/';
