/**
 * @module pipeline/messages
 * What the bot says when it is not quoting the FAQ, in Italian and English. Care teams can
 * read and change these in one place.
 */
import type { DataKind } from '../core/corpus.js';
import type { Language } from '../core/types.js';

/** The bot's own phrases; `{brand}` and `{when}` are filled in. */
export const MESSAGES = {
  greet: {
    it: 'Ciao! Sono l’assistente virtuale di {brand}. Come posso aiutarti?',
    en: 'Hi! I’m {brand}’s virtual assistant. How can I help?',
  },
  greetAgain: {
    it: 'Eccomi! Dimmi pure, come posso aiutarti?',
    en: 'I’m here! Tell me, how can I help?',
  },
  /** The customer comes back to a conversation after a pause, or a case closed ("ciao di nuovo", "hi again"). */
  greetBack: {
    it: 'Ciao di nuovo! Di cosa hai bisogno?',
    en: 'Hi again! What do you need?',
  },
  /** Said before a reminder to a customer who only called ("ciao?", "hello?"). */
  here: {
    it: 'Eccomi!',
    en: 'I’m here!',
  },
  resolvedByCustomer: {
    it: 'Perfetto, sono contento che sia tutto a posto! Chiudo la richiesta: se ti serve altro, scrivimi pure.',
    en: 'Great, glad it’s sorted! I’m closing your request: if you need anything else, just write.',
  },
  /** The customer withdraws a request waiting in the queue ("lascia stare", "never mind"). */
  withdrawnInQueue: {
    it: 'Va bene, nessun problema! Chiudo la richiesta: se ti serve altro, scrivimi pure.',
    en: 'All right, no problem! I’m closing your request: if you need anything else, just write.',
  },
  /** The customer says it is solved, with nothing waiting in the queue ("ho risolto da solo"). */
  sorted: {
    it: 'Bene, sono contento che sia tutto a posto! Se ti serve altro, scrivimi pure.',
    en: 'Great, glad it’s sorted! If you need anything else, just write.',
  },
  /** The customer withdraws what they asked ("lascia stare", "never mind"): no "you're welcome". */
  withdrawn: {
    it: 'Va bene, nessun problema! Se ti serve altro, scrivimi pure.',
    en: 'All right, no problem! If you need anything else, just write.',
  },
  queueNotice: {
    it: 'Sei ancora in coda ({position}): un collega ti risponderà {when}. Non serve riscrivere, i tuoi messaggi sono già qui.',
    en: 'You’re still in the queue ({position}): a colleague will answer {when}. No need to write again, your messages are already here.',
  },
  /** Details or a file sent while waiting in the queue: added to the request. */
  receivedForPerson: {
    it: 'Grazie, ricevuto: l’ho aggiunto alla tua richiesta e il collega che la segue lo vedrà.',
    en: 'Thanks, got it: I’ve added it to your request, and the colleague handling it will see it.',
  },
  /** Not understood, and written in another language than Italian or English: said in both. */
  otherLanguage: {
    it: 'Mi dispiace, per ora rispondo solo in italiano e in inglese. Sorry, for now I can only answer in Italian or English.',
    en: 'Sorry, for now I can only answer in English or Italian. Mi dispiace, per ora rispondo solo in inglese e in italiano.',
  },
  /** Written in public while the case waits for a person in the DM ({when}: as in queueNotice). */
  caseInPrivate: {
    it: 'Abbiamo la tua richiesta in messaggio privato (DM): un collega ti risponderà lì {when}.',
    en: 'We have your request in our private messages (DM): a colleague will answer you there {when}.',
  },
  /** Written in public while a person is answering the case in the DM. */
  caseInPrivateHeld: {
    it: 'Un collega sta già seguendo la tua richiesta in messaggio privato (DM): ti rispondiamo lì.',
    en: 'A colleague is already looking after your request in our private messages (DM): we’ll answer you there.',
  },
  queueNoticeClosed: {
    it: 'Sei in coda ({position}). Ora siamo chiusi: ti risponderemo {when}. I tuoi messaggi sono già qui.',
    en: 'You’re in the queue ({position}). We’re closed right now: we’ll answer {when}. Your messages are already here.',
  },
  queueNext: {
    it: 'nessuno prima di te',
    en: 'you’re next',
  },
  queueAheadOne: {
    it: 'c’è 1 persona prima di te',
    en: '1 person ahead of you',
  },
  queueAhead: {
    it: 'ci sono {n} persone prima di te',
    en: '{n} people ahead of you',
  },
  thank: {
    it: 'Grazie a te! Se ti serve altro, scrivimi pure.',
    en: 'You’re welcome! If you need anything else, just write.',
  },
  /** Praise ("siete i migliori!", "love your shoes ❤️"): thanks back, not "you're welcome". */
  praised: {
    it: 'Grazie, ci fa davvero piacere! Se ti serve altro, scrivimi pure.',
    en: 'Thank you, that’s lovely to hear! If you need anything else, just write.',
  },
  clarify: {
    it: 'Non sono sicuro di aver capito. Puoi riformulare la domanda con qualche dettaglio in più?',
    en: 'I’m not sure I understood. Could you rephrase your question with a bit more detail?',
  },
  clarifyAttachment: {
    it: 'Ho ricevuto il tuo allegato, ma non riesco ad aprirlo: scrivimi in poche parole di cosa hai bisogno, oppure chiedi di parlare con una persona.',
    en: 'I got your attachment, but I can’t open it: tell me in a few words what you need, or ask to talk to a person.',
  },
  /** Where the channel has no buttons: {options} named in the text. */
  clarifyNamed: {
    it: 'Non sono sicuro di aver capito: intendi {options}? Se è altro, scrivimi qualche dettaglio in più.',
    en: 'I’m not sure I understood: do you mean {options}? If it’s something else, tell me a bit more.',
  },
  clarifyOptions: {
    it: 'Non sono sicuro di aver capito: intendevi una di queste?',
    en: 'I’m not sure I understood: did you mean one of these?',
  },
  /** Where the channel has no buttons: which of the {options} named. */
  whichNamed: {
    it: 'Quale intendi: {options}?',
    en: 'Which one do you mean: {options}?',
  },
  whichOption: {
    it: 'Quale di queste? Tocca un’opzione o scrivi il suo numero.',
    en: 'Which one? Tap an option or type its number.',
  },
  dmPromptOpen: {
    it: 'Per aiutarti ci servono alcuni dati personali, che è meglio non scrivere in pubblico: continuiamo in messaggio privato (DM), ti abbiamo appena scritto.',
    en: 'To help you we need some personal details, which are best kept out of public view: let’s continue in a private message (DM), we’ve just written to you.',
  },
  dmPromptFollow: {
    it: 'Per aiutarti ci servono alcuni dati personali, che è meglio non scrivere in pubblico: scrivici in messaggio privato (DM), oppure seguici così possiamo scriverti noi.',
    en: 'To help you we need some personal details, which are best kept out of public view: send us a private message (DM), or follow us so we can write to you.',
  },
  /** Sent to the DM before, the customer writes in public again and no DM of theirs has arrived ("vi ho scritto in privato", "allora?"). */
  dmPromptFollowAgain: {
    it: 'Non vediamo ancora un tuo messaggio privato: scrivici in DM, oppure seguici così possiamo scriverti noi. Meglio non scrivere qui i tuoi dati.',
    en: 'We don’t see a private message from you yet: send us a DM, or follow us so we can write to you. Best not to post your details here.',
  },
  /** Sent to the DM before (or saying they wrote there), nothing of theirs arrived, and the brand can write to them: it has, in the DM. */
  dmPromptOpenAgain: {
    it: 'Non vediamo ancora un tuo messaggio privato: ti abbiamo scritto noi in DM, continuiamo lì. Meglio non scrivere qui i tuoi dati.',
    en: 'We don’t see a private message from you yet: we’ve written to you in a DM, let’s continue there. Best not to post your details here.',
  },
  /** "Vi ho scritto in DM", "I sent you a DM" in public, and their DM is here: the conversation goes on there. */
  dmArrived: {
    it: 'Grazie, abbiamo il tuo messaggio privato: continuiamo lì, in DM.',
    en: 'Thanks, we have your private message: let’s continue there, in the DM.',
  },
  /** "Vi seguo", "followed you", but the platform does not let the brand write to them yet. */
  dmPromptFollowedNotYet: {
    it: 'Grazie! Non riusciamo ancora a scriverti in privato: scrivici tu in DM e continuiamo lì.',
    en: 'Thanks! We can’t message you privately yet: send us a DM and we’ll continue there.',
  },
  dmOpener: {
    it: 'Ciao, sono l’assistente di {brand}. Qui siamo in privato: scrivimi i dettagli (per esempio il numero d’ordine o il codice cliente) e un collega ti risponderà.',
    en: 'Hi, this is {brand}’s assistant. We’re in private here: send me the details (for example your order number or customer code) and a colleague will answer you.',
  },
  /**
   * In private, asking for an order number from a customer who gave one in an earlier case ({then}:
   * when they wrote about it): the number itself is never repeated.
   */
  onFileOffer: {
    it: 'Se è per lo stesso ordine di cui ci hai scritto l’ultima volta ({then}), rispondi pure «sì»: il collega lo ritrova senza che tu debba cercare di nuovo il numero.',
    en: 'If it’s about the same order you wrote to us about last time ({then}), just reply “yes”: the colleague will find it without you looking up the number again.',
  },
  /** "Sì, lo stesso": the new case goes to a person, who finds the order in the earlier one. */
  privateCaseOnFile: {
    it: 'Perfetto: un collega riprende l’ordine di cui ci hai scritto {then} e ti risponderà {when}.',
    en: 'Great: a colleague will pick up the order you wrote to us about {then} and answer {when}.',
  },
  /** "Ancora niente" soon after a person resolved the case: it goes back to a person ({when}: as in escalateOpen). */
  continuesCase: {
    it: 'Mi dispiace che non sia ancora risolto. Riapro la tua richiesta e la passo di nuovo a un collega, che ti risponderà {when}.',
    en: 'Sorry it’s still not sorted. I’m reopening your request and passing it back to a colleague, who will answer {when}.',
  },
  /** "No, è un altro" to that offer ({what}: `describeNeeded`). */
  onFileDeclined: {
    it: 'Va bene: allora scrivimi {what}, e un collega verificherà.',
    en: 'All right: then send me {what}, and a colleague will check.',
  },
  /** A short follow-up the answer just given does not cover ("e per i saldi?" after the returns answer). */
  beyondAnswer: {
    it: 'Su questo non ho altre informazioni oltre alla risposta di prima. Se ti serve, scrivi «operatore» e ti passo a un collega.',
    en: 'I don’t have more on that than the answer I just gave. If you need it, write “agent” and I’ll pass you to a colleague.',
  },
  /** "Sì, lo stesso" when the bot offered nothing to be the same as. */
  sameAsWhat: {
    it: 'Non sono sicuro di quale richiesta intendi: dimmi pure di cosa hai bisogno (per esempio un ordine, una spedizione, un reso o un rimborso) e ti aiuto.',
    en: 'I’m not sure which request you mean: tell me what you need (for example an order, shipping, a return or a refund) and I’ll help.',
  },
  /** Still waiting for data the bot asked for ({what}: `describeNeeded`). */
  dataReminder: {
    it: 'Per andare avanti mi serve ancora {what}. Se non ce l’hai a portata di mano, scrivi «operatore» e ti passo a un collega.',
    en: 'To go on I still need {what}. If you don’t have it to hand, write “agent” and I’ll pass you to a colleague.',
  },
  heardDm: {
    it: 'Ciao, sono l’assistente di {brand}: abbiamo letto il tuo post e vorremmo aiutarti. Continuiamo qui in privato: scrivimi i dettagli (per esempio il numero d’ordine) e un collega ti risponderà.',
    en: 'Hi, this is {brand}’s assistant: we read your post and would like to help. Let’s continue here in private: send me the details (for example your order number) and a colleague will answer you.',
  },
  privacyWarning: {
    it: 'Attenzione: il tuo messaggio contiene dati personali visibili a tutti. Ti consigliamo di cancellarlo e di continuare con noi in messaggio privato (DM), dove possiamo aiutarti in sicurezza.',
    en: 'Careful: your message contains personal data that everyone can see. We suggest deleting it and continuing with us in a private message (DM), where we can help you safely.',
  },
  escalateOpen: {
    it: 'Ti passo a un collega del servizio clienti, che ti risponderà {when}.',
    en: 'I’m passing you to a colleague from customer care, who will answer {when}.',
  },
  escalateClosed: {
    it: 'Ti passo a un collega del servizio clienti. Ora siamo chiusi: ti risponderemo {when}.',
    en: 'I’m passing you to a colleague from customer care. We’re closed right now: we’ll answer {when}.',
  },
  escalateAngry: {
    it: 'Ci dispiace molto per il disagio. Un collega del servizio clienti prende in mano la tua segnalazione e ti risponderà {when}.',
    en: 'We’re really sorry for the trouble. A colleague from customer care is taking this over and will answer {when}.',
  },
  /** A code sent right after an answer about codes ("SCONTO10"): a person checks it, never named ({when}: as in escalateOpen). */
  codeCheck: {
    it: 'Grazie: un collega verificherà quel codice e ti risponderà {when}.',
    en: 'Thanks: a colleague will check that code and answer {when}.',
  },
  privateCase: {
    it: 'Grazie, ho tutto quello che serve. Un collega verificherà e ti risponderà {when}.',
    en: 'Thanks, I have what I need. A colleague will check and answer {when}.',
  },
  usually: {
    it: 'di solito entro {duration}',
    en: 'usually within {duration}',
  },
  soonAtTheLatest: {
    it: 'entro {duration} al più tardi',
    en: 'within {duration} at the latest',
  },
  atTheLatest: {
    it: 'al più tardi {when}',
    en: '{when} at the latest',
  },
  surveyQuestion: {
    it: 'Quanto ti ha soddisfatto l’aiuto di {brand}?',
    en: 'How satisfied are you with the help from {brand}?',
  },
  surveyHow: {
    it: 'Rispondi con un numero da 1 (per niente) a 5 (moltissimo), e se vuoi aggiungi un commento. Scrivi "stop" per non ricevere più queste domande.',
    en: 'Reply with a number from 1 (not at all) to 5 (very), and a comment if you like. Write "stop" to get no more of these questions.',
  },
  surveyThanks: {
    it: 'Grazie per la tua risposta! Ci aiuta a migliorare.',
    en: 'Thank you for your answer! It helps us improve.',
  },
  surveyLowScore: {
    it: 'Grazie per la tua risposta, e ci dispiace che non sia andata bene. Un collega riprenderà il tuo caso e ti scriverà qui.',
    en: 'Thank you for your answer, and we’re sorry it didn’t go well. A colleague will pick up your case and write to you here.',
  },
  /** "Non scrivetemi più", "stop messaging me", outside a survey: recorded, and the conversation closed. */
  optedOut: {
    it: 'Va bene: non ti scriveremo più per primi, e niente più domande sulla soddisfazione. Se ti serve aiuto, scrivici quando vuoi.',
    en: 'All right: we won’t write to you first any more, and no more satisfaction questions. If you need help, write to us any time.',
  },
  surveyStopped: {
    it: 'Va bene, non ti invieremo più domande sulla soddisfazione.',
    en: 'All right, we won’t send you satisfaction questions any more.',
  },
  surveyFollowUpNote: {
    it: 'Soddisfazione {score}/5 per il caso {case}{comment}: da ricontattare.',
    en: 'Satisfaction {score}/5 for case {case}{comment}: follow up.',
  },
  /**
   * An operator's one-click thank-you to a customer's praise heard by listening ({name}: ", their
   * handle," or nothing). Three wordings, picked by the post: X refuses a text the account already
   * posted, so two thank-yous to one author rarely read the same.
   */
  praiseThanks: {
    it: 'Grazie di cuore{name} per le belle parole! Ci fa davvero piacere.',
    en: 'Thank you so much{name} for the kind words! It really means a lot to us.',
  },
  praiseThanks2: {
    it: 'Che bello leggerti{name} grazie! Messaggi così ci danno la carica.',
    en: 'So lovely to read this{name} thank you! Messages like yours make our day.',
  },
  praiseThanks3: {
    it: 'Grazie mille{name} per il tuo messaggio: siamo felici che ti sia piaciuto!',
    en: 'Many thanks{name} for your message: we’re so glad you liked it!',
  },
} as const satisfies Record<string, Record<Language, string>>;

/** The phrase `key` in `language`, with `{name}` placeholders filled. */
export function say(key: keyof typeof MESSAGES, language: Language, vars: Record<string, string | number> = {}): string {
  return MESSAGES[key][language].replace(/\{(\w+)\}/g, (m, name: string) =>
    vars[name] === undefined ? m : String(vars[name]),
  );
}

/** What each kind of data is called when the bot asks for it again. */
const NEEDED: Record<DataKind, Record<Language, string>> = {
  order_number: { it: 'il numero d’ordine (lo trovi nell’email di conferma)', en: 'your order number (it’s in the confirmation email)' },
  customer_code: { it: 'il codice cliente', en: 'your customer code' },
  email: { it: 'l’indirizzo email del tuo account', en: 'your account’s email address' },
  phone: { it: 'il numero di telefono del tuo account', en: 'your account’s phone number' },
  iban: { it: 'l’IBAN', en: 'the IBAN' },
  card: { it: 'i dati della carta', en: 'the card details' },
  codice_fiscale: { it: 'il codice fiscale', en: 'your tax code (codice fiscale)' },
};

/** "il numero d’ordine o il codice cliente", "your order number or your customer code"; the details when no kind was named. */
export function describeNeeded(kinds: readonly DataKind[], language: Language): string {
  if (kinds.length === 0) return language === 'it' ? 'qualche dettaglio (per esempio il numero d’ordine o il codice cliente)' : 'a few details (for example your order number or customer code)';
  const names = kinds.map((k) => NEEDED[k][language]);
  const or = language === 'it' ? ' o ' : ' or ';
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')}${or}${names[names.length - 1]}`;
}

/**
 * A wait as people say it: "25 minuti", "1 ora e mezza", "4 hours" (over an hour, rounded up to
 * the half hour: it is an upper bound, never shorter than the minutes it stands for).
 */
export function sayDuration(minutes: number, language: Language): string {
  if (minutes <= 60) return language === 'it' ? `${minutes} minuti` : `${minutes} minutes`;
  const halves = Math.ceil(minutes / 30);
  const hours = Math.floor(halves / 2);
  const half = halves % 2 === 1;
  if (language === 'it') return `${hours} ${hours === 1 ? 'ora' : 'ore'}${half ? ' e mezza' : ''}`;
  return half ? `${hours}½ hours` : `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
}
