// @ts-check
// Recordings past their deadline: the unheld ones (overdue) and those a hold keeps on purpose.

import { durationWords } from './text.js';
import { api, busy, fmtDate, h, problemBox, session, t, table } from './ui.js';

/** @param {HTMLElement} main */
export async function overdueView(main) {
  const out = h('div', { id: 'overdue' });
  busy(out);
  main.replaceChildren(h('h1', {}, t('overdue')), out);
  const r = await api('GET', '/v1/retention/overdue');
  if (!r.ok) return out.replaceChildren(problemBox(r));
  // Overdue are the unheld ones (the count /readyz and the metric give); a held call past its deadline is kept on purpose.
  const recs = r.data.recordings ?? [];
  const past = (row) => durationWords(session.lang, Date.now() - Date.parse(row.deadline));
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
