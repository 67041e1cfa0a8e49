import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AuditLog } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { DAY_MS } from '../shared/clock.js';
import { AlreadyExists, Conflict, DomainError, Unauthenticated, Unavailable, UnsupportedMedia } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { Transact, Tx } from '../shared/transaction.js';
import type { ObjectStore } from '../storage/index.js';
import { detectAudioFormat, SNIFF_BYTES } from './audio-format.js';
import { audioDurationMs } from './audio-duration.js';
import type { CallMetadata } from './call-metadata.js';
import type { Recording } from './recording.js';
import { storageKeyFor } from './recording.js';
import type { RecordingRepository } from './ports.js';

/**
 * Decides whether a call must not be kept although it arrived (an opt-out registry, an after-the-fact
 * opt-out). Asked before the audio is read and again inside the committing transaction, so an opt-out
 * that lands while the upload streams still wins.
 */
export interface DiscardPolicy {
  /** Inside `tx` (the committing transaction) it also takes the locks an opt-out takes. */
  reasonToDiscard(call: { callId: string; callerKey: string | null; source?: string }, tx?: Tx): Promise<string | null>;
  /**
   * Called inside the discarding transaction, e.g. to mark a pending opt-out as used. What it returns is
   * added to the discard's audit entry (e.g. the opt-out's id; never a number or caller key).
   */
  onDiscarded?(tx: Tx, call: { callId: string; recordingId: string; reason: string; callerKey: string | null; source?: string }): Promise<Record<string, unknown> | void>;
}

export type IngestOutcome =
  | { outcome: 'stored'; body: StoredBody }
  | { outcome: 'duplicate'; body: StoredBody | DiscardedBody }
  | { outcome: 'discarded'; body: DiscardedBody };

export interface StoredBody {
  id: string;
  callId: string;
  status: 'stored' | 'deleted';
  bytes: number;
  sha256: string;
  deadline: string;
}
export interface DiscardedBody {
  callId: string;
  status: 'discarded';
  reason: string;
}

export interface IngestDeps {
  recordings: RecordingRepository;
  transaction: Transact;
  store: ObjectStore;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  retentionDays: number;
  /**
   * The retention policy per queue: how long a call in this queue is kept (at most retentionDays), or
   * that it is not recorded at all (then it is discarded before a byte is stored), and the policy
   * version and rule that decided. Without it every call keeps retentionDays.
   */
  retentionFor?: (queue: string | null, tx?: Tx) => Promise<QueueRetention>;
  discardPolicy?: DiscardPolicy;
  /**
   * The retention horizon (next retention run + margin): a call whose deadline falls before it would be
   * stored past its deadline if the next run failed, so it is discarded like an expired one.
   */
  deletionCutoff?: (now: Date) => Date;
  /**
   * Runs inside the transaction that inserts a stored recording's row, after the insert: encryption at
   * rest wraps the recording's data key there, so the key exists exactly when the row does.
   */
  sealStored?: (tx: Tx, r: { recordingId: string; storageKey: string; deadline: Date }) => Promise<void>;
}

const WEBHOOK_ACTOR = 'phone-system:webhook';
/** The discard reason of a call in a queue the retention policy says is never recorded. */
export const QUEUE_NOT_RECORDED = 'queue-not-recorded';

/** What the retention policy says about one queue's calls. */
export interface QueueRetention {
  record: boolean;
  retainDays: number;
  /** The policy version (0: none set). */
  version: number;
  /** The matching rule's queue pattern; null: RETENTION_DAYS. */
  rule: string | null;
}

/** How a call that did not come through the webhook (a polled source) is received. */
export interface ReceiveOptions {
  /** The source the call came from; call ids are unique per source. Default 'webhook'. */
  source?: string;
  /** Who the audit entries name. Default the webhook's actor. */
  actor?: string;
  /** Added to the ingest or discard audit entry (a source item's id, …); never a number or a path. */
  auditDetails?: Record<string, unknown>;
  /** The layout gives no end time: the end is the start plus the audio's own duration. */
  endFromDuration?: boolean;
  /**
   * Runs inside the transaction that commits the recording or the discard (a source marks its item
   * taken there, so that the two are one step). Not called for a duplicate, which commits nothing.
   */
  onRecorded?: (tx: Tx, r: { recordingId: string; outcome: 'stored' | 'discarded' }) => Promise<void>;
}

interface Received {
  source: string;
  actor: string;
  extra: Record<string, unknown>;
  endFromDuration: boolean;
  onRecorded?: ReceiveOptions['onRecorded'];
  /** The retention policy version and rule the call is received under. */
  policy: { version: number | null; rule: string | null };
}

export function createIngest(deps: IngestDeps) {
  const { recordings: repo, transaction, store, audit, clock, logger } = deps;

  return {
    /**
     * Takes one call's audio as it streams in. `authenticated` settles once the whole request body has
     * been read and its signature checked; nothing is committed before it says yes.
     */
    async receive(meta: CallMetadata, audio: Readable, authenticated: Promise<boolean>, opts: ReceiveOptions = {}): Promise<IngestOutcome> {
      const now = clock.now();
      const source = opts.source ?? 'webhook';
      // A retry of a stored call is answered from this one read, before anything else is asked.
      const existing = await repo.findBySourceCall(source, meta.callId);
      if (existing) {
        const digest = await drain(audio);
        await mustBeAuthentic(authenticated);
        return asDuplicate(existing, digest.sha256);
      }

      const policy = (await deps.retentionFor?.(meta.queue)) ?? { record: true, retainDays: deps.retentionDays, version: null, rule: null };
      const retainDays = Math.min(policy.retainDays, deps.retentionDays);
      const deadline = new Date(meta.startedAt.getTime() + retainDays * DAY_MS);
      const via: Received = {
        source,
        actor: opts.actor ?? WEBHOOK_ACTOR,
        extra: { ...(source === 'webhook' ? {} : { source }), ...opts.auditDetails },
        endFromDuration: opts.endFromDuration ?? false,
        onRecorded: opts.onRecorded,
        policy: { version: policy.version || null, rule: policy.rule },
      };
      const reason = meta.optOut
        ? 'caller-opted-out'
        : !policy.record
          ? QUEUE_NOT_RECORDED
          : deadline <= now || (deps.deletionCutoff && deadline < deps.deletionCutoff(now))
          ? 'retention-expired'
          : await deps.discardPolicy?.reasonToDiscard({ callId: meta.callId, callerKey: meta.callerKey, source });
      if (reason) {
        // Read and thrown away: the store is never called, nothing touches the disk.
        const digest = await drain(audio);
        await mustBeAuthentic(authenticated);
        return discard(meta, deadline, digest, reason, randomUUID(), via);
      }

      const id = randomUUID();
      const key = storageKeyFor(id, now);
      // One iterator for the whole stream: it observes a stream that has already failed or ended (a body
      // cut off while the use case was still looking up the call), where listeners added late would wait forever.
      // destroyOnReturn: false — if the store gives up, the rest must still drain so the request completes.
      const chunks = audio.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
      const { head, ended } = await readHead(chunks, SNIFF_BYTES);
      const format = await detectAudioFormat(head);
      if (!format) {
        audio.resume();
        throw new UnsupportedMedia('unsupported-audio', 'The audio is not WAV (PCM, A-law, µ-law), MP3, Ogg/Opus or FLAC');
      }

      const hash = createHash('sha256');
      let bytes = 0;
      const body = Readable.from(
        (async function* () {
          hash.update(head);
          bytes += head.length;
          yield head;
          if (ended) return;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
            const chunk = next.value as Buffer;
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        })(),
        { objectMode: false },
      );

      // The store may ask for the digest once the body has ended (S3 signs the payload with it).
      let sha256: string | undefined;
      const digestOfBody = () => (sha256 ??= hash.digest('hex'));
      try {
        await store.put(key, body, { contentType: format.contentType, sha256: digestOfBody });
      } catch (err) {
        audio.resume();
        await removeQuietly(key);
        if (err instanceof DomainError) throw err;
        const cause = (audio as Readable & { errored?: unknown }).errored;
        if (cause instanceof DomainError) throw cause;
        logger.error('storing a recording failed', { recordingId: id, err: errorFacts(err) });
        throw new Unavailable('store-unavailable', 'The recording could not be stored; retry later');
      }

      const digest = { sha256: digestOfBody(), bytes };
      try {
        await mustBeAuthentic(authenticated);
        const durationMs = await audioDurationMs(store, key, { contentType: format.contentType, bytes, head }, logger);
        return await commit(meta, id, key, deadline, format.contentType, digest, via, durationMs);
      } catch (err) {
        await removeQuietly(key);
        throw err;
      }
    },

    /**
     * The refusal of an authentic upload (its signature matched) leaves an entry, without personal
     * data. Refusals of unauthenticated ones are only counted, at the edge: anyone could send them.
     */
    async recordRefusal(input: { status: number; problem: string; callId?: string }): Promise<void> {
      await transaction((tx) =>
        audit.append(tx, {
          actor: WEBHOOK_ACTOR,
          action: 'recording.refused',
          subject: input.callId ? `call:${input.callId}` : null,
          details: { status: input.status, problem: input.problem, ...(input.callId ? { callId: input.callId } : {}) },
        }),
      );
    },
  };

  async function commit(
    meta: CallMetadata,
    id: string,
    key: string,
    deadline: Date,
    contentType: string,
    digest: { sha256: string; bytes: number },
    via: Received,
    durationMs: number | null = null,
  ): Promise<IngestOutcome> {
    const at = clock.now().toISOString();
    const recording = recordingOf(meta, id, deadline, digest, at, {
      status: 'stored', source: via.source, callerKey: meta.callerKey, storageKey: key, contentType, durationMs, policyVersion: via.policy.version, policyRule: via.policy.rule,
    });
    if (via.endFromDuration) recording.endedAt = new Date(meta.startedAt.getTime() + (durationMs ?? 0)).toISOString();
    try {
      const late = await transaction(async (tx) => {
        const reason = await deps.discardPolicy?.reasonToDiscard({ callId: meta.callId, callerKey: meta.callerKey, source: via.source }, tx);
        if (reason) return reason;
        // The policy changed while the audio streamed in: the newer version decides (a retention run that
        // applied it before this commits could not see this recording). Only ever an earlier deadline.
        const policy = await deps.retentionFor?.(meta.queue, tx);
        if (policy && (policy.version || null) !== via.policy.version) {
          if (!policy.record) return QUEUE_NOT_RECORDED;
          const sooner = new Date(meta.startedAt.getTime() + Math.min(policy.retainDays, deps.retentionDays) * DAY_MS).toISOString();
          if (sooner < recording.deadline) Object.assign(recording, { deadline: sooner, policyVersion: policy.version, policyRule: policy.rule });
        }
        await repo.insert(tx, recording);
        await deps.sealStored?.(tx, { recordingId: id, storageKey: key, deadline });
        await audit.append(tx, {
          actor: via.actor,
          action: 'recording.ingested',
          subject: `recording:${id}`,
          details: {
            recordingId: id, callId: meta.callId, storageKey: key, bytes: digest.bytes, sha256: digest.sha256, contentType, deadline: recording.deadline,
            ...(recording.policyVersion ? { policyVersion: recording.policyVersion, rule: recording.policyRule } : {}), ...via.extra,
          },
        });
        await via.onRecorded?.(tx, { recordingId: id, outcome: 'stored' });
        return null;
      });
      if (late) {
        // The caller opted out while the audio streamed in: the opt-out wins. Remove the object first,
        // so a failure here leaves a retry (503) rather than a kept recording.
        const gone = await store.delete([key]);
        if (gone.failed.length) throw new Unavailable('store-unavailable', 'The recording could not be removed; retry later');
        return discard(meta, deadline, digest, late, id, via);
      }
      return { outcome: 'stored', body: storedBody(recording) };
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
      // A concurrent retry of the same call won the race; ours is the copy to drop.
      await removeQuietly(key);
      const winner = await repo.findBySourceCall(via.source, meta.callId);
      if (!winner) throw err;
      return asDuplicate(winner, digest.sha256);
    }
  }

  async function discard(
    meta: CallMetadata,
    deadline: Date,
    digest: { sha256: string; bytes: number },
    reason: string,
    id: string,
    via: Received,
  ): Promise<IngestOutcome> {
    const at = clock.now().toISOString();
    // A discarded call keeps no caller key and no storage: only what proves it arrived and was dropped.
    const recording = recordingOf(meta, id, deadline, digest, at, { status: 'discarded', source: via.source, reason, policyVersion: via.policy.version, policyRule: via.policy.rule });
    try {
      await transaction(async (tx) => {
        await repo.insert(tx, recording);
        const because = await deps.discardPolicy?.onDiscarded?.(tx, { callId: meta.callId, recordingId: id, reason, callerKey: meta.callerKey, source: via.source });
        await audit.append(tx, {
          actor: via.actor,
          action: 'recording.discarded',
          subject: `recording:${id}`,
          details: {
            recordingId: id, callId: meta.callId, reason, bytes: digest.bytes, sha256: digest.sha256,
            ...(reason === QUEUE_NOT_RECORDED ? { policyVersion: via.policy.version, rule: via.policy.rule } : {}), ...(because ?? {}), ...via.extra,
          },
        });
        await via.onRecorded?.(tx, { recordingId: id, outcome: 'discarded' });
      });
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
      const winner = await repo.findBySourceCall(via.source, meta.callId);
      if (!winner) throw err;
      return asDuplicate(winner, digest.sha256);
    }
    return { outcome: 'discarded', body: { callId: meta.callId, status: 'discarded', reason } };
  }

  async function removeQuietly(key: string): Promise<void> {
    try {
      const r = await store.delete([key]);
      if (r.failed.length) logger.warn('could not remove an unfinished upload; the orphan sweep will', { storageKey: key });
    } catch (err) {
      logger.warn('could not remove an unfinished upload; the orphan sweep will', { storageKey: key, err: errorFacts(err) });
    }
  }
}

export type Ingest = ReturnType<typeof createIngest>;

/** The row for a call that arrived, from its metadata and what was read of its audio. */
function recordingOf(
  meta: CallMetadata,
  id: string,
  deadline: Date,
  digest: { sha256: string; bytes: number },
  at: string,
  fields: Pick<Recording, 'status'> & Partial<Recording>,
): Recording {
  return {
    id,
    callId: meta.callId,
    startedAt: meta.startedAt.toISOString(),
    endedAt: meta.endedAt.toISOString(),
    queue: meta.queue,
    agentId: meta.agentId,
    callerKey: null,
    storageKey: null,
    contentType: null,
    bytes: digest.bytes,
    sha256: digest.sha256,
    durationMs: null,
    reason: null,
    deadline: deadline.toISOString(),
    deletedAt: null,
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}

function storedBody(r: Recording): StoredBody {
  return { id: r.id, callId: r.callId, status: r.status === 'deleted' ? 'deleted' : 'stored', bytes: r.bytes!, sha256: r.sha256!, deadline: r.deadline };
}

/** The phone system retries: the same audio gets the first answer again, other audio is a conflict. */
function asDuplicate(existing: Recording, sha256: string): IngestOutcome {
  if (existing.sha256 !== sha256) {
    throw new Conflict('call-id-conflict', `Call ${existing.callId} was already received with different audio`, { callId: existing.callId });
  }
  if (existing.status === 'discarded') {
    return { outcome: 'duplicate', body: { callId: existing.callId, status: 'discarded', reason: existing.reason ?? 'discarded' } };
  }
  return { outcome: 'duplicate', body: storedBody(existing) };
}

async function mustBeAuthentic(authenticated: Promise<boolean>): Promise<void> {
  if (!(await authenticated)) throw new Unauthenticated('invalid-signature', 'The webhook signature does not match the body');
}

/** Reads a stream to its end, keeping only its SHA-256 and length. */
async function drain(audio: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of audio) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** At least the first `n` bytes (fewer if the stream ends first); rejects when the stream failed, even before this was called. */
async function readHead(chunks: AsyncIterator<unknown>, n: number): Promise<{ head: Buffer; ended: boolean }> {
  const read: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const next = await chunks.next();
    if (next.done) return { head: Buffer.concat(read), ended: true };
    read.push(next.value as Buffer);
    len += (next.value as Buffer).length;
  }
  return { head: Buffer.concat(read), ended: false };
}
