// @ts-check
// Registering and removing a number that must not be recorded; the number is only ever sent in a request body.

import { confirmOptOutDeletion } from './subject-requests.js';
import { api, field, h, problemBox, t, ui } from './ui.js';

/** @param {HTMLElement} main */
export function optOutsView(main) {
  const out = h('div', { role: 'status', id: 'opt-outs-result' });
  // The number is only ever sent in a request body, and cleared from the page once it was accepted.
  const num = h('input', { name: 'number', type: 'tel', required: true, autocomplete: 'off', maxlength: 40 });
  // Unchecked by default: deleting needs a deliberate choice and a confirmation naming the count.
  const del = h('input', { name: 'deleteExisting', type: 'checkbox' });
  const reg = h('form', { class: 'card' }, field(t('number'), num), h('label', {}, h('span', {}, t('deleteExisting')), del), h('button', { type: 'submit' }, t('register')));
  reg.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (del.checked && !(await confirmOptOutDeletion(ui, num.value, out))) return;
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
