import { Writable } from 'node:stream';
import { createOptOuts } from '../../src/opt-outs/index.js';
import { createIngest, createRecordingDeleter, storageKeyFor, type Recording } from '../../src/recordings/index.js';
import {
  createDeletionHorizon, createHolds, createOrphanSweep, createOverdueRecordings, createRetention, type OrphanDeletion, type OrphanDeletionRepository, type RetentionMetrics,
} from '../../src/retention/index.js';
import { createCallerKeys } from '../../src/shared/caller-key.js';
import { DAY_MS, ManualClock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { createSubjectRequests } from '../../src/subject-requests/index.js';
import { memoryAuditLog } from './memory-audit.js';
import { MemoryObjectStore } from './memory-object-store.js';
import { MemoryHolds } from './memory-holds.js';
import { MemoryOptOuts } from './memory-opt-outs.js';
import { MemoryRecordings } from './memory-recordings.js';
import { MemorySubjectRequests } from './memory-subject-requests.js';
import { MemoryTable, memoryTransaction } from './memory-transaction.js';

class MemoryOrphanDeletions extends MemoryTable<string, OrphanDeletion> implements OrphanDeletionRepository {
  async record(_tx: unknown, intents: OrphanDeletion[]): Promise<void> {
    for (const i of intents) if (!this.rows.has(i.target)) this.rows.set(i.target, { ...i });
  }
  async clear(_tx: unknown, targets: string[]): Promise<OrphanDeletion[]> {
    return targets.flatMap((t) => {
      const i = this.rows.get(t);
      this.rows.delete(t);
      return i ? [i] : [];
    });
  }
  async pending(after: string | undefined, limit: number): Promise<OrphanDeletion[]> {
    return this.values()
      .filter((i) => !after || i.target > after)
      .sort((a, b) => (a.target < b.target ? -1 : 1))
      .slice(0, limit);
  }
}

const counted = () => ({ inc() {}, observe() {}, set() {} });
const noMetrics: RetentionMetrics = { deletions: counted(), failures: counted(), runDuration: counted(), lastSuccess: counted() };

export const RETENTION_DAYS = 30;
/** Every day at 02:00 UTC, as a RunSchedule. */
const dailySchedule = {
  intervalMs: DAY_MS,
  nextRunAfter(at: Date): Date {
    const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), 2));
    return next > at ? next : new Date(next.getTime() + DAY_MS);
  },
};

/**
 * gallra's use cases wired as services.ts wires them, on in-memory ports: no database, no disk. What
 * a rule needs from a database (locks between instances, SQL's own semantics) stays in the component suites.
 */
export function memoryGallra(opts: { now?: string; preserve?: boolean } = {}) {
  const clock = new ManualClock(opts.now ?? '2026-11-23T09:00:00.000Z');
  const logger = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  const recordings = new MemoryRecordings();
  const holdRows = new MemoryHolds(recordings);
  const optOutRows = new MemoryOptOuts(recordings);
  const cases = new MemorySubjectRequests();
  const intents = new MemoryOrphanDeletions();
  const { repo: auditRows, audit } = memoryAuditLog(clock);
  const transaction = memoryTransaction(recordings, holdRows, optOutRows, cases, intents, auditRows);
  const store = new MemoryObjectStore();
  const callerKeys = createCallerKeys('a-test-secret-of-enough-length-0123456789');

  const deleteRecordings = createRecordingDeleter({
    recordings, transaction, store, audit, clock, logger,
    heldAmong: async (ids) => new Set((await holdRows.activeHoldIds(ids, clock.now())).keys()),
  });
  const holds = createHolds({ holds: holdRows, recordings, transaction, audit, clock, logger });
  const optOuts = createOptOuts({ optOuts: optOutRows, recordings, transaction, audit, clock, callerKeys, deleteRecordings, checkFromMemory: false, retentionDays: RETENTION_DAYS });
  const horizon = createDeletionHorizon({ schedule: dailySchedule });
  const ingest = createIngest({ recordings, transaction, store, audit, clock, logger, retentionDays: RETENTION_DAYS, discardPolicy: optOuts.discardPolicy, deletionCutoff: horizon.cutoff });
  const overdue = createOverdueRecordings({ recordings, holds: holdRows, clock });
  const sweepOrphans = createOrphanSweep({ recordings, intents, transaction, store, audit, clock, logger, graceMs: DAY_MS });
  const retention = createRetention({
    recordings, clock, logger, holds, deleteRecordings, horizon, sweepOrphans, overdue, metrics: noMetrics,
    storeAnswers: async () => true,
    expirePendingCallOptOuts: (actor, o) => optOuts.calls.expirePending(actor, o),
  });
  const subjectRequests = createSubjectRequests({
    repo: cases, recordings, holds: holds.forRequests, optOutRecords: optOutRows, transaction, audit, clock, logger, callerKeys, deleteRecordings,
    optOuts: optOuts.registry, preserve: opts.preserve ?? true,
  });

  let n = 0;
  /** A stored recording of `number` whose object is in the store, as a test's given. */
  async function storedRecording(o: { number?: string; startedAt?: string; deadline?: string; callId?: string; source?: string } = {}): Promise<Recording> {
    const id = `rec-${String(++n).padStart(4, '0')}`;
    const startedAt = o.startedAt ?? new Date(clock.now().getTime() - DAY_MS).toISOString();
    const key = storageKeyFor(id, new Date(startedAt));
    await store.create(key, Buffer.from('RIFF-audio'), { contentType: 'audio/wav' });
    const at = clock.now().toISOString();
    return recordings.add({
      id, callId: o.callId ?? `call-${n}`, source: o.source ?? 'webhook', startedAt, endedAt: startedAt, queue: null, agentId: null,
      callerKey: o.number ? callerKeys.of(o.number) : null, storageKey: key, contentType: 'audio/wav', bytes: 10, sha256: null, durationMs: 0,
      status: 'stored', reason: null, deadline: o.deadline ?? new Date(Date.parse(startedAt) + RETENTION_DAYS * DAY_MS).toISOString(), deletedAt: null, createdAt: at, updatedAt: at,
    });
  }

  return {
    clock, recordings, holdRows, optOutRows, cases, auditRows, store, callerKeys,
    deleteRecordings, holds, optOuts, ingest, retention, subjectRequests, storedRecording,
  };
}
