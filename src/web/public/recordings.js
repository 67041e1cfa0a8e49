// @ts-check
// The recordings: search by day, queue, agent or call id; play one (with keyboard shortcuts and a link to it);
// an administrator places and releases holds and deletes a recording from here.

import { stockholmDate } from './text.js';
import { api, busy, dayEnd, dayStart, field, fmtDate, fmtDuration, h, holdEnd, modal, problemBox, query, rolesOf, session, t, table, word } from './ui.js';

/** @param {HTMLElement} main */
export async function recordingsView(main) {
  const roles = rolesOf(session.me);
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
    const head = [t('date'), t('queue'), t('agent'), t('duration'), t('daysLeft'), staffOnly ? null : t('status'), staffOnly ? null : t('callId'), staffOnly ? null : t('recordingId'), canPlay ? t('actions') : null].filter((c) => c !== null);
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
    for (const tr of list.querySelectorAll('tr')) {
      if (!tr.dataset.id) continue;
      const on = tr.dataset.id === it.id;
      tr.classList.toggle('playing', on);
      if (on) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
    }
    const audio = h('audio', { controls: true, preload: 'metadata', id: 'player', src: `/v1/recordings/${encodeURIComponent(it.id)}/audio`, 'aria-keyshortcuts': 'K' });
    const skip = (s) => { audio.currentTime = Math.max(0, Math.min(audio.duration || Infinity, audio.currentTime + s)); };
    const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
    const speed = h('select', { id: 'player-speed', name: 'speed', 'aria-keyshortcuts': '< >' }, SPEEDS.map((v) => h('option', { value: v, selected: v === 1 }, `${String(v).replace('.', session.lang === 'sv' ? ',' : '.')}×`)));
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
