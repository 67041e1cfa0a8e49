import type { CaseDetails, MatchedCall } from './subject-requests.js';
import { localDateTime, TIME_ZONE } from './due-date.js';

/** The fixed parts of the privacy notice the summary repeats, so the caller has them with the data. */
export const CONTROLLER = {
  name: 'Kommunen (kontaktcenter)',
  purpose: 'Inspelade samtal används enbart internt, för utbildning av kontaktcentrets handläggare.',
  legalBasis: 'Allmänt intresse (artikel 6.1 e dataskyddsförordningen), kommunens uppdrag att ge service till invånare.',
  retention: 'Varje inspelning raderas senast 30 dagar efter samtalet, om inte en begäran eller en spärr kräver att den sparas längre.',
  recipients: 'Inga mottagare utanför kommunen; bara kontaktcentrets utbildare och administratörer har åtkomst.',
  complaint: 'Du kan klaga hos Integritetsskyddsmyndigheten (IMY), Box 8114, 104 20 Stockholm, www.imy.se.',
};

const RIGHTS = [
  'få en kopia av uppgifterna (registerutdrag, artikel 15)',
  'få felaktiga uppgifter rättade (artikel 16)',
  'få uppgifterna raderade (artikel 17)',
  'begära att behandlingen begränsas (artikel 18)',
  'invända mot behandlingen (artikel 21)',
  'avböja inspelning av framtida samtal',
];

const STATE_SV: Record<MatchedCall['state'], string> = {
  stored: 'Inspelningen finns sparad (ljudfilen ingår i detta utdrag).',
  held: 'Inspelningen finns sparad och är spärrad från radering (ljudfilen ingår).',
  deleted: 'Inspelningen är raderad.',
  discarded: 'Ljudet sparades aldrig: samtalet kastades när det kom in.',
};

const REASON_SV: Record<string, string> = {
  retention: 'raderad när lagringstiden gick ut',
  manual: 'raderad av administratör',
  'subject-request': 'raderad på din begäran',
  'number-opted-out': 'ditt nummer har avböjt inspelning',
  'caller-opted-out': 'du avböjde inspelning av detta samtal',
};

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

function what(c: PackageCall): string {
  const parts = [STATE_SV[c.state]];
  if (c.deletedAt) parts.push(`Raderad ${stamp(c.deletedAt)}.`);
  if (c.reason && c.state !== 'stored' && c.state !== 'held') parts.push(`Orsak: ${REASON_SV[c.reason] ?? c.reason}.`);
  if (c.callOptOut) parts.push(`Du avböjde inspelning av samtalet ${stamp(c.callOptOut.requestedAt)}.`);
  return parts.join(' ');
}

function stamp(iso: string): string {
  const l = localDateTime(new Date(iso));
  return `${l.date} ${l.time} ${l.zone}`;
}

/** sammanstallning.html: what is held about the caller, in Swedish, readable without any tool. */
export function summaryHtml(d: CaseDetails, calls: PackageCall[], generatedAt: Date): string {
  const rows = calls
    .map(
      (c) =>
        `<tr><td>${escapeHtml(`${c.local.date} ${c.local.time} ${c.local.zone}`)}</td><td>${escapeHtml(c.queue ?? '–')}</td><td>${duration(c.durationMs)}</td><td>${escapeHtml(what(c))}</td><td>${c.file ? `<a href="${escapeHtml(c.file)}">${escapeHtml(c.file)}</a>` : '–'}</td></tr>`,
    )
    .join('\n');
  const optOut = d.optOut
    ? `<p>Ditt nummer är registrerat som att du avböjer inspelning sedan ${escapeHtml(stamp(d.optOut.since))}${d.optOut.source ? ` (${escapeHtml(d.optOut.source)})` : ''}. Nya samtal från numret spelas inte in.</p>`
    : '';
  const body = calls.length
    ? `<table>\n<thead><tr><th>Datum och tid (${TIME_ZONE})</th><th>Kö</th><th>Längd</th><th>Vad som hänt</th><th>Fil</th></tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>`
    : '<p><strong>Inga samtal finns sparade för ditt nummer.</strong> Vi har inga inspelningar eller uppgifter om samtal från numret.</p>';
  return `<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>Registerutdrag: inspelade samtal</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem;text-align:left;vertical-align:top}</style></head>
<body>
<h1>Registerutdrag: inspelade samtal till kontaktcentret</h1>
<p>Ärende ${escapeHtml(d.request.reference)}, begäran mottagen ${escapeHtml(d.request.receivedDate)}. Utdraget skapades ${escapeHtml(stamp(generatedAt.toISOString()))}.</p>
<h2>Om behandlingen</h2>
<dl>
<dt>Personuppgiftsansvarig</dt><dd>${escapeHtml(CONTROLLER.name)}</dd>
<dt>Ändamål</dt><dd>${escapeHtml(CONTROLLER.purpose)}</dd>
<dt>Rättslig grund</dt><dd>${escapeHtml(CONTROLLER.legalBasis)}</dd>
<dt>Lagringstid</dt><dd>${escapeHtml(CONTROLLER.retention)}</dd>
<dt>Mottagare</dt><dd>${escapeHtml(CONTROLLER.recipients)}</dd>
</dl>
<h2>Dina rättigheter</h2>
<p>Du har rätt att:</p>
<ul>${RIGHTS.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>
<p>${escapeHtml(CONTROLLER.complaint)}</p>
<h2>Dina samtal</h2>
<p>Ditt telefonnummer sparas inte i klartext, bara som en nyckel som inte går att läsa baklänges. Uppgifter om samtal som raderats innan din begäran kom in kan därför inte längre kopplas till ditt nummer.</p>
${optOut}
${body}
<p>Filen SHA256SUMS innehåller kontrollsummor för alla filer i utdraget.</p>
</body>
</html>
`;
}

/** uppgifter.json: the same, machine-readable. */
export function summaryJson(d: CaseDetails, calls: PackageCall[], generatedAt: Date): string {
  return (
    JSON.stringify(
      {
        format: 'gallra-registerutdrag/1',
        generatedAt: generatedAt.toISOString(),
        timeZone: TIME_ZONE,
        request: { reference: d.request.reference, receivedDate: d.request.receivedDate, kind: d.request.kind },
        controller: CONTROLLER,
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
          holds: c.holds.map((h) => ({ until: h.until })),
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
