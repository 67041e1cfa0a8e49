// @ts-check
// The retention report: every recording of a period with its outcome against its deadline, the totals, and the
// discrepancies between the recordings and the audit log; both as CSV files too.

import { policyHistorySection, queueOutcomesSection, ruleOfRow } from './policies.js';
import { CODE_TEXT, durationWords, stockholmDate } from './text.js';
import { api, busy, dayEnd, dayStart, field, fmtDate, h, problemBox, query, session, t, table, ui, word } from './ui.js';

const OUTCOMES = ['deleted-on-time', 'deleted-late', 'deleted-on-request', 'held', 'held-for-request', 'discarded', 'stored-not-yet-due', 'overdue'];

/** @param {HTMLElement} main */
export async function reportView(main) {
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
  // Outcomes per queue and the retention rules' history (policies.js), beside the rows.
  const byPolicy = h('div', { id: 'report-policy' });
  main.replaceChildren(h('h1', {}, t('report')), form, h('p', { class: 'downloads' }, csv, ' · ', totalsCsv), out, byPolicy);

  const lateness = (row) => (row.lateMs == null ? '–' : row.outcome === 'overdue' ? t('overdueBy')(durationWords(session.lang, row.lateMs)) : t('lateBy')(durationWords(session.lang, row.lateMs)));
  function draw() {
    const rows = report.recordings.filter((row) => !outcome.value || row.outcome === outcome.value);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * PAGE, (page + 1) * PAGE);
    const totals = report.totals ?? {};
    const head = [t('callId'), t('recordingId'), t('started'), t('deadline'), t('deletedAt'), t('outcome'), t('lateness'), t('reason'), CODE_TEXT[session.lang].policies.ruleAndVersion];
    const body = shown.map((row) => h('tr', { 'data-id': row.id, 'data-outcome': row.outcome },
      h('td', {}, row.callId ?? '–'), h('td', { class: 'id' }, row.id), h('td', {}, fmtDate(row.startedAt)), h('td', {}, fmtDate(row.deadline)),
      h('td', {}, fmtDate(row.deletedAt)), h('td', {}, word('outcomes', row.outcome)), h('td', {}, lateness(row)), h('td', {}, row.reason ? word('reasons', row.reason) : '–'), h('td', { class: 'rule' }, ruleOfRow(session.lang, row))));
    const pager = h('nav', { class: 'pager', 'aria-label': t('reportRecordings') },
      h('button', { type: 'button', class: 'secondary', disabled: page === 0, onclick: () => { page--; draw(); } }, t('prev')),
      h('span', { id: 'report-page' }, t('pageOf')(page + 1, pages)),
      h('button', { type: 'button', class: 'secondary', disabled: page >= pages - 1, onclick: () => { page++; draw(); } }, t('next')));
    out.replaceChildren(
      h('h2', {}, t('totals')),
      h('dl', { class: 'facts', id: 'report-totals' }, [...OUTCOMES, 'all'].map((o) => [h('dt', {}, o === 'all' ? t('all') : word('outcomes', o)), h('dd', { 'data-outcome': o }, String(totals[o] ?? 0))])),
      h('h2', {}, `${t('reportRecordings')} (${rows.length})`),
      h('p', { role: 'status', id: 'report-rows' }, rows.length ? t('rowsShown')(page * PAGE + 1, page * PAGE + shown.length, rows.length) : t('none')),
      // Left out, not null: replaceChildren would show "null" as text.
      ...(rows.length ? [table(head, body)] : []), ...(rows.length > PAGE ? [pager] : []),
      h('h2', {}, `${t('discrepancies')} (${report.discrepancies?.length ?? 0})`),
      report.discrepancies?.length ? h('ul', { id: 'report-discrepancies' }, report.discrepancies.map((d) => h('li', { 'data-kind': d.kind }, `${word('discrepancies', d.kind)} · ${d.recordingId}${d.seq !== undefined ? ` · ${t('entryNo')(d.seq)}` : ''}`))) : h('p', {}, t('none')),
    );
    byPolicy.replaceChildren(queueOutcomesSection(ui, report.byQueue, 'report-queues'), policyHistorySection(ui, report.policyHistory, 'report-policy-history'));
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
