// @ts-check
// The administrator's Inleverans page: each source gallra polls for recordings, its state, the copies
// still at the source, the rejected items (names shown with every digit masked), and "Hämta nu".
// Kept in its own module so that it merges cleanly with other work on app.js; app.js hands it its helpers.

export const SOURCES_TEXT = {
  sv: {
    sources: 'Inleverans', none: 'Inga källor är konfigurerade (SOURCES_FILE).', lastPoll: 'Senaste hämtning', nextPoll: 'Nästa hämtning',
    taken: 'Sparade', discarded: 'Kasserade', rejected: 'Avvisade', pending: 'Kopior kvar vid källan', oldestPending: 'äldsta sedan',
    lastError: 'Senaste fel', noError: 'Inget fel', pollNow: 'Hämta nu', polled: (r) => `Hämtat: ${r.taken} sparade, ${r.discarded} kasserade, ${r.rejected} avvisade, ${r.deleted} raderade vid källan.`,
    never: 'aldrig', kept: 'Kopior behålls vid källan', rejectedItems: 'Avvisade filer', name: 'Namn (siffror dolda)', size: 'Storlek', reason: 'Skäl', at: 'Tid',
    since: 'sedan start av tjänsten',
    reasons: {
      'not-audio': 'inte ljud', 'too-large': 'för stor', 'missing-metadata': 'metadata saknas', 'unreadable-metadata': 'metadata går inte att läsa',
      'invalid-metadata': 'ogiltig metadata', 'future-start': 'start i framtiden', 'call-id-conflict': 'samtals-id finns redan med annat ljud',
      'nonexistent-local-time': 'tiden finns inte (sommartid)', 'unrecognised-file-name': 'okänt filnamn', 'invalid-caller': 'ogiltigt nummer', 'metadata-too-large': 'metadata för stor',
      'host-not-allowed': 'värden är inte tillåten', 'not-https': 'inte https', 'redirect-off-host': 'omdirigering till annan värd', 'too-many-redirects': 'för många omdirigeringar',
      'address-not-allowed': 'adressen är privat eller lokal', 'credentials-in-url': 'inloggning i adressen', 'invalid-url': 'ogiltig adress', 'call-not-found': 'samtalet okänt hos plattformen',
      'media-refused': 'plattformen nekade ljudet',
    },
    errors: {
      'host-key-mismatch': 'Serverns värdnyckel stämmer inte med den konfigurerade. Ingen fil hämtades.', 'login-refused': 'Servern nekade inloggningen.',
      unreachable: 'Servern går inte att nå.', 'sftp-error': 'SFTP-fel.', 'folder-unreadable': 'Mappen går inte att läsa.', 'folder-unwritable': 'Filer går inte att ta bort i mappen.',
      'source-error': 'Källan svarade med ett fel.', 'bucket-error': 'Bucketen nekade eller svarade inte.',
      'bucket-delete-failed': 'En kopia i bucketen gick inte att radera med alla sina versioner.',
      'media-unreachable': 'Plattformen går inte att nå; ljudet hämtas igen.', 'media-timeout': 'Plattformen svarade inte i tid; ljudet hämtas igen.',
      'media-cut-off': 'Hämtningen avbröts; ljudet hämtas igen.', 'lookup-invalid': 'Samtalsuppslaget gav inget svar som gick att läsa.', 'fetch-failed': 'Hämtningen misslyckades; den görs igen.',
    },
    elksKept: '46elks sparar inspelningen bara i 72 timmar och kan inte radera den; efter det finns inget kvar att radera.',
  },
  en: {
    sources: 'Intake', none: 'No sources are configured (SOURCES_FILE).', lastPoll: 'Last poll', nextPoll: 'Next poll',
    taken: 'Stored', discarded: 'Discarded', rejected: 'Rejected', pending: 'Copies left at the source', oldestPending: 'oldest since',
    lastError: 'Last error', noError: 'No error', pollNow: 'Poll now', polled: (r) => `Polled: ${r.taken} stored, ${r.discarded} discarded, ${r.rejected} rejected, ${r.deleted} deleted at the source.`,
    never: 'never', kept: 'Copies are kept at the source', rejectedItems: 'Rejected files', name: 'Name (digits hidden)', size: 'Size', reason: 'Reason', at: 'Time',
    since: 'since the service started',
    reasons: {
      'not-audio': 'not audio', 'too-large': 'too large', 'missing-metadata': 'metadata missing', 'unreadable-metadata': 'metadata unreadable',
      'invalid-metadata': 'invalid metadata', 'future-start': 'starts in the future', 'call-id-conflict': 'call id already received with other audio',
      'nonexistent-local-time': 'the time does not exist (summer time)', 'unrecognised-file-name': 'unrecognised file name', 'invalid-caller': 'invalid number', 'metadata-too-large': 'metadata too large',
      'host-not-allowed': 'host not allowed', 'not-https': 'not https', 'redirect-off-host': 'redirect to another host', 'too-many-redirects': 'too many redirects',
      'address-not-allowed': 'private or local address', 'credentials-in-url': 'credentials in the URL', 'invalid-url': 'invalid URL', 'call-not-found': 'call unknown to the platform',
      'media-refused': 'the platform refused the audio',
    },
    errors: {
      'host-key-mismatch': "The server's host key is not the configured one. Nothing was fetched.", 'login-refused': 'The server refused the login.',
      unreachable: 'The server cannot be reached.', 'sftp-error': 'SFTP error.', 'folder-unreadable': 'The folder cannot be read.', 'folder-unwritable': 'Files cannot be removed from the folder.',
      'source-error': 'The source answered with an error.', 'bucket-error': 'The bucket refused or did not answer.',
      'bucket-delete-failed': 'A copy in the bucket could not be deleted with all its versions.',
      'media-unreachable': 'The platform cannot be reached; the audio is fetched again.', 'media-timeout': 'The platform did not answer in time; the audio is fetched again.',
      'media-cut-off': 'The fetch was cut off; the audio is fetched again.', 'lookup-invalid': 'The call lookup gave no readable answer.', 'fetch-failed': 'The fetch failed; it is tried again.',
    },
    elksKept: '46elks keeps a recording for 72 hours only and cannot delete it; after that there is nothing left to delete.',
  },
};

const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} kB` : `${n} B`);

/** `#/sources`. */
/**
 * @param {HTMLElement} main
 * @param {import('./ui.js').Ui & { formatTime: (iso: string) => string }} ui
 */
export async function sourcesView(main, ui) {
  const { h, api, problemBox, table, formatTime } = ui;
  const T = SOURCES_TEXT[ui.lang()];
  const when = (iso) => (iso ? formatTime(iso) : T.never);
  const list = h('div', { id: 'sources-list' });
  main.replaceChildren(h('h1', {}, T.sources), list);
  const r = await api('GET', '/v1/sources');
  if (!r.ok) return list.replaceChildren(problemBox(r));
  if (!r.data.items.length) return list.replaceChildren(h('p', {}, T.none));
  list.replaceChildren(...r.data.items.map((s) => {
    const out = h('div', { 'aria-live': 'polite', class: 'poll-result' });
    const button = h('button', { type: 'button', 'data-source': s.name }, T.pollNow);
    button.addEventListener('click', async () => {
      button.disabled = true;
      const p = await api('POST', `/v1/sources/${encodeURIComponent(s.name)}/poll`);
      button.disabled = false;
      if (!p.ok) return out.replaceChildren(problemBox(p));
      if (p.data.error) return out.replaceChildren(h('p', { class: 'problem', role: 'alert' }, T.errors[p.data.error.code] ?? p.data.error.message));
      out.replaceChildren(h('p', {}, p.data.report ? T.polled(p.data.report) : T.noError));
      await sourcesView(main, ui);
    });
    const facts = [
      [T.lastPoll, when(s.lastPollAt)],
      [T.nextPoll, when(s.nextPollAt)],
      [`${T.taken} (${T.since})`, String(s.taken)],
      [`${T.discarded} (${T.since})`, String(s.discarded)],
      [T.rejected, String(s.rejectedItems.length)],
      s.deleteAtSource
        ? [T.pending, s.copiesPending ? `${s.copiesPending} (${T.oldestPending} ${when(s.oldestPendingSince)})` : '0']
        : [T.kept, s.platform === '46elks' ? T.elksKept : s.keepReason ?? ''],
      [T.lastError, s.lastError ? `${T.errors[s.lastError.code] ?? s.lastError.message} (${when(s.lastError.at)})` : T.noError],
    ];
    const rejected = s.rejectedItems.map((i) => h('tr', { 'data-item': i.itemId },
      h('td', {}, h('code', {}, i.name ?? '–')), h('td', { class: 'num' }, bytes(i.bytes)), h('td', {}, T.reasons[i.reason] ?? i.reason), h('td', {}, when(i.at))));
    return h('section', { class: 'card source', 'data-source': s.name, 'aria-labelledby': `source-${s.name}` },
      h('h2', { id: `source-${s.name}` }, `${s.name} (${s.adapter})`),
      h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { class: s.lastError && k === T.lastError ? 'problem' : undefined }, v)])),
      button, out,
      rejected.length ? h('h3', {}, T.rejectedItems) : null,
      rejected.length ? table([T.name, T.size, T.reason, T.at], rejected) : null);
  }));
}
