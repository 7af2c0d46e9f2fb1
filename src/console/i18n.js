// @ts-check
// Labels of the operator console, in Italian and English (picked from the browser's language).

const it = {
  title: 'Console operatori',
  loginTitle: 'Accedi alla console',
  loginHelp: 'Usa il nome e la password che ti ha dato l’amministratore.',
  name: 'Nome',
  password: 'Password',
  login: 'Accedi',
  logout: 'Esci',
  wrongLogin: 'Nome o password errati.',
  tooMany: 'Troppi tentativi falliti. Riprova tra {wait}.',
  busy: 'Troppi accessi in questo momento. Riprova tra qualche secondo.',
  seconds: '{n} secondi',
  minutes: '{n} minuti',
  queue: 'Coda',
  queueEmpty: 'Nessuna conversazione in attesa. Ottimo lavoro!',
  open: 'Aperti',
  closedUntil: 'Chiusi · riapriamo {when}',
  corpusFailed: 'Le FAQ non si sono ricaricate: il bot usa ancora la versione precedente.',
  channelDown: '{channels}: la piattaforma non risponde. Le risposte restano in attesa e partono appena torna.',
  live: 'In diretta',
  offline: 'Connessione persa, riprovo…',
  waiting: 'in attesa da {t}',
  slaLeft: 'SLA {t}',
  slaBreached: 'SLA superato da {t}',
  slaMet: 'risposto',
  heldBy: 'con {name}',
  heldByMe: 'con te',
  reason: {
    human_request: 'chiede una persona',
    low_confidence: 'il bot non ha capito',
    negative_sentiment: 'cliente arrabbiato',
    vip: 'VIP',
    crisis: 'crisi',
    private_case: 'caso privato',
    faq_escalate: 'serve un seguito',
    policy: 'regola',
    handler: 'chiesto da un’azione',
    handler_failed: 'azione non riuscita',
  },
  state: { bot: 'bot', awaiting_private: 'attende il privato', queued: 'in coda', assigned: 'assegnata', resolved: 'risolta' },
  public: 'Pubblico',
  private: 'Privato',
  pickConversation: 'Scegli una conversazione dalla coda.',
  claim: 'Prendi in carico',
  takeover: 'Subentra',
  claimedBy: 'Già presa in carico da {name}.',
  claimed: 'Conversazione presa in carico.',
  transfer: 'Trasferisci',
  transferTo: 'Trasferisci a',
  transferred: 'Conversazione trasferita a {name}.',
  returnToBot: 'Ridai al bot',
  returned: 'Conversazione ridata al bot.',
  askPrivate: 'Chiedi di passare in privato',
  askedPrivate: 'Invito a scrivere in privato inviato.',
  history: 'Storico del caso',
  earlierCases: 'Casi precedenti del cliente',
  noEarlierCases: 'Nessun caso precedente.',
  customer: 'Cliente',
  bot: 'Bot',
  note: 'Nota interna · mai inviata',
  privateData: 'Dati privati scritti in pubblico',
  flagPrivate: 'Dati privati in pubblico',
  suggestions: 'Risposte suggerite dalle FAQ',
  noSuggestions: 'Nessuna risposta delle FAQ adatta all’ultimo messaggio.',
  insert: 'Inserisci',
  replyLabel: 'Risposta al cliente',
  noteLabel: 'Nota interna (non viene inviata)',
  asNote: 'Nota interna',
  send: 'Invia',
  addNote: 'Aggiungi nota',
  visibility: 'Visibilità',
  signature: 'Le risposte pubbliche sono firmate ^{initials}.',
  sent: 'Risposta in invio.',
  noteAdded: 'Nota aggiunta.',
  resolve: 'Risolvi',
  addToFaq: 'Proponi come FAQ',
  resolved: 'Caso risolto.',
  closedCase: 'Caso risolto. Se il cliente scrive ancora, la conversazione torna al bot e, se serve, in coda.',
  resolvedWithFaq: 'Caso risolto: proposta di FAQ creata per la revisione.',
  delivered: 'consegnato',
  pending: 'in invio',
  failed: 'non consegnato',
  newInQueue: 'Nuova conversazione in coda.',
  error: 'Errore: {msg}',
  sessionExpired: 'Sessione scaduta: accedi di nuovo.',
  you: 'tu',
  reviewButton: 'Proposte FAQ ({n})',
  reviewTitle: 'Proposte di FAQ da rivedere',
  reviewHelp: 'Nate da casi risolti con «Proponi come FAQ». Approvare scrive la voce nelle FAQ e il bot la usa subito.',
  reviewEmpty: 'Nessuna proposta da rivedere.',
  newEntry: 'Nuova voce «{id}»',
  addQuestion: 'Nuova domanda per «{id}»',
  updateAnswer: 'Nuova risposta per «{id}»',
  changesEntry: 'Cosa cambia in «{id}»',
  questionKnown: '= {q} (c’è già)',
  answerUnchanged: 'La risposta resta com’è.',
  answerShortKept: 'La risposta breve resta «{text}»: controlla che valga ancora (Modifica).',
  changesNothing: 'Approvarla non cambierebbe nulla: modificala o rifiutala.',
  entryMissing: 'La voce «{id}» non esiste più: modifica la proposta e scegli un’altra voce.',
  answerShortLabel: 'Risposta breve (answer_short)',
  newAnswerLabel: 'Nuova risposta (vuota: resta quella attuale)',
  questionsOnePerLine: 'Domande (una per riga)',
  entryLabel: 'Voce (id)',
  localeLabel: 'Lingua',
  operatorAnswer: 'Risposta dell’operatore nel caso',
  useOperatorAnswer: 'Usa questa risposta',
  edit: 'Modifica',
  save: 'Salva',
  cancel: 'Annulla',
  suggestionSaved: 'Proposta modificata.',
  approve: 'Approva',
  reject: 'Rifiuta',
  approved: 'Proposta approvata: FAQ aggiornate.',
  rejected: 'Proposta rifiutata.',
  questionsLabel: 'Domande',
  answerLabel: 'Risposta',
  min: 'min',
  hour: 'h',
  day: 'g',
  now: 'adesso',
  mustClaim: 'Prendi in carico la conversazione per rispondere.',
  handledBy: 'La sta seguendo {name}: puoi aggiungere una nota interna.',
  followers: '{n} follower',
  opened: 'aperto il {d}',
  // operator desk (issue 21)
  soundOn: 'Suono: sì',
  soundOff: 'Suono: no',
  desktopOn: 'Notifiche: sì',
  desktopOff: 'Notifiche: no',
  desktopDenied: 'Il browser blocca le notifiche di questa pagina: consentile dalle impostazioni del sito.',
  alertNew: 'Nuovo caso in coda',
  alertAssigned: 'Ti è stato assegnato un caso: {name}',
  alertReply: '{name} ha risposto',
  alertSla: 'SLA quasi scaduto: {name}',
  unread: 'novità non lette',
  faqUsed: 'FAQ «{id}»',
  faqUsedTitle: 'La voce delle FAQ con cui il bot ha risposto',
  botOffered: 'Il bot ha proposto:',
  shortcuts: 'Scorciatoie da tastiera',
  close: 'Chiudi',
  keyNext: 'Conversazione successiva',
  keyPrevious: 'Conversazione precedente',
  keyClaim: 'Prendi in carico',
  keyReply: 'Scrivi una risposta',
  keyNote: 'Scrivi una nota interna',
  keyResolve: 'Risolvi il caso',
  keySearch: 'Cerca',
  keySend: 'Invia (dalla casella di testo)',
  keyEscape: 'Esci dalla casella di testo',
  keyHelp: 'Questo elenco',
  timezone: 'Orari nel fuso {tz}',
  view: 'Vista',
  views: { queue: 'Coda dal vivo', mine: 'Le mie', unassigned: 'Non assegnate', open: 'Aperte', waiting: 'In attesa del cliente', resolved: 'Risolte', all: 'Tutte' },
  search: 'Cerca',
  searchPlaceholder: 'Parole, nome o @handle',
  searchNothing: 'Nessuna conversazione trovata.',
  searchCount: '{first}–{last} di {total}',
  filters: 'Filtri',
  clearFilters: 'Azzera',
  previousPage: '‹ Indietro',
  nextPage: 'Avanti ›',
  any: 'Tutti',
  me: 'Io',
  filter: { channel: 'Canale', language: 'Lingua', state: 'Stato', priority: 'Priorità', reason: 'Motivo', tag: 'Etichetta', operator: 'Operatore', from: 'Dal', to: 'Al' },
  from: { customer: 'Cliente', bot: 'Bot', operator: 'Operatore' },
  customerTitle: 'Il cliente',
  handles: 'Profili della persona',
  unlink: 'Scollega',
  unlinkLabel: 'Scollega {name}',
  unlinked: 'Profili scollegati.',
  linked: 'Profili collegati: una sola storia.',
  languageIs: 'lingua: {language}',
  tagsLabel: 'Etichette (separate da virgole)',
  tagsSaved: 'Etichette salvate.',
  customerNotes: 'Note sul cliente',
  noNotes: 'Nessuna nota.',
  customerNoteLabel: 'Nuova nota (resta tra un caso e l’altro)',
  addCustomerNote: 'Salva nota',
  customerNoteAdded: 'Nota sul cliente aggiunta.',
  linkTitle: 'Stessa persona su un altro canale',
  linkSearchLabel: 'Cerca il profilo da collegare',
  linkTo: 'Collega: {name}',
  noCandidates: 'Nessun altro profilo trovato.',
  pastCases: 'Casi della persona',
  openCase: 'Apri',
  outcome: { open: 'aperto', resolved_by_bot: 'risolto dal bot', resolved_by_operator: 'risolto da un operatore' },
  satisfaction: 'soddisfazione {score}/5',
  savedButton: 'Risposte salvate (/)',
  savedSearch: 'Cerca tra le risposte salvate',
  savedSearchPlaceholder: 'Scrivi per cercare, Invio per inserire',
  savedNone: 'Nessuna risposta salvata trovata.',
  tooLong: 'Troppo lunga per il canale: {length}/{max} caratteri, diventerebbe {posts} post. Accorciala.',
  savedAdminButton: 'Risposte salvate',
  savedAdminTitle: 'Risposte salvate',
  savedAdminHelp: 'Gli operatori le inseriscono scrivendo «/» nella risposta. Variabili: {customer_name}, {operator_name}, {business_hours}, {reopens}.',
  savedNewTitle: 'Nuova risposta salvata',
  savedEditTitle: 'Modifica /{shortcut}',
  savedShortcut: 'Scorciatoia',
  savedTitle: 'Titolo',
  savedText: 'Testo',
  savedSaved: 'Risposta salvata.',
  savedDeleted: 'Risposta eliminata.',
  delete: 'Elimina',
};

const en = {
  title: 'Operator console',
  loginTitle: 'Sign in to the console',
  loginHelp: 'Use the name and password your administrator gave you.',
  name: 'Name',
  password: 'Password',
  login: 'Sign in',
  logout: 'Sign out',
  wrongLogin: 'Wrong name or password.',
  tooMany: 'Too many failed attempts. Try again in {wait}.',
  busy: 'Too many sign-ins right now. Try again in a few seconds.',
  seconds: '{n} seconds',
  minutes: '{n} minutes',
  queue: 'Queue',
  queueEmpty: 'Nobody is waiting. Well done!',
  open: 'Open',
  closedUntil: 'Closed · back {when}',
  corpusFailed: 'The FAQ failed to reload: the bot still answers from the previous version.',
  channelDown: '{channels}: the platform is not answering. Replies wait and go out as soon as it is back.',
  live: 'Live',
  offline: 'Connection lost, retrying…',
  waiting: 'waiting {t}',
  slaLeft: 'SLA {t}',
  slaBreached: 'SLA breached by {t}',
  slaMet: 'answered',
  heldBy: 'with {name}',
  heldByMe: 'with you',
  reason: {
    human_request: 'asked for a person',
    low_confidence: 'bot did not understand',
    negative_sentiment: 'upset customer',
    vip: 'VIP',
    crisis: 'crisis',
    private_case: 'private case',
    faq_escalate: 'needs follow-up',
    policy: 'policy',
    handler: 'asked by an action',
    handler_failed: 'action failed',
  },
  state: { bot: 'bot', awaiting_private: 'awaiting private', queued: 'queued', assigned: 'assigned', resolved: 'resolved' },
  public: 'Public',
  private: 'Private',
  pickConversation: 'Pick a conversation from the queue.',
  claim: 'Claim',
  takeover: 'Take over',
  claimedBy: 'Already claimed by {name}.',
  claimed: 'Conversation claimed.',
  transfer: 'Transfer',
  transferTo: 'Transfer to',
  transferred: 'Conversation transferred to {name}.',
  returnToBot: 'Return to bot',
  returned: 'Conversation returned to the bot.',
  askPrivate: 'Ask to move to private',
  askedPrivate: 'Invitation to continue privately sent.',
  history: 'Case history',
  earlierCases: 'Customer’s earlier cases',
  noEarlierCases: 'No earlier cases.',
  customer: 'Customer',
  bot: 'Bot',
  note: 'Internal note · never sent',
  privateData: 'Private data posted publicly',
  flagPrivate: 'Private data in public',
  suggestions: 'Suggested FAQ answers',
  noSuggestions: 'No FAQ answer fits the last message.',
  insert: 'Insert',
  replyLabel: 'Reply to the customer',
  noteLabel: 'Internal note (not sent)',
  asNote: 'Internal note',
  send: 'Send',
  addNote: 'Add note',
  visibility: 'Visibility',
  signature: 'Public replies are signed ^{initials}.',
  sent: 'Reply on its way.',
  noteAdded: 'Note added.',
  resolve: 'Resolve',
  addToFaq: 'Suggest as FAQ',
  resolved: 'Case resolved.',
  closedCase: 'Case resolved. If the customer writes again, the bot takes it and queues it when needed.',
  resolvedWithFaq: 'Case resolved: a FAQ suggestion awaits review.',
  delivered: 'delivered',
  pending: 'sending',
  failed: 'not delivered',
  newInQueue: 'New conversation in the queue.',
  error: 'Error: {msg}',
  sessionExpired: 'Session expired: sign in again.',
  you: 'you',
  reviewButton: 'FAQ suggestions ({n})',
  reviewTitle: 'FAQ suggestions to review',
  reviewHelp: 'Made from cases resolved with “Suggest as FAQ”. Approving writes the entry into the FAQ and the bot uses it at once.',
  reviewEmpty: 'Nothing to review.',
  newEntry: 'New entry “{id}”',
  addQuestion: 'New question for “{id}”',
  updateAnswer: 'New answer for “{id}”',
  changesEntry: 'What changes in “{id}”',
  questionKnown: '= {q} (already there)',
  answerUnchanged: 'The answer stays as it is.',
  answerShortKept: 'The short answer stays “{text}”: check it still fits (Edit).',
  changesNothing: 'Approving it would change nothing: edit it or reject it.',
  entryMissing: 'Entry “{id}” no longer exists: edit the suggestion and pick another entry.',
  answerShortLabel: 'Short answer (answer_short)',
  newAnswerLabel: 'New answer (empty: keep the current one)',
  questionsOnePerLine: 'Questions (one per line)',
  entryLabel: 'Entry (id)',
  localeLabel: 'Language',
  operatorAnswer: 'The operator’s answer in the case',
  useOperatorAnswer: 'Use this answer',
  edit: 'Edit',
  save: 'Save',
  cancel: 'Cancel',
  suggestionSaved: 'Suggestion edited.',
  approve: 'Approve',
  reject: 'Reject',
  approved: 'Suggestion approved: FAQ updated.',
  rejected: 'Suggestion rejected.',
  questionsLabel: 'Questions',
  answerLabel: 'Answer',
  min: 'min',
  hour: 'h',
  day: 'd',
  now: 'now',
  mustClaim: 'Claim the conversation to reply.',
  handledBy: '{name} is handling it: you can add an internal note.',
  followers: '{n} followers',
  opened: 'opened {d}',
  // operator desk (issue 21)
  soundOn: 'Sound: on',
  soundOff: 'Sound: off',
  desktopOn: 'Notifications: on',
  desktopOff: 'Notifications: off',
  desktopDenied: 'The browser blocks this page’s notifications: allow them in the site settings.',
  alertNew: 'New case in the queue',
  alertAssigned: 'A case was given to you: {name}',
  alertReply: '{name} replied',
  alertSla: 'SLA about to breach: {name}',
  unread: 'unread news',
  faqUsed: 'FAQ “{id}”',
  faqUsedTitle: 'The FAQ entry the bot answered with',
  botOffered: 'The bot offered:',
  shortcuts: 'Keyboard shortcuts',
  close: 'Close',
  keyNext: 'Next conversation',
  keyPrevious: 'Previous conversation',
  keyClaim: 'Claim',
  keyReply: 'Write a reply',
  keyNote: 'Write an internal note',
  keyResolve: 'Resolve the case',
  keySearch: 'Search',
  keySend: 'Send (from the text box)',
  keyEscape: 'Leave the text box',
  keyHelp: 'This list',
  timezone: 'Times in {tz}',
  view: 'View',
  views: { queue: 'Live queue', mine: 'Mine', unassigned: 'Unassigned', open: 'Open', waiting: 'Waiting on the customer', resolved: 'Resolved', all: 'All' },
  search: 'Search',
  searchPlaceholder: 'Words, name or @handle',
  searchNothing: 'No conversation found.',
  searchCount: '{first}–{last} of {total}',
  filters: 'Filters',
  clearFilters: 'Clear',
  previousPage: '‹ Previous',
  nextPage: 'Next ›',
  any: 'Any',
  me: 'Me',
  filter: { channel: 'Channel', language: 'Language', state: 'State', priority: 'Priority', reason: 'Reason', tag: 'Tag', operator: 'Operator', from: 'From', to: 'To' },
  from: { customer: 'Customer', bot: 'Bot', operator: 'Operator' },
  customerTitle: 'The customer',
  handles: 'The person’s records',
  unlink: 'Unlink',
  unlinkLabel: 'Unlink {name}',
  unlinked: 'Records unlinked.',
  linked: 'Records linked: one history.',
  languageIs: 'language: {language}',
  tagsLabel: 'Tags (comma-separated)',
  tagsSaved: 'Tags saved.',
  customerNotes: 'Notes on the customer',
  noNotes: 'No notes.',
  customerNoteLabel: 'New note (it stays across cases)',
  addCustomerNote: 'Save note',
  customerNoteAdded: 'Customer note added.',
  linkTitle: 'Same person on another channel',
  linkSearchLabel: 'Find the record to link',
  linkTo: 'Link: {name}',
  noCandidates: 'No other record found.',
  pastCases: 'The person’s cases',
  openCase: 'Open',
  outcome: { open: 'open', resolved_by_bot: 'resolved by the bot', resolved_by_operator: 'resolved by an operator' },
  satisfaction: 'satisfaction {score}/5',
  savedButton: 'Saved replies (/)',
  savedSearch: 'Search the saved replies',
  savedSearchPlaceholder: 'Type to search, Enter to insert',
  savedNone: 'No saved reply found.',
  tooLong: 'Too long for the channel: {length}/{max} characters, it would take {posts} posts. Shorten it.',
  savedAdminButton: 'Saved replies',
  savedAdminTitle: 'Saved replies',
  savedAdminHelp: 'Operators insert them by typing "/" in a reply. Variables: {customer_name}, {operator_name}, {business_hours}, {reopens}.',
  savedNewTitle: 'New saved reply',
  savedEditTitle: 'Edit /{shortcut}',
  savedShortcut: 'Shortcut',
  savedTitle: 'Title',
  savedText: 'Text',
  savedSaved: 'Saved reply stored.',
  savedDeleted: 'Saved reply deleted.',
  delete: 'Delete',
};

/** The UI language: Italian when the browser prefers it, English otherwise. */
export const lang = (navigator.language || 'en').toLowerCase().startsWith('it') ? 'it' : 'en';
/** @type {Record<string, any>} */
const dict = lang === 'it' ? it : en;
const locale = lang === 'it' ? 'it-IT' : 'en-GB';

/** The team's time zone (config TIMEZONE, from /me): every time in the console is shown in it. */
let timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** @param {string | undefined} tz */
export function setTimeZone(tz) {
  if (!tz) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    timeZone = tz;
  } catch {
    // an unknown zone: keep the browser's
  }
}
export function currentTimeZone() {
  return timeZone;
}

/**
 * A label, with {placeholders} filled in.
 * @param {string} key dotted path in the dictionary ("reason.vip")
 * @param {Record<string, string | number | undefined>} [vars]
 * @returns {string}
 */
export function t(key, vars = {}) {
  /** @type {any} */
  const value = key.split('.').reduce((/** @type {any} */ o, k) => (o == null ? undefined : o[k]), dict);
  const text = typeof value === 'string' ? value : key;
  // A placeholder not given stays as written (the saved replies' help shows {customer_name}).
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name] ?? '') : whole));
}

/**
 * "12 min", "1 h 5 min", "2 g 3 h".
 * @param {number} ms
 */
export function duration(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  if (minutes < 1) return `<1 ${dict.min}`;
  if (minutes < 60) return `${minutes} ${dict.min}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} ${dict.hour} ${minutes % 60} ${dict.min}` : `${hours} ${dict.hour}`;
  return hours % 24 ? `${Math.floor(hours / 24)} ${dict.day} ${hours % 24} ${dict.hour}` : `${Math.floor(hours / 24)} ${dict.day}`;
}

/**
 * The calendar day of a moment in the team's time zone ("2026-12-04").
 * @param {Date} d
 */
function dayInZone(d) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/**
 * A clock time (today) or a date and time for a message, in the team's time zone.
 * @param {string} iso
 */
export function when(iso) {
  const d = new Date(iso);
  const sameDay = dayInZone(d) === dayInZone(new Date());
  /** @type {Intl.DateTimeFormatOptions} */
  const options = sameDay ? { hour: '2-digit', minute: '2-digit', timeZone } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone };
  return new Intl.DateTimeFormat(locale, options).format(d);
}

/**
 * A full date and time with the zone, for a tooltip ("4 dic 2026, 20:15 CET").
 * @param {string} iso
 */
export function fullTime(iso) {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso)) + ` (${timeZone})`;
}

/**
 * A phrase for when the team is back ("lunedì alle 9:00").
 * @param {string} iso
 */
export function reopening(iso) {
  const d = new Date(iso);
  const fmt = new Intl.DateTimeFormat(locale, { weekday: 'long', hour: 'numeric', minute: '2-digit', timeZone });
  return fmt.format(d);
}
