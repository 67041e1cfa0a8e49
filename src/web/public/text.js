// @ts-check
// Words for what the server says in codes: problem types, recording statuses, report outcomes and audit
// actions, in Swedish and English. The server answers in codes and English details; the page shows these.

export const CODE_TEXT = {
  sv: {
    problems: {
      'authentication-required': 'Du är inte inloggad.',
      'invalid-credentials': 'Åtkomsttoken gäller inte. Kontrollera den och försök igen.',
      'invalid-sign-in': 'Inloggningen saknar en åtkomsttoken.',
      'too-many-failed-sign-ins': 'För många misslyckade inloggningar. Vänta en stund och försök igen.',
      'token-sign-in-disabled': 'Inloggning med åtkomsttoken är avstängd. Logga in med kommunens konto.',
      'no-role': 'Ditt konto har ingen roll i Gallra. Be en administratör om behörighet.',
      forbidden: 'Du har inte behörighet till det här.',
      'csrf-check-failed': 'Begäran stoppades av säkerhetsskäl. Ladda om sidan och försök igen.',
      'metrics-token-required': 'Mätvärdena kräver mätvärdestoken.',
      'missing-signature': 'Anropet saknar telefonisystemets signatur.',
      'invalid-signature': 'Telefonisystemets signatur stämmer inte.',
      'stale-signature': 'Telefonisystemets signatur är för gammal eller har fel tid.',
      'expected-multipart': 'Inspelningen ska skickas som ett formulär med uppgifter och ljudfil.',
      'invalid-multipart': 'Formuläret med inspelningen är trasigt.',
      'metadata-first': 'Uppgifterna om samtalet ska komma före ljudfilen.',
      'metadata-too-large': 'Uppgifterna om samtalet är för stora.',
      'missing-metadata': 'Uppgifterna om samtalet saknas.',
      'missing-audio': 'Ljudfilen saknas.',
      'duplicate-metadata': 'Uppgifterna om samtalet skickades mer än en gång.',
      'duplicate-audio': 'Mer än en ljudfil skickades.',
      'too-many-parts': 'Formuläret innehåller mer än uppgifter och ljudfil.',
      'unexpected-part': 'Formuläret innehåller en okänd fil.',
      'invalid-metadata-json': 'Uppgifterna om samtalet går inte att läsa.',
      'invalid-metadata': 'Uppgifterna om samtalet är felaktigt ifyllda.',
      'unsupported-audio': 'Ljudformatet stöds inte.',
      'recording-too-large': 'Inspelningen är större än tjänsten tar emot.',
      'incomplete-body': 'Anropet kom inte fram helt.',
      'quarantine-full': 'Tjänsten tar emot för många inspelningar just nu. Försök igen om en stund.',
      'too-many-uploads': 'För många inspelningar skickas samtidigt. Försök igen om en stund.',
      'recording-exists': 'Samtalet har redan en inspelning.',
      'call-id-conflict': 'Samtalet har redan tagits emot med en annan ljudfil.',
      'recording-not-found': 'Inspelningen finns inte.',
      'invalid-recording-id': 'Inspelnings-id:t är felaktigt.',
      'invalid-cursor': 'Sidan i listan gäller inte längre. Börja om från första sidan.',
      'recording-not-stored': 'Inspelningen är inte längre sparad.',
      'recording-deleted': 'Inspelningen är raderad.',
      'recording-discarded': 'Samtalet spelades aldrig in.',
      'recording-expired': 'Inspelningen har passerat sin gallringsdag.',
      'recording-opted-out': 'Den som ringde har sagt nej till inspelning. Inspelningen raderas.',
      'recording-restricted': 'Inspelningen är begränsad och kan inte spelas upp.',
      'recording-missing': 'Ljudfilen saknas i lagringen.',
      'recording-held': 'Inspelningen har gallringsstopp och kan inte raderas.',
      'recording-being-deleted': 'Inspelningen håller redan på att raderas och kan inte få gallringsstopp.',
      'range-not-satisfiable': 'Den delen av ljudfilen finns inte.',
      'invalid-hold': 'Gallringsstoppet är felaktigt ifyllt.',
      'already-held': 'Inspelningen har redan gallringsstopp.',
      'hold-not-found': 'Inspelningen har inget gällande gallringsstopp.',
      'hold-changed': 'Gallringsstoppet har hävts eller löpt ut under tiden. Ladda om och försök igen.',
      'invalid-retention-policy': 'Gallringsreglerna är felaktigt ifyllda. Ingen regel får spara samtal längre än löftet (RETENTION_DAYS).',
      'retention-policy-from-file': 'Gallringsreglerna läses från en fil (RETENTION_POLICY_FILE) och ändras där, inte här.',
      'invalid-number': 'Telefonnumret går inte att tolka.',
      'already-opted-out': 'Numret är redan registrerat.',
      'opt-out-deletion-incomplete': 'Numret är registrerat, men alla inspelningar kunde inte raderas. Försök igen.',
      'invalid-subject-request': 'Begäran är felaktigt ifylld.',
      'subject-request-not-found': 'Ärendet finns inte.',
      'subject-request-closed': 'Ärendet är avslutat.',
      'subject-request-changed': 'Ärendet har ändrats av någon annan. Ladda om och försök igen.',
      'wrong-kind': 'Det går inte att göra med den här typen av ärende.',
      'not-extendable': 'Bara ett öppet ärende kan förlängas.',
      'not-answerable': 'Bara ett öppet ärende kan besvaras.',
      'caller-unknown': 'Ärendet känner inte längre till numret.',
      'confirmation-mismatch': 'Bekräftelsen stämmer inte med antalet. Ladda om och försök igen.',
      'erasure-incomplete': 'Alla samtal kunde inte raderas ännu. Försök igen.',
      'invalid-role': 'Rollen finns inte.',
      'invalid-name': 'Namnet är felaktigt ifyllt.',
      'token-not-found': 'Åtkomsttoken finns inte.',
      'source-not-found': 'Det finns ingen källa med det namnet.',
      'invalid-notification': 'Plattformens avisering saknar eller har felaktiga fält.',
      'audit-chain-ok': 'Granskningsloggen är hel. Det finns inget att kvittera.',
      'audit-chain-broken': 'Granskningsloggen är bruten, och ingen kontrollpunkt är signerad över felet.',
      'audit-problem-differs': 'Felet i granskningsloggen är ett annat än det som kvitteras. Ladda om och försök igen.',
      'checkpoint-exists': 'Det finns redan en kontrollpunkt för loggens senaste post.',
      'checkpoint-conflict': 'Kontrollpunkten krockar med en befintlig.',
      'tree-head-pending': 'Loggens senaste poster är ännu inte signerade. Försök igen om en liten stund.',
      'tree-inconsistent': 'Granskningsloggens träd stämmer inte med det som redan signerats. Inget nytt trädhuvud signeras.',
      'invalid-cosignature': 'Medsigneringen är inte giltig eller kommer inte från ett registrerat vittne.',
      'unknown-tree-head': 'Loggen har inget signerat trädhuvud som det som medsignerades.',
      'receipt-not-found': 'Det finns inget kvitto på radering för den inspelningen.',
      'too-many-requests': 'För många förfrågningar. Vänta en stund och försök igen.',
      'invalid-query': 'Sökvillkoren är felaktigt ifyllda.',
      'invalid-input': 'Uppgifterna är felaktigt ifyllda.',
      'expected-json': 'Anropet ska skickas som JSON.',
      'invalid-json': 'Anropet går inte att läsa.',
      'body-too-large': 'Anropet är för stort.',
      'invalid-path': 'Adressen är felaktig.',
      'bad-request': 'Begäran är felaktig.',
      'not-found': 'Det finns inte.',
      'request-timeout': 'Begäran tog för lång tid.',
      'database-unavailable': 'Databasen svarar inte just nu. Försök igen om en stund.',
      'storage-unavailable': 'Lagringen svarar inte just nu. Försök igen om en stund.',
      'store-unavailable': 'Lagringen svarar inte just nu. Inspelningen raderas så snart den svarar.',
      'dependency-unavailable': 'Tjänsten kan inte nå något den behöver just nu. Försök igen om en stund.',
      internal: 'Ett oväntat fel uppstod i tjänsten.',
      'secret-mismatch': 'Tjänstens hemliga nycklar stämmer inte med databasens.',
      network: 'Tjänsten går inte att nå. Kontrollera nätverket och försök igen.',
    },
    byStatus: {
      400: 'Begäran är felaktig.', 401: 'Du är inte inloggad.', 403: 'Du har inte behörighet till det här.', 404: 'Det finns inte.',
      408: 'Begäran tog för lång tid.', 409: 'Det krockar med en annan ändring.', 410: 'Det finns inte längre.', 413: 'Det är för stort.',
      415: 'Filtypen stöds inte.', 416: 'Den delen av filen finns inte.', 422: 'Uppgifterna är felaktigt ifyllda.',
      429: 'För många försök. Vänta en stund och försök igen.', 500: 'Ett oväntat fel uppstod i tjänsten.', 503: 'Tjänsten är inte tillgänglig just nu.',
    },
    fieldReasons: {
      required: () => 'måste fyllas i', 'wrong-type': () => 'har fel form',
      'too-short': (l) => (l ? `måste vara minst ${l} tecken` : 'är för kort'), 'too-long': (l) => (l ? `får vara högst ${l} tecken` : 'är för långt'),
      'too-small': (l) => (l != null ? `måste vara minst ${l}` : 'är för litet'), 'too-large': (l) => (l != null ? `får vara högst ${l}` : 'är för stort'),
      'invalid-format': () => 'har fel format', 'invalid-value': () => 'har ett värde som inte går att välja', 'unknown-field': () => 'hör inte hit',
      'contains-phone-number': () => 'får inte innehålla ett telefonnummer',
      'not-a-phone-number': () => 'är inte ett telefonnummer som går att tolka (skriv till exempel 070-123 45 67 eller +46 70 123 45 67)',
      'in-the-future': () => 'får inte ligga i framtiden', 'in-the-past': () => 'får inte ligga bakåt i tiden',
      'before-start': () => 'får inte vara före starttiden', 'too-late': (l) => (l ? `får vara senast ${l}` : 'är för sent'),
      'not-after': (l) => (l ? `måste vara efter ${l}` : 'måste vara efter från-datumet'), 'reserved-prefix': (l) => (l ? `får inte börja med ”${l}”` : 'börjar med något som är reserverat'),
      'must-equal': (l) => (l != null ? `måste vara ${l}` : 'stämmer inte'), 'invalid-cursor': () => 'gäller inte längre',
      'call-too-long': (l) => (l ? `får vara högst ${l} minuter efter samtalets start` : 'ligger för långt efter samtalets start'),
      'period-too-long': (l) => (l ? `får vara högst ${l} dagar efter från-datumet` : 'ligger för långt efter från-datumet'),
    },
    fields: {
      '/reason': 'Skäl', '/until': 'Till och med', '/number': 'Telefonnummer', '/reference': 'Diarienummer', '/note': 'Anteckning',
      '/receivedAt': 'Mottagen', '/kind': 'Typ', '/confirm': 'Bekräftelse', '/from': 'Från', '/to': 'Till', '/token': 'Åtkomsttoken',
      '/name': 'Namn', '/role': 'Roll', '/id': 'Inspelnings-id', '/recordingId': 'Inspelnings-id', '/callId': 'Samtals-id', '/queue': 'Kö',
      '/agentId': 'Handläggare', '/cursor': 'Sida', '/limit': 'Antal per sida', '/action': 'Händelse', '/actor': 'Utförare', '/subject': 'Objekt',
      '/source': 'Källa', '/deleteExisting': 'Radera befintliga inspelningar', '/startedAt': 'Samtalets start', '/endedAt': 'Samtalets slut',
      '/caller': 'Uppringarens nummer',
    },
    field: 'Fältet',
    statuses: { stored: 'sparad', deleted: 'raderad', discarded: 'aldrig sparad', held: 'gallringsstopp' },
    outcomes: {
      'deleted-on-time': 'raderad i tid', 'deleted-late': 'raderad för sent', 'deleted-on-request': 'raderad på begäran',
      held: 'gallringsstopp', 'held-for-request': 'gallringsstopp (begäran)', discarded: 'aldrig sparad',
      'stored-not-yet-due': 'sparad, inte förfallen', overdue: 'försenad', all: 'alla',
    },
    actions: {
      'recording.ingested': 'inspelning sparad', 'recording.discarded': 'inspelning kasserad', 'recording.refused': 'inspelning nekad',
      'source.notified': 'inspelning aviserad av plattformen',
      'recording.played': 'inspelning avlyssnad', 'recording.deleted': 'inspelning raderad', 'recording.orphan-deleted': 'kvarglömd fil raderad',
      'hold.placed': 'gallringsstopp lagt', 'hold.released': 'gallringsstopp hävt', 'hold.lapsed': 'gallringsstopp upphört',
      'policy.changed': 'gallringsregler ändrade', 'recording.deadline-changed': 'gallringsdag tidigarelagd',
      'opt-out.registered': 'nej till inspelning registrerat', 'opt-out.removed': 'nej till inspelning borttaget',
      'call.opt-out-requested': 'nej till inspelning i samtal', 'call.opt-out-expired': 'nej till inspelning i samtal förfallet (samtalet kom aldrig)',
      'token.created': 'åtkomsttoken skapad', 'token.revoked': 'åtkomsttoken återkallad',
      'session.opened': 'inloggning', 'session.closed': 'utloggning',
      'audit.verified': 'kedjan verifierad', 'audit.exported': 'logg exporterad', 'audit.checkpoint-requested': 'kontrollpunkt begärd', 'audit.cosignature-accepted': 'medsignering av vittne mottagen',
      'audit.chain-repaired': 'kedjan lagad', 'audit.problem-acknowledged': 'kedjefel kvitterat', 'report.retention': 'gallringsrapport hämtad',
      'subject-request.opened': 'begäran registrerad', 'subject-request.extended': 'begäran förlängd', 'subject-request.answered': 'begäran besvarad',
      'subject-request.closed': 'begäran avslutad', 'subject-request.erased': 'radering på begäran', 'subject-request.restricted': 'begränsning på begäran',
      'subject-request.package': 'registerutdrag hämtat',
      'secrets.registered': 'hemlighet registrerad', 'audit.signing-key-registered': 'signeringsnyckel registrerad', 'stored-numbers.masked': 'telefonnummer maskerade i sparade värden', 'storage.non-eea-region-allowed': 'lagring utanför EU/EES tillåten av undantag',
      'key.destroyed': 'krypteringsnyckel förstörd', 'key.rewrapped-for-holds': 'spärrade inspelningars nycklar flyttade till spärrnyckel', 'storage.object-encrypted': 'lagrad inspelning krypterad',
    },
    reasons: {
      retention: 'gallringsdagen nådd', 'retention-expired': 'gallringsdagen redan passerad', manual: 'raderad för hand',
      'caller-opted-out': 'nej till inspelning i samtalet', 'number-opted-out': 'numret har sagt nej till inspelning', 'subject-request': 'begäran från den registrerade',
      'queue-not-recorded': 'kön spelas inte in (gallringsregel)',
    },
    discrepancies: {
      'deleted-without-audit': 'raderad utan loggpost', 'discarded-without-audit': 'kasserad utan loggpost', 'audit-without-recording': 'loggpost utan inspelning',
      'audit-without-tombstone': 'loggpost som inte stämmer med inspelningen', 'duplicate-audit': 'dubbla loggposter',
    },
    actors: { 'system:retention': 'Gallringsjobbet', 'phone-system:webhook': 'Telefonisystemet', 'system:audit': 'Granskningsloggen', 'system:orphans': 'Städjobbet', system: 'Systemet' },
    policies: {
      title: 'Gallringsregler',
      intro: (d) => `Löftet är att inget samtal sparas längre än ${d} dagar. En regel kan korta tiden för en kö eller säga att kön inte spelas in alls; samtal som ingen regel gäller sparas ${d} dagar.`,
      fromFile: (f) => `Reglerna läses från filen ${f} (RETENTION_POLICY_FILE) och ändras där. Här visas de bara.`,
      version: (v, at, by) => (v ? `Version ${v}, ändrad ${at} av ${by}.` : 'Inga regler ännu: alla samtal sparas enligt löftet.'),
      queue: 'Kö (namn eller mönster, t.ex. bygg*)', keep: 'Regel', days: 'Dagar', keepDays: 'Spara i dagar', notRecorded: 'Spelas inte in',
      addRule: 'Lägg till regel', removeRule: 'Ta bort', preview: 'Förhandsgranska ändringen', save: 'Spara reglerna',
      previewText: (n, m) => `Ändringen tidigarelägger gallringsdagen för ${n} sparade inspelningar; ${m} av dem raderas vid nästa gallring.`,
      previewFirst: 'Förhandsgranska ändringen innan du sparar.', saved: (v) => `Sparat som version ${v}. Kortare gallringstider gäller sparade inspelningar från nästa gallring.`,
      history: 'Historik', changedAt: 'Ändrad', changedBy: 'Av', origin: 'Källa', rules: 'Regler', none: 'Inga regler.',
      origins: { api: 'webben/API', file: 'fil', cli: 'kommandorad' },
      ruleText: (r) => (r.record === false ? `${r.match.queue}: spelas inte in` : `${r.match.queue}: ${r.retainDays} dagar`),
      defaultRule: 'standard', byQueue: 'Samtalen per kö', queueColumn: 'Kö', noQueue: '(ingen kö)', ruleAndVersion: 'Regel (version)',
    },
    auditor: {
      overview: 'Översikt', period: 'Period', show: 'Visa',
      copiesKept: (source, reason) => `Kopior av samtalen finns kvar hos källan ${source}, som inte raderar dem: ${reason}`,
      headline: 'Äldsta sparade samtal utan gallringsstopp', days: (n) => (n === 1 ? '1 dag' : `${n} dagar`), noneStored: 'Inga samtal sparas just nu.',
      withinLimit: (d) => `Inom gränsen på ${d} dagar.`, overLimit: (d) => `Över gränsen på ${d} dagar: något gallras inte i tid.`,
      heldOlder: (n, d) => `${n} samtal har gallringsstopp; det äldsta är ${d} gammalt.`,
      sharesTitle: 'Samtalen i perioden', outcome: 'Utfall', count: 'Antal', share: 'Andel', sameAsReport: 'Här räknas samtalen efter den dag de började, som i gallringsrapporten för perioden: samma siffror.',
      openReport: 'Öppna rapporten för samma period',
      deletionsTitle: 'Raderingar per dag mot gallringsdagarna', deletionsCaption: 'Staplarna visar raderingar per dag: i tid heldragna, för sent randiga. Den streckade linjen med ringar visar hur många som hade gallringsdag den dagen. Här räknas raderingarna efter den dag de gjordes, så de kan gälla samtal från före perioden.',
      ageTitle: 'Ålder på det som sparas nu', ageCaption: 'Staplarna visar sparade samtal efter ålder i dagar: utan gallringsstopp heldragna, med gallringsstopp randiga. Den streckade linjen är gränsen.',
      date: 'Datum', due: 'Gallringsdag', onTime: 'Raderade i tid', late: 'Raderade för sent', age: 'Ålder (dagar)', unheld: 'Utan gallringsstopp', held: 'Med gallringsstopp',
      ageLabel: (k, last) => (last ? `${k} eller fler` : String(k)), limit: (d) => `gräns ${d} dagar`, asTable: 'Siffrorna i diagrammet',
      chainTitle: 'Granskningsloggen', chainOk: 'Kedjan är obruten', chainBad: 'Kedjan är bruten', chainAt: (seq, kind) => `Första fel vid post ${seq} (${kind}).`,
      acknowledged: 'Felet är kvitterat av en administratör.', checkedAt: 'Kontrollerad', head: 'Senaste post', checkpoint: 'Senaste signerade kontrollpunkt',
      noCheckpoint: 'Ingen signerad kontrollpunkt ännu.', key: 'Nyckel', toVerification: 'Verifiera kedjan nu',
      searchTitle: 'Sök i granskningsloggen', idLabel: 'Samtals-id eller inspelnings-id', actor: 'Utförare', anyone: 'Alla', action: 'Händelse', anyAction: 'Alla händelser',
      from: 'Från', to: 'Till', search: 'Sök', clear: 'Rensa', seq: 'Nr', time: 'Tid', subject: 'Gäller', details: 'Uppgifter', allDetails: 'Alla uppgifter',
      exportCsv: 'Exportera (CSV för Excel)', next: 'Nästa sida', prev: 'Föregående sida', none: 'Inga träffar.', shown: (n) => `${n} poster på sidan`,
      timelineTitle: (id) => `Tidslinje för ${id}`, timelineNone: 'Inget i loggen om det id:t.',
      reason: 'Skäl', note: 'Anteckning', until: 'Till och med', untilFurther: 'tills vidare', via: 'Via',
      viaWords: { token: 'åtkomsttoken', session: 'inloggad i webbläsaren', webhook: 'telefonisystemet' }, call: 'samtal', recording: 'inspelning',
      by: (who) => `av ${who}`, showTimeline: 'Visa tidslinje',
      events: {
        'recording.ingested': 'Inspelningen sparades', 'recording.discarded': 'Samtalet spelades aldrig in', 'recording.played': 'Avlyssnad',
        'hold.placed': 'Gallringsstopp lagt', 'hold.released': 'Gallringsstopp hävt', 'hold.lapsed': 'Gallringsstoppet löpte ut',
        'recording.deleted': 'Inspelningen raderades', 'call.opt-out-requested': 'Nej till inspelning under samtalet',
      },
    },
  },
  en: {
    problems: {
      'authentication-required': 'You are not signed in.',
      'invalid-credentials': 'The access token is not valid. Check it and try again.',
      'invalid-sign-in': 'The sign-in lacks an access token.',
      'too-many-failed-sign-ins': 'Too many failed sign-ins. Wait a while and try again.',
      'token-sign-in-disabled': "Sign-in with an access token is turned off. Sign in with the municipality's account.",
      'no-role': 'Your account has no role in Gallra. Ask an administrator for access.',
      forbidden: 'You are not allowed to do this.',
      'csrf-check-failed': 'The request was stopped for security reasons. Reload the page and try again.',
      'metrics-token-required': 'The metrics need the metrics token.',
      'missing-signature': "The request lacks the phone system's signature.",
      'invalid-signature': "The phone system's signature does not match.",
      'stale-signature': "The phone system's signature is too old or its time is wrong.",
      'expected-multipart': 'Send the recording as a form with the details and the audio file.',
      'invalid-multipart': 'The form with the recording is broken.',
      'metadata-first': 'The details of the call must come before the audio file.',
      'metadata-too-large': 'The details of the call are too large.',
      'missing-metadata': 'The details of the call are missing.',
      'missing-audio': 'The audio file is missing.',
      'duplicate-metadata': 'The details of the call were sent more than once.',
      'duplicate-audio': 'More than one audio file was sent.',
      'too-many-parts': 'The form holds more than the details and the audio file.',
      'unexpected-part': 'The form holds an unknown file.',
      'invalid-metadata-json': 'The details of the call cannot be read.',
      'invalid-metadata': 'The details of the call are not filled in correctly.',
      'unsupported-audio': 'The audio format is not supported.',
      'recording-too-large': 'The recording is larger than the service accepts.',
      'incomplete-body': 'The request did not arrive in full.',
      'quarantine-full': 'The service is receiving too many recordings right now. Try again in a while.',
      'too-many-uploads': 'Too many recordings are being sent at once. Try again in a while.',
      'recording-exists': 'The call has a recording already.',
      'call-id-conflict': 'The call was already received with another audio file.',
      'recording-not-found': 'The recording does not exist.',
      'invalid-recording-id': 'The recording id is not valid.',
      'invalid-cursor': 'That page of the list is no longer valid. Start again from the first page.',
      'recording-not-stored': 'The recording is no longer stored.',
      'recording-deleted': 'The recording has been deleted.',
      'recording-discarded': 'The call was never recorded.',
      'recording-expired': 'The recording is past its deadline.',
      'recording-opted-out': 'The caller has opted out of recording. The recording is being deleted.',
      'recording-restricted': 'The recording is restricted and cannot be played.',
      'recording-missing': 'The audio is missing from storage.',
      'recording-held': 'The recording is on hold and cannot be deleted.',
      'recording-being-deleted': 'The recording is already being deleted and can no longer be put on hold.',
      'range-not-satisfiable': 'That part of the audio does not exist.',
      'invalid-hold': 'The hold is not filled in correctly.',
      'already-held': 'The recording is already on hold.',
      'hold-not-found': 'The recording has no hold in force.',
      'hold-changed': 'The hold was released or ran out meanwhile. Reload and try again.',
      'invalid-retention-policy': 'The retention rules are not filled in correctly. No rule may keep calls longer than the promise (RETENTION_DAYS).',
      'retention-policy-from-file': 'The retention rules are read from a file (RETENTION_POLICY_FILE) and are changed there, not here.',
      'invalid-number': 'The phone number cannot be understood.',
      'already-opted-out': 'The number is registered already.',
      'opt-out-deletion-incomplete': 'The number is registered, but not every recording could be deleted. Try again.',
      'invalid-subject-request': 'The request is not filled in correctly.',
      'subject-request-not-found': 'The case does not exist.',
      'subject-request-closed': 'The case is closed.',
      'subject-request-changed': 'Someone else changed the case. Reload and try again.',
      'wrong-kind': 'That cannot be done with this kind of case.',
      'not-extendable': 'Only an open case can be extended.',
      'not-answerable': 'Only an open case can be answered.',
      'caller-unknown': 'The case no longer knows the number.',
      'confirmation-mismatch': 'The confirmation does not match the count. Reload and try again.',
      'erasure-incomplete': 'Not every call could be deleted yet. Try again.',
      'invalid-role': 'The role does not exist.',
      'invalid-name': 'The name is not filled in correctly.',
      'token-not-found': 'The access token does not exist.',
      'source-not-found': 'There is no source by that name.',
      'invalid-notification': "The platform's notification lacks fields or has wrong ones.",
      'audit-chain-ok': 'The audit log is intact. There is nothing to acknowledge.',
      'audit-chain-broken': 'The audit log is broken, and no checkpoint is signed over the fault.',
      'audit-problem-differs': 'The fault in the audit log is another than the one acknowledged. Reload and try again.',
      'checkpoint-exists': "There is a checkpoint for the log's latest entry already.",
      'checkpoint-conflict': 'The checkpoint conflicts with an existing one.',
      'tree-head-pending': "The log's latest entries are not signed yet. Try again in a little while.",
      'tree-inconsistent': "The audit log's tree does not match what was signed already. No new tree head is signed.",
      'invalid-cosignature': 'The cosignature is not valid or does not come from a registered witness.',
      'unknown-tree-head': 'The log has no signed tree head like the one cosigned.',
      'receipt-not-found': 'There is no deletion receipt for that recording.',
      'too-many-requests': 'Too many requests. Wait a while and try again.',
      'invalid-query': 'The search terms are not filled in correctly.',
      'invalid-input': 'The details are not filled in correctly.',
      'expected-json': 'Send the request as JSON.',
      'invalid-json': 'The request cannot be read.',
      'body-too-large': 'The request is too large.',
      'invalid-path': 'The address is not valid.',
      'bad-request': 'The request is not valid.',
      'not-found': 'It does not exist.',
      'request-timeout': 'The request took too long.',
      'database-unavailable': 'The database is not answering right now. Try again in a while.',
      'storage-unavailable': 'Storage is not answering right now. Try again in a while.',
      'store-unavailable': 'Storage is not answering right now. The recording is deleted as soon as it answers.',
      'dependency-unavailable': 'The service cannot reach something it needs right now. Try again in a while.',
      internal: 'An unexpected error occurred in the service.',
      'secret-mismatch': "The service's secret keys do not match the database's.",
      network: 'The service cannot be reached. Check the network and try again.',
    },
    byStatus: {
      400: 'The request is not valid.', 401: 'You are not signed in.', 403: 'You are not allowed to do this.', 404: 'It does not exist.',
      408: 'The request took too long.', 409: 'It conflicts with another change.', 410: 'It no longer exists.', 413: 'It is too large.',
      415: 'The file type is not supported.', 416: 'That part of the file does not exist.', 422: 'The details are not filled in correctly.',
      429: 'Too many attempts. Wait a while and try again.', 500: 'An unexpected error occurred in the service.', 503: 'The service is unavailable right now.',
    },
    fieldReasons: {
      required: () => 'is required', 'wrong-type': () => 'has the wrong form',
      'too-short': (l) => (l ? `must be at least ${l} characters` : 'is too short'), 'too-long': (l) => (l ? `may be at most ${l} characters` : 'is too long'),
      'too-small': (l) => (l != null ? `must be at least ${l}` : 'is too small'), 'too-large': (l) => (l != null ? `may be at most ${l}` : 'is too large'),
      'invalid-format': () => 'has the wrong format', 'invalid-value': () => 'has a value that cannot be chosen', 'unknown-field': () => 'does not belong here',
      'contains-phone-number': () => 'must not contain a phone number',
      'not-a-phone-number': () => 'is not a phone number that can be understood (write e.g. 070-123 45 67 or +46 70 123 45 67)',
      'in-the-future': () => 'must not be in the future', 'in-the-past': () => 'must not be in the past',
      'before-start': () => 'must not be before the start', 'too-late': (l) => (l ? `may be ${l} at the latest` : 'is too late'),
      'not-after': (l) => (l ? `must be after ${l}` : 'must be after the from date'), 'reserved-prefix': (l) => (l ? `must not start with "${l}"` : 'starts with something reserved'),
      'must-equal': (l) => (l != null ? `must be ${l}` : 'does not match'), 'invalid-cursor': () => 'is no longer valid',
      'call-too-long': (l) => (l ? `may be at most ${l} minutes after the call started` : 'is too long after the call started'),
      'period-too-long': (l) => (l ? `may be at most ${l} days after the from date` : 'is too long after the from date'),
    },
    fields: {
      '/reason': 'Reason', '/until': 'Until', '/number': 'Phone number', '/reference': 'Case number', '/note': 'Note',
      '/receivedAt': 'Received', '/kind': 'Kind', '/confirm': 'Confirmation', '/from': 'From', '/to': 'To', '/token': 'Access token',
      '/name': 'Name', '/role': 'Role', '/id': 'Recording id', '/recordingId': 'Recording id', '/callId': 'Call id', '/queue': 'Queue',
      '/agentId': 'Agent', '/cursor': 'Page', '/limit': 'Rows per page', '/action': 'Action', '/actor': 'Actor', '/subject': 'Subject',
      '/source': 'Source', '/deleteExisting': 'Delete existing recordings', '/startedAt': 'Start of the call', '/endedAt': 'End of the call',
      '/caller': "Caller's number",
    },
    field: 'The field',
    statuses: { stored: 'stored', deleted: 'deleted', discarded: 'never stored', held: 'on hold' },
    outcomes: {
      'deleted-on-time': 'deleted on time', 'deleted-late': 'deleted late', 'deleted-on-request': 'deleted on request',
      held: 'on hold', 'held-for-request': 'on hold (request)', discarded: 'never stored',
      'stored-not-yet-due': 'stored, not yet due', overdue: 'overdue', all: 'all',
    },
    actions: {
      'recording.ingested': 'recording stored', 'recording.discarded': 'recording discarded', 'recording.refused': 'recording refused',
      'source.notified': 'recording notified by the platform',
      'recording.played': 'recording played', 'recording.deleted': 'recording deleted', 'recording.orphan-deleted': 'orphaned file deleted',
      'hold.placed': 'hold placed', 'hold.released': 'hold released', 'hold.lapsed': 'hold lapsed',
      'policy.changed': 'retention rules changed', 'recording.deadline-changed': 'deletion date brought forward',
      'opt-out.registered': 'opt-out registered', 'opt-out.removed': 'opt-out removed', 'call.opt-out-requested': 'opt-out during a call',
      'call.opt-out-expired': 'opt-out of a call that never arrived expired',
      'token.created': 'access token created', 'token.revoked': 'access token revoked',
      'session.opened': 'sign-in', 'session.closed': 'sign-out',
      'audit.verified': 'chain verified', 'audit.exported': 'log exported', 'audit.checkpoint-requested': 'checkpoint requested', 'audit.cosignature-accepted': 'witness cosignature accepted',
      'audit.chain-repaired': 'chain repaired', 'audit.problem-acknowledged': 'chain problem acknowledged', 'report.retention': 'retention report fetched',
      'subject-request.opened': 'request registered', 'subject-request.extended': 'request extended', 'subject-request.answered': 'request answered',
      'subject-request.closed': 'request closed', 'subject-request.erased': 'erasure on request', 'subject-request.restricted': 'restriction on request',
      'subject-request.package': 'register extract fetched',
      'secrets.registered': 'secret registered', 'audit.signing-key-registered': 'signing key registered', 'stored-numbers.masked': 'phone numbers masked in stored values', 'storage.non-eea-region-allowed': 'storage outside the EU/EEA allowed by exception',
      'key.destroyed': 'encryption key destroyed', 'key.rewrapped-for-holds': "held recordings' keys moved to a hold key", 'storage.object-encrypted': 'stored recording encrypted',
    },
    reasons: {
      retention: 'deadline reached', 'retention-expired': 'deadline already past', manual: 'deleted by hand',
      'caller-opted-out': 'caller declined during the call', 'number-opted-out': 'the number has opted out', 'subject-request': "data subject's request",
      'queue-not-recorded': 'the queue is not recorded (retention rule)',
    },
    discrepancies: {
      'deleted-without-audit': 'deleted without an audit entry', 'discarded-without-audit': 'discarded without an audit entry', 'audit-without-recording': 'audit entry without a recording',
      'audit-without-tombstone': 'audit entry that does not match the recording', 'duplicate-audit': 'duplicate audit entries',
    },
    actors: { 'system:retention': 'The retention job', 'phone-system:webhook': 'The phone system', 'system:audit': 'The audit log', 'system:orphans': 'The clean-up job', system: 'The system' },
    policies: {
      title: 'Retention rules',
      intro: (d) => `The promise is that no call is kept longer than ${d} days. A rule can shorten the time for a queue or say that the queue is not recorded at all; calls no rule applies to are kept ${d} days.`,
      fromFile: (f) => `The rules are read from the file ${f} (RETENTION_POLICY_FILE) and are changed there. They are only shown here.`,
      version: (v, at, by) => (v ? `Version ${v}, changed ${at} by ${by}.` : 'No rules yet: every call is kept as promised.'),
      queue: 'Queue (name or pattern, e.g. bygg*)', keep: 'Rule', days: 'Days', keepDays: 'Keep for days', notRecorded: 'Not recorded',
      addRule: 'Add rule', removeRule: 'Remove', preview: 'Preview the change', save: 'Save the rules',
      previewText: (n, m) => `This change shortens the deadline of ${n} stored recordings; ${m} of them will be deleted at the next run.`,
      previewFirst: 'Preview the change before saving.', saved: (v) => `Saved as version ${v}. Shorter times apply to stored recordings from the next retention run.`,
      history: 'History', changedAt: 'Changed', changedBy: 'By', origin: 'Source', rules: 'Rules', none: 'No rules.',
      origins: { api: 'web/API', file: 'file', cli: 'command line' },
      ruleText: (r) => (r.record === false ? `${r.match.queue}: not recorded` : `${r.match.queue}: ${r.retainDays} days`),
      defaultRule: 'default', byQueue: 'Calls per queue', queueColumn: 'Queue', noQueue: '(no queue)', ruleAndVersion: 'Rule (version)',
    },
    auditor: {
      overview: 'Overview', period: 'Period', show: 'Show',
      copiesKept: (source, reason) => `Copies of the calls remain at the source ${source}, which does not delete them: ${reason}`,
      headline: 'Oldest stored call without a hold', days: (n) => (n === 1 ? '1 day' : `${n} days`), noneStored: 'No calls are stored right now.',
      withinLimit: (d) => `Within the limit of ${d} days.`, overLimit: (d) => `Over the limit of ${d} days: something is not deleted in time.`,
      heldOlder: (n, d) => `${n} calls are on hold; the oldest is ${d} old.`,
      sharesTitle: 'Calls of the period', outcome: 'Outcome', count: 'Count', share: 'Share', sameAsReport: 'The calls are counted here by the day they started, as in the retention report for the period: the same figures.',
      openReport: 'Open the report for the same period',
      deletionsTitle: 'Deletions per day against the deadlines', deletionsCaption: 'Bars show deletions per day: on time solid, late striped. The dashed line with circles shows how many had their deadline that day. Deletions are counted here by the day they were made, so they may be of calls from before the period.',
      ageTitle: 'Age of what is stored now', ageCaption: 'Bars show stored calls by age in days: without a hold solid, on hold striped. The dashed line is the limit.',
      date: 'Date', due: 'Deadline', onTime: 'Deleted on time', late: 'Deleted late', age: 'Age (days)', unheld: 'Without a hold', held: 'On hold',
      ageLabel: (k, last) => (last ? `${k} or more` : String(k)), limit: (d) => `limit ${d} days`, asTable: 'The figures in the chart',
      chainTitle: 'The audit log', chainOk: 'The chain is intact', chainBad: 'The chain is broken', chainAt: (seq, kind) => `First problem at entry ${seq} (${kind}).`,
      acknowledged: 'An administrator has acknowledged the problem.', checkedAt: 'Checked', head: 'Latest entry', checkpoint: 'Latest signed checkpoint',
      noCheckpoint: 'No signed checkpoint yet.', key: 'Key', toVerification: 'Verify the chain now',
      searchTitle: 'Search the audit log', idLabel: 'Call id or recording id', actor: 'Actor', anyone: 'Anyone', action: 'Action', anyAction: 'All actions',
      from: 'From', to: 'To', search: 'Search', clear: 'Clear', seq: 'No.', time: 'Time', subject: 'Concerns', details: 'Details', allDetails: 'All details',
      exportCsv: 'Export (CSV for Excel)', next: 'Next page', prev: 'Previous page', none: 'Nothing found.', shown: (n) => `${n} entries on the page`,
      timelineTitle: (id) => `Timeline of ${id}`, timelineNone: 'Nothing in the log about that id.',
      reason: 'Reason', note: 'Note', until: 'Until', untilFurther: 'until further notice', via: 'Via',
      viaWords: { token: 'access token', session: 'signed in in the browser', webhook: 'the phone system' }, call: 'call', recording: 'recording',
      by: (who) => `by ${who}`, showTimeline: 'Show timeline',
      events: {
        'recording.ingested': 'The recording was stored', 'recording.discarded': 'The call was never recorded', 'recording.played': 'Played',
        'hold.placed': 'Hold placed', 'hold.released': 'Hold released', 'hold.lapsed': 'The hold ran out',
        'recording.deleted': 'The recording was deleted', 'call.opt-out-requested': 'Declined recording during the call',
      },
    },
  },
};

/** The last segment of a problem's type URI, e.g. `invalid-credentials`. */
/** @param {{ type?: unknown } | undefined} problem */
export const problemCode = (problem) => (typeof problem?.type === 'string' ? problem.type.split('/').pop() : undefined);

/**
 * Each field error in the page's language, from its reason code (and limit), e.g. "Skäl: får inte
 * innehålla ett telefonnummer"; never the server's English detail.
 * @param {'sv' | 'en'} lang
 * @param {{ errors?: Array<{ pointer: string, code: string, limit?: number | string }> } | undefined} problem
 * @returns {string[]}
 */
export function fieldErrorMessages(lang, problem) {
  const text = CODE_TEXT[lang];
  return (problem?.errors ?? []).map((e) => {
    const label = text.fields[e.pointer] ?? `${text.field} ${String(e.pointer ?? '').replace(/^\//, '')}`;
    const reason = text.fieldReasons[e.code] ?? text.fieldReasons['invalid-value'];
    return `${label}: ${reason(e.limit)}`;
  });
}

/**
 * The page's own sentence for a problem: by its type, else by its status.
 * @param {'sv' | 'en'} lang
 * @param {number} status
 * @param {{ type?: string } | undefined} problem
 * @returns {string}
 */
export function problemMessage(lang, status, problem) {
  const text = CODE_TEXT[lang];
  if (status === 0) return text.problems.network;
  return text.problems[problemCode(problem)] ?? text.byStatus[status] ?? text.byStatus[500];
}

// Stockholm date arithmetic is src/shared/stockholm-calendar.js over Luxon, the copy the server uses too.
// The browser loads both from this origin (/vendor, /shared: the CSP allows no inline import map); Node,
// where tests read CODE_TEXT from this file, resolves them from the source tree and node_modules.
const inBrowser = typeof window !== 'undefined';
const [{ DateTime }, { TIME_ZONE, stockholmCalendar }] = await Promise.all([
  import(inBrowser ? '/vendor/luxon/luxon.js' : 'luxon'),
  import(inBrowser ? '/shared/stockholm-calendar.js' : '../../shared/stockholm-calendar.js'),
]);

export const ZONE = TIME_ZONE;
const calendar = stockholmCalendar(DateTime);

/** A time in Stockholm with its zone, e.g. `2026-11-21 00:20 CET`. */
/**
 * @param {string} lang
 * @param {string | Date | null | undefined} iso
 */
export function formatTime(lang, iso) {
  if (!iso) return '–';
  return calendar.formatLocal(lang === 'sv' ? 'sv-SE' : 'en-GB', iso);
}

/** Today's (or `at`'s) date in Stockholm as `YYYY-MM-DD`, whatever the browser's own zone. */
/** @param {Date} [at] @returns {string} */
export const stockholmDate = (at = new Date()) => calendar.localDateOf(at);

/** The instant a Stockholm calendar day (`YYYY-MM-DD`, plus `addDays`) begins, as ISO. */
/** @param {string} date @param {number} [addDays] @returns {string} */
export const stockholmDayStart = (date, addDays = 0) => calendar.startOfLocalDay(calendar.addDays(date, addDays)).toISOString();

/** A date `days` before a `YYYY-MM-DD` date, as `YYYY-MM-DD`. */
/** @param {string} date @param {number} days @returns {string} */
export const daysBefore = (date, days) => calendar.addDays(date, -days);

/** A length of time in words, largest two units: `1 dag 3 tim`. */
/**
 * @param {string} lang
 * @param {number | null | undefined} ms
 */
export function durationWords(lang, ms) {
  if (ms == null) return '–';
  /** @type {[number, string, string][]} */
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
