/**
 * @module pipeline/courtesy
 * "Grazie, ma non ho capito", "thanks but that doesn't answer my question": a courtesy that opens
 * an objection. What the customer means is what follows "ma" / "but"; read whole, the thanks win
 * and the bot answers "you're welcome" to someone it has not helped. The message is understood
 * by that part alone (its stored text is as written).
 */

/** One courtesy ("grazie mille", "ok", "thanks for the answer"). */
const COURTESY = String.raw`(?:ok(?:ay)?|va bene|perfetto|capito|grazie(?: mille| tante| ancora)?|gentilissim[oaie]|thank you(?: so much| very much| again)?|thanks?(?: a lot| so much| again)?|thx|tnx|ty|thank u|grazie 1000|grz|great|got it|cool|fine)(?:\s+(?:per|for)\s+(?:(?:la|il|le|i|the|your)\s+|l')?\p{L}+|\s+(?:dell'|della\s+|del\s+)\p{L}+)?`;

/** Courtesies that may open a message, one or more ("ok grazie"), then "ma" / "but" and the point. */
const COURTESY_THEN_BUT = new RegExp(
  String.raw`^\s*(?:${COURTESY}[\s,!.]*)+(?:ma|però|pero|tuttavia|eppure|but|however|yet)(?=[\s,.!]|$)[\s,.!]*(\S+\s+\S.*)$`,
  'iu',
);

/** Courtesies that open a message ("grazie mille eh, …", "thanks, …"), with what follows. */
const COURTESY_OPENING = new RegExp(String.raw`^\s*(?:${COURTESY}(?:\s+(?:eh|ah|davvero|really|eh già))?(?:[\s,!.]+|$))+(.*)$`, 'iu');

/**
 * What follows the courtesies that open a message, when it says something of its own (two words or
 * more): "ancora niente pacco dopo 10 giorni" in "grazie mille eh, ancora niente pacco dopo 10
 * giorni 🙄"; undefined when the message does not open with a courtesy or is nothing else.
 */
export function afterCourtesy(text: string): string | undefined {
  const m = COURTESY_OPENING.exec(withoutMentions(text));
  const rest = m?.[1]?.trim();
  if (!rest) return undefined;
  return (rest.match(/\p{L}{2,}/gu) ?? []).length >= 2 ? rest : undefined;
}

/**
 * Greetings that may open a message ("ciao", "buongiorno a tutti", "hi there", "hello team"), and
 * announcements of a question ("quick question:", "una domanda veloce,"): "quick" is not express shipping.
 */
const GREETING_OPENING = new RegExp(
  String.raw`^\s*(?:(?:ciao|salve|buongiorno|buon\s?giorno|buonasera|buona\s+sera|buon\s+pomeriggio|ehi|ehilà|hey|hi|hello|hiya|howdy|good\s+(?:morning|afternoon|evening)|morning|hola|(?:(?:i\s+have|i've\s+got|just)\s+)?(?:a\s+|one\s+)?quick\s+question|(?:ho\s+|avrei\s+)?(?:una\s+)?domanda\s+(?:veloce|velocissima|al\s+volo)|(?:one|a)\s+question)(?:\s+(?:a\s+tutti|ragazzi|there|team|guys|all|everyone|folks))?(?:[\s,!.:;-]+|$))+(.*)$`,
  'iu',
);

/**
 * What follows the greeting that opens a message, when it says something of its own (two words or
 * more): "do you ship to Switzerland?" in "hey, do you ship to Switzerland?". Read whole, a
 * greeting word can outweigh a question with a word the FAQ does not know, and the customer who
 * asked is asked how they can be helped.
 */
export function afterGreeting(text: string): string | undefined {
  const m = GREETING_OPENING.exec(withoutMentions(text));
  const rest = m?.[1]?.trim();
  if (!rest) return undefined;
  return (rest.match(/\p{L}{2,}/gu) ?? []).length >= 2 ? rest : undefined;
}

/** An announcement of a question ("quick question", "una domanda veloce"), as GREETING_OPENING knows them. */
const ANNOUNCEMENT = /(?:(?:(?:i\s+have|i've\s+got|just)\s+)?(?:a\s+|one\s+)?quick\s+question|(?:ho\s+|avrei\s+)?(?:una\s+)?domanda\s+(?:veloce|velocissima|al\s+volo)|(?:one|a)\s+question)/iu;

/**
 * The announcement of a question, when the message is nothing else but greetings and it ("ciao,
 * domanda veloce", "hi there, quick question!"): read whole, "veloce" / "quick" leaned on express
 * shipping; alone, the announcement is the `help` phrase (the bot asks how it can help).
 */
export function onlyAnnouncement(text: string): string | undefined {
  const bare = withoutMentions(text);
  const m = GREETING_OPENING.exec(bare);
  if (!m || (m[1] ?? '').trim() !== '') return undefined;
  return ANNOUNCEMENT.exec(bare)?.[0];
}

/**
 * True when the message opens with an announcement of a question ("quick question: …", "domanda
 * veloce, …"): its words ("quick", "veloce") are no part of the question, and lean on express shipping.
 */
export function opensWithAnnouncement(text: string): boolean {
  const bare = withoutMentions(text);
  const m = GREETING_OPENING.exec(bare);
  if (!m) return false;
  const opening = bare.slice(0, bare.length - (m[1] ?? '').length);
  return ANNOUNCEMENT.test(opening);
}

/** The part of the text that says what the customer wants: after "grazie, ma", "thanks but"; else the whole text. */
export function pointOf(text: string): string {
  const m = COURTESY_THEN_BUT.exec(withoutMentions(text));
  return m ? m[1]!.trim() : text;
}

/** Acknowledgements a message may be made of besides the courtesies above ("ok cool", "alright, perfect"). */
const ACKNOWLEDGEMENT = /^(?:(?:ok(?:ay|ok)?|k|cool|great|perfect|perfetto|perfetta|fine|alright|all right|nice|awesome|super|ottimo|benissimo|bene|va bene|d'accordo|daccordo|capito|chiaro|ricevuto|got it|understood|noted|grazie(?: mille| tante)?|thanks?(?: a lot| so much)?|thank you(?: so much| very much)?|ty|thx|👍|🙏|👌|🙂|😊|😀)(?:[\s,!.]+|$))+$/iu;

/**
 * A message of acknowledgements and courtesies only ("ok cool", "va bene, perfetto", "ok grazie 👍"):
 * `thanks` when it thanks, `ok` when it only acknowledges; undefined when it says anything else.
 */
export function onlyCourtesy(text: string): 'thanks' | 'ok' | undefined {
  const bare = withoutMentions(text).trim();
  if (bare === '' || !ACKNOWLEDGEMENT.test(bare)) return undefined;
  return /\b(?:grazie|thanks?|thank you|ty|thx)\b|🙏/iu.test(bare) ? 'thanks' : 'ok';
}

/**
 * What makes thanks sarcastic: an eye-roll or an unamused face, "thanks for nothing", or the
 * matter still not done ("un'altra settimana senza pacco", "still waiting", "yet again").
 */
const SOUR_NOTE = /🙄|😒|😤|😡|🤬|👎|🖕|(?<![\p{L}\p{N}])(?:for nothing|per niente|per nulla|(?:ancora|sempre) (?:niente|nulla)|un['’]altra (?:settimana|volta|giornata)|another (?:week|day|month|delay)|still (?:nothing|no|not|waiting)|yet again|di nuovo in ritardo|late again|as usual|come al solito|come sempre)(?![\p{L}\p{N}])/iu;

/** Every courtesy of a message, wherever it stands ("great, … thanks a lot 🙄"). */
const ANY_COURTESY = new RegExp(String.raw`(?<![\p{L}\p{N}])${COURTESY}(?![\p{L}\p{N}])`, 'giu');

/**
 * Thanks said with a sour note ("great, another week without my parcel. thanks a lot 🙄",
 * "grazie per niente"): sarcasm, not gratitude. Returns the message without its courtesies, what
 * the customer complains of ("another week without my parcel"), or '' when nothing is left;
 * undefined when the message has no sour note.
 */
export function sarcasticThanks(text: string): string | undefined {
  const bare = withoutMentions(text);
  if (!SOUR_NOTE.test(bare)) return undefined;
  const rest = bare.replace(ANY_COURTESY, ' ').replace(/\p{Extended_Pictographic}/gu, ' ').replace(/^[\s,.!;:-]+|[\s,.!;:-]+$/g, '').replace(/\s+/g, ' ');
  return (rest.match(/\p{L}{2,}/gu) ?? []).length >= 2 ? rest : '';
}

/** True when the message is mentions and nothing else ("@bottegarossi", "@bottegarossi !"): a call. */
export function onlyMentions(text: string): boolean {
  return /^@\w/u.test(text.trim()) && /^[\s!.]*$/u.test(withoutMentions(text));
}

/** The text without the @mentions that open it on X ("@bottegarossi grazie, ma…"), trimmed. */
export function withoutMentions(text: string): string {
  return text.trim().replace(/^(?:@\w+[\s,:]*)+/u, '').trim();
}
