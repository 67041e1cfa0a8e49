// Gallra's browser interface: plain modules, Luxon the one dependency (served from this origin), nothing from outside.
// The menu only helps: every view asks the API, and the server decides what each role may see.

import { auditSearchView, overviewView } from './auditor.js';
import { confirmOptOutDeletion, SUBJECT_TEXT, subjectRequestsView } from './subject-requests.js';
import { SOURCES_TEXT, sourcesView } from './sources.js';
import { CODE_TEXT, durationWords, fieldErrorMessages, formatTime, problemMessage, stockholmDate, stockholmDayStart } from './text.js';

const TEXT = {
  sv: {
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
  },
  en: {
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
  },
};

let lang = localStorage.getItem('gallra.lang') === 'en' ? 'en' : 'sv';
let me = null; // { role, name } once signed in
let signInOptions = null; // GET /v1/sign-in: the sign-ins offered and the controller the footer names
const t = (k) => TEXT[lang][k] ?? k;
/** A code's words (`statuses`, `outcomes`, `actions`), or the code itself when it is new to this page. */
const word = (kind, code) => CODE_TEXT[lang][kind][code] ?? code;
const rolesOf = (who) => who?.roles ?? (who?.role ? [who.role] : []);
const RETURN_KEY = 'gallra.returnTo';

// The auditor's views (auditor.js) name their own menu entries.
for (const l of ['sv', 'en']) TEXT[l].overview = CODE_TEXT[l].auditor.overview;

const VIEWS = {
  overview: { roles: ['auditor', 'admin'], render: (main) => overviewView(main, auditorUi) },
  recordings: { roles: ['trainer', 'auditor', 'admin'], render: recordingsView },
  audit: { roles: ['auditor', 'admin'], render: (main) => auditSearchView(main, auditorUi) },
  verification: { roles: ['auditor', 'admin'], render: verificationView },
  report: { roles: ['auditor', 'admin'], render: reportView },
  holds: { roles: ['admin'], render: holdsView },
  optOuts: { roles: ['admin'], render: optOutsView },
  overdue: { roles: ['admin', 'auditor'], render: overdueView },
  subjectRequests: { roles: ['admin'], render: (main) => subjectRequestsView(main, subjectUi) },
  sources: { roles: ['admin'], render: (main) => sourcesView(main, { ...subjectUi, formatTime: (iso) => formatTime(lang, iso) }) },
};
const MENU = { trainer: ['recordings'], auditor: ['overview', 'recordings', 'audit', 'verification', 'report', 'overdue'], admin: ['overview', 'recordings', 'holds', 'optOuts', 'overdue', 'subjectRequests', 'sources'] };
/** What the auditor's views (auditor.js) use of this module. */
const auditorUi = {
  h, api, problemBox, table, field, busy, lang: () => lang,
  people: async () => { const r = await api('GET', '/v1/people'); return r.ok ? r.data.items : []; },
};

/** Builds an element; strings become text nodes, so data is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Calls the API with the session cookie. Problems come back as { ok: false, problem }. */
async function api(method, path, body) {
  const headers = { 'X-Requested-With': 'gallra', Accept: 'application/json' };
  if (me?.csrfToken) headers['X-CSRF-Token'] = me.csrfToken;
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
    if (res.status === 401 && me && path !== '/v1/session') {
      sessionEnded();
      return new Promise(() => undefined);
    }
    return { ok: false, status: res.status, problem };
  }
  if (res.status === 204) return { ok: true, status: 204 };
  if (type.includes('ndjson')) return { ok: true, status: res.status, data: (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
  if (type.includes('json')) return { ok: true, status: res.status, data: await res.json() };
  return { ok: true, status: res.status, data: await res.text() };
}

/** A problem in the page's language, from its type and each field error's reason code; never the server's English detail. */
function problemBox(r) {
  const fields = fieldErrorMessages(lang, r.problem);
  return h('div', { class: 'problem', role: 'alert', 'data-status': r.status, 'data-type': r.problem?.type },
    h('p', { class: 'message' }, h('strong', {}, problemMessage(lang, r.status, r.problem))),
    fields.length ? h('ul', { class: 'field-errors' }, fields.map((f, i) => h('li', { 'data-pointer': r.problem.errors[i].pointer, 'data-code': r.problem.errors[i].code }, f))) : null);
}

const fmtDate = (iso) => formatTime(lang, iso);
/**
 * The end of a hold as the form took it: a hold "till och med 2026-12-31" ends when 2027-01-01 begins
 * in Stockholm, and reads as the last day it is in force; any other end reads as its time.
 */
const holdEnd = (iso) => {
  const lastDay = stockholmDate(new Date(Date.parse(iso) - 1));
  return Date.parse(stockholmDayStart(lastDay, 1)) === Date.parse(iso) ? lastDay : fmtDate(iso);
};
const fmtDuration = (ms) => {
  if (ms == null) return '–';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
// Dates in filters are Stockholm calendar days, whatever zone the browser runs in.
const dayStart = (d) => (d ? stockholmDayStart(d) : undefined);
const dayEnd = (d) => (d ? stockholmDayStart(d, 1) : undefined);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const query = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')).toString();

function field(label, input) {
  return h('label', {}, label, input);
}

/** A table that turns each row into a card on a narrow screen, each cell labelled with its heading (unless `cards` is false). */
function table(head, rows, { cards = true } = {}) {
  if (cards) for (const tr of rows) [...tr.children].forEach((td, i) => td.setAttribute('data-label', head[i] ?? ''));
  return h('div', { class: 'table-wrap' }, h('table', { class: cards ? 'cards' : undefined }, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)));
}

/** What the data-subject request page (subject-requests.js) uses of this module. */
const subjectUi = { h, api, problemBox, table, field, lang: () => lang };

// ---- views ----

async function signInView(main, note) {
  const ways = await api('GET', '/v1/sign-in');
  const oidc = ways.ok && ways.data.oidc;
  const withToken = !ways.ok || ways.data.token;
  const viaProvider = oidc ? h('p', {}, h('a', { class: 'button', id: 'sign-in-oidc', href: '/auth/sign-in' }, t('signInOidc'))) : null;
  if (!withToken) return main.replaceChildren(h('h1', {}, t('signInTitle')), note ? h('p', {}, note) : null, viaProvider);
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const out = h('div', { id: 'sign-in-result' });
  const form = h('form', { class: 'card', id: 'sign-in' }, field(t('token'), input), h('button', { type: 'submit' }, t('signIn')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('POST', '/v1/session', { token: input.value });
    if (!r.ok) return out.replaceChildren(problemBox(r));
    input.value = '';
    me = r.data;
    const back = sessionStorage.getItem(RETURN_KEY);
    sessionStorage.removeItem(RETURN_KEY);
    const target = back && viewAllowed(viewOf(back)) ? back : `#/${firstView()}`;
    if (location.hash === target) render();
    else location.hash = target;
  });
  main.replaceChildren(...[h('h1', {}, t('signInTitle')), note ? h('p', { class: 'note', role: 'status' }, note) : null, viaProvider, oidc ? h('h2', {}, t('orToken')) : null, form, out].filter(Boolean));
  input.focus();
}

async function recordingsView(main) {
  const roles = rolesOf(me);
  const isAdmin = roles.includes('admin');
  const staffOnly = roles.includes('trainer') && !roles.some((r) => r === 'auditor' || r === 'admin');
  const canPlay = roles.some((r) => r === 'trainer' || r === 'admin');
  const queues = h('datalist', { id: 'queue-options' });
  const agents = h('datalist', { id: 'agent-options' });
  const f = {
    from: h('input', { type: 'date', name: 'from' }), to: h('input', { type: 'date', name: 'to' }),
    queue: h('input', { name: 'queue', maxlength: 64, list: 'queue-options', autocomplete: 'off' }),
    agentId: h('input', { name: 'agentId', maxlength: 64, list: 'agent-options', autocomplete: 'off' }),
    // Staff who act on one known call (an administrator deleting it, an auditor looking it up) find it by its call id.
    ...(staffOnly ? {} : { callId: h('input', { name: 'callId', maxlength: 128, autocomplete: 'off', spellcheck: 'false' }) }),
  };
  // The filters (and the call being played) live in the address, so a reload, a language switch or a shared link keeps them.
  const kept = new URLSearchParams(location.hash.split('?')[1] ?? '');
  for (const [k, input] of Object.entries(f)) input.value = kept.get(k) ?? '';
  let playingId = kept.get('play');
  let held = new Map(); // recording id → the hold in force (admins only)
  const list = h('div', { id: 'recordings-list' });
  const result = h('div', { id: 'recordings-result', role: 'status' });
  const player = h('section', { class: 'player', id: 'player-section', 'aria-labelledby': 'player-title', hidden: true });
  const cursors = [null];
  const form = h('form', { class: 'filters', role: 'search' },
    field(t('from'), f.from), field(t('to'), f.to), field(t('queue'), f.queue), field(t('agent'), f.agentId), f.callId ? field(t('callId'), f.callId) : null,
    h('button', { type: 'submit' }, t('filter')), queues, agents);
  const address = () => {
    const q = query({ ...Object.fromEntries(Object.entries(f).map(([k, input]) => [k, input.value.trim()])), play: playingId ?? undefined });
    history.replaceState(null, '', `#/recordings${q ? `?${q}` : ''}`);
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors.length = 1;
    address();
    load();
  });
  main.replaceChildren(h('h1', {}, t('recordings')), form, result, list, player);

  // The pickers offer what occurs in the data; typing stays possible, and the server ignores case.
  api('GET', '/v1/recordings/filters').then((r) => {
    if (!r.ok) return;
    queues.replaceChildren(...r.data.queues.map((v) => h('option', { value: v })));
    agents.replaceChildren(...r.data.agentIds.map((v) => h('option', { value: v })));
  });

  /** "gallras om 2 dagar": only when little time is left, so the badge means something. */
  const badge = (it) => (it.status === 'stored' && it.daysLeft < 3 && !held.has(it.id) ? h('span', { class: 'badge' }, t('deletedIn')(it.daysLeft)) : null);

  async function load() {
    busy(list);
    const q = query({ from: dayStart(f.from.value), to: dayEnd(f.to.value), queue: f.queue.value.trim(), agentId: f.agentId.value.trim(), callId: f.callId?.value.trim(), limit: 20, cursor: cursors[cursors.length - 1] ?? undefined });
    const [r, holds] = await Promise.all([api('GET', `/v1/recordings?${q}`), isAdmin ? api('GET', '/v1/holds') : null]);
    if (!r.ok) return list.replaceChildren(problemBox(r));
    held = new Map(holds?.ok ? holds.data.items.map((x) => [x.recordingId, x]) : []);
    const head = [t('date'), t('queue'), t('agent'), t('duration'), t('daysLeft'), staffOnly ? null : t('status'), staffOnly ? null : t('callId'), staffOnly ? null : t('recordingId'), canPlay ? t('actions') : null].filter(Boolean);
    const rows = r.data.items.map((it) => {
      const status = it.status === 'stored' && held.has(it.id) ? 'held' : it.status;
      const label = `${fmtDate(it.startedAt)} ${it.queue ?? ''}`.trim();
      const actions = [
        it.status === 'stored' ? h('button', { type: 'button', class: 'play', 'aria-label': `${t('play')} ${label}`, onclick: () => play(it) }, t('play')) : null,
        isAdmin && status === 'stored' ? h('button', { type: 'button', class: 'secondary hold', 'aria-label': `${t('placeHold')} ${label}`, onclick: () => holdDialog(it) }, t('holdAction')) : null,
        isAdmin && status === 'held' && held.get(it.id).manual ? h('button', { type: 'button', class: 'secondary release', 'aria-label': `${t('releaseHold')} ${label}`, onclick: () => release(it) }, t('releaseHold')) : null,
        isAdmin && status === 'stored' ? h('button', { type: 'button', class: 'danger delete', 'aria-label': `${t('deleteAction')} ${label}`, onclick: () => deleteDialog(it) }, t('deleteAction')) : null,
      ].filter(Boolean);
      return h('tr', { 'data-id': it.id, 'data-call-id': it.callId, 'data-status': status, class: it.id === playingId ? 'playing' : undefined, 'aria-current': it.id === playingId ? 'true' : undefined },
        h('td', { class: 'when' }, fmtDate(it.startedAt)), h('td', {}, it.queue ?? '–'), h('td', {}, it.agentId ?? '–'),
        h('td', { class: 'num' }, fmtDuration(it.durationMs)),
        h('td', { class: 'num' }, h('span', {}, it.status === 'stored' ? String(it.daysLeft) : '–', badge(it) ? ' ' : null, badge(it))),
        staffOnly ? null : h('td', {}, word('statuses', status)),
        staffOnly ? null : h('td', { class: 'id' }, it.callId),
        staffOnly ? null : h('td', { class: 'id' }, it.id),
        canPlay ? h('td', { class: 'actions' }, h('span', {}, actions)) : null);
    });
    const pager = h('div', { class: 'pager' },
      cursors.length > 1 ? h('button', { type: 'button', class: 'secondary', onclick: () => { cursors.pop(); load(); } }, t('prev')) : null,
      r.data.nextCursor ? h('button', { type: 'button', class: 'secondary', onclick: () => { cursors.push(r.data.nextCursor); load(); } }, t('next')) : null);
    list.replaceChildren(rows.length ? table(head, rows) : h('p', {}, t('none')), pager);
  }

  /** A sentence in the status line, or the problem in the page's language. */
  const answer = (r, sentence) => result.replaceChildren(r.ok ? h('p', { class: 'ok' }, sentence()) : problemBox(r));

  function holdDialog(it) {
    const reason = h('input', { name: 'holdReason', required: true, maxlength: 500 });
    const until = h('input', { name: 'holdUntil', type: 'date', min: stockholmDate() });
    modal(t('holdTitle')(it.callId), [h('p', {}, t('holdExplain')), field(t('reason'), reason), field(t('until'), until)], t('placeHold'), async () => {
      const r = await api('POST', `/v1/recordings/${encodeURIComponent(it.id)}/hold`, { reason: reason.value.trim(), ...(until.value ? { until: dayEnd(until.value) } : {}) });
      if (!r.ok) return r;
      answer(r, () => t('holdPlacedCall')(it.callId, r.data.until ? holdEnd(r.data.until) : null));
      await load();
      return r;
    }, '', { '/reason': reason, '/until': until });
  }

  async function release(it) {
    const r = await api('DELETE', `/v1/recordings/${encodeURIComponent(it.id)}/hold`);
    answer(r, () => t('holdReleasedCall')(it.callId));
    if (r.ok) await load();
  }

  function deleteDialog(it) {
    const reason = h('input', { name: 'deleteReason', required: true, maxlength: 500 });
    modal(t('deleteTitle')(it.callId), [h('p', {}, t('deleteExplain')(it.callId, fmtDate(it.startedAt))), field(t('reason'), reason)], t('deleteConfirm'), async () => {
      const r = await api('DELETE', `/v1/recordings/${encodeURIComponent(it.id)}`, { reason: reason.value.trim() });
      // A refused reason keeps the dialog open with what was typed; any other answer is the page's to say.
      if (!r.ok && r.status === 422) return r;
      answer(r, () => t('deletedCall')(it.callId, fmtDate(r.data.deletedAt)));
      if (playingId === it.id) stop();
      if (r.ok) await load();
      return r;
    }, 'danger', { '/reason': reason });
  }

  function stop() {
    playingId = null;
    player.replaceChildren();
    player.hidden = true;
    address();
  }

  function play(it, autoplay = true) {
    playingId = it.id;
    address();
    for (const tr of list.querySelectorAll('tr[data-id]')) {
      const on = tr.dataset.id === it.id;
      tr.classList.toggle('playing', on);
      if (on) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
    }
    const audio = h('audio', { controls: true, preload: 'metadata', id: 'player', src: `/v1/recordings/${encodeURIComponent(it.id)}/audio`, 'aria-keyshortcuts': 'K' });
    const skip = (s) => { audio.currentTime = Math.max(0, Math.min(audio.duration || Infinity, audio.currentTime + s)); };
    const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
    const speed = h('select', { id: 'player-speed', name: 'speed', 'aria-keyshortcuts': '< >' }, SPEEDS.map((v) => h('option', { value: v, selected: v === 1 }, `${String(v).replace('.', lang === 'sv' ? ',' : '.')}×`)));
    const setSpeed = (v) => { speed.value = String(v); audio.playbackRate = v; };
    speed.addEventListener('change', () => { audio.playbackRate = Number(speed.value); });
    const link = `${location.origin}${location.pathname}#/recordings?${query({ play: it.id })}`;
    player.hidden = false;
    player.replaceChildren(
      h('h2', { id: 'player-title' }, `${t('nowPlaying')}: ${fmtDate(it.startedAt)} · ${it.queue ?? ''} · ${it.agentId ?? ''}`),
      audio,
      h('div', { class: 'player-controls' },
        h('button', { type: 'button', class: 'secondary', id: 'player-back', 'aria-label': `${t('back10')}: ${t('back10Label')}`, 'aria-keyshortcuts': 'J', onclick: () => skip(-10) }, t('back10')),
        h('button', { type: 'button', class: 'secondary', id: 'player-forward', 'aria-label': `${t('fwd10')}: ${t('fwd10Label')}`, 'aria-keyshortcuts': 'L', onclick: () => skip(10) }, t('fwd10')),
        field(t('speed'), speed),
        h('a', { id: 'player-link', href: link }, t('callLink'))),
      h('details', { class: 'shortcuts' }, h('summary', {}, t('shortcuts')),
        h('dl', { id: 'player-shortcuts' }, [['K', t('keyPlay')], ['J', t('back10Label')], ['L', t('fwd10Label')], ['<', t('keySlower')], ['>', t('keyFaster')]].map(([k, what]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, what)]))));
    // Shortcuts while this player is on the page, except when typing in a field.
    const onKey = (e) => {
      if (!audio.isConnected) return document.removeEventListener('keydown', onKey);
      if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.('input, select, textarea, dialog')) return;
      const i = SPEEDS.indexOf(audio.playbackRate);
      const act = { k: () => (audio.paused ? audio.play().catch(() => undefined) : audio.pause()), j: () => skip(-10), l: () => skip(10),
        '<': () => setSpeed(SPEEDS[Math.max(0, i - 1)]), '>': () => setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, (i < 0 ? 1 : i) + 1)]) }[e.key.length === 1 ? e.key.toLowerCase() : e.key];
      if (!act) return;
      e.preventDefault();
      act();
    };
    document.addEventListener('keydown', onKey);
    if (autoplay) audio.play().catch(() => undefined);
    audio.focus();
  }

  await load();
  // A link to one call opens it in the player (it starts when the listener presses play).
  if (playingId && canPlay && !player.querySelector('audio')) {
    const r = await api('GET', `/v1/recordings/${encodeURIComponent(playingId)}`);
    if (r.ok && r.data.status === 'stored') play(r.data, false);
    else { result.replaceChildren(r.ok ? h('p', {}, word('statuses', r.data.status)) : problemBox(r)); playingId = null; address(); }
  }
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape cancels) with the given fields and a
 * confirm button; `act` runs on confirm. When it answers a problem, the dialog stays open with what
 * was typed, says the problem in it and marks the fields named (`fields`: pointer → input); otherwise
 * it closes.
 */
function modal(title, body, confirm, act, kind = '', fields = {}) {
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
      (named[0] ?? form.querySelector('#dialog-confirm')).focus();
      return;
    }
    dialog.close();
  });
  const back = document.activeElement;
  dialog.addEventListener('close', () => { dialog.remove(); if (back?.isConnected) back.focus(); });
  document.body.append(dialog);
  dialog.showModal();
}

async function verificationView(main) {
  const out = h('div', { id: 'verification' });
  busy(out);
  main.replaceChildren(h('h1', {}, t('verification')), out, h('button', { type: 'button', onclick: () => verificationView(main) }, t('verifyAgain')));
  const [v, c] = await Promise.all([api('GET', '/v1/audit/verify'), api('GET', '/v1/audit/checkpoints')]);
  const parts = [];
  if (!v.ok) parts.push(problemBox(v));
  else {
    const p = v.data.firstProblem;
    parts.push(h('p', { class: `status ${v.data.ok ? 'ok' : 'bad'}`, id: 'chain-status', 'data-ok': String(v.data.ok) }, v.data.ok ? t('chainOk') : t('chainBad')));
    parts.push(h('dl', { class: 'facts', id: 'chain-facts' }, h('dt', {}, t('entriesVerified')), h('dd', {}, String(v.data.entries)),
      v.data.head ? [h('dt', {}, t('head')), h('dd', {}, t('entryNo')(v.data.head.seq)), h('dt', {}, t('entryHash')), h('dd', {}, h('code', {}, v.data.head.hash))] : null,
      p ? [h('dt', {}, t('firstProblem')), h('dd', {}, `${t('entryNo')(p.seq)}: ${t('problemKinds')[p.kind] ?? p.kind}`)] : null,
      v.data.checkpoints ? [h('dt', {}, t('signedCheckpoints')), h('dd', {}, String(v.data.checkpoints.valid))] : null));
  }
  parts.push(h('h2', {}, t('checkpoint')));
  if (!c.ok) parts.push(problemBox(c));
  else {
    const list = c.data.checkpoints ?? [];
    const latest = list[list.length - 1];
    parts.push(latest
      ? h('dl', { class: 'facts', id: 'latest-checkpoint' },
        h('dt', {}, t('checkpointCovers')), h('dd', {}, t('upToEntry')(latest.seq)),
        h('dt', {}, t('checkpointSigned')), h('dd', {}, fmtDate(latest.at)),
        h('dt', {}, t('entryHash')), h('dd', {}, h('code', {}, latest.hash)),
        h('dt', {}, t('signature')), h('dd', {}, h('code', {}, latest.signature)),
        h('dt', {}, t('keyId')), h('dd', {}, h('code', {}, latest.keyId)))
      : h('p', {}, t('noCheckpoint')));
  }
  out.replaceChildren(...parts);
}

const OUTCOMES = ['deleted-on-time', 'deleted-late', 'deleted-on-request', 'held', 'held-for-request', 'discarded', 'stored-not-yet-due', 'overdue'];

async function reportView(main) {
  const today = stockholmDate();
  const monthAgo = stockholmDate(new Date(Date.now() - 30 * 86_400_000));
  // The overview links here with its period in the address.
  const kept = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const from = h('input', { type: 'date', name: 'from', value: kept.get('from') ?? monthAgo, required: true });
  const to = h('input', { type: 'date', name: 'to', value: kept.get('to') ?? today, required: true });
  const outcome = h('select', { name: 'outcome' }, h('option', { value: '' }, t('allOutcomes')), OUTCOMES.map((o) => h('option', { value: o }, word('outcomes', o))));
  const csv = h('a', { id: 'report-csv', download: 'gallringsrapport.csv' }, t('downloadCsv'));
  const totalsCsv = h('a', { id: 'report-totals-csv', download: 'gallringsrapport-summering.csv' }, t('downloadTotalsCsv'));
  const out = h('div', { id: 'report' });
  const PAGE = 50;
  let report = null;
  let page = 0;
  const range = () => ({ from: dayStart(from.value), to: dayEnd(to.value) });
  const form = h('form', { class: 'filters' }, field(t('from'), from), field(t('to'), to), field(t('outcome'), outcome), h('button', { type: 'submit' }, t('show')));
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  outcome.addEventListener('change', () => { page = 0; if (report) draw(); });
  main.replaceChildren(h('h1', {}, t('report')), form, h('p', { class: 'downloads' }, csv, ' · ', totalsCsv), out);

  const lateness = (row) => (row.lateMs == null ? '–' : row.outcome === 'overdue' ? t('overdueBy')(durationWords(lang, row.lateMs)) : t('lateBy')(durationWords(lang, row.lateMs)));
  function draw() {
    const rows = report.recordings.filter((row) => !outcome.value || row.outcome === outcome.value);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * PAGE, (page + 1) * PAGE);
    const totals = report.totals ?? {};
    const head = [t('callId'), t('recordingId'), t('started'), t('deadline'), t('deletedAt'), t('outcome'), t('lateness'), t('reason')];
    const body = shown.map((row) => h('tr', { 'data-id': row.id, 'data-outcome': row.outcome },
      h('td', {}, row.callId ?? '–'), h('td', { class: 'id' }, row.id), h('td', {}, fmtDate(row.startedAt)), h('td', {}, fmtDate(row.deadline)),
      h('td', {}, fmtDate(row.deletedAt)), h('td', {}, word('outcomes', row.outcome)), h('td', {}, lateness(row)), h('td', {}, row.reason ? word('reasons', row.reason) : '–')));
    const pager = h('nav', { class: 'pager', 'aria-label': t('reportRecordings') },
      h('button', { type: 'button', class: 'secondary', disabled: page === 0, onclick: () => { page--; draw(); } }, t('prev')),
      h('span', { id: 'report-page' }, t('pageOf')(page + 1, pages)),
      h('button', { type: 'button', class: 'secondary', disabled: page >= pages - 1, onclick: () => { page++; draw(); } }, t('next')));
    out.replaceChildren(
      h('h2', {}, t('totals')),
      h('dl', { class: 'facts', id: 'report-totals' }, [...OUTCOMES, 'all'].map((o) => [h('dt', {}, o === 'all' ? t('all') : word('outcomes', o)), h('dd', { 'data-outcome': o }, String(totals[o] ?? 0))])),
      h('h2', {}, `${t('reportRecordings')} (${rows.length})`),
      h('p', { role: 'status', id: 'report-rows' }, rows.length ? t('rowsShown')(page * PAGE + 1, page * PAGE + shown.length, rows.length) : t('none')),
      rows.length ? table(head, body) : null, rows.length > PAGE ? pager : null,
      h('h2', {}, `${t('discrepancies')} (${report.discrepancies?.length ?? 0})`),
      report.discrepancies?.length ? h('ul', { id: 'report-discrepancies' }, report.discrepancies.map((d) => h('li', { 'data-kind': d.kind }, `${word('discrepancies', d.kind)} · ${d.recordingId}${d.seq !== undefined ? ` · ${t('entryNo')(d.seq)}` : ''}`))) : h('p', {}, t('none')),
    );
  }
  async function load() {
    csv.href = `/v1/reports/retention?${query({ ...range(), format: 'csv' })}`;
    totalsCsv.href = `/v1/reports/retention?${query({ ...range(), format: 'csv-totals' })}`;
    busy(out);
    const r = await api('GET', `/v1/reports/retention?${query({ ...range(), format: 'json' })}`);
    if (!r.ok) return out.replaceChildren(problemBox(r));
    report = r.data;
    page = 0;
    draw();
  }
  await load();
}

async function holdsView(main) {
  const out = h('div', { role: 'status', id: 'holds-result' });
  const list = h('div', { id: 'holds-list' });
  const id = h('input', { name: 'recordingId', required: true, size: 38, spellcheck: 'false' });
  const reason = h('input', { name: 'reason', required: true, maxlength: 500 });
  const until = h('input', { name: 'until', type: 'date', min: stockholmDate() });
  const place = h('form', { class: 'card' }, field(t('callOrRecordingId'), id), field(t('reason'), reason), field(t('until'), until), h('button', { type: 'submit' }, t('placeHold')));
  place.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Staff know a call by the phone system's call id (mc-2026-0024); a recording id works too.
    const typed = id.value.trim();
    let recordingId = typed;
    let callId = null;
    if (!UUID.test(typed)) {
      const found = await api('GET', `/v1/recordings?${query({ callId: typed, limit: 1 })}`);
      if (!found.ok) return show(found);
      if (!found.data.items.length) return show({ ok: false, status: 404, problem: { type: 'recording-not-found', detail: `No recording of call ${typed}` } });
      ({ id: recordingId, callId } = found.data.items[0]);
    }
    const body = { reason: reason.value.trim(), ...(until.value ? { until: dayEnd(until.value) } : {}) };
    const r = await api('POST', `/v1/recordings/${encodeURIComponent(recordingId)}/hold`, body);
    show(r, () => (callId ? t('holdPlacedCall')(callId, r.data.until ? holdEnd(r.data.until) : null) : t('holdPlaced')(r.data.recordingId, r.data.until ? holdEnd(r.data.until) : null)));
    if (r.ok) await load();
  });
  const show = (r, sentence) => out.replaceChildren(r.ok ? h('p', { class: 'ok' }, sentence()) : problemBox(r));
  main.replaceChildren(h('h1', {}, t('holds')), h('h2', { id: 'active-holds' }, t('activeHolds')), out, list, h('h2', {}, t('placeHold')), place);

  async function release(hold) {
    const r = await api('DELETE', `/v1/recordings/${encodeURIComponent(hold.recordingId)}/hold`);
    show(r, () => t('holdReleasedCall')(hold.callId));
    if (r.ok) await load();
  }

  async function load() {
    busy(list);
    const r = await api('GET', '/v1/holds');
    if (!r.ok) return list.replaceChildren(problemBox(r));
    const rows = r.data.items.map((x) => h('tr', { 'data-id': x.recordingId, 'data-call-id': x.callId },
      h('td', { class: 'id' }, x.callId), h('td', { class: 'id' }, x.recordingId), h('td', {}, fmtDate(x.startedAt)), h('td', {}, fmtDate(x.deadline)),
      h('td', {}, x.manual ? x.reason : t('holdOfRequest')), h('td', {}, x.until ? holdEnd(x.until) : t('untilFurther')), h('td', {}, fmtDate(x.placedAt)),
      h('td', { class: 'actions' }, h('span', {}, x.manual
        ? h('button', { type: 'button', class: 'secondary release', 'aria-label': `${t('releaseHold')} ${x.callId}`, onclick: () => release(x) }, t('releaseHold'))
        : h('a', { href: `#/subjectRequests/${x.reason.slice('subject-request:'.length)}` }, t('subjectRequests'))))));
    list.replaceChildren(rows.length
      ? table([t('callId'), t('recordingId'), t('started'), t('deadline'), t('reason'), t('holdEnds'), t('holdPlacedAt'), t('actions')], rows)
      : h('p', {}, t('noHolds')));
  }
  await load();
}

function optOutsView(main) {
  const out = h('div', { role: 'status', id: 'opt-outs-result' });
  // The number is only ever sent in a request body, and cleared from the page once it was accepted.
  const num = h('input', { name: 'number', type: 'tel', required: true, autocomplete: 'off', maxlength: 40 });
  // Unchecked by default: deleting needs a deliberate choice and a confirmation naming the count.
  const del = h('input', { name: 'deleteExisting', type: 'checkbox' });
  const reg = h('form', { class: 'card' }, field(t('number'), num), h('label', {}, h('span', {}, t('deleteExisting')), del), h('button', { type: 'submit' }, t('register')));
  reg.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (del.checked && !(await confirmOptOutDeletion(subjectUi, num.value, out))) return;
    const r = await api('POST', '/v1/opt-outs', { number: num.value, deleteExisting: del.checked });
    // Cleared once done; kept on a problem, so that a typing error can be corrected.
    if (r.ok) num.value = '';
    show(r, () => [r.status === 201 ? t('optOutNew') : t('optOutKnown'), r.data.deletedRecordings !== undefined ? t('optOutDeleted')(r.data.deletedRecordings, r.data.keptUnderHold) : ''].filter(Boolean).join(' '));
  });
  const num2 = h('input', { name: 'removeNumber', type: 'tel', required: true, autocomplete: 'off', maxlength: 40 });
  const rem = h('form', { class: 'card' }, field(t('number'), num2), h('button', { type: 'submit' }, t('remove')));
  rem.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('POST', '/v1/opt-outs/remove', { number: num2.value });
    if (r.ok) num2.value = '';
    show(r, () => (r.data.removed ? t('optOutRemoved') : t('optOutNotFound')));
  });
  const show = (r, sentence) => out.replaceChildren(r.ok ? h('p', { class: 'ok' }, sentence()) : problemBox(r));
  main.replaceChildren(h('h1', {}, t('optOuts')), h('h2', {}, t('register')), reg, h('h2', {}, t('remove')), rem, out);
}

async function overdueView(main) {
  const out = h('div', { id: 'overdue' });
  busy(out);
  main.replaceChildren(h('h1', {}, t('overdue')), out);
  const r = await api('GET', '/v1/retention/overdue');
  if (!r.ok) return out.replaceChildren(problemBox(r));
  // Overdue are the unheld ones (the count /readyz and the metric give); a held call past its deadline is kept on purpose.
  const recs = r.data.recordings ?? [];
  const past = (row) => durationWords(lang, Date.now() - Date.parse(row.deadline));
  const rowsOf = (list, late) => list.map((row) => h('tr', { 'data-id': row.id },
    h('td', { class: 'id' }, row.callId), h('td', { class: 'id' }, row.id), h('td', {}, fmtDate(row.startedAt)), h('td', {}, fmtDate(row.deadline)), h('td', {}, late(row))));
  const head = [t('callId'), t('recordingId'), t('started'), t('deadline'), t('lateness')];
  const unheld = recs.filter((row) => !row.holdId);
  const held = recs.filter((row) => row.holdId);
  out.replaceChildren(
    h('h2', { id: 'overdue-count', 'data-count': String(unheld.length) }, t('overdueUnheld')(unheld.length)),
    unheld.length ? table(head, rowsOf(unheld, (row) => t('overdueBy')(past(row)))) : h('p', {}, t('overdueUnheldNone')),
    ...(held.length ? [h('h2', { id: 'overdue-held', 'data-count': String(held.length) }, t('overdueHeld')(held.length)),
      h('div', { id: 'overdue-held-list' }, table(head, rowsOf(held, (row) => t('pastDeadlineBy')(past(row)))))] : []));
}

// ---- shell ----

const viewOf = (hash) => {
  const m = /^#\/([A-Za-z]+)/.exec(hash ?? '');
  return m && VIEWS[m[1]] ? m[1] : null;
};
const currentView = () => viewOf(location.hash);
/** The menu of everyone signed in: a person may hold several roles and sees the union. */
const menuOf = (who) => {
  const mine = new Set(rolesOf(who).flatMap((r) => MENU[r] ?? []));
  // In one order whatever the order of the roles: the overview first for anyone who has it.
  return Object.keys(VIEWS).filter((v) => mine.has(v));
};
const firstView = () => menuOf(me)[0] ?? 'recordings';
const viewAllowed = (view) => !!view && rolesOf(me).some((r) => VIEWS[view].roles.includes(r));

/** Marks a region as loading (`aria-busy`); the status line, not the region, is what is announced. */
function busy(region) {
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

/** The session ended under the user: sign in again, then come back to the same view. */
function sessionEnded() {
  if (location.hash && location.hash !== '#/') sessionStorage.setItem(RETURN_KEY, location.hash);
  me = null;
  renderChrome();
  signInView(document.getElementById('main'), t('sessionEnded'));
}

function refusedView(main) {
  main.replaceChildren(h('section', { class: 'refused', id: 'refused', 'data-status': '403' },
    h('h1', {}, t('noAccess')), h('p', {}, t('noAccessBody')), h('p', {}, h('a', { href: `#/${firstView()}` }, t('toStart')))));
}

function renderChrome() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t(el.dataset.i18n)));
  const langBtn = document.getElementById('lang');
  langBtn.textContent = t('other');
  langBtn.lang = lang === 'sv' ? 'en' : 'sv';
  document.getElementById('signout').hidden = !me;
  document.getElementById('who').textContent = me ? `${t('signedInAs')} ${me.name} (${rolesOf(me).map((r) => t('roles')[r] ?? r).join(', ')})` : '';
  const menu = document.getElementById('menu');
  menu.setAttribute('aria-label', t('menu'));
  const current = currentView();
  menu.replaceChildren(me ? h('ul', {}, menuOf(me).map((v) => h('li', {}, h('a', { href: `#/${v}`, 'aria-current': v === current ? 'page' : undefined }, t(v))))) : '');
  renderFooter();
}

/** The controller and its data-protection officer, as configured (CONTROLLER_*, DPO_CONTACT). */
function renderFooter() {
  const footer = document.getElementById('controller');
  const c = signInOptions?.ok ? signInOptions.data.controller : null;
  footer.hidden = !c;
  if (!c) return;
  footer.setAttribute('aria-label', t('controllerFooter'));
  footer.replaceChildren(
    h('p', {}, `${t('controller')}: `, h('span', { class: 'controller-name' }, c.name), `, ${t('orgNumber')} ${c.orgNumber}. ${t('contact')}: ${c.contact}`),
    h('p', {}, `${t('dpo')}: ${c.dpoContact}`),
  );
}

async function render() {
  renderChrome();
  const main = document.getElementById('main');
  if (!me) {
    if (currentView()) sessionStorage.setItem(RETURN_KEY, location.hash);
    return signInView(main);
  }
  const view = currentView() ?? firstView();
  if (!currentView()) history.replaceState(null, '', `#/${view}`);
  renderChrome();
  if (!viewAllowed(view)) {
    document.title = `${t('noAccess')} – Gallra`;
    return refusedView(main);
  }
  document.title = `${t(view)} – Gallra`;
  await VIEWS[view].render(main);
}

document.getElementById('lang').addEventListener('click', () => {
  lang = lang === 'sv' ? 'en' : 'sv';
  localStorage.setItem('gallra.lang', lang);
  render();
});
document.getElementById('signout').addEventListener('click', async () => {
  const r = await api('DELETE', '/v1/session');
  me = null;
  document.getElementById('main').replaceChildren();
  history.replaceState(null, '', '#/');
  // Signed in with the municipality's account: end that session at the provider too.
  if (r.ok && r.data?.signOutUrl) return location.assign(r.data.signOutUrl);
  render();
});
// A page restored from the back-forward cache after signing out must not show what it showed before.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});
window.addEventListener('hashchange', () => {
  render().then(() => document.getElementById('main').focus());
});

const who = await api('GET', '/v1/session');
me = who.ok ? who.data : null;
// Back from the identity provider (single sign-on), which returns to "/": the view asked for before signing in.
if (me) {
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (back && (!location.hash || location.hash === '#/') && viewAllowed(viewOf(back))) history.replaceState(null, '', back);
}
signInOptions = await api('GET', '/v1/sign-in');
render();

/** The catalogue, for tests that check no English text shows in the Swedish interface. */
export { TEXT };
