/**
 * @module pipeline/order-on-file
 * A customer who gave their order number in private for a case, and writes again days later about
 * an order ("il pacco non è ancora arrivato"), should not have to dig the number out again: in
 * private, the bot asks whether it is the same order as last time (`Conversation.onFile`: only the
 * kinds of data, the case and the date are kept, the number stays in that case's message and is
 * never repeated). "Sì", "lo stesso di prima", "yes, same one" hand the new case to a person, who
 * finds the number in the earlier case; "no, un altro" is asked for the other number. Never in
 * public: a public thread knows nothing of what was said in private.
 */
import type { FaqEntry } from '../core/corpus.js';
import type { Conversation } from '../core/types.js';

/** How long an order given in an earlier case is offered again. */
export const ON_FILE_DAYS = 60;

/**
 * The order the customer gave in an earlier case of this private conversation, when it may be
 * offered now (a case other than `caseId`, within ON_FILE_DAYS); undefined otherwise.
 */
export function orderOnFile(conversation: Pick<Conversation, 'visibility' | 'onFile'>, caseId: string, now: Date): Conversation['onFile'] {
  const onFile = conversation.onFile;
  if (conversation.visibility !== 'private' || !onFile || onFile.caseId === caseId) return undefined;
  if (!onFile.kinds.includes('order_number')) return undefined;
  const age = now.getTime() - new Date(onFile.at).getTime();
  return age >= 0 && age <= ON_FILE_DAYS * 86_400_000 ? onFile : undefined;
}

/**
 * An entry whose private answer asks for an order number a person will check (no custom action:
 * an action would want the number itself).
 */
export function asksForOrder(entry: FaqEntry | undefined): entry is FaqEntry {
  if (!entry || !entry.private || entry.escalate || entry.handler !== undefined) return false;
  return entry.asks_for === undefined || entry.asks_for.length === 0 || entry.asks_for.includes('order_number');
}

/** "No", "no, è un altro", "nope, a different one": the customer says it is another order. */
const NOT_THE_SAME = /^\s*(?:no+|nope|nah|negativo)(?=[\s,!.]|$)|\bnon\s+(?:è\s+|e'\s+)?(?:lo\s+stesso|quello)\b|\b(?:un\s+altr[oa]|un'altr[oa]|altro\s+ordine|un\s+ordine\s+diverso|another(?:\s+one|\s+order)?|a\s+different\s+(?:one|order)|not\s+the\s+same)\b/iu;
/** "lo stesso di prima", "quello di prima", "the same one", "same order as before". */
const THE_SAME = /\b(?:(?:lo|la|sempre\s+lo|proprio\s+lo)\s+stess[oa]|stesso\s+ordine|medesimo(?:\s+ordine)?|quell[oa]\s+di\s+(?:prima|l'altra\s+volta|la\s+volta\s+scorsa)|ordine\s+di\s+prima|sempre\s+quello|(?:the\s+)?same\s+(?:one|order)|the\s+same|as\s+before|from\s+(?:before|last\s+time)|that\s+one)\b/iu;
/** A bare yes ("sì", "si esatto", "yes please"). */
const YES = /^\s*(?:s[iì]+|yes+|yep|yeah|yup|sure|certo|esatto|esattamente|giusto|correct|exactly|confermo|proprio\s+quello|that's\s+right|right)(?=[\s,!.]|$)/iu;

/** Short enough to be an answer to the offer, not a new story. */
const words = (text: string) => (text.match(/[\p{L}\p{N}']+/gu) ?? []).length;

/**
 * The customer says it is the order of last time: "lo stesso di prima" at any time the bot waits for
 * an order number; a bare "sì" only when the bot offered it (`offered`).
 */
export function meansSameOrder(text: string, offered: boolean): boolean {
  if (text.length > 100 || NOT_THE_SAME.test(text)) return false;
  if (THE_SAME.test(text) && words(text) <= 10) return true;
  return offered && YES.test(text) && words(text) <= 6;
}

/** Words that may come with "lo stesso" / "the same one" in a message that says nothing else. */
const ALONG_WITH_SAME = /^(?:s[iì]+|yes+|yep|yeah|yup|sure|certo|esatto|ok|okay|è|e'|it's|its|it|is|sempre|ordine|order|di|del|come|as|prima|before|last|time|volta|please|grazie|thanks|one)$/iu;

/**
 * The message says only that it is "the same one" ("sì, lo stesso", "yes, same one", "quello di
 * prima"): an answer to an offer of the order on file. Without that offer (`meansSameOrder` found
 * nothing to say it of), there is nothing it can be the same as: the bot asks what the customer needs.
 */
export function onlySaysSame(text: string): boolean {
  const bare = text.trim().replace(/^(?:@\w+[\s,:]*)+/u, '');
  if (bare.length > 60) return false;
  const same = THE_SAME.exec(bare);
  if (!same) return false;
  const rest = `${bare.slice(0, same.index)} ${bare.slice(same.index + same[0].length)}`;
  return (rest.match(/[\p{L}\p{N}']+/gu) ?? []).every((w) => ALONG_WITH_SAME.test(w));
}

/** "No", "no, un altro ordine": the order offered is not the one (the bot asks for the other's number). */
export function declinesSameOrder(text: string): boolean {
  return text.length <= 80 && words(text) <= 8 && NOT_THE_SAME.test(text);
}

/** How long after a person resolved a case a "still nothing" is about that case. */
export const CONTINUES_HOURS = 72;

/**
 * "Ancora niente", "still nothing", "non è ancora arrivato": the customer says the matter a person
 * just resolved is not over. Read alone, "ancora niente" was the refund-delay entry; a case a
 * person closed a day ago is what it is about.
 */
const STILL = /(?:^|[\s,.!])(?:ancora\s+(?:niente|nulla|non|nessun[ao]?)|niente\s+ancora|nulla\s+ancora|sempre\s+niente|non\s+(?:è\s+|e\s+|e'\s+)?(?:ancora|mai)\s+arrivat[oaie]|non\s+(?:l'ho|li\s+ho|l'abbiamo)\s+ancora\s+ricevut[oaie]|still\s+(?:nothing|no|not|hasn'?t|haven'?t|isn'?t|waiting|missing)|nothing\s+yet|(?:hasn'?t|has\s+not|haven'?t|never)\s+(?:arrived|come|turned\s+up|shown\s+up))(?=[\s,.!?🙄😡😤]|$)/iu;

/** True when the message says the matter is still not sorted, in a few words. */
export function saysStillNotSorted(text: string): boolean {
  return text.length <= 140 && words(text) <= 15 && STILL.test(text);
}
