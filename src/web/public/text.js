// Words for what the server says in codes: problem types, recording statuses, report outcomes and audit
// actions, in Swedish and English. The server answers in codes and English details; the page shows these.

export const CODE_TEXT = {
  sv: {
    problems: {
      'invalid-credentials': 'Åtkomsttoken gäller inte. Kontrollera den och försök igen.',
      'invalid-sign-in': 'Inloggningen saknar en åtkomsttoken.',
      'too-many-failed-sign-ins': 'För många misslyckade inloggningar. Vänta en stund och försök igen.',
      'authentication-required': 'Du är inte inloggad.',
      forbidden: 'Du har inte behörighet till det här.',
      'csrf-check-failed': 'Begäran stoppades av säkerhetsskäl. Ladda om sidan och försök igen.',
      'recording-not-found': 'Inspelningen finns inte.',
      'recording-not-stored': 'Inspelningen är inte längre sparad.',
      'recording-deleted': 'Inspelningen är raderad.',
      'recording-discarded': 'Samtalet spelades aldrig in.',
      'recording-expired': 'Inspelningen har passerat sin gallringsdag.',
      'recording-held': 'Inspelningen har gallringsstopp och kan inte raderas.',
      'recording-being-deleted': 'Inspelningen håller redan på att raderas och kan inte få gallringsstopp.',
      'recording-restricted': 'Inspelningen är begränsad och kan inte spelas upp.',
      'recording-missing': 'Ljudfilen saknas i lagringen.',
      'invalid-hold': 'Gallringsstoppet är felaktigt ifyllt.',
      'invalid-metadata': 'Uppgifterna är felaktigt ifyllda.',
      'invalid-query': 'Sökvillkoren är felaktigt ifyllda.',
      'confirmation-mismatch': 'Bekräftelsen stämmer inte.',
      'not-found': 'Det finns inte.',
      'token-not-found': 'Åtkomsttoken finns inte.',
      'store-unavailable': 'Lagringen svarar inte just nu. Försök igen om en stund.',
      'storage-unavailable': 'Lagringen svarar inte just nu. Försök igen om en stund.',
      'opt-out-deletion-incomplete': 'Alla inspelningar kunde inte raderas. Försök igen.',
      'subject-request-not-found': 'Ärendet finns inte.',
      'subject-request-closed': 'Ärendet är avslutat.',
      'subject-request-changed': 'Ärendet har ändrats av någon annan. Ladda om och försök igen.',
      'request-timeout': 'Begäran tog för lång tid.',
      internal: 'Ett oväntat fel uppstod i tjänsten.',
      network: 'Tjänsten går inte att nå. Kontrollera nätverket och försök igen.',
    },
    byStatus: {
      400: 'Begäran är felaktig.', 401: 'Du är inte inloggad.', 403: 'Du har inte behörighet till det här.', 404: 'Det finns inte.',
      408: 'Begäran tog för lång tid.', 409: 'Det krockar med en annan ändring.', 410: 'Det finns inte längre.', 413: 'Det är för stort.',
      415: 'Filtypen stöds inte.', 416: 'Den delen av filen finns inte.', 422: 'Uppgifterna är felaktigt ifyllda.',
      429: 'För många försök. Vänta en stund och försök igen.', 500: 'Ett oväntat fel uppstod i tjänsten.', 503: 'Tjänsten är inte tillgänglig just nu.',
    },
    serverSays: 'Tjänstens svar',
    statuses: { stored: 'sparad', deleted: 'raderad', discarded: 'aldrig sparad', held: 'gallringsstopp' },
    outcomes: {
      'deleted-on-time': 'raderad i tid', 'deleted-late': 'raderad för sent', 'deleted-on-request': 'raderad på begäran',
      held: 'gallringsstopp', 'held-for-request': 'gallringsstopp (begäran)', discarded: 'aldrig sparad',
      'stored-not-yet-due': 'sparad, inte förfallen', overdue: 'försenad', all: 'alla',
    },
    actions: {
      'recording.ingested': 'inspelning sparad', 'recording.discarded': 'inspelning kasserad', 'recording.refused': 'inspelning nekad',
      'recording.played': 'inspelning avlyssnad', 'recording.deleted': 'inspelning raderad', 'recording.orphan-deleted': 'kvarglömd fil raderad',
      'hold.placed': 'gallringsstopp lagt', 'hold.released': 'gallringsstopp hävt', 'hold.lapsed': 'gallringsstopp upphört',
      'opt-out.registered': 'nej till inspelning registrerat', 'opt-out.removed': 'nej till inspelning borttaget',
      'call.opt-out-requested': 'nej till inspelning i samtal', 'call.opt-out-expired': 'nej till inspelning i samtal förfallet (samtalet kom aldrig)',
      'token.created': 'åtkomsttoken skapad', 'token.revoked': 'åtkomsttoken återkallad',
      'session.opened': 'inloggning', 'session.closed': 'utloggning',
      'audit.verified': 'kedjan verifierad', 'audit.exported': 'logg exporterad', 'audit.checkpoint-requested': 'kontrollpunkt begärd',
      'audit.chain-repaired': 'kedjan lagad', 'audit.problem-acknowledged': 'kedjefel kvitterat', 'report.retention': 'gallringsrapport hämtad',
      'subject-request.opened': 'begäran registrerad', 'subject-request.extended': 'begäran förlängd', 'subject-request.answered': 'begäran besvarad',
      'subject-request.closed': 'begäran avslutad', 'subject-request.erased': 'radering på begäran', 'subject-request.restricted': 'begränsning på begäran',
      'subject-request.package': 'registerutdrag hämtat',
      'secrets.registered': 'hemlighet registrerad', 'audit.signing-key-registered': 'signeringsnyckel registrerad',
    },
  },
  en: {
    problems: {
      'invalid-credentials': 'The access token is not valid. Check it and try again.',
      'invalid-sign-in': 'The sign-in lacks an access token.',
      'too-many-failed-sign-ins': 'Too many failed sign-ins. Wait a while and try again.',
      'authentication-required': 'You are not signed in.',
      forbidden: 'You are not allowed to do this.',
      'csrf-check-failed': 'The request was stopped for security reasons. Reload the page and try again.',
      'recording-not-found': 'The recording does not exist.',
      'recording-not-stored': 'The recording is no longer stored.',
      'recording-deleted': 'The recording has been deleted.',
      'recording-discarded': 'The call was never recorded.',
      'recording-expired': 'The recording is past its deadline.',
      'recording-held': 'The recording is on hold and cannot be deleted.',
      'recording-being-deleted': 'The recording is already being deleted and can no longer be put on hold.',
      'recording-restricted': 'The recording is restricted and cannot be played.',
      'recording-missing': 'The audio is missing from storage.',
      'invalid-hold': 'The hold is not filled in correctly.',
      'invalid-metadata': 'The details are not filled in correctly.',
      'invalid-query': 'The search terms are not filled in correctly.',
      'confirmation-mismatch': 'The confirmation does not match.',
      'not-found': 'It does not exist.',
      'token-not-found': 'The access token does not exist.',
      'store-unavailable': 'Storage is not answering right now. Try again in a while.',
      'storage-unavailable': 'Storage is not answering right now. Try again in a while.',
      'opt-out-deletion-incomplete': 'Not every recording could be deleted. Try again.',
      'subject-request-not-found': 'The case does not exist.',
      'subject-request-closed': 'The case is closed.',
      'subject-request-changed': 'Someone else changed the case. Reload and try again.',
      'request-timeout': 'The request took too long.',
      internal: 'An unexpected error occurred in the service.',
      network: 'The service cannot be reached. Check the network and try again.',
    },
    byStatus: {
      400: 'The request is not valid.', 401: 'You are not signed in.', 403: 'You are not allowed to do this.', 404: 'It does not exist.',
      408: 'The request took too long.', 409: 'It conflicts with another change.', 410: 'It no longer exists.', 413: 'It is too large.',
      415: 'The file type is not supported.', 416: 'That part of the file does not exist.', 422: 'The details are not filled in correctly.',
      429: 'Too many attempts. Wait a while and try again.', 500: 'An unexpected error occurred in the service.', 503: 'The service is unavailable right now.',
    },
    serverSays: "The service's answer",
    statuses: { stored: 'stored', deleted: 'deleted', discarded: 'never stored', held: 'on hold' },
    outcomes: {
      'deleted-on-time': 'deleted on time', 'deleted-late': 'deleted late', 'deleted-on-request': 'deleted on request',
      held: 'on hold', 'held-for-request': 'on hold (request)', discarded: 'never stored',
      'stored-not-yet-due': 'stored, not yet due', overdue: 'overdue', all: 'all',
    },
    actions: {
      'recording.ingested': 'recording stored', 'recording.discarded': 'recording discarded', 'recording.refused': 'recording refused',
      'recording.played': 'recording played', 'recording.deleted': 'recording deleted', 'recording.orphan-deleted': 'orphaned file deleted',
      'hold.placed': 'hold placed', 'hold.released': 'hold released', 'hold.lapsed': 'hold lapsed',
      'opt-out.registered': 'opt-out registered', 'opt-out.removed': 'opt-out removed', 'call.opt-out-requested': 'opt-out during a call',
      'call.opt-out-expired': 'opt-out of a call that never arrived expired',
      'token.created': 'access token created', 'token.revoked': 'access token revoked',
      'session.opened': 'sign-in', 'session.closed': 'sign-out',
      'audit.verified': 'chain verified', 'audit.exported': 'log exported', 'audit.checkpoint-requested': 'checkpoint requested',
      'audit.chain-repaired': 'chain repaired', 'audit.problem-acknowledged': 'chain problem acknowledged', 'report.retention': 'retention report fetched',
      'subject-request.opened': 'request registered', 'subject-request.extended': 'request extended', 'subject-request.answered': 'request answered',
      'subject-request.closed': 'request closed', 'subject-request.erased': 'erasure on request', 'subject-request.restricted': 'restriction on request',
      'subject-request.package': 'register extract fetched',
      'secrets.registered': 'secret registered', 'audit.signing-key-registered': 'signing key registered',
    },
  },
};

/** The last segment of a problem's type URI, e.g. `invalid-credentials`. */
export const problemCode = (problem) => (typeof problem?.type === 'string' ? problem.type.split('/').pop() : undefined);

/** The page's own sentence for a problem: by its type, else by its status. */
export function problemMessage(lang, status, problem) {
  const text = CODE_TEXT[lang];
  if (status === 0) return text.problems.network;
  return text.problems[problemCode(problem)] ?? text.byStatus[status] ?? text.byStatus[500];
}

export const ZONE = 'Europe/Stockholm';

/** A time in Stockholm with its zone, e.g. `2026-11-21 00:20 CET`. */
export function formatTime(lang, iso) {
  if (!iso) return '–';
  return new Intl.DateTimeFormat(lang === 'sv' ? 'sv-SE' : 'en-GB', {
    timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }).format(new Date(iso));
}

/** Today's (or `at`'s) date in Stockholm as `YYYY-MM-DD`, whatever the browser's own zone. */
export function stockholmDate(at = new Date()) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** How far Stockholm's wall clock is ahead of UTC at an instant. */
function offsetMs(utcMs) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    .formatToParts(utcMs).map((x) => [x.type, Number(x.value)]));
  const whole = Math.floor(utcMs / 1000) * 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** The instant a Stockholm calendar day (`YYYY-MM-DD`, plus `addDays`) begins, as ISO. */
export function stockholmDayStart(date, addDays = 0) {
  const [y, m, d] = date.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d + addDays);
  let at = wall - offsetMs(wall);
  at = wall - offsetMs(at);
  return new Date(at).toISOString();
}

/** A date `days` before a `YYYY-MM-DD` date, as `YYYY-MM-DD`. */
export function daysBefore(date, days) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d - days)).toISOString().slice(0, 10);
}

/** A length of time in words, largest two units: `1 dag 3 tim`. */
export function durationWords(lang, ms) {
  if (ms == null) return '–';
  const units = lang === 'sv'
    ? [[86_400_000, 'dag', 'dagar'], [3_600_000, 'tim', 'tim'], [60_000, 'min', 'min'], [1000, 's', 's']]
    : [[86_400_000, 'day', 'days'], [3_600_000, 'h', 'h'], [60_000, 'min', 'min'], [1000, 's', 's']];
  let rest = Math.abs(ms);
  const parts = [];
  for (const [size, one, many] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length) parts.push(n === 0 ? null : `${n} ${n === 1 ? one : many}`);
    if (parts.length === 2) break;
  }
  const words = parts.filter(Boolean).join(' ');
  return words || (lang === 'sv' ? '0 s' : '0 s');
}
