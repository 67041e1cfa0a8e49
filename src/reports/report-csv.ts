import type { DiscrepancyKind, Outcome, RetentionReport } from './retention-report.js';

/**
 * The retention report as files for Swedish Excel: Swedish column names, values in words, times in
 * Stockholm as `2026-12-01 08:21` (which Excel reads as a date and time), one table per file. The
 * words are the web interface's (src/web/public/text.js, CODE_TEXT.sv); a test keeps the two the same.
 */

export const OUTCOME_SV: Record<Outcome, string> = {
  'deleted-on-time': 'raderad i tid',
  'deleted-late': 'raderad för sent',
  'deleted-on-request': 'raderad på begäran',
  held: 'gallringsstopp',
  'held-for-request': 'gallringsstopp (begäran)',
  discarded: 'aldrig sparad',
  'stored-not-yet-due': 'sparad, inte förfallen',
  overdue: 'försenad',
};

export const REASON_SV: Record<string, string> = {
  retention: 'gallringsdagen nådd',
  'retention-expired': 'gallringsdagen redan passerad',
  manual: 'raderad för hand',
  'caller-opted-out': 'nej till inspelning i samtalet',
  'number-opted-out': 'numret har sagt nej till inspelning',
  'subject-request': 'begäran från den registrerade',
  'queue-not-recorded': 'kön spelas inte in (gallringsregel)',
};

export const DISCREPANCY_SV: Record<DiscrepancyKind, string> = {
  'deleted-without-audit': 'raderad utan loggpost',
  'discarded-without-audit': 'kasserad utan loggpost',
  'audit-without-recording': 'loggpost utan inspelning',
  'audit-without-tombstone': 'loggpost som inte stämmer med inspelningen',
  'duplicate-audit': 'dubbla loggposter',
};

/** The file names the web interface offers, one per table. */
export const REPORT_FILES = { rows: 'gallringsrapport.csv', totals: 'gallringsrapport-summering.csv' } as const;

/** Swedish Excel splits on `;` (the comma is its decimal sign) and reads UTF-8 only after a byte-order mark. */
const SEP = ';';
const BOM = '\uFEFF';
const cell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[";,\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
};
const file = (head: string[], rows: unknown[][]) => BOM + [head.join(SEP), ...rows.map((r) => r.map(cell).join(SEP))].join('\r\n') + '\r\n';

const stockholm = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

/** "2026-12-01 08:21": Stockholm local time, as Swedish Excel reads a date and time. */
export function excelTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const p = Object.fromEntries(stockholm.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** 7_500_000 → "2 tim 5 min": the two largest units, as the web page says it. */
export function durationSv(ms: number | undefined): string {
  if (ms === undefined) return '';
  const units: [number, string, string][] = [[86_400_000, 'dag', 'dagar'], [3_600_000, 'tim', 'tim'], [60_000, 'min', 'min'], [1000, 's', 's']];
  let rest = Math.abs(ms);
  const parts: (string | null)[] = [];
  for (const [size, one, many] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length) parts.push(n === 0 ? null : `${n} ${n === 1 ? one : many}`);
    if (parts.length === 2) break;
  }
  return parts.filter(Boolean).join(' ') || '0 s';
}

const ROW_HEAD = ['Samtals-id', 'Inspelnings-id', 'Samtalet började', 'Gallringsdag', 'Raderad', 'Utfall', 'Försening', 'Skäl', 'Gallringsstopp', 'Kö', 'Gallringsregel', 'Regelversion'];
/** The rule column: the queue pattern, or the promise itself when no rule matched. */
const RULE_DEFAULT_SV = 'standard (RETENTION_DAYS)';

/** gallringsrapport.csv: one row per call that started in the period, and nothing else. */
export function reportRowsCsv(r: RetentionReport): string {
  return file(
    ROW_HEAD,
    r.recordings.map((row) => [
      row.callId,
      row.id,
      excelTime(row.startedAt),
      excelTime(row.deadline),
      excelTime(row.deletedAt),
      OUTCOME_SV[row.outcome],
      row.lateMs === undefined ? '' : row.outcome === 'overdue' ? `${durationSv(row.lateMs)} över tiden` : `${durationSv(row.lateMs)} för sent`,
      row.reason ? (REASON_SV[row.reason] ?? row.reason) : '',
      row.holdId ?? '',
      row.queue ?? '',
      row.policyVersion ? (row.rule ?? RULE_DEFAULT_SV) : '',
      row.policyVersion ?? '',
    ]),
  );
}

/** The totals file's row for a source that keeps its copies (deleteAtSource: false): the auditor's page says the same. */
export const COPIES_KEPT_SV = (source: string) => `Kopior finns kvar hos källan ${source}, som inte raderar dem`;

/**
 * gallringsrapport-summering.csv: the period, the count per outcome, each discrepancy, and each source
 * that keeps its copies, with the written reason (those copies are outside the promise).
 */
export function reportTotalsCsv(r: RetentionReport): string {
  const outcomes = Object.keys(OUTCOME_SV) as Outcome[];
  return file(['Uppgift', 'Värde', 'Inspelnings-id'], [
    ['Samtal som började från och med', excelTime(r.from), ''],
    ['Samtal som började före', excelTime(r.to), ''],
    ['Rapporten skapad', excelTime(r.generatedAt), ''],
    ...outcomes.map((o) => [`Antal: ${OUTCOME_SV[o]}`, r.totals[o], '']),
    ['Antal samtal', r.totals.all, ''],
    ['Antal avvikelser', r.discrepancies.length, ''],
    ...r.discrepancies.map((d) => [`Avvikelse: ${DISCREPANCY_SV[d.kind]}`, d.seq === undefined ? '' : `loggpost ${d.seq}`, d.recordingId]),
    ...r.copiesKeptAtSources.map((k) => [COPIES_KEPT_SV(k.source), k.reason, '']),
    ...r.byQueue.map((q) => [`Antal i kön ${q.queue ?? '(ingen kö)'}`, q.totals.all, '']),
    ...r.policyHistory.map((v) => [`Gallringsregler version ${v.version}`, `${excelTime(v.changedAt)} av ${v.changedBy}: ${JSON.stringify(v.rules)}`, '']),
  ]);
}
