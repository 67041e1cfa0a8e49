import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { Receipt } from '../audit-log/index.js';
import type { Clock } from '../shared/clock.js';
import { Conflict } from '../shared/errors.js';
import { identifierHoldsPhoneNumber, maskPhoneNumbers } from '../shared/phone-number-text.js';
import type { SubjectRequests } from './subject-requests.js';

/** What the receipts need of the audit log: receipts of a recording's entries. */
export interface ReceiptSource {
  deletionOf(recordingId: string): Promise<Receipt>;
  ingestOf(recordingId: string): Promise<Receipt | undefined>;
  /** The log's origin and verifier key, as the explanation names them. */
  origin: string;
  verifierKey(): string;
}

export interface CallReceipt {
  callId: string;
  recordingId: string;
  /** kvitton/<call>.tlog-proof */
  file: string;
  receipt: Receipt;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
const callIdInFileName = (callId: string) => safe(identifierHoldsPhoneNumber(callId) ? maskPhoneNumbers(callId) : callId);
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One file name per call: kvitton/<call>.tlog-proof, numbered when a call has several recordings. */
export function receiptFiles<T extends { callId: string }>(calls: T[]): (T & { file: string })[] {
  const used = new Set<string>();
  return calls.map((c) => {
    let file = `kvitton/${callIdInFileName(c.callId)}.tlog-proof`;
    for (let n = 2; used.has(file); n++) file = `kvitton/${callIdInFileName(c.callId)}-${n}.tlog-proof`;
    used.add(file);
    return { ...c, file };
  });
}

/** kvitton.html: what each receipt proves and how to check it, in Swedish. */
export function receiptsHtml(receipts: CallReceipt[], kind: 'deleted' | 'ingested', source: Pick<ReceiptSource, 'origin' | 'verifierKey'>, now: Date): string {
  const what =
    kind === 'deleted'
      ? 'att samtalets inspelning raderades: posten <code>recording.deleted</code> i kommunens granskningslogg'
      : 'att samtalets inspelning togs emot och lagrades: posten <code>recording.ingested</code> i kommunens granskningslogg';
  const rows = receipts
    .map((r) => `<tr><td>${esc(r.callId)}</td><td><code>${esc(r.recordingId)}</code></td><td>${r.receipt.projection.seq}</td><td>${esc(r.receipt.projection.at)}</td><td><code>${esc(r.file)}</code></td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Kvitton</title></head><body>
<h1>Kvitton ur granskningsloggen</h1>
<p>Varje fil i mappen <code>kvitton/</code> är ett kvitto på ${what}. Kvittot visar bara postens offentliga del:
löpnummer, tidpunkt, händelse, vilken inspelning det gäller och ett saltat fingeravtryck av resten av posten.
Det visar inte vem som gjorde ändringen eller varför.</p>
<p>Kvittot är ett <em>inklusionsbevis</em> (RFC 9162) i formatet C2SP tlog-proof: en kedja av SHA-256-värden från posten
till roten i loggens Merkleträd, och ett av kommunen signerat trädhuvud (C2SP checkpoint) för loggen med den storleken,
ibland också medsignerat av ett oberoende vittne. Ändras posten, beviset eller trädhuvudet det minsta går kontrollen inte igenom,
och kommunen kan inte i efterhand ta bort posten ur en logg som den redan har signerat utan att det syns.</p>
<table border="1" cellpadding="4"><thead><tr><th>Samtal</th><th>Inspelnings-id</th><th>Post nr</th><th>Tidpunkt (UTC)</th><th>Kvitto</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Så kontrollerar du ett kvitto</h2>
<ol>
<li>Hämta loggens publika nyckel: <code>GET /v1/transparency/key</code> hos kommunen (loggens namn: <code>${esc(source.origin)}</code>,
nyckel: <code>${esc(source.verifierKey())}</code>).</li>
<li>Kör <code>npm run audit:verify-receipt -- kvitton/FIL.tlog-proof --key nyckel.pem</code>, eller Python-programmet i
<code>docs/receipts.md</code> (bara Pythons standardbibliotek): <code>python3 verify_receipt.py kvitton/FIL.tlog-proof nyckel.pem</code>.</li>
<li>Jämför med kommunens senaste trädhuvud, <code>GET /v1/transparency/checkpoint</code>: ett senare huvud ska vara en fortsättning av det i kvittot.</li>
${kind === 'ingested' ? '<li>När inspelningen har raderats finns kvittot på raderingen, utan inloggning, på <code>GET /v1/transparency/deleted/&lt;inspelnings-id&gt;</code>.</li>\n' : ''}</ol>
<p>Skapad ${esc(now.toISOString())}.</p>
</body></html>
`;
}

/**
 * The receipts of an erasure or objection case as a ZIP: one `recording.deleted` receipt per call the
 * case deleted, and kvitton.html. Available after the case closes: the case keeps its recording ids.
 */
export function createReceiptPackages(deps: { requests: SubjectRequests; receipts: ReceiptSource; clock: Clock }) {
  return {
    async open(id: string): Promise<{ filename: string; stream: Readable; receipts: number }> {
      const c = await deps.requests.load(id);
      if (c.kind !== 'erasure' && c.kind !== 'objection') throw new Conflict('wrong-kind', `Deletion receipts belong to an erasure or objection case; this one is ${c.kind}`, { kind: c.kind });
      const now = deps.clock.now();
      const d = await deps.requests.details(c, now);
      const deleted = receiptFiles(d.calls.filter((x) => x.state === 'deleted' && x.deletedBy === c.id));
      const receipts: CallReceipt[] = [];
      for (const x of deleted) receipts.push({ callId: x.callId, recordingId: x.recordingId, file: x.file, receipt: await deps.receipts.deletionOf(x.recordingId) });
      const zip = new ZipFile();
      zip.addBuffer(Buffer.from(receiptsHtml(receipts, 'deleted', deps.receipts, now), 'utf8'), 'kvitton.html', { mtime: now });
      for (const r of receipts) zip.addBuffer(Buffer.from(r.receipt.tlogProof, 'utf8'), r.file, { mtime: now });
      zip.end();
      return { filename: `kvitton-${c.id}.zip`, stream: zip.outputStream as unknown as Readable, receipts: receipts.length };
    },
  };
}

export type ReceiptPackages = ReturnType<typeof createReceiptPackages>;
