import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import type { CallMetadata } from '../../src/recordings/index.js';
import { DAY_MS } from '../../src/shared/clock.js';
import { memoryGallra, RETENTION_DAYS } from '../fakes/memory-gallra.js';

const ADMIN = 'admin:tok_test';
const audio = readFileSync(new URL('../fixtures/call-pcm16-8k.wav', import.meta.url));
const NUMBER = '+46701234567';

function call(g: ReturnType<typeof memoryGallra>, o: Partial<CallMetadata> & { number?: string } = {}): CallMetadata {
  const startedAt = o.startedAt ?? new Date(g.clock.now().getTime() - 60_000);
  return {
    callId: o.callId ?? 'c-1', startedAt, endedAt: o.endedAt ?? new Date(startedAt.getTime() + 30_000),
    callerKey: o.number ? g.callerKeys.of(o.number) : (o.callerKey ?? null), queue: null, agentId: null, optOut: o.optOut ?? false,
  };
}
const receive = (g: ReturnType<typeof memoryGallra>, meta: CallMetadata, opts?: { source?: string }) => g.ingest.receive(meta, Readable.from([audio]), Promise.resolve(true), opts);

describe('ingest and discard rules on in-memory ports (no database)', () => {
  it('stores a call with its deadline the retention period after the call started, and audits the ingest', async () => {
    const g = memoryGallra();
    const meta = call(g, { number: NUMBER });
    const out = await receive(g, meta);
    expect(out.outcome).to.equal('stored');
    const [row] = g.recordings.values();
    expect(row!.recording.deadline).to.equal(new Date(meta.startedAt.getTime() + RETENTION_DAYS * DAY_MS).toISOString());
    expect(await g.store.exists(row!.recording.storageKey!)).to.equal(true);
    expect(g.auditRows.ofAction('recording.ingested')).to.have.length(1);
  });

  it('discards a call whose deadline is already past, or falls before the next run plus margin, and stores nothing', async () => {
    const g = memoryGallra();
    const expired = await receive(g, call(g, { callId: 'old', startedAt: new Date(g.clock.now().getTime() - RETENTION_DAYS * DAY_MS - 1) }));
    const tooLate = await receive(g, call(g, { callId: 'edge', startedAt: new Date(g.clock.now().getTime() - RETENTION_DAYS * DAY_MS + 3_600_000) }));
    expect(expired).to.deep.include({ outcome: 'discarded' });
    expect(tooLate).to.deep.include({ outcome: 'discarded' });
    expect(g.recordings.values().map((r) => [r.recording.status, r.recording.reason])).to.deep.equal([
      ['discarded', 'retention-expired'],
      ['discarded', 'retention-expired'],
    ]);
    expect(g.store.objects.size).to.equal(0);
    expect(g.auditRows.ofAction('recording.discarded')).to.have.length(2);
  });

  it("discards the call of a number that opted out, keeps no caller key, never calls the store, and names the opt-out's reason", async () => {
    const g = memoryGallra();
    await g.optOuts.registry.register({ number: NUMBER }, ADMIN);
    const out = await receive(g, call(g, { number: NUMBER }));
    expect(out).to.deep.equal({ outcome: 'discarded', body: { callId: 'c-1', status: 'discarded', reason: 'number-opted-out' } });
    const [row] = g.recordings.values();
    expect(row!.recording).to.include({ status: 'discarded', callerKey: null, storageKey: null });
    expect(g.store.objects.size).to.equal(0);
  });

  it('discards a call opted out during the call (the flag in its metadata)', async () => {
    const g = memoryGallra();
    const out = await receive(g, call(g, { optOut: true }));
    expect(out).to.deep.include({ outcome: 'discarded' });
    expect(g.store.objects.size).to.equal(0);
  });

  it("discards a call opted out after the fact when it arrives, marks the opt-out used, and keeps another source's copy narrowed away", async () => {
    const g = memoryGallra();
    await g.optOuts.calls.optOutCall('c-7', { recordingSource: 'webhook' }, ADMIN);
    const here = await receive(g, call(g, { callId: 'c-7' }));
    const elsewhere = await receive(g, call(g, { callId: 'c-7' }), { source: 'sftp-east' });
    expect(here).to.deep.include({ outcome: 'discarded' });
    expect(elsewhere.outcome).to.equal('stored');
    const [optOut] = g.optOutRows.calls.values();
    expect(optOut!.discardedAt).to.be.a('string');
    const discard = g.auditRows.ofAction('recording.discarded')[0]!;
    expect(discard.details).to.include({ callOptOutId: optOut!.id, reason: 'caller-opted-out' });
  });

  it('deletes the stored calls of a number that opts out with deleteExisting, except a held one', async () => {
    const g = memoryGallra();
    const a = await g.storedRecording({ number: NUMBER });
    const b = await g.storedRecording({ number: NUMBER });
    const other = await g.storedRecording({ number: '+46709999999' });
    await g.holds.place({ recordingId: b.id, reason: 'tvist' }, ADMIN);
    const out = await g.optOuts.registry.register({ number: NUMBER, deleteExisting: true }, ADMIN);
    expect(out).to.include({ deletedRecordings: 1, keptUnderHold: 1 });
    expect(g.recordings.get(a.id)).to.include({ status: 'deleted', reason: 'number-opted-out' });
    expect(g.recordings.get(b.id)!.status).to.equal('stored');
    expect(g.recordings.get(other.id)!.status).to.equal('stored');
  });

  it("narrows a call opt-out only to 'webhook', a configured source or one that recordings came from", async () => {
    const g = memoryGallra();
    const unknown = await g.optOuts.calls.optOutCall('c-8', { recordingSource: 'sftp-gone' }, ADMIN).catch((e: unknown) => e);
    expect(unknown).to.have.property('code', 'invalid-input');
    await g.storedRecording({ callId: 'c-1', source: 'sftp-gone' });
    await g.optOuts.calls.optOutCall('c-8', { recordingSource: 'sftp-gone' }, ADMIN);
    expect(g.optOutRows.calls.values().map((c) => c.recordingSource)).to.deep.equal(['sftp-gone']);
  });
});
