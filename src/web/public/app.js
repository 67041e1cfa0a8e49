// @ts-check
// Gallra's browser interface: plain modules, Luxon the one dependency (served from this origin), nothing from outside.
// The menu only helps: every view asks the API, and the server decides what each role may see.

import { auditSearchView, overviewView } from './auditor.js';
import { holdsView } from './holds.js';
import { optOutsView } from './opt-outs.js';
import { overdueView } from './overdue.js';
import { policiesView } from './policies.js';
import { recordingsView } from './recordings.js';
import { reportView } from './report.js';
import { sourcesView } from './sources.js';
import { subjectRequestsView } from './subject-requests.js';
import { formatTime } from './text.js';
import { api, field, h, problemBox, rolesOf, session, t, TEXT, ui } from './ui.js';
import { verificationView } from './verification.js';

/** @typedef {import('./ui.js').Texts} Texts */

const RETURN_KEY = 'gallra.returnTo';
/**
 * An element of index.html, which has every one asked for here.
 * @param {string} id
 */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
let signInOptions = null; // GET /v1/sign-in: the sign-ins offered and the controller the footer names

/**
 * Every view, by the name in its address (#/<name>): who may open it and how it draws itself into
 * <main>. A view lives in a module of its own and exports `async function <name>View(main)`, importing
 * what it needs from ui.js (or takes `ui`, as auditor.js does). To add one: import it above, add a line
 * here, put it in MENU for the roles that see it in the menu, and give TEXT (ui.js) its menu label
 * under the same name, in both languages.
 */
const VIEWS = {
  overview: { roles: ['auditor', 'admin'], render: (main) => overviewView(main, auditorUi) },
  recordings: { roles: ['trainer', 'auditor', 'admin'], render: recordingsView },
  audit: { roles: ['auditor', 'admin'], render: (main) => auditSearchView(main, auditorUi) },
  verification: { roles: ['auditor', 'admin'], render: verificationView },
  report: { roles: ['auditor', 'admin'], render: reportView },
  holds: { roles: ['admin'], render: holdsView },
  optOuts: { roles: ['admin'], render: optOutsView },
  overdue: { roles: ['admin', 'auditor'], render: overdueView },
  subjectRequests: { roles: ['admin'], render: (main) => subjectRequestsView(main, ui) },
  sources: { roles: ['admin'], render: (main) => sourcesView(main, { ...ui, formatTime: (iso) => formatTime(session.lang, iso) }) },
  policies: { roles: ['admin', 'auditor'], render: (main) => policiesView(main, { ...ui, isAdmin: () => rolesOf(session.me).includes('admin') }) },
};
const MENU = { trainer: ['recordings'], auditor: ['overview', 'recordings', 'audit', 'verification', 'report', 'overdue', 'policies'], admin: ['overview', 'recordings', 'holds', 'optOuts', 'overdue', 'subjectRequests', 'sources', 'policies'] };
/** What the auditor's views (auditor.js) take as `ui`: the common one, and the people who acted. */
const auditorUi = {
  ...ui,
  people: async () => { const r = await api('GET', '/v1/people'); return r.ok ? r.data.items : []; },
};

/**
 * @param {HTMLElement} main
 * @param {string} [note] why signing in again (the session ended)
 */
async function signInView(main, note) {
  const ways = await api('GET', '/v1/sign-in');
  const oidc = ways.ok && ways.data.oidc;
  const withToken = !ways.ok || ways.data.token;
  const viaProvider = oidc ? h('p', {}, h('a', { class: 'button', id: 'sign-in-oidc', href: '/auth/sign-in' }, t('signInOidc'))) : null;
  if (!withToken) return main.replaceChildren(...[h('h1', {}, t('signInTitle')), note ? h('p', {}, note) : null, viaProvider].filter((x) => x !== null));
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const out = h('div', { id: 'sign-in-result' });
  const form = h('form', { class: 'card', id: 'sign-in' }, field(t('token'), input), h('button', { type: 'submit' }, t('signIn')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('POST', '/v1/session', { token: input.value });
    if (!r.ok) return out.replaceChildren(problemBox(r));
    input.value = '';
    session.me = r.data;
    const back = sessionStorage.getItem(RETURN_KEY);
    sessionStorage.removeItem(RETURN_KEY);
    const target = back && viewAllowed(viewOf(back)) ? back : `#/${firstView()}`;
    if (location.hash === target) render();
    else location.hash = target;
  });
  main.replaceChildren(...[h('h1', {}, t('signInTitle')), note ? h('p', { class: 'note', role: 'status' }, note) : null, viaProvider, oidc ? h('h2', {}, t('orToken')) : null, form, out].filter((x) => x !== null));
  input.focus();
}

/**
 * The view an address names, if there is one by that name.
 * @param {string | null | undefined} hash
 * @returns {keyof typeof VIEWS | null}
 */
const viewOf = (hash) => {
  const m = /^#\/([A-Za-z]+)/.exec(hash ?? '');
  return m && Object.hasOwn(VIEWS, m[1]) ? /** @type {keyof typeof VIEWS} */ (m[1]) : null;
};
const currentView = () => viewOf(location.hash);
/** The menu of everyone signed in: a person may hold several roles and sees the union. */
/** @param {import('./ui.js').Me | null} who */
const menuOf = (who) => {
  /** @type {Set<string>} */
  const mine = new Set(rolesOf(who).flatMap((r) => MENU[/** @type {keyof typeof MENU} */ (r)] ?? []));
  // In one order whatever the order of the roles: the overview first for anyone who has it.
  return /** @type {(keyof typeof VIEWS)[]} */ (Object.keys(VIEWS)).filter((v) => mine.has(v));
};
const firstView = () => menuOf(session.me)[0] ?? 'recordings';
/** @param {keyof typeof VIEWS | null} view */
const viewAllowed = (view) => !!view && rolesOf(session.me).some((r) => VIEWS[view].roles.includes(r));

/** The session ended under the user: sign in again, then come back to the same view. */
function sessionEnded() {
  if (location.hash && location.hash !== '#/') sessionStorage.setItem(RETURN_KEY, location.hash);
  session.me = null;
  renderChrome();
  signInView(byId('main'), t('sessionEnded'));
}

session.ended = sessionEnded;

/** @param {HTMLElement} main */
/** @param {HTMLElement} main */
function refusedView(main) {
  main.replaceChildren(h('section', { class: 'refused', id: 'refused', 'data-status': '403' },
    h('h1', {}, t('noAccess')), h('p', {}, t('noAccessBody')), h('p', {}, h('a', { href: `#/${firstView()}` }, t('toStart')))));
}

function renderChrome() {
  document.documentElement.lang = session.lang;
  document.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = String(t(/** @type {keyof Texts} */ (/** @type {HTMLElement} */ (el).dataset.i18n)))));
  const langBtn = byId('lang');
  langBtn.textContent = t('other');
  langBtn.lang = session.lang === 'sv' ? 'en' : 'sv';
  byId('signout').hidden = !session.me;
  byId('who').textContent = session.me ? `${t('signedInAs')} ${session.me.name} (${rolesOf(session.me).map((r) => t('roles')[r] ?? r).join(', ')})` : '';
  const menu = byId('menu');
  menu.setAttribute('aria-label', t('menu'));
  const current = currentView();
  menu.replaceChildren(session.me ? h('ul', {}, menuOf(session.me).map((v) => h('li', {}, h('a', { href: `#/${v}`, 'aria-current': v === current ? 'page' : undefined }, String(t(/** @type {keyof Texts} */ (v))))))) : '');
  renderFooter();
}

/** The controller and its data-protection officer, as configured (CONTROLLER_*, DPO_CONTACT). */
function renderFooter() {
  const footer = byId('controller');
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
  const main = byId('main');
  if (!session.me) {
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
  document.title = `${t(/** @type {keyof Texts} */ (view))} – Gallra`;
  await VIEWS[view].render(main);
}

byId('lang').addEventListener('click', () => {
  session.lang = session.lang === 'sv' ? 'en' : 'sv';
  localStorage.setItem('gallra.lang', session.lang);
  render();
});
byId('signout').addEventListener('click', async () => {
  const r = await api('DELETE', '/v1/session');
  session.me = null;
  byId('main').replaceChildren();
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
  render().then(() => byId('main').focus());
});

const who = await api('GET', '/v1/session');
session.me = who.ok ? who.data : null;
// Back from the identity provider (single sign-on), which returns to "/": the view asked for before signing in.
if (session.me) {
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (back && (!location.hash || location.hash === '#/') && viewAllowed(viewOf(back))) history.replaceState(null, '', back);
}
signInOptions = await api('GET', '/v1/sign-in');
render();

/** The catalogue, for tests that check no English text shows in the Swedish interface. */
export { TEXT };
