// @ts-check
// The Gallringsregler page: the retention policy per queue. Administrators edit the rules (unless
// RETENTION_POLICY_FILE is the policy), preview what a change does to stored recordings and save;
// auditors read the rules and their history. Its own module so that it merges cleanly with work on
// app.js; app.js hands it its helpers. Texts: CODE_TEXT[lang].policies in text.js.

import { CODE_TEXT, formatTime } from './text.js';

/** `#/policies`. */
export async function policiesView(main, ui) {
  const { h, api, problemBox, table, field } = ui;
  const lang = ui.lang();
  const T = CODE_TEXT[lang].policies;
  const when = (iso) => formatTime(lang, iso);
  const [current, history] = await Promise.all([api('GET', '/v1/retention-policy'), api('GET', '/v1/retention-policy/history')]);
  if (!current.ok) return main.replaceChildren(h('h1', {}, T.title), problemBox(current));
  const p = current.data;
  const canEdit = p.editable && ui.isAdmin();

  const ruleRow = (rule = { match: { queue: '' }, retainDays: p.ceilingDays }) => {
    const queue = h('input', { type: 'text', name: 'queue', maxlength: 64, required: true, value: rule.match.queue, autocomplete: 'off' });
    const kind = h('select', { name: 'kind' }, h('option', { value: 'days' }, T.keepDays), h('option', { value: 'off' }, T.notRecorded));
    kind.value = rule.record === false ? 'off' : 'days';
    const days = h('input', { type: 'number', name: 'days', min: 1, max: p.ceilingDays, step: 1, value: rule.retainDays ?? p.ceilingDays, inputmode: 'numeric' });
    days.disabled = kind.value === 'off';
    kind.addEventListener('change', () => { days.disabled = kind.value === 'off'; changed(); });
    const tr = h('tr', { class: 'rule' },
      h('td', {}, field(T.queue, queue)),
      h('td', {}, field(T.keep, kind)),
      h('td', {}, field(T.days, days)),
      h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => { tr.remove(); changed(); } }, T.removeRule)));
    for (const input of [queue, days]) input.addEventListener('input', changed);
    return tr;
  };

  const rulesOf = (tbody) => [...tbody.querySelectorAll('tr.rule')].map((tr) => {
    const queue = tr.querySelector('[name=queue]').value.trim();
    return tr.querySelector('[name=kind]').value === 'off' ? { match: { queue }, record: false } : { match: { queue }, retainDays: Number(tr.querySelector('[name=days]').value) };
  });

  const out = h('div', { 'aria-live': 'polite', class: 'policy-result' });
  let previewed = null;
  const save = h('button', { type: 'submit', disabled: true }, T.save);
  function changed() {
    previewed = null;
    save.disabled = true;
    out.replaceChildren(h('p', {}, T.previewFirst));
  }

  let rulesSection;
  if (canEdit) {
    const rows = p.rules.map(ruleRow);
    const tbody = h('tbody', {}, rows);
    const add = h('button', { type: 'button', class: 'secondary', onclick: () => { tbody.append(ruleRow()); changed(); tbody.lastElementChild.querySelector('input').focus(); } }, T.addRule);
    const preview = h('button', { type: 'button' }, T.preview);
    preview.addEventListener('click', async () => {
      const rules = rulesOf(tbody);
      const r = await api('POST', '/v1/retention-policy/preview', { rules });
      if (!r.ok) return out.replaceChildren(problemBox(r));
      previewed = JSON.stringify(rules);
      save.disabled = false;
      out.replaceChildren(h('p', { class: 'preview', 'data-shortened': r.data.shortened, 'data-deleted': r.data.deletedAtNextRun }, T.previewText(r.data.shortened, r.data.deletedAtNextRun)));
    });
    const form = h('form', { class: 'policy-form', novalidate: true },
      h('div', { class: 'table-wrap' }, h('table', { class: 'rules' }, tbody)),
      h('p', { class: 'actions' }, add, ' ', preview, ' ', save), out);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const rules = rulesOf(tbody);
      if (previewed !== JSON.stringify(rules)) return changed();
      save.disabled = true;
      const r = await api('PUT', '/v1/retention-policy', { rules });
      if (!r.ok) return out.replaceChildren(problemBox(r));
      await policiesView(main, ui);
      main.querySelector('.policy-result').replaceChildren(h('p', { role: 'status', class: 'saved' }, T.saved(r.data.version)));
    });
    rulesSection = form;
  } else {
    rulesSection = p.rules.length
      ? table([T.queue, T.keep], p.rules.map((r) => h('tr', {}, h('td', {}, h('code', {}, r.match.queue)), h('td', {}, r.record === false ? T.notRecorded : `${r.retainDays} ${T.days.toLowerCase()}`))))
      : h('p', {}, T.none);
  }

  main.replaceChildren(
    h('h1', {}, T.title),
    h('p', {}, T.intro(p.ceilingDays)),
    p.file ? h('p', { class: 'note', 'data-file': p.file }, T.fromFile(p.file)) : null,
    h('p', { class: 'policy-version' }, T.version(p.version, p.changedAt && when(p.changedAt), p.changedBy)),
    rulesSection,
    policyHistorySection(ui, history.ok ? history.data.items : [], 'policy-history'),
  );
}

/** A report row's rule and version: `bygg* (v2)`, `standard (v2)`, or – for a call from before any policy. */
export function ruleOfRow(lang, row) {
  if (!row.policyVersion) return '–';
  return `${row.rule ?? CODE_TEXT[lang].policies.defaultRule} (v${row.policyVersion})`;
}

/** The report's and the overview's outcomes per queue: each queue, its calls, and its outcomes that occurred. */
export function queueOutcomesSection(ui, byQueue, id) {
  const { h, table } = ui;
  const lang = ui.lang();
  const T = CODE_TEXT[lang].policies;
  const words = CODE_TEXT[lang].outcomes;
  const rows = (byQueue ?? []).map((q) => h('tr', { 'data-queue': q.queue ?? '' },
    h('td', {}, q.queue ?? T.noQueue), h('td', { class: 'num' }, String(q.totals.all)),
    h('td', {}, Object.entries(q.totals).filter(([k, n]) => k !== 'all' && n > 0).map(([k, n]) => `${words[k] ?? k} ${n}`).join(' · '))));
  return h('section', { 'aria-labelledby': `${id}-title`, id },
    h('h2', { id: `${id}-title` }, T.byQueue),
    rows.length ? table([T.queueColumn, CODE_TEXT[lang].auditor.count, CODE_TEXT[lang].auditor.outcome], rows) : h('p', {}, T.none));
}

/** The policy's versions, newest first, for the report and the overview. */
export function policyHistorySection(ui, history, id) {
  const { h, table } = ui;
  const lang = ui.lang();
  const T = CODE_TEXT[lang].policies;
  const rows = (history ?? []).map((v) => h('tr', { 'data-version': v.version },
    h('td', { class: 'num' }, String(v.version)), h('td', {}, formatTime(lang, v.changedAt)), h('td', {}, v.changedBy), h('td', {}, T.origins[v.origin] ?? v.origin),
    h('td', {}, v.rules.length ? h('ul', { class: 'plain' }, v.rules.map((r) => h('li', {}, T.ruleText(r)))) : T.none)));
  return h('section', { 'aria-labelledby': `${id}-title`, id },
    h('h2', { id: `${id}-title` }, `${T.title}: ${T.history.toLowerCase()}`),
    rows.length ? table(['Version', T.changedAt, T.changedBy, T.origin, T.rules], rows) : h('p', {}, T.none));
}
