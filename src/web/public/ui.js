// @ts-check
// What every view of the browser interface shares: the page's texts, its language and who is signed in,
// building elements, calling the API, and the tables, fields and dialogs the views are made of.

import { SOURCES_TEXT } from './sources.js';
import { SUBJECT_TEXT } from './subject-requests.js';
/**
 * @typedef {'sv' | 'en'} Lang
 * @typedef {typeof SV} Texts
 * @typedef {{ role: string, roles?: string[], name: string, csrfToken?: string }} Me who is signed in (GET /v1/session)
 * @typedef {{ pointer: string, code: string, detail?: string, limit?: number | string }} FieldError
 * @typedef {{ type?: string, title?: string, detail?: string, errors?: FieldError[] }} Problem
 * @typedef {{ ok: true, status: number, data?: any }} ApiSuccess `data` is the API's JSON, as /openapi.json describes it
 * @typedef {{ ok: false, status: number, problem: Problem, data?: undefined }} ApiProblem
 * @typedef {ApiSuccess | ApiProblem} ApiResult
 * @typedef {string | number | boolean | null | undefined | ((event: any) => unknown)} AttrValue
 * @typedef {Record<string, AttrValue>} Attrs
 * @typedef {Node | string | number | boolean | null | undefined | readonly unknown[]} Child nested arrays are flattened
 */

import { CODE_TEXT, fieldErrorMessages, formatTime, problemMessage, stockholmDate, stockholmDayStart } from './text.js';

const SV = {
  skip: 'Hoppa till innehållet', signOut: 'Logga ut', menu: 'Huvudmeny', other: 'English',
  signInTitle: 'Logga in', token: 'Åtkomsttoken', signIn: 'Logga in', signedInAs: 'Inloggad som',
  signInOidc: 'Logga in med kommunens konto', orToken: 'Eller med en åtkomsttoken',
  roles: { trainer: 'utbildare', auditor: 'granskare', admin: 'administratör', 'phone-system': 'telefonisystem' },
  recordings: 'Inspelningar', audit: 'Granskningslogg', verification: 'Kedjeverifiering', report: 'Gallringsrapport',
  holds: 'Gallringsstopp', optOuts: 'Nej till inspelning', overdue: 'Försenad gallring',
  from: 'Från', to: 'Till', queue: 'Kö', agent: 'Handläggare', filter: 'Filtrera', date: 'Datum', duration: 'Längd',
  daysLeft: 'Dagar till gallring', status: 'Status', play: 'Lyssna', playing: 'Spelas', next: 'Nästa sida', prev: 'Föregående sida',
  none: 'Inga träffar.', player: 'Uppspelning', loading: 'Hämtar…',
  action: 'Händelse', actor: 'Utförare', subject: 'Objekt', time: 'Tid', seq: 'Nr', exportCsv: 'Exportera (CSV)',
  chainOk: 'Kedjan är obruten', chainBad: 'Kedjan är bruten', entries: 'Poster', head: 'Senaste post',
  checkpoint: 'Senaste kontrollpunkt', noCheckpoint: 'Ingen kontrollpunkt ännu.', verifyAgain: 'Verifiera igen', firstProblem: 'Första fel',
  show: 'Visa', downloadCsv: 'Ladda ner samtalen (CSV)', downloadTotalsCsv: 'Ladda ner summeringen (CSV)', recordingId: 'Inspelnings-id', reason: 'Skäl', until: 'Till och med (valfritt)',
  placeHold: 'Lägg gallringsstopp', releaseHold: 'Häv', number: 'Telefonnummer', register: 'Registrera', remove: 'Ta bort',
  deleteExisting: 'Radera befintliga inspelningar', deadline: 'Gallringsdag', count: 'Antal', done: 'Klart.',
  refused: 'Åtkomst nekad', problem: 'Något gick fel', notSignedIn: 'Logga in för att fortsätta.', yes: 'ja', no: 'nej',
  subjectRequests: SUBJECT_TEXT.sv.subjectRequests,
  sources: SOURCES_TEXT.sv.sources,
  sessionEnded: 'Du har blivit utloggad eftersom sessionen gick ut eller återkallades. Logga in igen för att fortsätta där du var.',
  back10: '−10 s', fwd10: '+10 s', back10Label: 'Spola tillbaka 10 sekunder', fwd10Label: 'Spola fram 10 sekunder', speed: 'Hastighet', nowPlaying: 'Spelas nu',
  holdPlaced: (id, until) => `Gallringsstopp lagt på inspelning ${id}${until ? `, till och med ${until}` : ', tills vidare'}. Den raderas inte förrän stoppet hävs eller löper ut.`,
  holdReleased: (id) => `Gallringsstoppet på inspelning ${id} är hävt. Inspelningen gallras enligt sin gallringsdag.`,
  optOutNew: 'Numret är registrerat: samtal från det spelas inte längre in.', optOutKnown: 'Numret var redan registrerat: samtal från det spelas inte in.',
  optOutDeleted: (d, k) => `${d} befintliga inspelningar raderades${k ? `, ${k} behölls under gallringsstopp` : ''}.`,
  optOutRemoved: 'Numret är borttaget: samtal från det kan spelas in igen.', optOutNotFound: 'Numret fanns inte registrerat. Inget ändrades.',
  outcome: 'Utfall', allOutcomes: 'Alla utfall', callId: 'Samtals-id', started: 'Samtalet började', deletedAt: 'Raderad', lateness: 'Försening', totals: 'Summering', all: 'Alla',
  lateBy: (d) => `${d} för sent`, overdueBy: (d) => `${d} över tiden`, pageOf: (p, n) => `Sida ${p} av ${n}`, rowsShown: (a, b, n) => `Rad ${a}–${b} av ${n}`, discrepancies: 'Avvikelser', reportRecordings: 'Inspelningar',
  actions: 'Åtgärder', holdAction: 'Gallringsstopp', deleteAction: 'Radera', cancel: 'Avbryt',
  deletedIn: (n) => (n === 0 ? 'gallras i dag' : n === 1 ? 'gallras om 1 dag' : `gallras om ${n} dagar`),
  holdTitle: (c) => `Gallringsstopp för samtal ${c}`, holdExplain: 'Inspelningen raderas inte så länge gallringsstoppet gäller. Skälet sparas i granskningsloggen.',
  holdPlacedCall: (c, until) => `Gallringsstopp lagt på samtal ${c}${until ? `, till och med ${until}` : ', tills vidare'}. Inspelningen raderas inte förrän stoppet hävs eller löper ut.`,
  holdReleasedCall: (c) => `Gallringsstoppet på samtal ${c} är hävt. Inspelningen gallras enligt sin gallringsdag.`,
  deleteTitle: (c) => `Radera samtal ${c}?`, deleteConfirm: 'Ja, radera inspelningen',
  deleteExplain: (c, when) => `Inspelningen av samtal ${c} (${when}) raderas nu och för gott. Det går inte att ångra. Skälet sparas i granskningsloggen.`,
  deletedCall: (c, at) => `Inspelningen av samtal ${c} är raderad (${at}). Raderingen står i granskningsloggen.`,
  callLink: 'Länk till samtalet', shortcuts: 'Kortkommandon', keyPlay: 'Spela eller pausa', keySlower: 'Långsammare', keyFaster: 'Snabbare',
  callOrRecordingId: 'Samtals-id eller inspelnings-id', activeHolds: 'Gällande gallringsstopp', holdOfRequest: 'Begäran från registrerad', untilFurther: 'tills vidare', holdEnds: 'Gäller till och med', holdPlacedAt: 'Lagt', noHolds: 'Inga gallringsstopp gäller just nu.',
  entriesVerified: 'Verifierade poster', entryNo: (n) => `post nr ${n}`, upToEntry: (n) => `poster till och med nr ${n}`, entryHash: 'Kontrollsumma (SHA-256)',
  signedCheckpoints: 'Kontrollpunkter med giltig signatur', checkpointCovers: 'Omfattar', checkpointSigned: 'Signerad', signature: 'Signatur (Ed25519)', keyId: 'Nyckelns id',
  problemKinds: {
    'seq-gap': 'en post saknas i numreringen', 'broken-link': 'posten hänger inte ihop med posten före', 'hash-mismatch': 'posten har ändrats i efterhand',
    'checkpoint-mismatch': 'loggen stämmer inte med en signerad kontrollpunkt', truncated: 'poster som en kontrollpunkt omfattar saknas',
    'checkpoint-signature': 'en kontrollpunkts signatur stämmer inte', 'checkpoint-conflict': 'två kontrollpunkter säger olika om samma post',
    'checkpoint-key-id': 'en kontrollpunkt är signerad med en okänd nyckel', 'malformed-entry': 'posten går inte att läsa', 'malformed-checkpoint': 'en kontrollpunkt går inte att läsa',
  },
  overdueUnheld: (n) => `Försenade: ${n}`, overdueUnheldNone: 'Ingen inspelning är försenad.',
  overdueHeld: (n) => `Sparas efter gallringsdagen på grund av gallringsstopp: ${n}`, pastDeadlineBy: (d) => `${d} efter gallringsdagen`,
  holdThisCase: 'detta ärende', holdOtherCase: 'ett annat ärende', overdueDays: (n) => (n === 0 ? 'försenad' : `försenad ${n} ${n === 1 ? 'dag' : 'dagar'}`),
  controllerFooter: 'Personuppgiftsansvarig', controller: 'Personuppgiftsansvarig', orgNumber: 'org.nr', contact: 'Kontakt', dpo: 'Dataskyddsombud',
  noAccess: 'Du har inte behörighet', noAccessBody: 'Den här sidan är inte öppen för din roll. Välj en sida i menyn eller gå till startsidan.', toStart: 'Till startsidan',
  overview: CODE_TEXT.sv.auditor.overview,
  policies: CODE_TEXT.sv.policies.title,
};

/** @type {Texts} */
const EN = {
  skip: 'Skip to content', signOut: 'Sign out', menu: 'Main menu', other: 'Svenska',
  signInTitle: 'Sign in', token: 'Access token', signIn: 'Sign in', signedInAs: 'Signed in as',
  signInOidc: "Sign in with the municipality's account", orToken: 'Or with an access token',
  roles: { trainer: 'trainer', auditor: 'auditor', admin: 'administrator', 'phone-system': 'phone system' },
  recordings: 'Recordings', audit: 'Audit log', verification: 'Chain verification', report: 'Retention report',
  holds: 'Holds', optOuts: 'Opt-outs', overdue: 'Overdue deletions',
  from: 'From', to: 'To', queue: 'Queue', agent: 'Agent', filter: 'Filter', date: 'Date', duration: 'Duration',
  daysLeft: 'Days until deletion', status: 'Status', play: 'Listen', playing: 'Playing', next: 'Next page', prev: 'Previous page',
  none: 'Nothing found.', player: 'Player', loading: 'Loading…',
  action: 'Action', actor: 'Actor', subject: 'Subject', time: 'Time', seq: 'No.', exportCsv: 'Export (CSV)',
  chainOk: 'The chain is intact', chainBad: 'The chain is broken', entries: 'Entries', head: 'Latest entry',
  checkpoint: 'Latest checkpoint', noCheckpoint: 'No checkpoint yet.', verifyAgain: 'Verify again', firstProblem: 'First problem',
  show: 'Show', downloadCsv: 'Download the calls (CSV)', downloadTotalsCsv: 'Download the totals (CSV)', recordingId: 'Recording id', reason: 'Reason', until: 'Up to and including (optional)',
  placeHold: 'Place hold', releaseHold: 'Release', number: 'Phone number', register: 'Register', remove: 'Remove',
  deleteExisting: 'Delete existing recordings', deadline: 'Deadline', count: 'Count', done: 'Done.',
  refused: 'Access refused', problem: 'Something went wrong', notSignedIn: 'Sign in to continue.', yes: 'yes', no: 'no',
  subjectRequests: SUBJECT_TEXT.en.subjectRequests,
  sources: SOURCES_TEXT.en.sources,
  sessionEnded: 'You were signed out because the session expired or was revoked. Sign in again to continue where you were.',
  back10: '−10 s', fwd10: '+10 s', back10Label: 'Back 10 seconds', fwd10Label: 'Forward 10 seconds', speed: 'Speed', nowPlaying: 'Now playing',
  holdPlaced: (id, until) => `Hold placed on recording ${id}${until ? `, up to and including ${until}` : ', until further notice'}. It is not deleted until the hold is released or ends.`,
  holdReleased: (id) => `The hold on recording ${id} is released. The recording is deleted on its deadline.`,
  optOutNew: 'The number is registered: calls from it are no longer recorded.', optOutKnown: 'The number was already registered: calls from it are not recorded.',
  optOutDeleted: (d, k) => `${d} existing recordings were deleted${k ? `, ${k} kept under a hold` : ''}.`,
  optOutRemoved: 'The number is removed: calls from it may be recorded again.', optOutNotFound: 'The number was not registered. Nothing changed.',
  outcome: 'Outcome', allOutcomes: 'All outcomes', callId: 'Call id', started: 'Call started', deletedAt: 'Deleted', lateness: 'Lateness', totals: 'Totals', all: 'All',
  lateBy: (d) => `${d} late`, overdueBy: (d) => `${d} overdue`, pageOf: (p, n) => `Page ${p} of ${n}`, rowsShown: (a, b, n) => `Rows ${a}–${b} of ${n}`, discrepancies: 'Discrepancies', reportRecordings: 'Recordings',
  actions: 'Actions', holdAction: 'Hold', deleteAction: 'Delete', cancel: 'Cancel',
  deletedIn: (n) => (n === 0 ? 'deleted today' : n === 1 ? 'deleted in 1 day' : `deleted in ${n} days`),
  holdTitle: (c) => `Hold on call ${c}`, holdExplain: 'The recording is not deleted while the hold is in force. The reason is kept in the audit log.',
  holdPlacedCall: (c, until) => `Hold placed on call ${c}${until ? `, up to and including ${until}` : ', until further notice'}. The recording is not deleted until the hold is released or ends.`,
  holdReleasedCall: (c) => `The hold on call ${c} is released. The recording is deleted on its deadline.`,
  deleteTitle: (c) => `Delete call ${c}?`, deleteConfirm: 'Yes, delete the recording',
  deleteExplain: (c, when) => `The recording of call ${c} (${when}) is deleted now, for good. This cannot be undone. The reason is kept in the audit log.`,
  deletedCall: (c, at) => `The recording of call ${c} is deleted (${at}). The deletion is in the audit log.`,
  callLink: 'Link to this call', shortcuts: 'Keyboard shortcuts', keyPlay: 'Play or pause', keySlower: 'Slower', keyFaster: 'Faster',
  callOrRecordingId: 'Call id or recording id', activeHolds: 'Holds in force', holdOfRequest: 'Data-subject request', untilFurther: 'until further notice', holdEnds: 'In force up to and including', holdPlacedAt: 'Placed', noHolds: 'No holds are in force.',
  entriesVerified: 'Entries verified', entryNo: (n) => `entry no. ${n}`, upToEntry: (n) => `entries up to no. ${n}`, entryHash: 'Hash (SHA-256)',
  signedCheckpoints: 'Checkpoints with a valid signature', checkpointCovers: 'Covers', checkpointSigned: 'Signed', signature: 'Signature (Ed25519)', keyId: "The key's id",
  problemKinds: {
    'seq-gap': 'an entry is missing from the numbering', 'broken-link': 'the entry does not link to the one before', 'hash-mismatch': 'the entry was altered afterwards',
    'checkpoint-mismatch': 'the log does not match a signed checkpoint', truncated: 'entries a checkpoint covers are missing',
    'checkpoint-signature': "a checkpoint's signature does not match", 'checkpoint-conflict': 'two checkpoints disagree about one entry',
    'checkpoint-key-id': 'a checkpoint is signed with an unknown key', 'malformed-entry': 'the entry cannot be read', 'malformed-checkpoint': 'a checkpoint cannot be read',
  },
  overdueUnheld: (n) => `Overdue: ${n}`, overdueUnheldNone: 'No recording is overdue.',
  overdueHeld: (n) => `Kept past the deadline because of a hold: ${n}`, pastDeadlineBy: (d) => `${d} past the deadline`,
  holdThisCase: 'this case', holdOtherCase: 'another case', overdueDays: (n) => (n === 0 ? 'overdue' : `overdue by ${n} ${n === 1 ? 'day' : 'days'}`),
  controllerFooter: 'Controller', controller: 'Controller', orgNumber: 'org. no.', contact: 'Contact', dpo: 'Data-protection officer',
  noAccess: 'You are not allowed here', noAccessBody: 'This page is not open to your role. Pick a page in the menu or go to the start page.', toStart: 'To the start page',
  overview: CODE_TEXT.en.auditor.overview,
  policies: CODE_TEXT.en.policies.title,
};

/** The page's texts; English has every Swedish key (the type says so). */
export const TEXT = { sv: SV, en: EN };

/**
 * The page's state: its language, who is signed in (with the session's CSRF token), and what to do
 * when the session ends under the user (app.js sets it: sign in again, then come back).
 */
/** @type {{ lang: Lang, me: Me | null, ended: () => void }} */
export const session = {
  lang: localStorage.getItem('gallra.lang') === 'en' ? 'en' : 'sv',
  me: null,
  ended: () => undefined,
};

/**
 * A text of the page in its language: a string, or a function of the values it names.
 * @template {keyof Texts} K
 * @param {K} k
 * @returns {Texts[K]}
 */
export const t = (k) => TEXT[session.lang][k];
/**
 * A code's words (`statuses`, `outcomes`, `actions`), or the code itself when it is new to this page.
 * @param {string} kind
 * @param {string} code
 * @returns {string}
 */
export const word = (kind, code) => /** @type {Record<string, Record<string, string>>} */ (/** @type {unknown} */ (CODE_TEXT[session.lang]))[kind]?.[code] ?? code;
/** @param {Me | null} who */
export const rolesOf = (who) => who?.roles ?? (who?.role ? [who.role] : []);

/**
 * Builds an element; strings become text nodes, so data is never parsed as HTML. Attributes `on<event>`
 * add a listener, `text` sets the text; false, null and undefined leave an attribute out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of /** @type {Child[]} */ (children.flat(Infinity))) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/**
 * Calls the API with the session cookie. Problems come back as { ok: false, problem }.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<ApiResult>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { 'X-Requested-With': 'gallra', Accept: 'application/json' };
  if (session.me?.csrfToken) headers['X-CSRF-Token'] = session.me.csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { ok: false, status: 0, problem: { title: t('problem'), detail: String(e) } };
  }
  const type = res.headers.get('content-type') || '';
  if (!res.ok) {
    const problem = type.includes('json') ? await res.json().catch(() => ({})) : { title: res.statusText };
    // A session that expired or was revoked mid-work: back to sign-in, and the view that asked never resumes.
    if (res.status === 401 && session.me && path !== '/v1/session') {
      session.ended();
      return new Promise(() => undefined);
    }
    return { ok: false, status: res.status, problem };
  }
  if (res.status === 204) return { ok: true, status: 204 };
  if (type.includes('ndjson')) return { ok: true, status: res.status, data: (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
  if (type.includes('json')) return { ok: true, status: res.status, data: await res.json() };
  return { ok: true, status: res.status, data: await res.text() };
}

/**
 * A problem in the page's language, from its type and each field error's reason code; never the server's English detail.
 * @param {{ status: number, problem: Problem }} r
 */
export function problemBox(r) {
  const fields = fieldErrorMessages(session.lang, r.problem);
  return h('div', { class: 'problem', role: 'alert', 'data-status': r.status, 'data-type': r.problem?.type },
    h('p', { class: 'message' }, h('strong', {}, problemMessage(session.lang, r.status, r.problem))),
    fields.length ? h('ul', { class: 'field-errors' }, fields.map((f, i) => h('li', { 'data-pointer': r.problem.errors?.[i].pointer, 'data-code': r.problem.errors?.[i].code }, f))) : null);
}

/** @param {string | null | undefined} iso */
export const fmtDate = (iso) => formatTime(session.lang, iso);
/**
 * The end of a hold as the form took it: a hold "till och med 2026-12-31" ends when 2027-01-01 begins
 * in Stockholm, and reads as the last day it is in force; any other end reads as its time.
 */
/** @param {string} iso */
export const holdEnd = (iso) => {
  const lastDay = stockholmDate(new Date(Date.parse(iso) - 1));
  return Date.parse(stockholmDayStart(lastDay, 1)) === Date.parse(iso) ? lastDay : fmtDate(iso);
};
/** @param {number | null | undefined} ms */
export const fmtDuration = (ms) => {
  if (ms == null) return '–';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
// Dates in filters are Stockholm calendar days, whatever zone the browser runs in.
/** @param {string} d a `YYYY-MM-DD` from a date field, or '' */
export const dayStart = (d) => (d ? stockholmDayStart(d) : undefined);
/** @param {string} d */
export const dayEnd = (d) => (d ? stockholmDayStart(d, 1) : undefined);
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * A query string of the values given (empty ones left out).
 * @param {Record<string, string | number | null | undefined>} o
 */
export const query = (o) => new URLSearchParams(Object.entries(o).flatMap(([k, v]) => (v === undefined || v === null || v === '' ? [] : [[k, String(v)]]))).toString();

/**
 * @param {string} label
 * @param {HTMLElement} input
 */
export function field(label, input) {
  return h('label', {}, label, input);
}

/**
 * A table that turns each row into a card on a narrow screen, each cell labelled with its heading (unless `cards` is false).
 * @param {string[]} head
 * @param {HTMLElement[]} rows
 * @param {{ cards?: boolean }} [options]
 */
export function table(head, rows, { cards = true } = {}) {
  if (cards) for (const tr of rows) [...tr.children].forEach((td, i) => td.setAttribute('data-label', head[i] ?? ''));
  return h('div', { class: 'table-wrap' }, h('table', { class: cards ? 'cards' : undefined }, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)));
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape cancels) with the given fields and a
 * confirm button; `act` runs on confirm. When it answers a problem, the dialog stays open with what
 * was typed, says the problem in it and marks the fields named (`fields`: pointer → input); otherwise
 * it closes.
 * @param {string} title
 * @param {Child} body
 * @param {string} confirm
 * @param {() => Promise<ApiResult | undefined>} act
 * @param {string} [kind]
 * @param {Record<string, HTMLElement>} [fields]
 */
export function modal(title, body, confirm, act, kind = '', fields = {}) {
  const problemArea = h('div', { id: 'dialog-problem' });
  const form = h('form', { method: 'dialog' }, h('h2', { id: 'dialog-title' }, title), body, problemArea,
    h('p', { class: 'dialog-buttons' },
      h('button', { type: 'submit', class: kind, id: 'dialog-confirm' }, confirm), ' ',
      h('button', { type: 'button', class: 'secondary', id: 'dialog-cancel', onclick: () => dialog.close() }, t('cancel'))));
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title', id: 'dialog' }, form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    dialog.setAttribute('aria-busy', 'true');
    const r = await act();
    dialog.removeAttribute('aria-busy');
    if (r && !r.ok) {
      problemArea.replaceChildren(problemBox(r));
      for (const input of Object.values(fields)) input.removeAttribute('aria-invalid');
      const named = (r.problem?.errors ?? []).map((e) => fields[e.pointer]).filter(Boolean);
      for (const input of named) input.setAttribute('aria-invalid', 'true');
      (named[0] ?? form.querySelector('button#dialog-confirm'))?.focus();
      return;
    }
    dialog.close();
  });
  const back = document.activeElement;
  dialog.addEventListener('close', () => { dialog.remove(); if (back instanceof HTMLElement && back.isConnected) back.focus(); });
  document.body.append(dialog);
  dialog.showModal();
}

/**
 * Marks a region as loading (`aria-busy`); the status line, not the region, is what is announced.
 * @param {HTMLElement} region
 */
export function busy(region) {
  region.setAttribute('aria-busy', 'true');
  region.replaceChildren(h('p', { class: 'loading', role: 'status' }, t('loading')));
  const done = new MutationObserver(() => {
    if (!region.querySelector(':scope > p.loading')) {
      region.removeAttribute('aria-busy');
      done.disconnect();
    }
  });
  done.observe(region, { childList: true });
}


/**
 * What the views in modules of their own (auditor.js, subject-requests.js, sources.js) take as `ui`.
 * @typedef {typeof ui} Ui
 * @typedef {Ui & { people: () => Promise<Array<{ actor: string, name: string }>> }} AuditorUi
 */
export const ui = { h, api, problemBox, table, field, busy, lang: () => session.lang };
