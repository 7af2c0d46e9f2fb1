/**
 * @module pipeline/returning
 * A customer coming back to a conversation: after their case was closed, after a pause, or saying
 * so ("ciao di nuovo", "rieccomi", "hi again", "it's me again"). A greeting then is greeted back and
 * asked what they need ("Ciao di nuovo! Di cosa hai bisogno?"), not answered "Eccomi!" as a call
 * while the bot is busy, and the old case is not brought up by itself.
 */
import type { Conversation, Language } from '../core/types.js';
import { withoutMentions } from './courtesy.js';

/** After this long without a change in the conversation, a greeting is a customer coming back. */
export const RETURN_AFTER_MINUTES = 30;

/** "Ciao di nuovo", "rieccomi", "sono di nuovo io"; "hi again", "me again", "I'm back". */
const SAYS_AGAIN = /(?<![\p{L}\p{N}])(?:di\s+nuovo|ancora\s+io|rieccomi|again|i['’]?m\s+back|i\s+am\s+back)(?![\p{L}\p{N}])/iu;

/** "Rieccomi", "eccomi di nuovo", "sono di nuovo io", "it's me again", "me again", "I'm back": nothing else. */
const ONLY_BACK = /^\s*(?:(?:ciao|salve|hi|hello|hey)[\s,!.]*)?(?:rieccomi|eccomi\s+di\s+nuovo|(?:sono\s+)?(?:di\s+nuovo|ancora)\s+io|sono\s+(?:di\s+nuovo|ancora)\s+io|(?:it['’]?s\s+)?me\s+again|i['’]?m\s+back(?:\s+again)?|i\s+am\s+back)(?:[\s,!.]+(?:ciao|hi|hello|hey))?[\s!.😊🙂👋]*$/iu;

/** The greeting a message that only says the customer is back is read as. */
export const BACK_GREETING: Record<Language, string> = { it: 'ciao', en: 'hi' };

/** The call "?" or "??" alone is read as: "ci sei?", like "hello?" (a greeting, not a question to rephrase). */
export const CALL: Record<Language, string> = { it: 'ci sei?', en: 'anyone there?' };

/** True when the message is question marks and nothing else ("?", "??", "@brand ???"). */
export function onlyQuestionMarks(text: string): boolean {
  return /^[\s?!¿]*\?[\s?!]*$/u.test(withoutMentions(text));
}

/** True when the message only says the customer is back ("rieccomi", "it's me again"). */
export function onlySaysBack(text: string): boolean {
  return ONLY_BACK.test(withoutMentions(text));
}

/**
 * True when a customer who wrote in this conversation before comes back to it: its case was closed
 * since (`midConversation` false), or RETURN_AFTER_MINUTES passed since it last changed, or they
 * say so ("ciao di nuovo").
 */
export function returning(previous: Pick<Conversation, 'updatedAt'> | undefined, midConversation: boolean, text: string, now: Date): boolean {
  if (previous === undefined) return false;
  if (!midConversation || SAYS_AGAIN.test(text)) return true;
  return now.getTime() - new Date(previous.updatedAt).getTime() >= RETURN_AFTER_MINUTES * 60_000;
}
