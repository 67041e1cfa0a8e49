import { Readable } from 'node:stream';
import type { CallMetadata } from '../../src/recordings/index.js';
import { createRecordingRepository } from '../../src/recordings/index.js';
import { DAY_MS } from '../../src/shared/clock.js';
import type { Principal, Role } from '../../src/shared/principal.js';
import type { TestApp } from './test-app.js';
import { silentWav } from './webhook.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** A named person behind a token, as the audit log should show them. */
export interface SeededPerson {
  role: Role;
  name: string;
  /** The bearer token to sign in with. */
  token: string;
  tokenId: string;
  /** The actor string the audit log records for them ("admin:tok_…"). */
  actor: string;
}

export interface SeededMonth {
  /** The moment the month ends: the test app's clock is left here. */
  now: Date;
  /** The first call's start and the month's end: a period that holds every seeded call. */
  from: string;
  to: string;
  /** Calls posted (stored or discarded). */
  calls: number;
  /** Every recording row, in start order. */
  recordings: { id: string; callId: string; startedAt: string }[];
  people: Record<'admin' | 'auditor' | 'trainer', SeededPerson>;
  /** One deletion an admin made by hand, with the note they gave (the auditor's "find one deletion"). */
  manualDeletion: { recordingId: string; callId: string; note: string; by: SeededPerson };
  /** One call that was played, held, released and deleted on time (the per-recording timeline). */
  timeline: { recordingId: string; callId: string };
  /** Calls the first retention run after the outage deleted after their deadline. */
  lateDeletions: string[];
}

/** Deterministic numbers, so a failing run can be replayed (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}


const QUEUES = ['Bygglov', 'skola', 'Socialtjänst', 'avfall', 'Parkering'];
const number = (i: number) => `+4670${String(1_000_000 + i * 7919).slice(-7)}`;

/**
 * A month and a half of a contact centre's calls (about 450 by default), put through the real use
 * cases on the test app's manual clock, so that every outcome of the retention report occurs:
 * - calls ingested as they end (weekdays 13, weekend days 3, 07:00–16:00 UTC), some declined by the
 *   caller (discarded), some from a number registered as opted out midway (discarded);
 * - the retention job run before each deadline (deleted on time), except for a two-day outage a week
 *   before the end (deleted late) and the last 30 hours (overdue);
 * - holds placed by an admin on calls that are then past their deadline (held), some released again
 *   (deleted on time after all), a restriction (held for a request) and an erasure (deleted on request);
 * - deletions by hand with a note, after-the-fact opt-outs, listenings by a trainer, and a signed
 *   checkpoint at the end.
 * The clock ends at `opts.end` (default: the clock's time when called), so a browser's own clock,
 * which picks the interface's default dates, agrees with the data.
 */
export async function seedMonth(t: TestApp, opts: { end?: Date; days?: number; seed?: number } = {}): Promise<SeededMonth> {
  const s = t.services;
  const end = new Date(opts.end ?? t.clock.now());
  const days = opts.days ?? 45;
  const rnd = random(opts.seed ?? 17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate()) - days * DAY_MS);
  const repo = createRecordingRepository(t.db);

  t.clock.set(new Date(start.getTime() - HOUR_MS));
  const person = async (role: SeededPerson['role'], name: string): Promise<SeededPerson> => {
    const { token, accessToken } = await s.tokens.create({ role, name }, 'system:seed');
    return { role, name, token, tokenId: accessToken.id, actor: `${role}:${accessToken.id}` };
  };
  const people = {
    admin: await person('admin', 'Eva Registrator'),
    auditor: await person('auditor', 'Maja Granskare'),
    trainer: await person('trainer', 'Lars Utbildare'),
  };
  const principal = (p: SeededPerson): Principal => ({ id: p.tokenId, role: p.role, name: p.name, via: 'token' });

  // The calls, in start order.
  type Call = { meta: CallMetadata; number: string };
  const calls: Call[] = [];
  const erasureNumber = number(1);
  const restrictionNumber = number(2);
  const optedOutNumber = number(3);
  for (let d = 0; d < days; d++) {
    const day = start.getTime() + d * DAY_MS;
    const weekday = new Date(day).getUTCDay();
    const n = weekday === 0 || weekday === 6 ? 3 : 13;
    const times = Array.from({ length: n }, () => day + 7 * HOUR_MS + Math.floor(rnd() * 9 * 60) * MINUTE_MS).sort((a, b) => a - b);
    for (const at of times) {
      if (at + 15 * MINUTE_MS > end.getTime() - HOUR_MS) continue;
      const i = calls.length;
      // A handful of callers call often: they are the ones an erasure, a restriction and an opt-out concern.
      const num = i % 37 === 5 ? erasureNumber : i % 41 === 7 ? restrictionNumber : i % 29 === 3 ? optedOutNumber : number(10 + Math.floor(rnd() * 150));
      const startedAt = new Date(at);
      calls.push({
        number: num,
        meta: {
          callId: `mc-${startedAt.toISOString().slice(0, 10)}-${String(i).padStart(4, '0')}`,
          startedAt,
          endedAt: new Date(at + (1 + Math.floor(rnd() * 9)) * MINUTE_MS + Math.floor(rnd() * 60) * 1000),
          callerKey: s.callerKeys.of(num),
          queue: pick(QUEUES),
          agentId: `agent-${1 + Math.floor(rnd() * 9)}`,
          optOut: rnd() < 0.04,
        },
      });
    }
  }

  // Everything that happens, by time; retention runs are put in between as deadlines come near.
  type Event = { at: number; order: number; run: () => Promise<void> };
  const events: Event[] = [];
  const on = (at: number, run: () => Promise<void>) => events.push({ at, order: events.length, run });
  const idOf = new Map<string, string>();
  const deadlines: { at: number; id: () => string | undefined }[] = [];
  const wav = silentWav(1); // the smallest audio ingest accepts
  for (const c of calls) {
    on(c.meta.endedAt.getTime() + 2 * MINUTE_MS, async () => {
      const out = await s.ingest.receive(c.meta, Readable.from([wav]), Promise.resolve(true));
      if (out.outcome === 'stored') idOf.set(c.meta.callId, out.body.id);
      else if (out.outcome !== 'discarded') throw new Error(`seeding: call ${c.meta.callId} came back ${out.outcome}`);
    });
    deadlines.push({ at: c.meta.startedAt.getTime() + 30 * DAY_MS, id: () => idOf.get(c.meta.callId) });
  }
  const stored = (c: Call) => idOf.get(c.meta.callId);
  const plain = calls.filter((c) => !c.meta.optOut && ![erasureNumber, restrictionNumber, optedOutNumber].includes(c.number));
  const endMs = end.getTime();
  /** Calls whose deadline falls in [a, b) days before the end. */
  const dueBetween = (a: number, b: number) => plain.filter((c) => c.meta.startedAt.getTime() + 30 * DAY_MS >= endMs - a * DAY_MS && c.meta.startedAt.getTime() + 30 * DAY_MS < endMs - b * DAY_MS);
  const used = new Set<string>();
  const take = (cs: Call[], n: number) => {
    const out = cs.filter((c) => !used.has(c.meta.callId)).filter((_, i) => i % 3 === 0).slice(0, n);
    for (const c of out) used.add(c.meta.callId);
    return out;
  };

  // Held: a hold placed 20 days in, the deadline passed since. Some holds end before the end, some not.
  for (const [i, c] of take(dueBetween(12, 2), 10).entries()) {
    const placed = c.meta.startedAt.getTime() + 20 * DAY_MS;
    on(placed, async () => {
      await s.holds.place(
        { recordingId: stored(c)!, reason: i % 2 ? 'Begäran om allmän handling' : 'Klagomålsärende KS 2026/118', ...(i % 3 === 0 && { until: new Date(endMs + 10 * DAY_MS) }) },
        people.admin.actor,
      );
    });
  }
  // Played, held, released, then deleted on time by the retention job: one full timeline.
  const released = take(dueBetween(20, 14), 4);
  for (const c of released) {
    on(c.meta.startedAt.getTime() + 2 * DAY_MS, async () => {
      const r = (await repo.findById(stored(c)!))!;
      (await s.playback.open(principal(people.trainer), r, undefined, true)).body.destroy();
    });
    on(c.meta.startedAt.getTime() + 5 * DAY_MS, async () => void (await s.holds.place({ recordingId: stored(c)!, reason: 'Utredning av klagomål' }, people.admin.actor)));
    on(c.meta.startedAt.getTime() + 9 * DAY_MS, async () => void (await s.holds.release(stored(c)!, people.admin.actor)));
  }
  // Listenings by the trainer.
  for (const c of take(plain, 30)) {
    on(c.meta.endedAt.getTime() + DAY_MS + Math.floor(rnd() * 4 * HOUR_MS), async () => {
      const r = await repo.findById(stored(c)!);
      if (r?.status === 'stored') (await s.playback.open(principal(people.trainer), r, undefined, true)).body.destroy();
    });
  }
  // Deleted by hand, with a note.
  const note = 'Samtalet spelades in av misstag under ett internt möte';
  const manual = take(plain.filter((c) => c.meta.startedAt.getTime() < endMs - 20 * DAY_MS), 5);
  for (const c of manual) {
    on(c.meta.startedAt.getTime() + 3 * DAY_MS, async () => void (await s.retention.deleteOne(stored(c)!, { reason: note, actor: people.admin.actor })));
  }
  // After-the-fact opt-outs of single calls, reported by the phone system.
  for (const c of take(plain.filter((c) => c.meta.startedAt.getTime() < endMs - 5 * DAY_MS), 4)) {
    on(c.meta.endedAt.getTime() + 6 * HOUR_MS, async () => void (await s.optOuts.calls.optOutCall(c.meta.callId, { source: 'agent' }, 'phone-system:webhook')));
  }
  // A standing opt-out registered midway: that number's later calls are discarded.
  on(start.getTime() + 20 * DAY_MS, async () => void (await s.optOuts.registry.register({ number: optedOutNumber, deleteExisting: true, source: 'letter' }, people.admin.actor)));
  // Erasure ten days before the end; restriction three days before.
  const localDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  on(endMs - 10 * DAY_MS, async () => {
    const c = await s.subjectRequests.requests.open({ kind: 'erasure', number: erasureNumber, receivedAt: localDate(endMs - 12 * DAY_MS), reference: 'KS 2026/1203' }, people.admin.actor);
    const { counts } = await s.subjectRequests.requests.get(c.id);
    await s.subjectRequests.requests.erase(c.id, { confirm: counts.deletable }, people.admin.actor);
  });
  on(endMs - 3 * DAY_MS, async () => {
    const c = await s.subjectRequests.requests.open({ kind: 'restriction', number: restrictionNumber, receivedAt: localDate(endMs - 4 * DAY_MS), reference: 'KS 2026/1250' }, people.admin.actor);
    await s.subjectRequests.requests.restrict(c.id, {}, people.admin.actor);
  });
  events.sort((a, b) => a.at - b.at || a.order - b.order);

  // The retention job: a run an hour before each deadline not yet covered, none during the outages.
  const outages: [number, number][] = [
    [endMs - 9 * DAY_MS, endMs - 7 * DAY_MS],
    [endMs - 30 * HOUR_MS, Infinity],
  ];
  let covered = 0;
  let next = 0;
  const runRetentionUpTo = async (x: number) => {
    while (next < deadlines.length && deadlines[next]!.at - HOUR_MS <= x) {
      const d = deadlines[next]!;
      if (d.at < covered || !d.id()) {
        next++;
        continue;
      }
      let at = Math.max(d.at - HOUR_MS, t.clock.now().getTime());
      const outage = outages.find(([a, b]) => at >= a && at < b);
      if (outage) at = outage[1];
      if (at > x) return;
      t.clock.set(new Date(at));
      const report = await s.retention.run();
      if (report.failed.length) throw new Error(`seeding: retention failed for ${report.failed.length} recording(s)`);
      covered = Date.parse(report.cutoff);
    }
  };
  for (const e of events) {
    await runRetentionUpTo(e.at);
    t.clock.set(new Date(Math.max(e.at, t.clock.now().getTime())));
    await e.run();
  }
  await runRetentionUpTo(endMs);
  t.clock.set(end);
  await s.auditCheckpoints.create();

  const rows = (await t.db('recordings').select('id', 'call_id', 'started_at', 'status', 'deleted_at', 'deadline').orderBy([{ column: 'started_at' }, { column: 'id' }])) as {
    id: string; call_id: string; started_at: string; status: string; deleted_at: string | null; deadline: string;
  }[];
  const m = manual[0]!;
  return {
    now: end,
    from: calls[0]!.meta.startedAt.toISOString(),
    to: end.toISOString(),
    calls: calls.length,
    recordings: rows.map((r) => ({ id: r.id, callId: r.call_id, startedAt: new Date(r.started_at).toISOString() })),
    people,
    manualDeletion: { recordingId: idOf.get(m.meta.callId)!, callId: m.meta.callId, note, by: people.admin },
    timeline: { recordingId: idOf.get(released[0]!.meta.callId)!, callId: released[0]!.meta.callId },
    lateDeletions: rows.filter((r) => r.status === 'deleted' && r.deleted_at && Date.parse(r.deleted_at) > Date.parse(r.deadline)).map((r) => r.id),
  };
}
