// @ts-check
// The audit chain's verification: whether every entry still hashes to the next, and the latest signed checkpoint.

import { api, busy, fmtDate, h, problemBox, t } from './ui.js';

/** @param {HTMLElement} main */
export async function verificationView(main) {
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
