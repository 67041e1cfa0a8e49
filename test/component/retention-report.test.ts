import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import { type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import type { Recording } from '../../src/recordings/index.js';
import { DAY_MS, ManualClock } from '../../src/shared/clock.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { asTx } from '../../src/shared/database.js';
import { DISCREPANCY_SV, OUTCOME_SV, REASON_SV } from '../../src/reports/index.js';
import { parse } from 'csv-parse/sync';

const T0 = Date.parse('2026-10-01T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('GET /v1/reports/retention', () => {
  let t: TestApp;
  let auditor: string;
  const ids: Record<string, string> = {};

  /** A stored recording of a call that started at `start`, with its object in the store. */
  async function stored(name: string, start: number): Promise<Recording> {
    const id = randomUUID();
    ids[name] = id;
    const key = `recordings/2026/10/01/${id}`;
    await t.store.put(key, Readable.from([Buffer.from('audio')]), { contentType: 'audio/wav' });
    const at = iso(start);
    await t.db('recordings').insert({
      id, call_id: `call-${name}`, started_at: at, ended_at: iso(start + 60_000), storage_key: key, content_type: 'audio/wav', bytes: 5,
      status: 'stored', deadline: iso(start + 30 * DAY_MS), created_at: at, updated_at: at,
    });
    return load(id);
  }

  async function load(id: string): Promise<Recording> {
    const row = await t.db('recordings').where({ id }).first();
    return { id, callId: row.call_id, startedAt: row.started_at, endedAt: row.ended_at, queue: null, agentId: null, callerKey: null, storageKey: row.storage_key, contentType: row.content_type, bytes: 5, sha256: null, durationMs: null, status: row.status, reason: row.reason, deadline: row.deadline, deletedAt: row.deleted_at, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  async function deleteAt(r: Recording, at: number): Promise<void> {
    t.clock.set(iso(at));
    const report = await t.services.deleteRecordings([r], { reason: 'retention-expired', actor: 'system:retention' });
    expect(report.deleted).to.deep.equal([r.id]);
  }

  before(async () => {
    t = await startTestApp({ clock: new ManualClock(iso(T0)) });
    auditor = await t.token('auditor');
    const deadline = (start: number) => start + 30 * DAY_MS;

    await deleteAt(await stored('onTime', T0), deadline(T0) - 3_600_000);
    await deleteAt(await stored('late', T0 + 1000), deadline(T0 + 1000) + 2 * 3_600_000 + 5 * 60_000);
    await stored('held', T0 + 2000);
    await stored('notDue', T0 + 9 * DAY_MS);
    await stored('overdue', T0 + 3000);
    await stored('outside', T0 - 2 * DAY_MS);

    // A call discarded at ingest (opted out): a row without audio, and its audit entry.
    const discardedId = randomUUID();
    ids.discarded = discardedId;
    await t.db.transaction(async (trx) => {
      const at = iso(T0 + 4000);
      await trx('recordings').insert({ id: discardedId, call_id: 'call-discarded', started_at: at, ended_at: at, status: 'discarded', reason: 'number-opted-out', deadline: iso(T0 + 4000 + 30 * DAY_MS), created_at: at, updated_at: at });
      await t.services.audit.append(asTx(trx), { actor: 'phone-system:webhook', action: 'recording.discarded', subject: `recording:${discardedId}`, details: { recordingId: discardedId, callId: 'call-discarded', reason: 'number-opted-out' } });
    });

    t.clock.set(iso(deadline(T0) + DAY_MS));
    await t.db('holds').insert({ id: 'hold_report-test', recording_id: ids.held, reason: 'public records request', until: null, placed_at: iso(T0 + DAY_MS), placed_by: 'admin:tok_x' });

    // Discrepancies planted behind the service's back: a tombstone nobody audited, and a recording
    // whose row vanished although the log says it was deleted.
    const planted = await stored('tombstoneNoAudit', T0 + 5000);
    await t.db('recordings').where({ id: planted.id }).update({ status: 'deleted', deleted_at: iso(T0 + DAY_MS), reason: 'retention-expired' });
    const vanished = await stored('vanished', T0 + 6000);
    await deleteAt(vanished, T0 + 7 * DAY_MS);
    await t.db('recordings').where({ id: vanished.id }).del();
    t.clock.set(iso(deadline(T0) + DAY_MS));
  });
  after(async () => {
    await t.close();
  });
  afterEach(() => sinon.restore());

  const period = `from=${iso(T0 - DAY_MS).slice(0, 10)}&to=${iso(T0 + 10 * DAY_MS).slice(0, 10)}`;

  it('gives every call of the period its outcome, with how late a late deletion was and which hold holds', async () => {
    const res = await request(t.app).get(`/v1/reports/retention?${period}`).set('Authorization', `Bearer ${auditor}`).expect(200);
    const byId = new Map(res.body.recordings.map((r: { id: string }) => [r.id, r]));
    const outcome = (name: string) => (byId.get(ids[name]!) as { outcome: string } | undefined)?.outcome;
    expect(outcome('onTime')).to.equal('deleted-on-time');
    expect(outcome('late')).to.equal('deleted-late');
    expect(byId.get(ids.late!)).to.include({ late: 'PT2H5M', lateMs: 7_500_000 });
    expect(byId.get(ids.held!)).to.include({ outcome: 'held', holdId: 'hold_report-test' });
    expect(outcome('notDue')).to.equal('stored-not-yet-due');
    expect(byId.get(ids.overdue!)).to.include({ outcome: 'overdue', late: 'PT23H59M57S' }); // 1 day past T0's deadline, started 3 s after T0
    expect(byId.get(ids.discarded!)).to.include({ outcome: 'discarded', reason: 'number-opted-out' });
    expect(outcome('outside')).to.equal(undefined);
    expect(res.body.totals).to.deep.equal({ 'deleted-on-time': 2, 'deleted-late': 1, 'deleted-on-request': 0, held: 1, 'held-for-request': 0, discarded: 1, 'stored-not-yet-due': 1, overdue: 1, all: 7 });
    for (const r of res.body.recordings) expect(r).not.to.have.any.keys('callerKey', 'caller_key', 'storageKey');
  });

  it('shows a tombstone without an audit entry and an audit entry without a recording as discrepancies', async () => {
    const res = await request(t.app).get(`/v1/reports/retention?${period}`).set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(res.body.discrepancies.map((d: { kind: string; recordingId: string }) => [d.kind, d.recordingId])).to.have.deep.members([
      ['deleted-without-audit', ids.tombstoneNoAudit],
      ['audit-without-recording', ids.vanished],
    ]);
  });

  it('answers CSV for Swedish Excel: Swedish headers, values in words, Stockholm times, one table of rows, as gallringsrapport.csv', async () => {
    const res = await request(t.app).get(`/v1/reports/retention?${period}&format=csv`).set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(res.type).to.equal('text/csv');
    expect(res.headers['content-disposition']).to.equal('attachment; filename="gallringsrapport.csv"');
    expect(res.text.charCodeAt(0), 'a UTF-8 byte-order mark for Excel').to.equal(0xfeff);
    const rows: Record<string, string>[] = parse(res.text, { bom: true, delimiter: ';', columns: true, record_delimiter: '\r\n', skip_empty_lines: false });
    expect(Object.keys(rows[0]!)).to.deep.equal(['Samtals-id', 'Inspelnings-id', 'Samtalet började', 'Gallringsdag', 'Raderad', 'Utfall', 'Försening', 'Skäl', 'Gallringsstopp', 'Kö', 'Gallringsregel', 'Regelversion']);
    // One sheet: every row is a call of the period, no totals or discrepancies appended.
    const json = (await request(t.app).get(`/v1/reports/retention?${period}`).set('Authorization', `Bearer ${auditor}`).expect(200)).body;
    expect(rows.map((r) => r['Inspelnings-id']).sort()).to.deep.equal(json.recordings.map((r: { id: string }) => r.id).sort());
    const late = rows.find((r) => r['Inspelnings-id'] === ids.late)!;
    // T0 + 1 s is 2026-10-01 10:00 in Stockholm (CEST); its deadline 30 days later is in CET, 09:00.
    expect(late).to.deep.include({ 'Samtalet började': '2026-10-01 10:00', Gallringsdag: '2026-10-31 09:00', Raderad: '2026-10-31 11:05', Utfall: 'raderad för sent', Försening: '2 tim 5 min för sent', Skäl: 'gallringsdagen redan passerad' });
    expect(rows.find((r) => r['Inspelnings-id'] === ids.held)).to.deep.include({ Utfall: 'gallringsstopp', Gallringsstopp: 'hold_report-test', Raderad: '' });
    expect(rows.find((r) => r['Inspelnings-id'] === ids.overdue)).to.deep.include({ Utfall: 'försenad', Försening: '23 tim 59 min över tiden' });
    expect(rows.find((r) => r['Inspelnings-id'] === ids.discarded)).to.deep.include({ Utfall: 'aldrig sparad', Skäl: 'numret har sagt nej till inspelning' });
    for (const r of rows) {
      for (const column of ['Samtalet började', 'Gallringsdag']) expect(r[column], column).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      expect(r.Raderad).to.match(/^(\d{4}-\d{2}-\d{2} \d{2}:\d{2})?$/);
    }
    // No English code, ISO duration or UTC time in any cell but the ids.
    const codes = ['deleted-on-time', 'deleted-late', 'deleted-on-request', 'held', 'held-for-request', 'discarded', 'stored-not-yet-due', 'overdue', 'retention', 'retention-expired', 'number-opted-out', 'caller-opted-out', 'manual', 'subject-request'];
    for (const r of rows) {
      for (const [column, v] of Object.entries(r)) {
        if (['Samtals-id', 'Inspelnings-id', 'Gallringsstopp'].includes(column)) continue;
        expect(codes, `${column}: ${v}`).not.to.include(v);
        expect(v, column).not.to.match(/^P(\d|T)|\d{4}-\d{2}-\d{2}T|Z$/);
      }
    }
  });

  it('answers the totals and the discrepancies as their own CSV, gallringsrapport-summering.csv, in Swedish', async () => {
    const res = await request(t.app).get(`/v1/reports/retention?${period}&format=csv-totals`).set('Authorization', `Bearer ${auditor}`).expect(200);
    expect(res.headers['content-disposition']).to.equal('attachment; filename="gallringsrapport-summering.csv"');
    const rows: Record<string, string>[] = parse(res.text, { bom: true, delimiter: ';', columns: true });
    expect(Object.keys(rows[0]!)).to.deep.equal(['Uppgift', 'Värde', 'Inspelnings-id']);
    const value = (what: string) => rows.find((r) => r.Uppgift === what)?.Värde;
    expect(value('Samtal som började från och med')).to.equal('2026-09-30 02:00');
    expect(value('Antal: raderad för sent')).to.equal('1');
    expect(value('Antal: aldrig sparad')).to.equal('1');
    expect(value('Antal samtal')).to.equal('7');
    expect(value('Antal avvikelser')).to.equal('2');
    expect(rows.filter((r) => r.Uppgift.startsWith('Avvikelse: ')).map((r) => [r.Uppgift, r['Inspelnings-id']])).to.have.deep.members([
      ['Avvikelse: raderad utan loggpost', ids.tombstoneNoAudit],
      ['Avvikelse: loggpost utan inspelning', ids.vanished],
    ]);
    expect(res.text).not.to.match(/deleted-without-audit|audit-without-recording|deleted-late/);
  });

  it('says outcomes, reasons and discrepancies in the CSV with the same words as the web interface', async () => {
    const { CODE_TEXT } = await import('../../src/web/public/text.js' as string);
    for (const [code, words] of Object.entries(OUTCOME_SV)) expect(words, code).to.equal(CODE_TEXT.sv.outcomes[code]);
    for (const [code, words] of Object.entries(REASON_SV)) expect(words, code).to.equal(CODE_TEXT.sv.reasons[code]);
    for (const [code, words] of Object.entries(DISCREPANCY_SV)) expect(words, code).to.equal(CODE_TEXT.sv.discrepancies[code]);
  });

  it('audits every report with the auditor as actor', async () => {
    const before = (await all()).length;
    await request(t.app).get(`/v1/reports/retention?${period}`).set('Authorization', `Bearer ${auditor}`).expect(200);
    const after = await all();
    expect(after).to.have.length(before + 1);
    expect(after.at(-1)).to.include({ action: 'report.retention' });
    expect(after.at(-1)!.actor).to.match(/^auditor:tok_/);
  });

  it('refuses a missing or reversed period naming the field, and trainers', async () => {
    const a = await request(t.app).get('/v1/reports/retention?to=2026-10-01').set('Authorization', `Bearer ${auditor}`).expect(422);
    expect(a.body.errors.map((e: { pointer: string }) => e.pointer)).to.deep.equal(['/from']);
    const b = await request(t.app).get('/v1/reports/retention?from=2026-10-02&to=2026-10-01').set('Authorization', `Bearer ${auditor}`).expect(422);
    expect(b.body.errors[0].pointer).to.equal('/to');
    await request(t.app).get(`/v1/reports/retention?${period}`).set('Authorization', `Bearer ${await t.token('trainer')}`).expect(403);
  });

  async function all(): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for await (const e of readAuditEntries(t.db)) out.push(e);
    return out;
  }
});
