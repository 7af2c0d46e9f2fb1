/**
 * @module pipeline/code-of-answer
 * "SCONTO10", "WELCOME-15", «ho inserito BLACKFRIDAY ma non va»: a code and next to nothing else,
 * sent soon after an FAQ answer that tells the customer how to use a code (a discount code, a gift
 * card, the invoice's SDI code). The customer types the code they have trouble with. Read alone it
 * was "please rephrase" (a person only after a second miss), the same answer again ("il codice
 * SCONTO10 non funziona"), or, shaped like an order number ("PROMO2024"), the order-status request.
 * The answer was given already: a person checks that code (decide.ts), and the bot never repeats it
 * (it may be the customer's own).
 */
import type { FaqEntry } from '../core/corpus.js';
import type { Conversation } from '../core/types.js';
import { withoutMentions } from './courtesy.js';

/** How long after an FAQ answer a code may be about it (as for "I tried that already"). */
const AFTER_ANSWER_MS = 30 * 60_000;

/** Words by which an answer tells the customer to type a code. */
const SPEAKS_OF_CODES = /(?<![\p{L}])(?:codic[ei]|codes?|coupons?|vouchers?)(?![\p{L}])/iu;

/** Tokens of a message: words and codes with inner dashes, slashes, dots or underscores. */
const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?(?:[-_/.][\p{L}\p{N}]+)*/gu;

/**
 * Words that may stand beside the code: greetings and courtesies, words that name it or say it was
 * typed, and words that say it did not work ("il mio codice è…", "I entered…", "non funziona",
 * "says expired"). Any other word makes the message something else, read as usual.
 */
const BESIDE = new Set([
  // greetings, courtesies
  'ciao', 'salve', 'buongiorno', 'buonasera', 'hi', 'hello', 'hey', 'grazie', 'thanks', 'thx', 'please', 'pls', 'per', 'favore', 'ok',
  // naming the code
  'il', 'lo', 'la', 'mio', 'questo', 'codice', 'sconto', 'coupon', 'promo', 'buono', 'regalo', 'voucher', 'è', 'e', 'ecco', 'a', 'me',
  'my', 'the', 'this', 'code', 'discount', 'gift', 'card', 'is', 'it', 'it’s', "it's", 'its', 'here', 'i', 'have', 'got', 'mine',
  // typed it
  'ho', 'inserito', 'messo', 'usato', 'provato', 'scritto', 'entered', 'used', 'tried', 'typed', 'put', 'in', 'with', 'con',
  // and it did not work
  'ma', 'but', 'non', 'funziona', 'va', 'valido', 'accettato', 'accetta', 'prende', 'scaduto', 'dice', 'errore', 'sbagliato',
  'not', "doesn't", 'doesn’t', 'does', "didn't", 'didn’t', 'did', "won't", 'won’t', "isn't", 'isn’t', 'work', 'working', 'works',
  'valid', 'invalid', 'accepted', 'expired', 'says', 'error', 'wrong',
]);

/**
 * True when the token is written as codes are: letters and digits together ("SCONTO10",
 * "WELCOME-15"), five digits or more ("4455667"), or, when nothing in the message was understood,
 * capitals alone ("BLACKFRIDAY"; "GRAZIE" is understood, and stays thanks).
 */
function codeShaped(token: string, understood: boolean): boolean {
  const letters = (token.match(/\p{L}/gu) ?? []).length;
  const digits = (token.match(/\p{N}/gu) ?? []).length;
  if (letters + digits < 4 || letters + digits > 24) return false;
  if (letters > 0 && digits > 0) return true;
  if (letters === 0) return digits >= 5;
  return !understood && letters >= 5 && token === token.toUpperCase() && token !== token.toLowerCase();
}

/**
 * True when `text`, within half an hour of an FAQ answer that speaks of codes (`lastAnswer`), is one
 * code with at most six words beside it that name it, say it was typed or that it did not work.
 * `understood`: the message was understood as something at the answer threshold (then a word in
 * capitals is a word, not a code).
 */
export function codeOfAnswer(
  text: string,
  conversation: Pick<Conversation, 'lastAnswer'>,
  faq: readonly FaqEntry[],
  now: Date,
  understood: boolean,
): boolean {
  const last = conversation.lastAnswer;
  if (!last || now.getTime() - new Date(last.at).getTime() > AFTER_ANSWER_MS || text.length > 120) return false;
  const entry = faq.find((e) => e.id === last.faqId);
  if (!entry || !SPEAKS_OF_CODES.test(entry.answer)) return false;
  const tokens = withoutMentions(text).match(TOKEN) ?? [];
  const codes = tokens.filter((t) => !BESIDE.has(t.toLowerCase()) && codeShaped(t, understood));
  const others = tokens.filter((t) => !BESIDE.has(t.toLowerCase()) && !codes.includes(t));
  return codes.length === 1 && others.length === 0 && tokens.length <= 7;
}
