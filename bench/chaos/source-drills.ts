/**
 * The source drills of `npm run chaos`: the compiled service polling a folder the way it polls a PBX's
 * spool (FreePBX names, the caller's number in each file name), killed with SIGKILL at each step of
 * taking an item and restarted; and two instances polling one folder on one PostgreSQL database.
 * test/chaos/source-kill.test.ts is the short form (one in-process child, a hook at each step) that
 * `npm test` runs; here the steps are hit from outside, by watching what the service visibly does.
 * These drills run on real time: a restarted service finishes a crashed take once its item lease
 * (5 s here) has expired, and the drill polls the database until it has (bounded by DRAIN_MS).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { verifyChain, type AuditEntry } from '../../src/audit-log/index.js';
import { readAll as readAuditEntries } from '../../src/audit-log/audit-repository.js';
import { countLost, broke, delay, makeWav, newNumber, note, sha256, startService, sweepAndCountLeftovers, tokenFor, type DbKind, type Row, type Service, type StoreKind, type World } from './harness.js';
import { withWorld, type DrillOptions } from './scenarios.js';

const SOURCE = 'pbx';
/** How long a drill waits for the service to finish every item it was given. */
const DRAIN_MS = 120_000;

/** Where the drill's "PBX" writes (inside the data directory, so the final PII scan reads what is left there). */
const spoolOf = (w: World) => path.join(w.dataDir, 'spool');

/** A SOURCES_FILE for one folder source with FreePBX names; short poll, settle and lease so a restart finishes a crashed take within seconds. */
function writeSourcesFile(w: World, lease: string): string {
  mkdirSync(spoolOf(w), { recursive: true });
  const file = path.join(w.dir, 'sources.json');
  const source = {
    name: SOURCE, adapter: 'folder', path: spoolOf(w), include: '**/q-*.wav', metadata: { preset: 'freepbx' },
    pollInterval: '1s', settle: '1s', lease, concurrency: 4, timeZone: 'Europe/Stockholm',
  };
  writeFileSync(file, JSON.stringify({ sources: [source] }));
  return file;
}

const stockholm = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

let uniqueSeq = 0;
/** One item as FreePBX writes it: q-<queue>-<caller>-<dest>-<yyyymmdd>-<hhmmss>-<uniqueid>.wav, local Stockholm time, the caller in national form. */
function writeItem(w: World, items: Map<string, string>): void {
  const number = newNumber(w);
  const p = Object.fromEntries(stockholm.formatToParts(new Date(Date.now() - 10 * 60_000)).map((x) => [x.type, x.value]));
  const callId = `${Math.floor(Date.now() / 1000)}.${++uniqueSeq}`;
  const audio = makeWav(2);
  writeFileSync(path.join(spoolOf(w), `q-bygglov-0${number.slice(3)}-200-${p.year}${p.month}${p.day}-${p.hour}${p.minute}${p.second}-${callId}.wav`), audio);
  items.set(callId, sha256(audio));
}

const filesInSpool = (w: World) => (existsSync(spoolOf(w)) ? readdirSync(spoolOf(w)) : []);

/** The `taking` rows, as item id and lease expiry. */
async function takingLeases(w: World): Promise<Set<string>> {
  const rows = (await w.knex()('source_items').where({ source: SOURCE, state: 'taking' }).select('item_id', 'lease_until')) as { item_id: string; lease_until: string }[];
  return new Set(rows.map((r) => `${r.item_id}@${r.lease_until}`));
}

async function itemStates(w: World): Promise<Map<string, number>> {
  const rows = (await w.knex()('source_items').where({ source: SOURCE }).select('state').count({ n: '*' }).groupBy('state')) as { state: string; n: number | string }[];
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

/** Until every item given is finished (its row deleted-at-source, its file gone), or `withinMs`. */
async function drained(w: World, total: number, withinMs = DRAIN_MS): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if ((await itemStates(w)).get('deleted') === total && !filesInSpool(w).length) return true;
    await delay(200);
  }
  return false;
}

/**
 * The steps a kill aims at, each triggered by what the service visibly does: an item claimed by this
 * run and being downloaded or stored (a `taking` row with a lease it took; the object may be in the
 * store, not yet committed), a recording committed (the copy not yet deleted), a first copy deleted at
 * the source while others are still to be deleted.
 */
const AIMS = ['while downloading', 'after commit', 'before the source delete'] as const;
type Aim = (typeof AIMS)[number];

async function killTrigger(w: World, aim: Aim, committedBefore: number): Promise<boolean> {
  const k = w.knex();
  const until = Date.now() + 60_000;
  const filesBefore = filesInSpool(w).length;
  // Leases the killed runs left: a claim by this run is a lease not among them.
  const leasesBefore = await takingLeases(w);
  while (Date.now() < until) {
    if (aim === 'while downloading') {
      const now = await takingLeases(w);
      if ([...now].some((l) => !leasesBefore.has(l))) return true;
    } else if (aim === 'after commit') {
      if (Number((await k('recordings').where({ source: SOURCE }).count({ n: '*' }))[0]!.n) > committedBefore) return true;
    } else if (filesInSpool(w).length < filesBefore) return true;
    await delay(w.db === 'sqlite' ? 2 : 5);
  }
  return false;
}

/** Where the kill left the items, in words, from their rows and the spool. */
async function phaseOf(w: World): Promise<string> {
  const s = await itemStates(w);
  const files = new Set(filesInSpool(w));
  const taken = (await w.knex()('source_items').where({ source: SOURCE, state: 'taken' }).count({ n: '*' }))[0]!.n;
  const parts = [];
  if (s.get('taking')) parts.push(`${s.get('taking')} taking`);
  if (Number(taken)) parts.push(`${taken} committed, copy not yet deleted or audited`);
  if (!parts.length) parts.push(files.size ? 'nothing taken yet' : 'all finished');
  return parts.join(', ');
}

/** One recording, one recording.ingested per call; one source.deleted per item; the chain intact; no rejection or discard. */
async function checkOutcome(w: World, row: Row, items: Map<string, string>): Promise<Map<string, { id: string; sha: string }>> {
  const db = w.knex();
  const recs = (await db('recordings').where({ source: SOURCE }).select('id', 'call_id', 'status')) as { id: string; call_id: string; status: string }[];
  const byCall = new Map<string, typeof recs>();
  for (const r of recs) byCall.set(r.call_id, [...(byCall.get(r.call_id) ?? []), r]);
  const acked = new Map<string, { id: string; sha: string }>();
  for (const [callId, sha] of items) {
    const rs = byCall.get(callId) ?? [];
    if (!rs.length) {
      // Its file is gone from the spool (checked below) with no recording: the item is lost.
      row.lost++;
      note(row, 'an item has no recording');
    } else if (rs.length > 1) broke(row, `a call was stored ${rs.length} times`);
    else if (rs[0]!.status !== 'stored') broke(row, `an item's recording is ${rs[0]!.status}`);
    else acked.set(callId, { id: rs[0]!.id, sha });
  }
  if (recs.length !== items.size) broke(row, `${recs.length} recordings for ${items.size} items`);

  const entries: AuditEntry[] = [];
  for await (const e of readAuditEntries(db)) entries.push(e);
  const ingested = new Map<string, number>();
  for (const e of entries) if (e.action === 'recording.ingested' && e.details.source === SOURCE) ingested.set(String(e.details.callId), (ingested.get(String(e.details.callId)) ?? 0) + 1);
  const notOnce = [...items.keys()].filter((c) => ingested.get(c) !== 1).length;
  if (notOnce) broke(row, `${notOnce} items without exactly one recording.ingested`);
  const count = (action: string) => entries.filter((e) => e.action === action && e.details.source === SOURCE).length;
  if (count('source.deleted') !== items.size) broke(row, `${count('source.deleted')} source.deleted entries for ${items.size} items`);
  for (const action of ['recording.discarded', 'source.rejected']) if (count(action)) broke(row, `${count(action)} ${action} entries`);
  if (!(await verifyChain(entries)).ok) broke(row, 'the audit chain does not verify');
  const itemIds = entries.filter((e) => e.action === 'source.deleted').map((e) => e.details.itemId);
  if (new Set(itemIds).size !== itemIds.length) broke(row, 'an item has two source.deleted entries');

  const left = filesInSpool(w);
  if (left.length) {
    row.leftovers += left.length;
    note(row, `${left.length} files left in the source folder`);
  }
  return acked;
}

/**
 * kill -9 of the compiled service while it takes items from a folder source, aimed in turn at each
 * step; restarted at once (the next trial's items written while it was down), until every item is
 * finished. `trials` kills, `perTrial` items each.
 */
export async function killDuringSourceTakes(db: DbKind, store: StoreKind, trials: number, o: DrillOptions & { perTrial?: number }): Promise<Row> {
  return withWorld('kill -9 while taking from a source', db, store, o, async (w, row) => {
    const env = { SOURCES_FILE: writeSourcesFile(w, '5s') };
    const items = new Map<string, string>();
    const phases = new Map<string, number>();
    let svc: Service | undefined;
    try {
      for (let t = 0; t < trials; t++) {
        row.trials++;
        const aim = AIMS[t % AIMS.length]!;
        for (let i = 0; i < (o.perTrial ?? 4); i++) writeItem(w, items);
        // Before the first start the database has no tables yet: nothing is committed.
        const committed = t === 0 ? 0 : Number((await w.knex()('recordings').where({ source: SOURCE }).count({ n: '*' }))[0]!.n);
        svc = await startService(w, env);
        const hit = await killTrigger(w, aim, committed);
        await svc.kill9();
        svc = undefined;
        const phase = hit ? `${aim}: ${await phaseOf(w)}` : `${aim}: not seen within 60 s`;
        if (!hit) note(row, `trial ${t + 1}: the step "${aim}" was not seen`);
        phases.set(phase, (phases.get(phase) ?? 0) + 1);
      }
      svc = await startService(w, env);
      if (!(await drained(w, items.size))) broke(row, `not every item finished within ${DRAIN_MS / 1000} s of the last restart: ${JSON.stringify(Object.fromEntries(await itemStates(w)))}`);
      const acked = await checkOutcome(w, row, items);
      await countLost(svc.port, await tokenFor(w, 'admin'), acked, row);
    } finally {
      await svc?.stop();
    }
    note(row, `${items.size} items; where the kills left them: ${[...phases].map(([p, n]) => `${p} ×${n}`).join('; ')}`);
    await sweepAndCountLeftovers(w, row);
  });
}

/** Two instances of the compiled service on one PostgreSQL database, polling one folder: every item is taken by one of them, once. */
export async function twoInstancesPollingOneSource(store: StoreKind, o: DrillOptions & { items?: number }): Promise<Row> {
  return withWorld('two instances polling one source', 'postgres', store, o, async (w, row) => {
    const env = { SOURCES_FILE: writeSourcesFile(w, '1m') };
    const items = new Map<string, string>();
    const a = await startService(w, env);
    const b = await startService(w, env);
    try {
      const n = o.items ?? 60;
      // Written in waves while both poll, so that both see new items in the same listings.
      for (let i = 0; i < n; i++) {
        row.trials++;
        writeItem(w, items);
        if (i % 10 === 9) await delay(700);
      }
      if (!(await drained(w, items.size))) broke(row, `not every item finished within ${DRAIN_MS / 1000} s: ${JSON.stringify(Object.fromEntries(await itemStates(w)))}`);
      const acked = await checkOutcome(w, row, items);
      await countLost(a.port, await tokenFor(w, 'admin'), acked, row);
      note(row, `${items.size} items written in waves of 10 while both instances polled`);
    } finally {
      await a.stop();
      await b.stop();
    }
    await sweepAndCountLeftovers(w, row);
  });
}
