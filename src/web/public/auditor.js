// @ts-check
// The auditor's views: the compliance overview (the landing page for auditors and admins) and the audit
// log search with a per-recording timeline. The charts are drawn with uPlot, served by this service from
// its own node_modules (/vendor/uplot/); every chart has its numbers in a table beside it for screen
// readers, and tells its series apart by pattern, marker and label, not by colour alone.

import { policyHistorySection, queueOutcomesSection } from './policies.js';
import { CODE_TEXT, daysBefore, formatTime, stockholmDate, stockholmDayStart } from './text.js';

const OUTCOMES = ['deleted-on-time', 'deleted-late', 'deleted-on-request', 'held', 'held-for-request', 'discarded', 'stored-not-yet-due', 'overdue'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Actions an auditor looks for, in the order of a recording's life; the rest follow by name. */
const LIFE = ['recording.ingested', 'recording.discarded', 'call.opt-out-requested', 'recording.played', 'hold.placed', 'hold.released', 'hold.lapsed', 'recording.deleted'];

const COLOURS = { onTime: '#1a6b2a', late: '#a4000f', due: '#1b1f24', unheld: '#005a9c', held: '#6b3fa0', limit: '#1b1f24' };

/** Everything the page shows of the catalogue, in the page's language. */
const words = (ui) => CODE_TEXT[ui.lang()];
const tx = (ui) => words(ui).auditor;
const word = (ui, kind, code) => words(ui)[kind]?.[code] ?? code;

/** The filters of a view live in the address, so a reload or a language switch keeps them. */
function hashParams() {
  return new URLSearchParams(location.hash.split('?')[1] ?? '');
}
function setHashParams(view, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  const next = `#/${view}${q ? `?${q}` : ''}`;
  if (location.hash !== next) history.replaceState(null, '', next);
}

/** uPlot's own build, served from node_modules (web.routes.ts); its types come from the package. */
const UPLOT_MODULE = '/vendor/uplot/uPlot.esm.js';
/** uPlot, loaded once and only where a chart is drawn. @type {Promise<typeof import('uplot')> | undefined} */
let uplot;
async function loadUplot() {
  uplot ??= import(UPLOT_MODULE).then((m) => m.default);
  if (!document.querySelector('link[data-uplot]')) {
    const css = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/vendor/uplot/uPlot.min.css' });
    css.dataset.uplot = '';
    document.head.append(css);
  }
  return uplot;
}

/** Diagonal stripes in a colour: "late" and "on hold" read as striped, not only as another colour. */
function stripes(colour) {
  const c = document.createElement('canvas');
  c.width = c.height = 8;
  const g = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
  g.fillStyle = '#fff';
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = colour;
  g.lineWidth = 2.5;
  g.beginPath();
  g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6);
  g.stroke();
  return /** @type {CanvasPattern} */ (g.createPattern(c, 'repeat'));
}

/**
 * A chart in a figure, with its caption, and the same numbers as a table (visually hidden: the canvas is
 * hidden from screen readers instead, so they read the table).
 */
function chartFigure(ui, id, title, caption, head, rows) {
  const { h } = ui;
  const plot = h('div', { class: 'chart', 'aria-hidden': 'true' });
  // The wrapper is what is hidden: a table is never narrower than its content, whatever its own width says.
  const tableEl = h('div', { class: 'visually-hidden chart-numbers' }, h('table', { id: `${id}-table` },
    h('caption', {}, `${tx(ui).asTable}: ${title}`),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, String(c)) : h('td', { class: 'num' }, String(c)))))))));
  const fig = h('figure', { class: 'chart-figure', id }, h('figcaption', {}, h('strong', {}, title), h('span', { class: 'caption' }, caption)), plot, tableEl);
  return { fig, plot };
}

function chartWidth(el) {
  return Math.max(280, Math.min(900, (el.closest('main')?.clientWidth ?? 900) - 40));
}

/** Bars drawn as a stack: the total first (striped top part), the lower part over it. */
/**
 * @param {object} ui
 * @param {HTMLElement} plot
 * @param {{ labels: string[], lower: number[], upper: number[], lowerLabel: string, upperLabel: string, lowerColour: string, upperColour: string,
 *   line?: number[], lineLabel?: string, limitAt?: number, limitLabel?: string }} chart
 */
async function drawStackedBars(ui, plot, { labels, lower, upper, lowerLabel, upperLabel, lowerColour, upperColour, line, lineLabel, limitAt, limitLabel }) {
  const U = await loadUplot();
  const xs = labels.map((_, i) => i);
  const totals = lower.map((v, i) => v + upper[i]);
  const bars = /** @type {NonNullable<typeof U.paths.bars>} */ (U.paths.bars)({ size: [0.7, 40] });
  /** @type {import('uplot').Series[]} */
  const series = [
    {},
    { label: upperLabel, fill: () => stripes(upperColour), stroke: upperColour, width: 1, paths: bars, points: { show: false } },
    { label: lowerLabel, fill: lowerColour, stroke: lowerColour, width: 1, paths: bars, points: { show: false } },
  ];
  /** @type {import('uplot').AlignedData} */
  const data = [xs, totals, lower];
  if (line) {
    series.push({ label: lineLabel, stroke: COLOURS.due, width: 2, dash: [6, 4], points: { show: true, size: 7, fill: '#fff', stroke: COLOURS.due, width: 2 } });
    data.push(line);
  }
  /** @type {import('uplot').Options} */
  const opts = {
    width: chartWidth(plot),
    height: 240,
    legend: { live: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    axes: [
      { values: (u, splits) => splits.map((i) => labels[i] ?? ''), space: 44, gap: 4 },
      { size: 44 },
    ],
    series,
    hooks: {
      draw: limitAt === undefined ? [] : [(u) => {
        // The limit as a dashed vertical line with its words, so it does not depend on colour.
        const ctx = u.ctx;
        const x = u.valToPos(limitAt - 0.5, 'x', true);
        ctx.save();
        ctx.strokeStyle = COLOURS.limit;
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.fillStyle = COLOURS.limit;
        ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.textAlign = 'right';
        ctx.fillText(limitLabel ?? '', x - 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
        ctx.restore();
      }],
    },
  };
  plot.replaceChildren();
  return new U(opts, data, plot);
}

const percent = (lang, n, all) => (all ? `${(Math.round((n / all) * 1000) / 10).toLocaleString(lang === 'sv' ? 'sv-SE' : 'en-GB')} %` : '–');
const shortDate = (lang, date) => {
  const [, m, d] = date.split('-').map(Number);
  return lang === 'sv' ? `${d}/${m}` : `${d}/${m}`;
};

/** The compliance overview: was everything deleted on time, and is the log intact? */
/**
 * @param {HTMLElement} main
 * @param {import('./ui.js').AuditorUi} ui
 */
export async function overviewView(main, ui) {
  const { h, api, problemBox, field } = ui;
  const T = tx(ui);
  const lang = ui.lang();
  const kept = hashParams();
  const today = stockholmDate();
  const from = h('input', { type: 'date', name: 'from', value: kept.get('from') ?? daysBefore(today, 30), required: true });
  const to = h('input', { type: 'date', name: 'to', value: kept.get('to') ?? today, required: true });
  const form = h('form', { class: 'filters', id: 'overview-period', 'aria-label': T.period }, field(T.from, from), field(T.to, to), h('button', { type: 'submit' }, T.show));
  const out = h('div', { id: 'overview' });
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  main.replaceChildren(h('h1', {}, T.overview), form, out);

  async function load() {
    setHashParams('overview', { from: from.value, to: to.value });
    ui.busy(out);
    const period = { from: stockholmDayStart(from.value), to: stockholmDayStart(to.value, 1) };
    const r = await api('GET', `/v1/reports/overview?${new URLSearchParams(period)}`);
    if (!r.ok) return out.replaceChildren(problemBox(r));
    const o = r.data;
    const limit = o.stored.retentionDays;

    // The headline: the oldest stored call without a hold, which must stay under the limit.
    const oldest = o.stored.oldestUnheldDays;
    const within = oldest === null || oldest < limit;
    const headline = h('section', { class: `headline ${within ? 'ok-box' : 'bad-box'}`, id: 'headline', 'aria-labelledby': 'headline-title', 'data-days': oldest ?? '' },
      h('h2', { id: 'headline-title' }, T.headline),
      h('p', { class: 'big' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, within ? '✓' : '!'), ' ', oldest === null ? T.noneStored : T.days(oldest)),
      oldest === null ? null : h('p', {}, within ? T.withinLimit(limit) : T.overLimit(limit)),
      o.stored.held ? h('p', {}, T.heldOlder(o.stored.held, T.days(o.stored.oldestHeldDays ?? 0))) : null,
      ...(o.copiesKeptAtSources ?? []).map((k) => h('p', { class: 'copies-kept', 'data-source': k.source }, T.copiesKept(k.source, k.reason))));

    // Shares and counts of the period's calls, as the retention report counts them.
    const all = o.totals.all;
    const shares = h('section', { 'aria-labelledby': 'shares-title' },
      h('h2', { id: 'shares-title' }, T.sharesTitle),
      h('div', { class: 'table-wrap' }, h('table', { id: 'overview-totals' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, T.outcome), h('th', { scope: 'col', class: 'num' }, T.count), h('th', { scope: 'col', class: 'num' }, T.share))),
        h('tbody', {}, [...OUTCOMES, 'all'].map((k) => h('tr', { 'data-outcome': k },
          h('th', { scope: 'row' }, k === 'all' ? word(ui, 'outcomes', 'all') : word(ui, 'outcomes', k)),
          h('td', { class: 'num', 'data-count': o.totals[k] }, String(o.totals[k])),
          h('td', { class: 'num' }, percent(lang, o.totals[k], all))))))),
      h('p', {}, T.sameAsReport, ' ', h('a', { href: `#/report?${new URLSearchParams({ from: from.value, to: to.value })}`, id: 'overview-report-link' }, T.openReport)));

    // Deletions per day against the deadlines that fell that day.
    const days = o.deletionsPerDay;
    const deletions = chartFigure(ui, 'deletions-chart', T.deletionsTitle, T.deletionsCaption,
      [T.date, T.due, T.onTime, T.late], days.map((d) => [d.date, d.due, d.onTime, d.late]));
    // Ages of what is stored now, the held apart.
    const ages = o.stored.byAge;
    const age = chartFigure(ui, 'age-chart', T.ageTitle, T.ageCaption,
      [T.age, T.unheld, T.held], ages.map((b, i) => [T.ageLabel(b.days, i === ages.length - 1), b.unheld, b.held]));

    // The chain and its latest signed checkpoint.
    const c = o.chain;
    const cp = o.latestCheckpoint;
    const chain = h('section', { 'aria-labelledby': 'chain-title', id: 'overview-chain' },
      h('h2', { id: 'chain-title' }, T.chainTitle),
      h('p', { class: `status ${c.ok ? 'ok' : 'bad'}`, 'data-ok': String(c.ok) }, h('span', { 'aria-hidden': 'true' }, c.ok ? '✓ ' : '✗ '), c.ok ? T.chainOk : T.chainBad),
      c.problem ? h('p', {}, T.chainAt(c.problem.seq, c.problem.kind)) : null,
      c.acknowledged ? h('p', {}, T.acknowledged) : null,
      h('dl', { class: 'facts' },
        c.checkedAt ? [h('dt', {}, T.checkedAt), h('dd', {}, formatTime(lang, c.checkedAt))] : null,
        c.head ? [h('dt', {}, T.head), h('dd', {}, `#${c.head.seq}`)] : null,
        h('dt', {}, T.checkpoint),
        h('dd', { id: 'overview-checkpoint' }, cp ? `#${cp.seq} · ${formatTime(lang, cp.at)} · ${T.key} ${cp.keyId.slice(0, 12)}…` : T.noCheckpoint)),
      h('p', {}, h('a', { href: '#/verification' }, T.toVerification)));

    out.replaceChildren(headline, shares, queueOutcomesSection(ui, o.byQueue, 'overview-queues'), h('section', { class: 'charts' }, deletions.fig, age.fig), chain, policyHistorySection(ui, o.policyHistory, 'overview-policy-history'));
    await Promise.all([
      drawStackedBars(ui, deletions.plot, {
        labels: days.map((d) => shortDate(lang, d.date)), lower: days.map((d) => d.onTime), upper: days.map((d) => d.late),
        lowerLabel: T.onTime, upperLabel: T.late, lowerColour: COLOURS.onTime, upperColour: COLOURS.late, line: days.map((d) => d.due), lineLabel: T.due,
      }),
      drawStackedBars(ui, age.plot, {
        labels: ages.map((b, i) => (i === ages.length - 1 ? `${b.days}+` : String(b.days))), lower: ages.map((b) => b.unheld), upper: ages.map((b) => b.held),
        lowerLabel: T.unheld, upperLabel: T.held, lowerColour: COLOURS.unheld, upperColour: COLOURS.held, limitAt: limit, limitLabel: T.limit(limit),
      }),
    ]).catch(() => {
      // Without the chart library the tables say the same: show them instead of nothing.
      for (const t of out.querySelectorAll('.chart-numbers')) t.classList.remove('visually-hidden');
    });
  }
  await load();
}

/** The actor's name: a person's or token's from /v1/people, the service's own jobs in words. */
function actorName(ui, people, actor) {
  const named = people.get(actor);
  if (named) return named;
  const system = words(ui).actors;
  if (system[actor]) return system[actor];
  if (/^system:/.test(actor)) return `${system.system} (${actor.slice(7)})`;
  return actor;
}

/** What an entry says beyond its action, in words: reason, note, hold reason and end, how it was played. */
function entryDetails(ui, e) {
  const { h } = ui;
  const T = tx(ui);
  const d = e.details ?? {};
  const parts = [];
  const add = (label, value) => value !== undefined && value !== null && value !== '' && parts.push(h('div', {}, h('dt', {}, label), h('dd', {}, value)));
  if (e.action === 'recording.deleted' || e.action === 'recording.discarded') {
    add(T.reason, typeof d.reason === 'string' ? word(ui, 'reasons', d.reason) : undefined);
    add(T.note, d.note);
  } else if (e.action === 'hold.placed') {
    add(T.reason, d.reason);
    add(T.until, d.until ? formatTime(ui.lang(), d.until) : T.untilFurther);
  } else if (e.action === 'recording.played') {
    add(T.via, typeof d.via === 'string' ? (T.viaWords[d.via] ?? d.via) : undefined);
  } else {
    add(T.reason, typeof d.reason === 'string' ? d.reason : undefined);
    add(T.note, d.note);
  }
  const raw = Object.keys(d).length ? h('details', {}, h('summary', {}, T.allDetails), h('pre', { lang: 'en' }, JSON.stringify(d, null, 1))) : null;
  return [parts.length ? h('dl', { class: 'details' }, parts) : null, raw];
}

/** Search the audit log by call or recording id, actor, action and time; a call's timeline on top. */
/**
 * @param {HTMLElement} main
 * @param {import('./ui.js').AuditorUi} ui
 */
export async function auditSearchView(main, ui) {
  const { h, api, problemBox, field } = ui;
  const T = tx(ui);
  const lang = ui.lang();
  const kept = hashParams();
  const peopleList = await ui.people();
  const people = new Map(peopleList.map((p) => [p.actor, p.name]));

  const id = h('input', { name: 'id', value: kept.get('id') ?? '', maxlength: 128, spellcheck: 'false', autocomplete: 'off' });
  const actors = [...peopleList.map((p) => [p.actor, p.name]), ...Object.entries(words(ui).actors).filter(([k]) => k.includes(':'))]
    .sort((a, b) => a[1].localeCompare(b[1], lang));
  const actor = h('select', { name: 'actor' }, h('option', { value: '' }, T.anyone), actors.map(([value, name]) => h('option', { value, selected: value === kept.get('actor') }, name)));
  const actionCodes = [...LIFE, ...Object.keys(words(ui).actions).filter((a) => !LIFE.includes(a)).sort((a, b) => word(ui, 'actions', a).localeCompare(word(ui, 'actions', b), lang))];
  const action = h('select', { name: 'action' }, h('option', { value: '' }, T.anyAction), actionCodes.map((a) => h('option', { value: a, selected: a === kept.get('action') }, word(ui, 'actions', a))));
  const from = h('input', { type: 'date', name: 'from', value: kept.get('from') ?? '' });
  const to = h('input', { type: 'date', name: 'to', value: kept.get('to') ?? '' });
  const form = h('form', { class: 'filters', role: 'search', id: 'audit-search' },
    field(T.idLabel, id), field(T.actor, actor), field(T.action, action), field(T.from, from), field(T.to, to), h('button', { type: 'submit' }, T.search));
  const exportLink = h('a', { id: 'audit-export', download: 'granskningslogg.csv' }, T.exportCsv);
  const timeline = h('div', { id: 'audit-timeline' });
  const out = h('div', { id: 'audit-list' });
  const afters = [undefined];
  const PAGE = 50;
  form.addEventListener('submit', (e) => { e.preventDefault(); afters.length = 1; load(); });
  main.replaceChildren(h('h1', {}, T.searchTitle), form, h('p', {}, exportLink), timeline, out);

  /** @returns {{ recording?: string, call?: string, actor: string, action: string, from: string, to: string }} */
  const filter = () => {
    const v = id.value.trim();
    return {
      ...(v ? (UUID.test(v) ? { recording: v.toLowerCase() } : { call: v }) : {}),
      actor: actor.value, action: action.value,
      from: from.value ? stockholmDayStart(from.value) : '', to: to.value ? stockholmDayStart(to.value, 1) : '',
    };
  };
  const query = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')).toString();
  const subjectCell = (e) => {
    if (!e.subject) return '–';
    const [kind, ...rest] = e.subject.split(':');
    const value = rest.join(':');
    if (kind === 'recording' || kind === 'call') {
      const shown = kind === 'recording' && e.details?.callId ? e.details.callId : value;
      return h('a', { href: `#/audit?${new URLSearchParams({ id: value })}`, class: 'id', title: T.showTimeline }, `${shown === value ? T[kind] : T.call} ${shown}`);
    }
    return e.subject;
  };

  async function load() {
    setHashParams('audit', { id: id.value.trim(), actor: actor.value, action: action.value, from: from.value, to: to.value });
    exportLink.href = `/v1/audit?${query({ ...filter(), format: 'csv' })}`;
    ui.busy(out);
    const f = filter();
    const byId = Boolean(f.recording || f.call);
    // Every read of the log is itself audited (audit.exported): a search by id alone reads once, and the
    // list shows the first page of what the timeline read.
    const idOnly = byId && !f.actor && !f.action && !f.from && !f.to && afters.length === 1;
    const lifeRead = byId ? api('GET', `/v1/audit?${query({ recording: f.recording, call: f.call, limit: 1000, format: 'ndjson' })}`) : null;
    const [r, life] = await Promise.all([
      idOnly && lifeRead
        ? lifeRead.then((x) => (x.ok ? { ...x, data: x.data.slice(0, PAGE) } : x))
        : api('GET', `/v1/audit?${query({ ...f, after: afters[afters.length - 1], limit: PAGE, format: 'ndjson' })}`),
      lifeRead,
    ]);
    drawTimeline(life, id.value.trim());
    if (!r.ok) return out.replaceChildren(problemBox(r));
    const rows = r.data.map((e) => h('tr', { 'data-seq': e.seq, 'data-action': e.action },
      h('td', { class: 'num' }, String(e.seq)), h('td', {}, formatTime(lang, e.at)), h('td', { class: 'actor' }, actorName(ui, people, e.actor)),
      h('td', {}, word(ui, 'actions', e.action)), h('td', {}, subjectCell(e)), h('td', { class: 'entry-details' }, entryDetails(ui, e))));
    const last = r.data[r.data.length - 1];
    out.replaceChildren(
      h('p', { role: 'status' }, rows.length ? T.shown(rows.length) : T.none),
      // Left out, not null: replaceChildren would show "null" as text.
      ...(rows.length ? [ui.table([T.seq, T.time, T.actor, T.action, T.subject, T.details], rows)] : []),
      h('div', { class: 'pager' },
        afters.length > 1 ? h('button', { type: 'button', class: 'secondary', onclick: () => { afters.pop(); load(); } }, T.prev) : null,
        r.data.length === PAGE && last ? h('button', { type: 'button', class: 'secondary', onclick: () => { afters.push(last.seq); load(); } }, T.next) : null));
  }

  /** A recording's life in order: stored, played (by whom), held, released, deleted, with times. */
  function drawTimeline(r, shownId) {
    if (!r) return timeline.replaceChildren();
    if (!r.ok) return timeline.replaceChildren(problemBox(r));
    const events = r.data.filter((e) => LIFE.includes(e.action));
    const callId = events.find((e) => e.details?.callId)?.details.callId ?? shownId;
    timeline.replaceChildren(h('section', { 'aria-labelledby': 'timeline-title', class: 'timeline' },
      h('h2', { id: 'timeline-title' }, T.timelineTitle(`${T.call} ${callId}`)),
      events.length
        ? h('ol', {}, events.map((e) => h('li', { 'data-action': e.action },
          h('time', { datetime: e.at }, formatTime(lang, e.at)), ' ',
          h('strong', {}, T.events[e.action] ?? word(ui, 'actions', e.action)), ' ', T.by(actorName(ui, people, e.actor)),
          entryDetails(ui, e)[0])))
        : h('p', {}, T.timelineNone)));
  }
  await load();
}
