// @ts-check
// The administrator's page for data-subject requests (Begäran från registrerad, GDPR art. 15, 17, 18, 21).
// Kept in its own module so that it merges cleanly with other work on app.js; app.js hands it its helpers.
// The number is only ever sent in a request body, and cleared from the page once the case is open.

import { formatTime } from './text.js';

/** English counts: "1 call", "2 calls" ("1 held call"). */
const calls = (n, adjective = '') => `${n} ${adjective}${n === 1 ? 'call' : 'calls'}`;

export const SUBJECT_TEXT = {
  sv: {
    subjectRequests: 'Begäran från registrerad', newRequest: 'Ny begäran', kind: 'Typ', received: 'Mottagen', reference: 'Diarienummer',
    note: 'Anteckning (valfri)', create: 'Registrera begäran', cases: 'Ärenden', due: 'Sista dag', daysLeft: 'Dagar kvar', overdue: 'försenad',
    kinds: { access: 'Registerutdrag (art. 15)', restriction: 'Begränsning (art. 18)', erasure: 'Radering (art. 17)', objection: 'Invändning (art. 21)' },
    statuses: { open: 'öppen', extended: 'förlängd', answered: 'besvarad', closed: 'avslutad' },
    states: { stored: 'sparad', held: 'gallringsstopp', deleted: 'raderad', discarded: 'aldrig sparad' },
    calls: 'Samtal', dateTime: 'Datum och tid', queue: 'Kö', duration: 'Längd', state: 'Läge', holdReason: 'Gallringsstopp', none: 'Inga samtal finns för numret.',
    download: 'Ladda ner registerutdrag', receipts: 'Ladda ner kvitton på raderingen', restrict: 'Begränsa', erase: 'Radera', extend: 'Förläng', answer: 'Besvarad', close: 'Avsluta',
    reason: 'Skäl', until: 'Ny sista dag', back: 'Alla ärenden', optOut: 'Avböjer inspelning sedan',
    confirmErase: (n, kept) => `Radera ${n} samtal för den registrerade? Det går inte att ångra.${kept ? ` ${kept} samtal med gallringsstopp behålls.` : ''}`,
    confirmYes: (n) => `Ja, radera ${n} samtal`, cancel: 'Avbryt',
    erased: (d, k) => `Raderade ${d} samtal. ${k} behölls under gallringsstopp.`, restricted: (n) => `${n} samtal fick gallringsstopp.`, done: 'Klart.',
    number: 'Telefonnummer', nothingHeld: 'Inget sparat om numret.',
    holdThisCase: 'detta ärende', holdOtherCase: 'ett annat ärende', holdOther: 'annat gallringsstopp',
    lateDays: (n) => (n === 0 ? 'försenad' : `försenad ${n} ${n === 1 ? 'dag' : 'dagar'}`), status: 'Status',
    confirmOptOut: (n) => `Radera ${n} befintliga inspelningar av numret? Det går inte att ångra.`,
    object: 'Registrera invändning',
    confirmObject: (n, kept, since) => [
      since ? `Numret är redan registrerat som att det avböjer inspelning, sedan ${since}; det står kvar.` : 'Numret registreras som att det avböjer inspelning: nya samtal från numret spelas inte in.',
      n ? `Därefter raderas numrets ${n} sparade samtal. Raderingen går inte att ångra.` : 'Inga sparade samtal behöver raderas.',
      kept ? `${kept} samtal med gallringsstopp behålls.` : '',
    ].filter(Boolean).join(' '),
    confirmObjectYes: (n) => `Registrera att numret inte ska spelas in, och radera ${n} samtal`,
    objected: (created, d, k) => `${created ? 'Numret är registrerat' : 'Numret var redan registrerat'}: nya samtal från det spelas inte in. Raderade ${d} samtal.${k ? ` ${k} behölls under gallringsstopp.` : ''}`,
  },
  en: {
    subjectRequests: 'Data-subject requests', newRequest: 'New request', kind: 'Kind', received: 'Received', reference: 'Case number',
    note: 'Note (optional)', create: 'Register request', cases: 'Cases', due: 'Due', daysLeft: 'Days left', overdue: 'overdue',
    kinds: { access: 'Register extract (art. 15)', restriction: 'Restriction (art. 18)', erasure: 'Erasure (art. 17)', objection: 'Objection (art. 21)' },
    statuses: { open: 'open', extended: 'extended', answered: 'answered', closed: 'closed' },
    states: { stored: 'stored', held: 'held', deleted: 'deleted', discarded: 'never stored' },
    calls: 'Calls', dateTime: 'Date and time', queue: 'Queue', duration: 'Duration', state: 'State', holdReason: 'Hold', none: 'No calls for this number.',
    download: 'Download register extract', receipts: 'Download deletion receipts', restrict: 'Restrict', erase: 'Erase', extend: 'Extend', answer: 'Answered', close: 'Close',
    reason: 'Reason', until: 'New due date', back: 'All cases', optOut: 'Opted out of recording since',
    confirmErase: (n, kept) => `Erase ${calls(n)} of the data subject? This cannot be undone.${kept ? ` ${calls(kept, 'held ')} ${kept === 1 ? 'is' : 'are'} kept.` : ''}`,
    confirmYes: (n) => `Yes, erase ${calls(n)}`, cancel: 'Cancel',
    erased: (d, k) => `Erased ${calls(d)}. ${k} kept under a hold.`, restricted: (n) => `${calls(n)} held.`, done: 'Done.',
    number: 'Phone number', nothingHeld: 'Nothing held about this number.',
    holdThisCase: 'this case', holdOtherCase: 'another case', holdOther: 'another hold',
    lateDays: (n) => (n === 0 ? 'overdue' : `overdue by ${n} ${n === 1 ? 'day' : 'days'}`), status: 'Status',
    confirmOptOut: (n) => `Delete ${n} existing recordings of this number? This cannot be undone.`,
    object: 'Register objection',
    confirmObject: (n, kept, since) => [
      since ? `The number is already registered as opting out of recording, since ${since}; that stays.` : 'The number is registered as opting out of recording: new calls from it are not recorded.',
      n ? `Then its ${calls(n, 'stored ')} ${n === 1 ? 'is' : 'are'} deleted. The deletion cannot be undone.` : 'No stored calls need deleting.',
      kept ? `${calls(kept, 'held ')} ${kept === 1 ? 'is' : 'are'} kept.` : '',
    ].filter(Boolean).join(' '),
    confirmObjectYes: (n) => `Register that the number is not to be recorded, and delete ${calls(n)}`,
    objected: (created, d, k) => `${created ? 'The number is registered' : 'The number was already registered'}: new calls from it are not recorded. Deleted ${calls(d)}.${k ? ` ${k} kept under a hold.` : ''}`,
  },
};

const KINDS = ['access', 'restriction', 'erasure', 'objection'];

/** Days left, or how late, in words: "försenad 5 dagar" rather than "-5". */
const daysLeft = (T, c) => (c.daysLeft === null ? '–' : c.overdue ? T.lateDays(Math.max(0, -c.daysLeft)) : String(c.daysLeft));

/** "2 min 30 s", as the register extract says it. */
const duration = (ms) => {
  if (ms == null || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
};

/** A hold by what it is: this case, a link to another case, or another (administrator's) hold. */
function holdWords(ui, T, reason, caseId) {
  const other = /^subject-request:(sr_[0-9a-f]{16})$/.exec(reason)?.[1];
  if (other === caseId) return T.holdThisCase;
  if (other) return ui.h('a', { href: `#/subjectRequests/${other}` }, T.holdOtherCase);
  return T.holdOther;
}

/** `#/subjectRequests` (form and list) or `#/subjectRequests/<id>` (one case). */
/**
 * @param {HTMLElement} main
 * @param {import('./ui.js').Ui} ui
 */
export async function subjectRequestsView(main, ui) {
  const id = /^#\/subjectRequests\/(sr_[0-9a-f]{16})/.exec(location.hash)?.[1];
  return id ? caseView(main, ui, id) : listView(main, ui);
}

function text(ui) {
  return SUBJECT_TEXT[ui.lang()];
}

const todayLocal = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Stockholm' }).format(new Date());

/**
 * @param {HTMLElement} main
 * @param {import('./ui.js').Ui} ui
 */
async function listView(main, ui) {
  const { h, api, problemBox, table, field } = ui;
  const T = text(ui);
  const kind = h('select', { name: 'kind', required: true }, KINDS.map((k) => h('option', { value: k }, T.kinds[k])));
  const number = h('input', { name: 'number', type: 'tel', required: true, autocomplete: 'off', maxlength: 40 });
  const received = h('input', { name: 'receivedAt', type: 'date', required: true, value: todayLocal(), max: todayLocal() });
  const reference = h('input', { name: 'reference', required: true, maxlength: 100 });
  const note = h('input', { name: 'note', maxlength: 1000 });
  const out = h('div', { 'aria-live': 'polite', id: 'subject-request-result' });
  const form = h('form', { class: 'card', id: 'subject-request-form' },
    field(T.kind, kind), field(T.number, number), field(T.received, received), field(T.reference, reference), field(T.note, note),
    h('button', { type: 'submit' }, T.create));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('POST', '/v1/subject-requests', { kind: kind.value, number: number.value, receivedAt: received.value, reference: reference.value, note: note.value || undefined });
    // On a problem everything typed stays, so that it can be corrected; the number is cleared once the case is open.
    const inputs = { '/kind': kind, '/number': number, '/receivedAt': received, '/reference': reference, '/note': note };
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    if (!r.ok) {
      out.replaceChildren(problemBox(r));
      const named = (r.problem?.errors ?? []).map((e) => inputs[e.pointer]).filter(Boolean);
      for (const input of named) input.setAttribute('aria-invalid', 'true');
      named[0]?.focus();
      return;
    }
    number.value = '';
    location.hash = `#/subjectRequests/${r.data.id}`;
  });
  const list = h('div', { id: 'subject-requests-list' });
  main.replaceChildren(h('h1', {}, T.subjectRequests), h('h2', {}, T.newRequest), form, out, h('h2', {}, T.cases), list);
  const r = await api('GET', '/v1/subject-requests');
  if (!r.ok) return list.replaceChildren(problemBox(r));
  const rows = r.data.items.map((c) => h('tr', { 'data-id': c.id, class: c.overdue ? 'overdue' : c.daysLeft !== null && c.daysLeft <= 5 ? 'due-soon' : undefined },
    h('td', {}, h('a', { href: `#/subjectRequests/${c.id}` }, c.reference)), h('td', {}, T.kinds[c.kind]), h('td', {}, c.receivedDate),
    h('td', {}, c.effectiveDueDate), h('td', { class: 'num' }, daysLeft(T, c)),
    h('td', {}, T.statuses[c.status])));
  list.replaceChildren(rows.length ? table([T.reference, T.kind, T.received, T.due, T.daysLeft, T.status], rows) : h('p', {}, '–'));
}

async function caseView(main, ui, id, note) {
  const { h, api, problemBox, table, field } = ui;
  const T = text(ui);
  const out = h('div', { 'aria-live': 'polite', id: 'subject-request-result' }, note ?? null);
  main.replaceChildren(h('p', {}, '…'));
  const r = await api('GET', `/v1/subject-requests/${id}`);
  if (!r.ok) return main.replaceChildren(problemBox(r));
  const d = r.data;
  const c = d.request;
  const active = c.status === 'open' || c.status === 'extended';
  // Carries out an action, then shows the case again with `message(answer)` under it.
  const act = async (action, body = {}, message) => {
    const res = await api('POST', `/v1/subject-requests/${id}/${action}`, body);
    if (!res.ok) return out.replaceChildren(problemBox(res));
    await caseView(main, ui, id, message ? message(res.data) : h('p', { class: 'ok' }, T.done));
  };

  const facts = h('dl', { class: 'facts', id: 'subject-request-facts' },
    h('dt', {}, T.kind), h('dd', {}, T.kinds[c.kind]), h('dt', {}, 'Status'), h('dd', { id: 'subject-request-status' }, T.statuses[c.status]),
    h('dt', {}, T.received), h('dd', {}, c.receivedDate), h('dt', {}, T.due), h('dd', {}, c.effectiveDueDate),
    h('dt', {}, T.daysLeft), h('dd', { class: c.overdue ? 'bad' : undefined, id: 'subject-request-days-left' }, daysLeft(T, c)),
    d.optOut ? [h('dt', {}, T.optOut), h('dd', { id: 'subject-request-opt-out' }, formatTime(ui.lang(), d.optOut.since))] : null);
  const rows = d.calls.map((x) => h('tr', { 'data-recording': x.recordingId, 'data-state': x.state },
    h('td', {}, `${x.local.date} ${x.local.time} ${x.local.zone}`), h('td', {}, x.queue ?? '–'),
    h('td', { class: 'num' }, duration(x.durationMs)), h('td', {}, T.states[x.state]),
    h('td', { class: 'holds' }, x.holds.length ? x.holds.map((hd, i) => [i ? ', ' : '', holdWords(ui, T, hd.reason, id)]) : '–')));
  const calls = rows.length ? table([T.dateTime, T.queue, T.duration, T.state, T.holdReason], rows) : h('p', { id: 'nothing-held' }, d.nothingHeld ? T.nothingHeld : T.none);

  const buttons = h('div', { class: 'pager', id: 'subject-request-actions' });
  const confirmBox = h('div', { id: 'subject-request-confirm' });
  if (c.kind === 'access' && c.status !== 'closed') {
    buttons.append(h('a', { class: 'button', id: 'download-package', href: `/v1/subject-requests/${id}/package`, download: `registerutdrag-${id}.zip` }, T.download));
  }
  // One receipt per call the case deleted (docs/receipts.md); also after the case is closed.
  if ((c.kind === 'erasure' || c.kind === 'objection') && d.calls.some((x) => x.state === 'deleted' && x.deletedBy === id)) {
    buttons.append(h('a', { class: 'button', id: 'download-receipts', href: `/v1/subject-requests/${id}/receipts`, download: `kvitton-${id}.zip` }, T.receipts));
  }
  if (active && c.kind === 'restriction') {
    buttons.append(h('button', { type: 'button', onclick: () => act('restrict', {}, (a) => h('p', { class: 'ok' }, T.restricted(a.held))) }, T.restrict));
  }
  /** A confirmation in the page that names what the action does; nothing happens before its button. */
  const confirm = (message, yes, run) => {
    confirmBox.replaceChildren(h('div', { class: 'problem', role: 'alertdialog', 'aria-labelledby': 'confirm-text' },
      h('p', { id: 'confirm-text' }, message),
      h('button', { type: 'button', id: 'confirm-erase', onclick: async () => { confirmBox.replaceChildren(); await run(); } }, yes),
      ' ',
      h('button', { type: 'button', class: 'secondary', onclick: () => confirmBox.replaceChildren() }, T.cancel)));
    confirmBox.querySelector('#confirm-erase').focus();
  };
  const n = d.counts.deletable;
  if (active && c.kind === 'erasure' && (!c.carriedOutAt || n > 0)) {
    // Nothing is deleted before the registrar confirms the number of calls it names.
    buttons.append(h('button', { type: 'button', id: 'erase', onclick: () => confirm(T.confirmErase(n, d.counts.held), T.confirmYes(n),
      () => act('erase', { confirm: n }, (a) => h('p', { class: 'ok', id: 'erase-result' }, T.erased(a.deleted, a.keptUnderHold.length)))) }, T.erase));
  }
  if (active && c.kind === 'objection' && (!c.carriedOutAt || n > 0 || !d.optOut)) {
    // An objection registers the standing opt-out first, then deletes: the confirmation says both.
    const since = d.optOut ? formatTime(ui.lang(), d.optOut.since) : null;
    buttons.append(h('button', { type: 'button', id: 'object', onclick: () => confirm(T.confirmObject(n, d.counts.held, since), T.confirmObjectYes(n),
      () => act('object', { confirm: n }, (a) => h('p', { class: 'ok', id: 'erase-result' }, T.objected(a.optOutCreated, a.deleted, a.keptUnderHold.length)))) }, T.object));
  }
  if (c.status === 'open') {
    buttons.append(h('button', { type: 'button', class: 'secondary', onclick: () => {
      const until = h('input', { type: 'date', name: 'until', required: true });
      const reason = h('input', { name: 'reason', required: true, maxlength: 500 });
      const f = h('form', { class: 'card' }, field(T.until, until), field(T.reason, reason), h('button', { type: 'submit' }, T.extend));
      f.addEventListener('submit', (e) => { e.preventDefault(); act('extend', { until: until.value, reason: reason.value }); });
      confirmBox.replaceChildren(f);
    } }, T.extend));
  }
  if (active) buttons.append(h('button', { type: 'button', id: 'answer', onclick: () => act('answer') }, T.answer));
  if (c.status !== 'closed') buttons.append(h('button', { type: 'button', class: 'secondary', id: 'close', onclick: () => act('close') }, T.close));

  main.replaceChildren(h('p', {}, h('a', { href: '#/subjectRequests' }, T.back)), h('h1', {}, `${T.subjectRequests}: ${c.reference}`), facts,
    h('h2', {}, `${T.calls} (${d.calls.length})`), calls, buttons, confirmBox, out);
}

/**
 * For the opt-out form: before "delete existing recordings" is sent, ask how many that is and have the
 * administrator confirm that number. Resolves true to go ahead.
 */
export async function confirmOptOutDeletion(ui, number, box) {
  const { h, api, problemBox } = ui;
  const T = text(ui);
  const r = await api('POST', '/v1/opt-outs/preview', { number });
  if (!r.ok) {
    box.replaceChildren(problemBox(r));
    return false;
  }
  const n = r.data.storedRecordings;
  return new Promise((resolve) => {
    const done = (yes) => { box.replaceChildren(); resolve(yes); };
    box.replaceChildren(h('div', { class: 'problem', role: 'alertdialog', 'aria-labelledby': 'opt-out-confirm-text' },
      h('p', { id: 'opt-out-confirm-text' }, T.confirmOptOut(n)),
      h('button', { type: 'button', id: 'confirm-opt-out', onclick: () => done(true) }, T.confirmYes(n)), ' ',
      h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, T.cancel)));
    box.querySelector('#confirm-opt-out').focus();
  });
}
