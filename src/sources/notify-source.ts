import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { AuditLog } from '../audit-log/index.js';
import type { CallMetadata, DiscardPolicy } from '../recordings/index.js';
import { normaliseNumber, type CallerKeys } from '../shared/caller-key.js';
import type { Clock } from '../shared/clock.js';
import { BadRequest, Conflict, InvalidInput, TooLarge, UnsupportedMedia } from '../shared/errors.js';
import { errorFacts, type Logger } from '../shared/logger.js';
import { identifierHoldsPhoneNumber } from '../shared/phone-number-text.js';
import type { Transact } from '../shared/transaction.js';
import { authenticateNotification, formFields, type NotifyBody } from './notify-auth.js';
import type { NotifyPlatformClient } from './notify-platforms.js';
import { checkUrl, FetchRefused } from './platform-http.js';
import { initialSourceState, maskedNameOf, type PollReport, type SourceIngest, type SourceState } from './poll-source.js';
import { SourceUnreachable, type SourceItem, type SourceItemRepository, type SourceNotification, type SourceNotificationRepository } from './ports.js';
import type { NotifySourceConfig } from './source-config.js';

export interface NotifySourceDeps {
  config: NotifySourceConfig;
  platform: NotifyPlatformClient;
  items: SourceItemRepository;
  notifications: SourceNotificationRepository;
  ingest: SourceIngest;
  /** Asked before the audio is fetched: an opted-out caller's audio is never requested. */
  discardPolicy?: Pick<DiscardPolicy, 'reasonToDiscard'>;
  transaction: Transact;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  callerKeys: CallerKeys;
  /** How long an instance may fetch one item before another (or a restarted one) may. Default the source's lease. */
  leaseMs?: number;
  instanceId?: string;
}

/** What a notification answers (202). */
export interface NotifyAnswer {
  status: 'accepted' | 'duplicate' | 'ignored';
  recordingId: string | null;
}

const MAX_RETRY_MS = 60 * 60_000;
const BATCH = 100;
const TWILIO_SID = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
const ELKS_ID = /^[a-z0-9]{1,64}$/;

/**
 * A source the platform notifies (Twilio's recordingStatusCallback, 46elks' recordcall webhook):
 * `notify` authenticates, writes the notification and its item row (the intent, with an audit entry)
 * and answers at once; `poll` (the source's schedule, or at once after a notification) looks the call
 * up, asks the opt-outs, fetches the audio from an allowed host, stores it through the webhook's
 * ingest, and deletes the platform's copy. A failed fetch is retried with backoff, its error shown as
 * the source's state (the alarm) until a fetch succeeds.
 */
export function createNotifySource(deps: NotifySourceDeps) {
  const { config, platform, items, notifications, clock, logger, audit, transaction } = deps;
  const name = config.name;
  const actor = `source:${name}`;
  const leaseMs = deps.leaseMs ?? config.leaseMs ?? 15 * 60_000;
  const owner = deps.instanceId ?? randomBytes(8).toString('hex');
  const state = initialSourceState(config);
  let running: Promise<PollReport> | null = null;

  /** The notification's fields, checked; InvalidInput (422) naming the field. Nothing of it is a number but 46elks' caller, hashed here. */
  function parse(body: NotifyBody): Omit<SourceNotification, 'attempts' | 'lastError' | 'nextAttemptAt' | 'receivedAt' | 'source'> | null {
    if (!body.form) throw new BadRequest('invalid-notification', 'The notification must be application/x-www-form-urlencoded');
    const f = (k: string) => body.form![k]?.[0]?.trim() ?? '';
    const bad = (pointer: string, detail: string) =>
      new InvalidInput('invalid-notification', `Invalid notification: ${pointer.slice(1)}`, { errors: [{ pointer, code: 'invalid-value', detail }] });
    if (config.platform === 'twilio') {
      if (f('AccountSid') !== config.accountSid) throw bad('/AccountSid', "not this source's account");
      const status = f('RecordingStatus');
      // Twilio also reports in-progress and failed recordings when asked to: nothing to fetch.
      if (status && status !== 'completed') return null;
      if (!TWILIO_SID('RE').test(f('RecordingSid'))) throw bad('/RecordingSid', 'RE followed by 32 hex digits');
      if (!TWILIO_SID('CA').test(f('CallSid'))) throw bad('/CallSid', 'CA followed by 32 hex digits');
      if (!f('RecordingUrl')) throw bad('/RecordingUrl', 'required');
      return { itemId: f('RecordingSid'), callId: f('CallSid'), mediaUrl: f('RecordingUrl'), callerKey: null, startedAt: null, endedAt: null };
    }
    const callId = f('callid');
    if (!ELKS_ID.test(callId) || identifierHoldsPhoneNumber(callId)) throw bad('/callid', "the platform's call id (letters and digits)");
    if (!f('wav')) throw bad('/wav', 'required');
    const created = f('created');
    const end = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(created) ? created : `${created}Z`);
    if (Number.isNaN(end)) throw bad('/created', 'a date and time (UTC when it has no offset)');
    const seconds = Number(f('duration') || '0');
    if (!Number.isFinite(seconds) || seconds < 0) throw bad('/duration', 'seconds');
    let callerKey: string | null = null;
    try {
      if (f('from')) callerKey = deps.callerKeys.ofE164(normaliseNumber(f('from'), '/from'));
    } catch {
      callerKey = null; // withheld or not a number: kept without a caller key
    }
    return { itemId: callId, callId, mediaUrl: f('wav'), callerKey, startedAt: new Date(end - seconds * 1000).toISOString(), endedAt: new Date(end).toISOString() };
  }

  /** `query` is the request's query string as received, without '?'. */
  async function notify(headers: IncomingHttpHeaders, raw: Buffer, query = ''): Promise<NotifyAnswer> {
    const contentType = String(headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const body: NotifyBody = { contentType, raw, query, form: contentType === 'application/x-www-form-urlencoded' ? formFields(raw) : null };
    // Before anything is read or written: a wrong signature leaves no trace but the refusal counter.
    authenticateNotification(config, headers, body);
    const n = parse(body);
    if (!n) return { status: 'ignored', recordingId: null };
    try {
      checkUrl(n.mediaUrl, { allowedHosts: config.allowedHosts, testHosts: config.testHosts });
    } catch (err) {
      if (!(err instanceof FetchRefused)) throw err;
      logger.warn('a notification named audio on a host this source does not allow; refused', { source: name, reason: err.reason });
      throw new InvalidInput('invalid-notification', `The recording URL is refused: ${err.message}`, { errors: [{ pointer: config.platform === 'twilio' ? '/RecordingUrl' : '/wav', code: 'invalid-value', detail: err.message }] });
    }
    const known = (await items.ofSource(name, [n.itemId])).get(n.itemId);
    if (known) return { status: 'duplicate', recordingId: known.recordingId };
    const at = clock.now().toISOString();
    const fresh = await transaction(async (tx) => {
      await items.insertSeen([{ source: name, itemId: n.itemId, size: 0, mtimeMs: 0, at, maskedName: maskedNameOf(n.itemId) }], tx);
      const inserted = await notifications.insert(tx, { ...n, source: name, nextAttemptAt: at, receivedAt: at });
      if (inserted) await audit.append(tx, { actor, action: 'source.notified', subject: `source:${name}`, details: { source: name, itemId: n.itemId, callId: n.callId } });
      return inserted;
    });
    return { status: fresh ? 'accepted' : 'duplicate', recordingId: null };
  }

  async function pollOnce(): Promise<PollReport> {
    const report: PollReport = { listed: 0, taken: 0, discarded: 0, duplicates: 0, rejected: 0, deleted: 0, pending: 0, retry: 0 };
    const now = clock.now();
    const at = now.toISOString();
    state.lastPollAt = at;

    // Copies of committed recordings still at the platform (a crash, or the platform down at the time).
    if (config.deleteAtSource) {
      for (const row of await items.pendingDeletion(name)) if (await deleteCopy(row)) report.deleted++;
    }

    const due = await notifications.due(name, at, BATCH);
    report.listed = due.length;
    const rows = await items.ofSource(name, due.map((d) => d.itemId));
    const takeable = due.filter((d) => {
      const row = rows.get(d.itemId);
      return row && (row.state === 'seen' || (row.state === 'taking' && row.leaseUntil !== null && row.leaseUntil < at));
    });
    // Taken already (a crash between the commit and this row's removal): nothing to fetch again.
    for (const d of due) if (rows.get(d.itemId)?.state === 'taken' || rows.get(d.itemId)?.state === 'deleted') await notifications.remove(name, d.itemId);
    const claimed = takeable.length
      ? await items.claim(name, takeable.map((d) => d.itemId), owner, at, new Date(now.getTime() + leaseMs).toISOString())
      : new Set<string>();
    const limit = pLimit(config.concurrency);
    let failedNow = 0;
    await Promise.all(
      takeable.filter((d) => claimed.has(d.itemId)).map((d) =>
        limit(async () => {
          if (!(await take(d, report))) failedNow++;
        }),
      ),
    );
    if (config.deleteAtSource) report.pending = (await items.pendingDeletion(name)).length;
    const waiting = await notifications.waiting(name);
    if (!failedNow && waiting.failing === 0) {
      state.lastError = null;
      state.failures = 0;
      state.notBefore = null;
    }
    state.lastSuccessAt = clock.now().toISOString();
    return report;
  }

  /** Takes one claimed notification; false when it failed and is retried later. */
  async function take(n: SourceNotification, report: PollReport): Promise<boolean> {
    const id = n.itemId;
    try {
      const meta = await metadataOf(n);
      const reason = await deps.discardPolicy?.reasonToDiscard({ callId: meta.callId, callerKey: meta.callerKey, source: name });
      // An opted-out caller's audio is never requested: the ingest discards an empty body.
      const audio = reason ? Readable.from([]) : await platform.openAudio(n.mediaUrl);
      const outcome = await deps.ingest.receive(meta, audio, Promise.resolve(true), {
        source: name,
        actor,
        auditDetails: { itemId: id, ...(reason ? { audioFetched: false } : {}) },
        onRecorded: async (tx, r) => {
          await items.markTaken(name, id, owner, { recordingId: r.recordingId, outcome: r.outcome, bytes: 0, at: clock.now().toISOString() }, tx);
          await notifications.remove(name, id, tx);
        },
      });
      const kind = outcome.outcome;
      if (kind === 'duplicate') {
        await items.markTaken(name, id, owner, { recordingId: 'id' in outcome.body ? outcome.body.id : null, outcome: kind, bytes: 0, at: clock.now().toISOString() });
        await notifications.remove(name, id);
      }
      if (kind === 'stored') (report.taken++, state.taken++);
      else if (kind === 'discarded') (report.discarded++, state.discarded++);
      else report.duplicates++;
      if (config.deleteAtSource) {
        const row = { source: name, itemId: id, bytes: 0, takenAt: clock.now().toISOString() } as SourceItem;
        if (await deleteCopy(row)) report.deleted++;
      }
      return true;
    } catch (err) {
      const reason = rejectionOf(err);
      if (reason) {
        if (await reject(id, reason)) (report.rejected++, state.rejected++);
        return true;
      }
      report.retry++;
      await retryLater(n, err);
      return false;
    }
  }

  async function metadataOf(n: SourceNotification): Promise<CallMetadata> {
    const call = await platform.lookupCall(n.callId);
    let callerKey = n.callerKey;
    let startedAt = n.startedAt ? new Date(n.startedAt) : null;
    let endedAt = n.endedAt ? new Date(n.endedAt) : null;
    if (call) {
      callerKey = null;
      try {
        if (call.caller) callerKey = deps.callerKeys.ofE164(normaliseNumber(call.caller));
      } catch {
        callerKey = null; // "anonymous", a SIP address: no caller's number
      }
      startedAt = call.startedAt;
      endedAt = call.endedAt;
    }
    if (!startedAt || !endedAt) throw new FetchRefused('missing-metadata', 'the call has no times');
    return { callId: n.callId, startedAt, endedAt, callerKey, queue: null, agentId: null, optOut: false };
  }

  async function retryLater(n: SourceNotification, err: unknown): Promise<void> {
    const attempts = n.attempts + 1;
    const now = clock.now();
    const wait = Math.min(config.retryAfterMs * 2 ** (attempts - 1), MAX_RETRY_MS);
    const code = err instanceof SourceUnreachable ? err.code : 'fetch-failed';
    const message = err instanceof SourceUnreachable ? err.message : 'fetching the recording failed';
    await notifications.failed(name, n.itemId, { attempts, next: new Date(now.getTime() + wait).toISOString(), error: code });
    await items.release(name, n.itemId, owner).catch(() => undefined);
    state.failures++;
    state.lastError = { code, message, at: now.toISOString() };
    // The alarm: an error log per failed attempt, gallra_source_up 0 and the Inleverans page show it.
    logger.error('a notified recording could not be fetched; retried with backoff', { source: name, itemId: n.itemId, code, attempts, err: errorFacts(err) });
  }

  async function reject(itemId: string, reason: string): Promise<boolean> {
    const done = await transaction(async (tx) => {
      if (!(await items.markRejected(tx, name, itemId, owner, { reason, at: clock.now().toISOString() }))) return false;
      await notifications.remove(name, itemId, tx);
      await audit.append(tx, { actor, action: 'source.rejected', subject: `source:${name}`, details: { source: name, itemId, reason, bytes: 0 } });
      return true;
    });
    if (done) logger.warn('a notified recording was rejected and left at the platform', { source: name, itemId, reason });
    return done;
  }

  async function deleteCopy(row: SourceItem): Promise<boolean> {
    try {
      await platform.deleteRecording(row.itemId);
    } catch (err) {
      logger.error('a copy at the platform could not be deleted; retried every poll', { source: name, itemId: row.itemId, err: errorFacts(err) });
      return false;
    }
    return transaction(async (tx) => {
      if (!(await items.markDeleted(tx, name, row.itemId, clock.now().toISOString()))) return false;
      await audit.append(tx, { actor, action: 'source.deleted', subject: `source:${name}`, details: { source: name, itemId: row.itemId, bytes: row.bytes ?? 0 } });
      return true;
    });
  }

  return {
    name,
    config,
    notify,
    state: (): SourceState => ({ ...state }),
    /** Fetches what is due; a run already going in this process is joined. `force` is accepted for the admin's "poll now". */
    async poll(_opts: { force?: boolean } = {}): Promise<PollReport | null> {
      if (running) return running;
      running = pollOnce().finally(() => (running = null));
      return running;
    },
    close: async () => undefined,
  };
}

export type NotifySource = ReturnType<typeof createNotifySource>;

function rejectionOf(err: unknown): string | null {
  if (err instanceof FetchRefused) return err.reason;
  if (err instanceof UnsupportedMedia) return 'not-audio';
  if (err instanceof Conflict) return 'call-id-conflict';
  if (err instanceof TooLarge) return 'too-large';
  if (err instanceof InvalidInput || err instanceof BadRequest) return 'invalid-metadata';
  return null;
}
