import type { AuditLog } from '../audit-log/index.js';
import { actorOf, type Principal, type Role } from '../shared/principal.js';
import { foldCase } from '../shared/case-fold.js';
import type { Clock } from '../shared/clock.js';
import { DAY_MS } from '../shared/clock.js';
import type { Transact } from '../shared/transaction.js';
import { Gone, InvalidInput, NotFound, Unavailable } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { ObjectNotFound, type ByteRange, type ObjectStore, type StoredObject } from '../storage/index.js';
import type { Recording } from './recording.js';
import type { PageCursor, RecordingFilter, RecordingRepository } from './ports.js';

/** The opt-out registry as playback needs it (issue 3's `services.optOuts`). */
export interface OptOutCheck {
  isCallerOptedOut(callerKey: string | null): Promise<boolean>;
  /** Also true when this one call was opted out after the fact. */
  isWithdrawn?(recording: { callId: string; callerKey: string | null; source?: string }): Promise<boolean>;
}

/**
 * What anyone may see of a recording: an explicit list of fields, so a column added later (or the
 * caller key) can never leak through a spread.
 */
export interface RecordingView {
  id: string;
  callId: string;
  status: Recording['status'];
  startedAt: string;
  endedAt: string;
  durationMs: number | null;
  queue: string | null;
  agentId: string | null;
  contentType: string | null;
  bytes: number | null;
  deadline: string;
  /** Whole days until the deadline, rounded up; 0 once it has passed. */
  daysLeft: number;
  deletedAt: string | null;
}

export interface ListQuery {
  from?: string;
  to?: string;
  queue?: string;
  agentId?: string;
  callId?: string;
  cursor?: string;
  limit: number;
}

/** The stored spellings that are `typed` but for case (Swedish rules: Å/å, Ä/ä, Ö/ö). */
const sameWords = (stored: string[], typed: string): string[] => {
  const want = foldCase(typed);
  return stored.filter((v) => foldCase(v) === want);
};

/** Trainers see only calls whose audio is there to be heard. */
const sees = (role: Role): Recording['status'][] | undefined => (role === 'trainer' ? ['stored'] : undefined);

export function createPlayback(deps: { recordings: RecordingRepository; transaction: Transact; store: ObjectStore; audit: AuditLog; clock: Clock; logger: Logger; optOuts?: OptOutCheck;
  /** Whether a restriction of processing (a data-subject request) holds this recording: then it is not played. */
  restricted?: (recordingId: string) => Promise<boolean>;
}) {
  const { recordings, transaction, store, audit, clock } = deps;

  const optedOut = async (r: Recording): Promise<boolean> => {
    const o = deps.optOuts;
    if (!o) return false;
    return o.isWithdrawn ? o.isWithdrawn(r) : o.isCallerOptedOut(r.callerKey);
  };

  /** Which recordings a viewer may list at all: trainers only those still stored and before their deadline. */
  const visible = (viewer: Role): Pick<RecordingFilter, 'statuses' | 'deadlineAfter'> =>
    viewer === 'trainer' ? { statuses: sees(viewer), deadlineAfter: clock.now().toISOString() } : { statuses: sees(viewer) };

  function view(r: Recording): RecordingView {
    const left = Math.ceil((new Date(r.deadline).getTime() - clock.now().getTime()) / DAY_MS);
    return {
      id: r.id,
      callId: r.callId,
      status: r.status,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      durationMs: r.durationMs,
      queue: r.queue,
      agentId: r.agentId,
      contentType: r.contentType,
      bytes: r.bytes,
      deadline: r.deadline,
      daysLeft: Math.max(0, left),
      deletedAt: r.deletedAt,
    };
  }

  /**
   * A stored recording whose audio may be played, or Gone naming why not. Past its deadline a
   * recording is only still here because of a hold or a late run; trainers no longer get it then.
   */
  async function playable(id: string, viewer: Role): Promise<Recording> {
    const r = await recordings.findById(id);
    if (!r) throw new NotFound('recording-not-found', `No recording ${id}`);
    if (r.status === 'deleted') throw new Gone('recording-deleted', 'This recording has been deleted');
    if (r.status === 'discarded') throw new Gone('recording-discarded', 'This call was never kept');
    if (await optedOut(r)) throw new Gone('recording-opted-out', 'The caller has opted out; this recording is being deleted');
    if (await deps.restricted?.(r.id)) throw new Gone('recording-restricted', 'The caller has asked to restrict the use of this recording');
    if (viewer === 'trainer' && r.deadline <= clock.now().toISOString()) throw new Gone('recording-expired', 'This recording has passed its deletion deadline');
    return r;
  }

  return {
    /** The queues and agents of the recordings this viewer may list: what the pickers offer. */
    async filterValues(viewer: Role): Promise<{ queues: string[]; agentIds: string[] }> {
      return recordings.distinctValues(visible(viewer));
    },

    async list(viewer: Role, q: ListQuery): Promise<{ items: RecordingView[]; nextCursor: string | null }> {
      const filter: RecordingFilter = { from: q.from, to: q.to, callId: q.callId, ...visible(viewer) };
      if (q.queue || q.agentId) {
        // Staff type "bygglov" for "Bygglov": the typed text matches the stored spellings whatever their
        // case. Folded here rather than with SQL lower(), which leaves å, ä and ö alone in SQLite.
        const known = await recordings.distinctValues(visible(viewer));
        if (q.queue) filter.queues = sameWords(known.queues, q.queue);
        if (q.agentId) filter.agentIds = sameWords(known.agentIds, q.agentId);
        if (filter.queues?.length === 0 || filter.agentIds?.length === 0) return { items: [], nextCursor: null };
      }
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      const { rows, more } = await recordings.listPage(filter, after, q.limit);
      const items: RecordingView[] = [];
      for (const r of rows) {
        // A trainer never gets a call whose caller has opted out, even in the moment before it is deleted.
        if (viewer === 'trainer' && (await optedOut(r))) continue;
        // Nor one whose caller asked to restrict its use (art. 18).
        if (viewer === 'trainer' && (await deps.restricted?.(r.id))) continue;
        items.push(view(r));
      }
      const last = rows[rows.length - 1];
      return { items, nextCursor: more && last ? encodeCursor({ startedAt: last.startedAt, id: last.id }) : null };
    },

    async get(viewer: Role, id: string): Promise<RecordingView> {
      if (viewer === 'trainer') return view(await playable(id, viewer));
      const r = await recordings.findById(id);
      if (!r) throw new NotFound('recording-not-found', `No recording ${id}`);
      return view(r);
    },

    /** The recording behind /audio, checked playable; no audio is read and nothing is audited. */
    locate: playable,


    /**
     * Opens the audio for streaming. A listening (`listening`: no Range, or a Range from byte 0) is
     * audited before the first byte leaves; the following range requests of the same listening are not.
     */
    /** What HEAD asks: the audio is in the store, as GET would find it (Gone when it is not, Unavailable when the store cannot say). */
    async verifyStored(r: Recording): Promise<void> {
      let stored: boolean;
      try {
        stored = await store.exists(r.storageKey!);
      } catch (err) {
        deps.logger.error('the store could not be asked for a recording', { recordingId: r.id, err: errorFacts(err) });
        throw new Unavailable('store-unavailable', 'The store cannot be reached; retry later');
      }
      if (!stored) {
        deps.logger.error('a stored recording has no object', { recordingId: r.id });
        throw new Gone('recording-missing', 'The audio of this recording is not in the store');
      }
    },

    async open(principal: Principal, r: Recording, range: ByteRange | undefined, listening: boolean): Promise<StoredObject> {
      let obj: StoredObject;
      try {
        obj = await store.get(r.storageKey!, range);
      } catch (err) {
        if (err instanceof ObjectNotFound) {
          deps.logger.error('a stored recording has no object', { recordingId: r.id });
          throw new Gone('recording-missing', 'The audio of this recording is not in the store');
        }
        throw err;
      }
      if (!listening) return obj;
      try {
        await transaction((tx) =>
          audit.append(tx, {
            actor: actorOf(principal),
            action: 'recording.played',
            subject: `recording:${r.id}`,
            details: { recordingId: r.id, callId: r.callId, via: principal.via },
          }),
        );
      } catch (err) {
        // No entry, no audio: an unaudited listening must not happen.
        obj.body.destroy();
        throw err;
      }
      return obj;
    },
  };
}

export type Playback = ReturnType<typeof createPlayback>;

function encodeCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.startedAt, c.id]), 'utf8').toString('base64url');
}

function decodeCursor(s: string): PageCursor {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown[];
    if (typeof startedAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(startedAt))) return { startedAt, id };
  } catch {
    // fall through
  }
  throw new InvalidInput('invalid-cursor', 'cursor is not one this service gave out', { errors: [{ pointer: '/cursor', code: 'invalid-cursor', detail: 'use nextCursor from a previous page' }] });
}
