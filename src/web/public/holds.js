// @ts-check
// Holds in force, placing one on a call (by call id or recording id) and releasing it.

import { stockholmDate } from './text.js';
import { api, busy, dayEnd, field, fmtDate, h, holdEnd, problemBox, query, t, table, UUID } from './ui.js';

/** @param {HTMLElement} main */
export async function holdsView(main) {
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
