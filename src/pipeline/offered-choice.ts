/**
 * @module pipeline/offered-choice
 * The customer's answer to "did you mean one of these?". Buttons send the option's payload; a
 * customer who types instead writes "2", "la seconda", "the first one", the option's title, or,
 * when one option was offered, "sì" / "yes". Each of these picks the option, as the button would
 * have; anything else is a new message, understood as usual. Italian and English words are both
 * taken, whatever the message's language: "ok yes" is as clear in an Italian conversation.
 */
import type { Conversation } from '../core/types.js';
import { foldText } from '../util/fold.js';
import { withoutMentions } from './courtesy.js';

/** How long after the bot offered options a typed choice still refers to them. */
export const CHOICE_MINUTES = 30;

/** Ordinal words, folded, to their option number. */
const ORDINALS: Record<string, number> = {
  primo: 1, prima: 1, first: 1, uno: 1,
  secondo: 2, seconda: 2, second: 2, due: 2, two: 2,
  terzo: 3, terza: 3, third: 3, tre: 3, three: 3,
  quarto: 4, quarta: 4, fourth: 4, quattro: 4, four: 4,
  quinto: 5, quinta: 5, fifth: 5, cinque: 5, five: 5,
  ultimo: -1, ultima: -1, last: -1,
};

/** Words around a choice that say nothing more: "la seconda, grazie", "the first one please". */
const FILLER = new Set([
  'il', 'lo', 'la', 'l', 'i', 'le', 'quello', 'quella', 'questo', 'questa', 'opzione', 'numero', 'n', 'nr', 'scelgo', 'voglio', 'vorrei', 'intendevo', 'grazie', 'pure', 'per', 'favore', 'ok',
  'the', 'one', 'option', 'number', 'no', 'mean', 'meant', 'want', 'choose', 'please', 'thanks', 'thank', 'you', 'that', 'this', 'it',
]);

/** "Yes" to a single option offered: the message has one of these words, and only these and fillers ("sì, proprio quella", "yes please"). */
const YES = new Set(['si', 'certo', 'esatto', 'esattamente', 'giusto', 'proprio', 'quello', 'quella', 'questo', 'questa', 'yes', 'yep', 'yeah', 'yup', 'sure', 'correct', 'exactly', 'right', 'indeed', 'that']);
const YES_FILLER = new Set(['ok', 'grazie', 'perfetto', 'please', 'thanks', 'thank', 'you', 'one', 's', 'it', 'is']);

/** The options offered last, while a typed choice may still refer to them. */
function freshOffer(conversation: Pick<Conversation, 'lastOffer'>, now: Date): Array<{ title: string; payload: string }> | undefined {
  const offer = conversation.lastOffer;
  if (!offer || offer.options.length === 0) return undefined;
  return now.getTime() - new Date(offer.at).getTime() > CHOICE_MINUTES * 60_000 ? undefined : offer.options;
}

/** A message's words, folded, punctuation dropped (and the @mentions that open it on X: "@bottegarossi sì"). */
const wordsOf = (text: string): string => foldText(withoutMentions(text)).replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/** True when the message only says yes ("sì", "yes please", "sì, proprio quella"). */
function saysYes(said: string): boolean {
  const all = said.split(' ');
  return all.some((w) => YES.has(w)) && all.every((w) => YES.has(w) || YES_FILLER.has(w));
}

/**
 * The payload of the option the customer chose by typing, or undefined when the message is not a
 * choice among the options the bot offered last (or those are older than CHOICE_MINUTES).
 */
export function typedChoice(text: string, conversation: Pick<Conversation, 'lastOffer'>, now: Date): string | undefined {
  const options = freshOffer(conversation, now);
  if (!options) return undefined;
  const said = wordsOf(text);
  if (!said) return undefined;
  // The option's own title, as written on the button.
  const byTitle = options.find((o) => wordsOf(o.title) === said);
  if (byTitle) return byTitle.payload;
  if (options.length === 1 && saysYes(said)) return options[0]!.payload;
  // A number or an ordinal, with nothing else but filler words: "2", "la seconda", "option 1 please".
  const words = said.split(' ').filter((w) => !FILLER.has(w));
  if (words.length !== 1) return undefined;
  const word = words[0]!;
  const n = /^\d{1,2}$/.test(word) ? Number(word) : /^\d[°ºa-z]{0,2}$/.test(word) ? Number(word[0]) : ORDINALS[word];
  if (n === undefined) return undefined;
  const index = n === -1 ? options.length - 1 : n - 1;
  return options[index]?.payload;
}

/**
 * True when the customer said only "yes" to several options offered: not a choice, and not an
 * acknowledgement either (staying silent would leave them waiting). The bot asks which, once.
 */
export function yesToSeveral(text: string, conversation: Pick<Conversation, 'lastOffer'>, now: Date): boolean {
  const options = freshOffer(conversation, now);
  return options !== undefined && options.length > 1 && saysYes(wordsOf(text));
}
