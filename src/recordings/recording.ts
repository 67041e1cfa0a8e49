/** A call recording as the service knows it. The caller is only ever a keyed hash. */
export interface Recording {
  id: string;
  callId: string;
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
  deadline: string;
  deletedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Storage keys are made by the server: recordings/yyyy/mm/dd/<id>. The id ties an object to its row. */
export function storageKeyFor(id: string, at: Date): string {
  const d = at.toISOString();
  return `recordings/${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/${id}`;
}

export const RECORDINGS_PREFIX = 'recordings/';
