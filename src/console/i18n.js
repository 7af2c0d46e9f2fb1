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
  tooMany: 'Troppi tentativi falliti. Riprova tra {min} minuti.',
  queue: 'Coda',
  queueEmpty: 'Nessuna conversazione in attesa. Ottimo lavoro!',
  open: 'Aperti',
  closedUntil: 'Chiusi · riapriamo {when}',
  corpusFailed: 'Le FAQ non si sono ricaricate: il bot usa ancora la versione precedente.',
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
  min: 'min',
  hour: 'h',
  day: 'g',
  now: 'adesso',
  mustClaim: 'Prendi in carico la conversazione per rispondere.',
  handledBy: 'La sta seguendo {name}: puoi aggiungere una nota interna.',
  followers: '{n} follower',
  opened: 'aperto il {d}',
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
  tooMany: 'Too many failed attempts. Try again in {min} minutes.',
  queue: 'Queue',
  queueEmpty: 'Nobody is waiting. Well done!',
  open: 'Open',
  closedUntil: 'Closed · back {when}',
  corpusFailed: 'The FAQ failed to reload: the bot still answers from the previous version.',
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
  min: 'min',
  hour: 'h',
  day: 'd',
  now: 'now',
  mustClaim: 'Claim the conversation to reply.',
  handledBy: '{name} is handling it: you can add an internal note.',
  followers: '{n} followers',
  opened: 'opened {d}',
};

/** The UI language: Italian when the browser prefers it, English otherwise. */
export const lang = (navigator.language || 'en').toLowerCase().startsWith('it') ? 'it' : 'en';
const dict = lang === 'it' ? it : en;

/** A label, with {placeholders} filled in. */
export function t(key, vars = {}) {
  const value = key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), dict);
  const text = typeof value === 'string' ? value : key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** "12 min", "1 h 5 min", "2 g 3 h". */
export function duration(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  if (minutes < 1) return `<1 ${dict.min}`;
  if (minutes < 60) return `${minutes} ${dict.min}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} ${dict.hour} ${minutes % 60} ${dict.min}` : `${hours} ${dict.hour}`;
  return hours % 24 ? `${Math.floor(hours / 24)} ${dict.day} ${hours % 24} ${dict.hour}` : `${Math.floor(hours / 24)} ${dict.day}`;
}

/** A clock time or date for a message. */
export function when(iso) {
  const d = new Date(iso);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return new Intl.DateTimeFormat(lang === 'it' ? 'it-IT' : 'en-GB', sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d);
}

/** A phrase for when the team is back ("lunedì alle 9:00"). */
export function reopening(iso) {
  const d = new Date(iso);
  const fmt = new Intl.DateTimeFormat(lang === 'it' ? 'it-IT' : 'en-GB', { weekday: 'long', hour: 'numeric', minute: '2-digit' });
  return fmt.format(d);
}
