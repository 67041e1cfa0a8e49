import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import picomatch from 'picomatch';
import type { AuditLog } from '../audit-log/index.js';
import type { CallMetadata, IngestOutcome, ReceiveOptions } from '../recordings/index.js';
import type { CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import { BadRequest, Conflict, InvalidInput, TooLarge, UnsupportedMedia } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import type { Transact } from '../shared/transaction.js';
import { ItemRejected, presetFor, type ItemMetadata } from './metadata-presets.js';
import { SourceItemGone, SourceUnreachable, type SourceAdapter, type SourceEntry, type SourceItem, type SourceItemRepository } from './ports.js';
import type { SourceConfig } from './source-config.js';

/** The ingest use case as a source needs it: the webhook's, with the source named. */
export interface SourceIngest {
  receive(meta: CallMetadata, audio: Readable, authenticated: Promise<boolean>, opts: ReceiveOptions): Promise<IngestOutcome>;
}

export interface PollReport {
  listed: number;
  taken: number;
  discarded: number;
  duplicates: number;
  rejected: number;
  deleted: number;
  /** Taken items whose copy is still at the source after this poll. */
  pending: number;
  /** Items left for the next poll because the store or the source failed. */
  retry: number;
}

/** What /readyz, the metrics and the web interface show of a source between polls. */
export interface SourceState {
  name: string;
  adapter: SourceConfig['adapter'];
  /** A notify source's platform (twilio, 46elks). */
  platform?: string;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  /** The last failure to reach the source (a code and a message without paths); null after a good poll. */
  lastError: { code: string; message: string; at: string } | null;
  /** Polls that failed in a row; the poll after one waits (backoff). */
  failures: number;
  /** Not polled before this (backoff after failures). */
  notBefore: string | null;
  taken: number;
  discarded: number;
  rejected: number;
  deleteAtSource: boolean;
  keepReason: string | null;
}

export interface PollSourceDeps {
  config: SourceConfig;
  adapter: SourceAdapter;
  items: SourceItemRepository;
  ingest: SourceIngest;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  callerKeys: CallerKeys;
  itemIdOf: (source: string, itemPath: string) => string;
  futureToleranceMs: number;
  maxCallDurationMs: number;
  /** How long an instance may take one item before another may finish it. Default the source's `lease`, else 15 minutes. */
  leaseMs?: number;
  /** This instance's id in the leases it takes. */
  instanceId?: string;
}

const SIDECAR_MAX_BYTES = 64 * 1024;
const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * One source's poll: list, remember what is new (the intent row), take what has stopped changing
 * through the webhook's ingest use case, reject bad input (left at the source), and delete at the source
 * what is committed. Every step is finished by the next poll if a process dies in it.
 */
export function createSourcePoller(deps: PollSourceDeps) {
  const { config, adapter, items, clock, logger, audit, transaction } = deps;
  const name = config.name;
  const actor = `source:${name}`;
  const preset = presetFor(config.metadata);
  /** The sidecar of an audio file that this listing holds, if any. */
  const sidecarIn = (audioPath: string, byPath: Map<string, SourceEntry>): string | null => preset.sidecarsOf(audioPath).find((p) => byPath.has(p)) ?? null;
  const isAudio = picomatch(config.include, { dot: false });
  const leaseMs = deps.leaseMs ?? config.leaseMs ?? 15 * 60_000;
  const owner = deps.instanceId ?? randomBytes(8).toString('hex');
  const state = initialSourceState(config);
  let running: Promise<PollReport> | null = null;

  async function pollOnce(): Promise<PollReport> {
    const report: PollReport = { listed: 0, taken: 0, discarded: 0, duplicates: 0, rejected: 0, deleted: 0, pending: 0, retry: 0 };
    const now = clock.now();
    state.lastPollAt = now.toISOString();
    let entries: SourceEntry[];
    try {
      entries = await adapter.list();
    } catch (err) {
      failed(err, now);
      throw err;
    }
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const sidecars = new Set(entries.flatMap((e) => preset.sidecarsOf(e.path)));
    const audio = entries.filter((e) => isAudio(e.path) && !sidecars.has(e.path)).map((entry) => ({ entry, id: deps.itemIdOf(name, entry.path) }));
    report.listed = audio.length;
    const rows = await items.ofSource(
      name,
      audio.map((a) => a.id),
    );
    const at = now.toISOString();

    // A copy deleted just before a crash: gone from the listing, its deletion not yet audited.
    if (config.deleteAtSource) {
      const listed = new Set(audio.map((a) => a.id));
      for (const p of await items.pendingDeletion(name)) {
        if (!listed.has(p.itemId) && (await recordDeleted(p))) report.deleted++;
      }
    }

    const toTake: Array<{ entry: SourceEntry; id: string }> = [];
    const toDelete: Array<{ entry: SourceEntry; row: SourceItem }> = [];
    const fresh: Parameters<SourceItemRepository['insertSeen']>[0] = [];
    for (const { entry, id } of audio) {
      const row = rows.get(id);
      const changed = row && (row.size !== entry.size || row.mtimeMs !== entry.mtimeMs);
      const seen = { source: name, itemId: id, size: entry.size, mtimeMs: entry.mtimeMs, at, maskedName: maskedNameOf(entry.path) };
      if (!row) fresh.push(seen);
      else if (row.state === 'seen') {
        if (changed) await items.resetSeen(seen);
        else if (now.getTime() - Date.parse(row.seenAt) >= config.settleMs) toTake.push({ entry, id });
      } else if (row.state === 'taking') {
        // Another instance's, or a crashed one's: claim() takes it only once the lease has expired.
        if (row.leaseUntil && row.leaseUntil < at) toTake.push({ entry, id });
      } else if (row.state === 'taken') {
        if (config.deleteAtSource) toDelete.push({ entry, row });
      } else if (row.state === 'rejected') {
        if (changed) await items.resetSeen(seen);
      } else if (row.state === 'deleted') {
        // Delivered again after its copy was deleted: taken again (the ingest answers it as a duplicate).
        await items.resetSeen(seen);
      }
    }

    // The intent rows of new files, in one statement; nothing is taken before its row stands.
    if (fresh.length) await items.insertSeen(fresh);
    const claimNow = clock.now();
    const claimed = toTake.length
      ? await items.claim(name, toTake.map((x) => x.id), owner, claimNow.toISOString(), new Date(claimNow.getTime() + leaseMs).toISOString())
      : new Set<string>();

    const limit = pLimit(config.concurrency);
    await Promise.all(
      toDelete.map(({ entry, row }) =>
        limit(async () => {
          if (await deleteCopy(entry, row, byPath)) report.deleted++;
        }),
      ),
    );
    await Promise.all(toTake.filter((x) => claimed.has(x.id)).map(({ entry, id }) => limit(() => take(entry, id, byPath, report))));
    if (config.deleteAtSource) report.pending = (await items.pendingDeletion(name)).length;
    state.lastSuccessAt = clock.now().toISOString();
    state.lastError = null;
    state.failures = 0;
    state.notBefore = null;
    return report;
  }

  /** Takes one claimed item. */
  async function take(entry: SourceEntry, id: string, byPath: Map<string, SourceEntry>, report: PollReport): Promise<void> {
    const sidecarPath = sidecarIn(entry.path, byPath);
    const sidecarEntry = sidecarPath ? byPath.get(sidecarPath) : undefined;
    try {
      if (entry.size > config.maxFileBytes) throw new ItemRejected('too-large');
      let sidecar: Buffer | null = null;
      if (sidecarPath) {
        try {
          sidecar = await adapter.readSmall(sidecarPath, SIDECAR_MAX_BYTES);
        } catch (err) {
          if (err instanceof SourceItemGone) throw new ItemRejected('missing-metadata');
          throw err;
        }
        if (sidecar.length > SIDECAR_MAX_BYTES) throw new ItemRejected('metadata-too-large');
      }
      const attributes = preset.usesAttributes && adapter.attributesOf ? await adapter.attributesOf(entry.path) : null;
      const md: ItemMetadata = preset.read(entry.path, sidecar, {
        callerKeys: deps.callerKeys,
        timeZone: config.timeZone,
        now: clock.now(),
        futureToleranceMs: deps.futureToleranceMs,
        maxCallDurationMs: deps.maxCallDurationMs,
      }, attributes);
      const audio = await adapter.read(entry.path);
      const bytes = entry.size + (sidecarEntry?.size ?? 0);
      const outcome = await deps.ingest.receive(md.meta, audio, Promise.resolve(true), {
        source: name,
        actor,
        // A platform that gives no caller: kept as unknown caller, which no opt-out or data-subject request can match.
        auditDetails: { itemId: id, ...(md.meta.callerKey === null ? { callerUnknown: true } : {}), ...(md.ambiguousStart ? { startedAtAmbiguous: 'the local time occurs twice (summer time ended); the earlier instant was taken' } : {}) },
        endFromDuration: md.endFromDuration,
        // Marked taken in the transaction that commits the recording: no crash can fall between the two.
        onRecorded: (tx, r) => items.markTaken(name, id, owner, { recordingId: r.recordingId, outcome: r.outcome, bytes, at: clock.now().toISOString() }, tx),
      });
      const kind = outcome.outcome === 'stored' ? 'stored' : outcome.outcome === 'discarded' ? 'discarded' : 'duplicate';
      // A duplicate committed nothing: the item is marked taken on its own.
      if (kind === 'duplicate') await items.markTaken(name, id, owner, { recordingId: 'id' in outcome.body ? outcome.body.id : null, outcome: kind, bytes, at: clock.now().toISOString() });
      if (kind === 'stored') (report.taken++, state.taken++);
      else if (kind === 'discarded') (report.discarded++, state.discarded++);
      else report.duplicates++;
      if (config.deleteAtSource) {
        const row = { source: name, itemId: id, bytes } as SourceItem;
        if (await deleteCopy(entry, row, byPath)) report.deleted++;
      }
    } catch (err) {
      const reason = rejectionOf(err);
      if (reason) {
        if (await reject(id, reason, entry.size)) (report.rejected++, state.rejected++);
        return;
      }
      report.retry++;
      await items.release(name, id, owner).catch(() => undefined);
      if (err instanceof SourceItemGone) return;
      logger.error('taking an item from a source failed; the next poll retries', { source: name, itemId: id, err: errorFacts(err) });
    }
  }

  async function reject(itemId: string, reason: string, bytes: number): Promise<boolean> {
    const done = await transaction(async (tx) => {
      if (!(await items.markRejected(tx, name, itemId, owner, { reason, at: clock.now().toISOString() }))) return false;
      await audit.append(tx, { actor, action: 'source.rejected', subject: `source:${name}`, details: { source: name, itemId, reason, bytes } });
      return true;
    });
    if (done) logger.warn('an item was rejected and left at the source', { source: name, itemId, reason });
    return done;
  }

  /** Deletes the copy (the sidecar first: an audio file is what the next poll finds the item by). */
  async function deleteCopy(entry: SourceEntry, row: SourceItem, byPath: Map<string, SourceEntry>): Promise<boolean> {
    const sidecarPath = sidecarIn(entry.path, byPath);
    try {
      if (sidecarPath) await adapter.remove(sidecarPath);
      await adapter.remove(entry.path);
    } catch (err) {
      const since = row.takenAt ? clock.now().getTime() - Date.parse(row.takenAt) : 0;
      const facts = { source: name, itemId: row.itemId, err: errorFacts(err) };
      if (since > config.pollIntervalMs) logger.error('a copy at the source could not be deleted; retried every poll', facts);
      else logger.warn('a copy at the source could not be deleted yet; the next poll retries', facts);
      return false;
    }
    return recordDeleted(row);
  }

  async function recordDeleted(row: SourceItem): Promise<boolean> {
    return transaction(async (tx) => {
      if (!(await items.markDeleted(tx, name, row.itemId, clock.now().toISOString()))) return false;
      await audit.append(tx, { actor, action: 'source.deleted', subject: `source:${name}`, details: { source: name, itemId: row.itemId, bytes: row.bytes ?? 0 } });
      return true;
    });
  }

  function failed(err: unknown, now: Date): void {
    state.failures++;
    const code = err instanceof SourceUnreachable ? err.code : 'source-error';
    const message = err instanceof SourceUnreachable ? err.message : 'the source failed';
    state.lastError = { code, message, at: now.toISOString() };
    const backoff = Math.min(config.pollIntervalMs * 2 ** (state.failures - 1), MAX_BACKOFF_MS);
    state.notBefore = new Date(now.getTime() + backoff).toISOString();
    logger.error('a source could not be polled; polling again with backoff', { source: name, code, message, failures: state.failures, notBefore: state.notBefore });
  }

  return {
    name,
    config,
    state: (): SourceState => ({ ...state }),
    /**
     * One poll; a poll already running in this process is joined, not doubled. `force` ignores the
     * backoff (an operator's "poll now").
     */
    async poll(opts: { force?: boolean } = {}): Promise<PollReport | null> {
      if (running) return running;
      if (!opts.force && state.notBefore && clock.now().toISOString() < state.notBefore) return null;
      running = pollOnce().finally(() => (running = null));
      return running;
    },
    close: () => adapter.close(),
  };
}

export type SourcePoller = ReturnType<typeof createSourcePoller>;

/** A source's state before its first poll (or fetch). */
export function initialSourceState(config: SourceConfig): SourceState {
  return {
    name: config.name,
    adapter: config.adapter,
    ...(config.adapter === 'notify' ? { platform: config.platform } : {}),
    lastPollAt: null,
    lastSuccessAt: null,
    lastError: null,
    failures: 0,
    notBefore: null,
    taken: 0,
    discarded: 0,
    rejected: 0,
    deleteAtSource: config.deleteAtSource,
    keepReason: config.keepReason ?? null,
  };
}

/**
 * The file name (not its folders) with every digit masked: FreePBX names hold the caller's number, and
 * a number split into short runs must not survive either. At most 200 characters.
 */
export function maskedNameOf(itemPath: string): string {
  const name = itemPath.slice(itemPath.lastIndexOf('/') + 1).replace(/\d/g, '#');
  return name.length > 200 ? name.slice(0, 199) + '…' : name;
}

/** The reason bad input is rejected with, or null for a failure the next poll should retry. */
function rejectionOf(err: unknown): string | null {
  if (err instanceof ItemRejected) return err.reason;
  if (err instanceof UnsupportedMedia) return 'not-audio';
  if (err instanceof Conflict) return 'call-id-conflict';
  if (err instanceof TooLarge) return 'too-large';
  if (err instanceof InvalidInput || err instanceof BadRequest) return 'invalid-metadata';
  return null;
}
