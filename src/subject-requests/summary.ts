import type { CaseDetails, MatchedCall } from './subject-requests.js';
import { localDateOf, localDateTime, TIME_ZONE } from './due-date.js';
import { holdReasonFor, isRequestHoldReason } from './subject-request.js';

/**
 * The controller (personuppgiftsansvarig) the extract names, from the configuration (CONTROLLER_NAME,
 * CONTROLLER_ORG_NUMBER, CONTROLLER_CONTACT, DPO_CONTACT).
 */
export interface Controller {
  name: string;
  orgNumber: string;
  contact: string;
  dpoContact: string;
}

/** What the extract states about the rules in force: the controller and RETENTION_DAYS. */
export interface ExtractPolicy {
  controller: Controller;
  retentionDays: number;
}

/** The fixed parts of the privacy notice the summary repeats, so the caller has them with the data. */
export const NOTICE = {
  purpose: 'Inspelade samtal används enbart internt, för utbildning av kontaktcentrets handläggare.',
  legalBasis: 'Allmänt intresse (artikel 6.1 e dataskyddsförordningen), kommunens uppdrag att ge service till invånare.',
  recipients: 'Inga mottagare utanför kommunen; bara kontaktcentrets utbildare och administratörer har åtkomst.',
  complaint: 'Du kan klaga hos Integritetsskyddsmyndigheten (IMY), Box 8114, 104 20 Stockholm, www.imy.se.',
};

/** The retention rule in force, from RETENTION_DAYS. */
export const retentionStatement = (days: number) =>
  `Ett inspelat samtal raderas senast ${days} dagar efter att samtalet började, om inte en spärr kräver att det sparas längre. En spärr läggs när en begäran som din eller ett annat ärende kräver att samtalet sparas.`;

const RIGHTS = [
  'få en kopia av uppgifterna (registerutdrag, artikel 15)',
  'få felaktiga uppgifter rättade (artikel 16)',
  'få uppgifterna raderade (artikel 17)',
  'begära att behandlingen begränsas (artikel 18)',
  'invända mot behandlingen (artikel 21)',
  'avböja inspelning av framtida samtal',
];

/** Why a call is kept now: a hold named by its kind, never by its (possibly confidential) free-text reason. */
export type HoldKind = 'this-request' | 'other-request' | 'other-matter';

export function holdKindOf(reason: string, requestId: string): HoldKind {
  if (reason === holdReasonFor(requestId)) return 'this-request';
  return isRequestHoldReason(reason) ? 'other-request' : 'other-matter';
}

const HOLD_SV: Record<HoldKind, string> = {
  'this-request': 'Den sparas för att du har begärt detta registerutdrag: den raderas inte medan din begäran behandlas.',
  'other-request': 'Den sparas på grund av en annan begäran om dina uppgifter.',
  'other-matter': 'Den sparas för att ett annat ärende kräver att samtalet sparas.',
};

const REASON_SV: Record<string, string> = {
  retention: 'Orsak: lagringstiden gick ut.',
  manual: 'Orsak: en administratör raderade den.',
  'subject-request': 'Orsak: du begärde att den skulle raderas.',
  'number-opted-out': 'Orsak: ditt nummer har avböjt inspelning.',
  'caller-opted-out': 'Orsak: du avböjde inspelning av samtalet.',
};

/** The statements of how the number is kept and what can no longer be found: true of the caller-key design. */
export const NUMBER_STATEMENTS = [
  'Ditt telefonnummer sparas inte i klartext.',
  'Till varje sparat samtal hör i stället en kontrollsumma av numret, framräknad med en hemlig nyckel (HMAC-SHA256).',
  'Kommunen har nyckeln och kan med den räkna fram samma kontrollsumma ur ett telefonnummer; så har dina samtal hittats för detta utdrag.',
  'Den som har både nyckeln och en kopia av uppgifterna kan på samma sätt ta reda på vilka nummer som har ringt.',
  'Kopplingen mellan ett samtal och numret tas bort när inspelningen raderas.',
  'Ett raderat samtal finns därför bara med här om ett ärende om ditt nummer som ännu inte är avslutat, som detta, har spärrat eller raderat det.',
];

/** Calls deleted before the case was registered: what the caller-key design makes true of them. */
export const unlinkedStatement = (registered: string) =>
  `Samtal som raderades innan din begäran registrerades, ${registered}, kan alltså inte längre kopplas till ditt nummer, om inte en tidigare begäran från dig som ännu inte är avslutad har spärrat eller raderat dem.`;

export interface PackageCall extends MatchedCall {
  /** The audio file's path in the package, for stored recordings. */
  file: string | null;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function duration(ms: number | null): string {
  if (ms == null || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function stamp(iso: string): string {
  const l = localDateTime(new Date(iso));
  return `${l.date} ${l.time} ${l.zone}`;
}

/** The local date a hold ending at `until` (the end of a local day, or a moment) is in force through. */
function lastDayOf(until: string): string {
  return localDateOf(new Date(Date.parse(until) - 1));
}

/** Whether the call was deleted after the request reached the municipality: while the case was open. */
const deletedDuringCase = (c: PackageCall, d: CaseDetails) => c.deletedAt !== null && c.deletedAt >= d.request.receivedAt;

/** What happened to the call and, for a kept one, why it is kept now. */
function what(c: PackageCall, d: CaseDetails): string[] {
  switch (c.state) {
    case 'stored':
      return ['Inspelningen finns sparad och ljudfilen ingår i utdraget.', 'Den sparas under lagringstiden.'];
    case 'held': {
      const kinds = [...new Set(c.holds.map((h) => holdKindOf(h.reason, d.request.id)))];
      const out = ['Inspelningen finns sparad och ljudfilen ingår i utdraget.', ...kinds.map((k) => HOLD_SV[k])];
      const lastDays = c.holds.map((h) => h.until).filter((u): u is string => u !== null).map(lastDayOf).sort();
      if (lastDays.length === c.holds.length) out.push(`Spärren gäller längst till och med ${lastDays[lastDays.length - 1]}.`);
      return out;
    }
    case 'deleted': {
      const out = [deletedDuringCase(c, d) ? `Inspelningen raderades ${stamp(c.deletedAt!)}, medan ditt ärende var öppet.` : `Inspelningen raderades ${c.deletedAt ? stamp(c.deletedAt) : ''}.`.replace(' .', '.')];
      if (c.reason && REASON_SV[c.reason]) out.push(REASON_SV[c.reason]!);
      return out;
    }
    case 'discarded': {
      const out = ['Ljudet sparades aldrig: samtalet kastades när det kom in.'];
      if (c.reason && REASON_SV[c.reason]) out.push(REASON_SV[c.reason]!);
      return out;
    }
  }
}

/** When the call will be deleted: a date for every kept call whose holds all end. */
function whenDeleted(c: PackageCall): string {
  if (c.state === 'stored') return `Senast ${stamp(c.deadline)}.`;
  if (c.state !== 'held') return '–';
  if (c.holds.some((h) => h.until === null)) return 'Inget datum är bestämt: samtalet raderas först när spärren hävs.';
  return `Vid första gallringen efter att spärren upphört, eller senast ${stamp(c.deadline)} om det är senare.`;
}

const p = (sentences: string[]) => `<p>${sentences.map(escapeHtml).join(' ')}</p>`;

/** sammanstallning.html: what is held about the caller, in Swedish, readable without any tool. */
export function summaryHtml(d: CaseDetails, calls: PackageCall[], generatedAt: Date, policy: ExtractPolicy): string {
  const { controller } = policy;
  const rows = calls
    .map(
      (c) =>
        `<tr><td>${escapeHtml(`${c.local.date} ${c.local.time} ${c.local.zone}`)}</td><td>${escapeHtml(c.queue ?? '–')}</td><td>${duration(c.durationMs)}</td><td>${what(c, d).map(escapeHtml).join(' ')}${c.callOptOut ? ` ${escapeHtml(`Du avböjde inspelning av samtalet ${stamp(c.callOptOut.requestedAt)}.`)}` : ''}</td><td>${escapeHtml(whenDeleted(c))}</td><td>${c.file ? `<a href="${escapeHtml(c.file)}">${escapeHtml(c.file)}</a>` : '–'}</td></tr>`,
    )
    .join('\n');
  const optOut = d.optOut
    ? p([`Ditt nummer är registrerat som att du avböjer inspelning sedan ${stamp(d.optOut.since)}.`, 'Nya samtal från numret spelas inte in.'])
    : '';
  const deletedNow = calls.filter((c) => deletedDuringCase(c, d)).length;
  const deletedLine = p([
    deletedNow === 0
      ? 'Inget av samtalen nedan har raderats sedan din begäran kom in.'
      : `${deletedNow} av samtalen nedan har raderats sedan din begäran kom in; när står vid varje samtal.`,
  ]);
  const body = calls.length
    ? `${deletedLine}\n<div class="scroll"><table>\n<thead><tr><th>Datum och tid (${TIME_ZONE})</th><th>Kö</th><th>Längd</th><th>Vad som hänt</th><th>Raderas</th><th>Fil</th></tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table></div>`
    : p(['Inga samtal finns sparade för ditt nummer.', 'Vi har inga inspelningar eller uppgifter om samtal från numret.']);
  return `<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Registerutdrag: inspelade samtal</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.4;overflow-wrap:anywhere}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem;text-align:left;vertical-align:top}dt{font-weight:bold}dd{margin:0 0 .5rem}</style></head>
<body>
<main>
<h1>Registerutdrag: inspelade samtal till kontaktcentret</h1>
${p([`Ärende ${d.request.reference}, begäran mottagen ${d.request.receivedDate}.`, `Utdraget skapades ${stamp(generatedAt.toISOString())}.`])}
<h2>Personuppgiftsansvarig</h2>
<dl>
<dt>Namn</dt><dd>${escapeHtml(controller.name)}</dd>
<dt>Organisationsnummer</dt><dd>${escapeHtml(controller.orgNumber)}</dd>
<dt>Kontakt</dt><dd>${escapeHtml(controller.contact)}</dd>
<dt>Dataskyddsombud</dt><dd>${escapeHtml(controller.dpoContact)}</dd>
</dl>
<h2>Om behandlingen</h2>
<dl>
<dt>Ändamål</dt><dd>${escapeHtml(NOTICE.purpose)}</dd>
<dt>Rättslig grund</dt><dd>${escapeHtml(NOTICE.legalBasis)}</dd>
<dt>Lagringstid</dt><dd>${escapeHtml(retentionStatement(policy.retentionDays))}</dd>
<dt>Mottagare</dt><dd>${escapeHtml(NOTICE.recipients)}</dd>
</dl>
<h2>Dina rättigheter</h2>
<p>Du har rätt att:</p>
<ul>${RIGHTS.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>
${p([NOTICE.complaint])}
<h2>Hur ditt nummer sparas</h2>
${p(NUMBER_STATEMENTS.slice(0, 4))}
${p([...NUMBER_STATEMENTS.slice(4), unlinkedStatement(stamp(d.request.openedAt))])}
<h2>Dina samtal</h2>
${optOut}
${body}
${p(['Filen SHA256SUMS innehåller kontrollsummor för alla filer i utdraget.'])}
</main>
</body>
</html>
`;
}

/** uppgifter.json: the same, machine-readable. */
export function summaryJson(d: CaseDetails, calls: PackageCall[], generatedAt: Date, policy: ExtractPolicy): string {
  return (
    JSON.stringify(
      {
        format: 'gallra-registerutdrag/1',
        generatedAt: generatedAt.toISOString(),
        timeZone: TIME_ZONE,
        request: { reference: d.request.reference, receivedDate: d.request.receivedDate, kind: d.request.kind },
        controller: policy.controller,
        notice: { ...NOTICE, retention: retentionStatement(policy.retentionDays), retentionDays: policy.retentionDays },
        rights: RIGHTS,
        nothingHeld: d.nothingHeld,
        optOut: d.optOut ? { since: d.optOut.since, source: d.optOut.source } : null,
        calls: calls.map((c) => ({
          callId: c.callId,
          startedAt: c.startedAt,
          endedAt: c.endedAt,
          local: c.local,
          queue: c.queue,
          durationMs: c.durationMs,
          state: c.state,
          deadline: c.deadline,
          deletedAt: c.deletedAt,
          reason: c.reason,
          holds: c.holds.map((h) => ({ kind: holdKindOf(h.reason, d.request.id), until: h.until })),
          callOptOut: c.callOptOut,
          file: c.file,
          contentType: c.contentType,
          bytes: c.bytes,
          sha256: c.sha256,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
