/**
 * @module pipeline/private-channel
 * Moving a customer from a public thread to a DM (a step of turn-effects.ts): the public prompt,
 * the private conversation opened or continued, its first message and the request for data it
 * carries on.
 */
import type { FaqEntry } from '../core/corpus.js';
import type { Conversation, InboundMessage } from '../core/types.js';
import { newId } from '../util/ids.js';
import { say } from './messages.js';
import { asksForOrder, orderOnFile } from './order-on-file.js';
import type { TurnScope } from './turn-effects.js';

/**
 * "Vi ho scritto in DM", "ti ho mandato un messaggio privato", "controllate i DM"; "I sent you a
 * DM", "check your DMs": the customer says, in public, that they wrote in private. Read alone it
 * was "please rephrase", or a fresh prompt to the DM they had already written to.
 */
const WROTE_PRIVATELY = new RegExp(
  [
    String.raw`(?<![\p{L}])(?:vi|ti)\s+(?:ho\s+)?(?:gi[aà]\s+)?(?:scritto|mandato|inviato|contattat[oi])\s+(?:anche\s+|gi[aà]\s+)?(?:un\s+)?(?:messaggio\s+)?(?:in|per|un|via|nei|su)\s+(?:dm|privato|direct|pvt|messaggio\s+privato|messaggi\s+privati|privat[oa])(?![\p{L}])`,
    String.raw`(?<![\p{L}])(?:vi|ti)\s+(?:ho\s+)?(?:gi[aà]\s+)?(?:scritto|mandato|inviato)\s+(?:un\s+)?(?:dm|direct|messaggio\s+privato)(?![\p{L}])`,
    String.raw`(?<![\p{L}])(?:controllate|guardate|leggete|controlla|guarda|leggi)\s+(?:i\s+|nei\s+|in\s+|tra\s+i\s+)?(?:vostri\s+|tuoi\s+)?(?:dm|direct|messaggi\s+privati|privati|privato)(?![\p{L}])`,
    String.raw`\bi\s+(?:have\s+|'ve\s+|just\s+|already\s+)*(?:sent|dm'?e?d|messaged|wrote\s+to|written\s+to)\s+you(?:\s+(?:a|an)\s+(?:dm|direct\s+message|private\s+message|pm)|\s+(?:in|via|by|on)\s+(?:dm|dms|private|direct\s+message|pm|private\s+message))?\b(?=.*\b(?:dm|dms|direct|private|pm)\b|\s+dm'?e?d)`,
    String.raw`\bi\s+(?:have\s+|'ve\s+|just\s+|already\s+)*dm'?e?d\s+(?:you|u)\b`,
    String.raw`\b(?:check|see|read|look\s+at)\s+(?:your\s+)?(?:dms?|direct\s+messages|private\s+messages|inbox|pms?)\b`,
    String.raw`\b(?:sent|dropped)\s+(?:you\s+)?(?:a\s+)?(?:dm|direct\s+message|private\s+message|pm)\b`,
  ].join('|'),
  'iu',
);

/** True when a public message says the customer wrote to the brand in private. */
export function saysWrotePrivately(text: string): boolean {
  return WROTE_PRIVATELY.test(text);
}

/** The public prompt with an apology before it stays within a post on X (280). */
const PUBLIC_PROMPT_MAX = 270;
/** An answer's opening apology: "Ci dispiace molto!", "Scusaci per l'errore!", "We're so sorry!", "Sorry about that!". */
const APOLOGY = /^(?:ci\s+dispiace|mi\s+dispiace|scusa(?:ci|teci|te)?|spiacenti|we['’]re\s+(?:so\s+|really\s+|very\s+)?sorry|so\s+sorry|sorry|apologies)\b[^.!?]{0,40}[.!]/iu;

/** The apology an FAQ answer opens with, if it does. */
export function apologyOf(answer: string): string | undefined {
  return APOLOGY.exec(answer.trim())?.[0];
}

/** A request's end when it has none of its own (a DM prompt waits for the customer to come to private). */
export const FOREVER = '9999-12-31T23:59:59.999Z';

/** The key of the customer's private conversation on the message's channel. */
export function privateKey(msg: Pick<InboundMessage, 'channel' | 'customer'>): string {
  return `${msg.channel}:private:${msg.customer.platformId}`;
}

/**
 * Moves a request for private data to a DM: the public prompt (with a link when the customer can
 * be written to, or asking them to follow), the DM's first message, and the request the DM continues.
 * `again`: the customer was sent to the DM before (and says they followed, or wrote there: no DM arrived).
 */
export async function promptPrivate(scope: TurnScope, conversation: Conversation, entry: FaqEntry | undefined, again?: { followed: boolean }): Promise<void> {
  const { input, out, customer } = scope;
  const { language } = scope.facts;
  const reach = await input.reach(customer);
  const open = reach === 'open';
  const key = open ? (again ? 'dmPromptOpenAgain' : 'dmPromptOpen') : !again ? 'dmPromptFollow' : again.followed ? 'dmPromptFollowedNotYet' : 'dmPromptFollowAgain';
  // A problem told in public ("terzo ordine sbagliato di fila", "my parcel arrived damaged") is met
  // with the apology the entry's answer opens with ("Scusaci per l'errore!"), not only with where to
  // continue: the answer itself goes to the DM.
  const sorry = again || !entry ? undefined : apologyOf(entry.answer);
  const text = say(key, language);
  out.reply({ kind: 'dm_prompt', text: sorry && sorry.length + text.length < PUBLIC_PROMPT_MAX ? `${sorry} ${text}` : text, canMessagePrivately: open });
  if (open) await openPrivateChannel(scope, conversation, entry);
  // The DM continues this request (its kinds of data), however long the customer takes to get there.
  conversation.dataRequest = { asks: entry?.asks_for, faqId: entry?.id, at: input.at, until: FOREVER };
}

/**
 * Opens the private side of the case: a DM that tells the customer where to continue.
 * `opener`: what the DM says when no FAQ entry asked for it (default: the usual opener).
 */
export async function openPrivateChannel(scope: TurnScope, publicConversation: Conversation, entry: FaqEntry | undefined, opener?: string): Promise<void> {
  const { input, context, customer, deps, out, requestUntil } = scope;
  const { language } = scope.facts;
  const { msg, adapter, at } = input;
  if (!adapter.capabilities.privateMessages || msg.visibility !== 'public') return;
  if (out.replies.some((r) => r.visibility === 'private')) return;
  const reach = await input.reach(customer);
  if (reach !== 'open') return;
  const key = privateKey(msg);
  const existing = context.related.find((c) => c.key === key);
  const privateConversation: Conversation =
    existing && existing.state !== 'assigned' && existing.state !== 'queued'
      ? { ...existing, caseId: publicConversation.caseId, state: existing.state === 'resolved' ? 'bot' : existing.state, updatedAt: at }
      : existing ?? {
          id: newId('cv'),
          key,
          channel: msg.channel,
          visibility: 'private',
          customerId: customer.id,
          caseId: publicConversation.caseId,
          state: 'bot',
          missStreak: 0,
          flags: [],
          language,
          createdAt: at,
          updatedAt: at,
        };
  // Already asked for the same in the DM, and the customer has not written there since (a second
  // post with data in public): the public warning is enough, the DM is not said again; the DM, with
  // the request it carries, joins this case (a case opened since, the old one resolved) for the desk.
  const asked = existing?.dataRequest;
  if (
    existing &&
    asked &&
    asked.faqId === entry?.id &&
    new Date(asked.until).getTime() > new Date(at).getTime() &&
    (existing.lastInboundAt === undefined || existing.lastInboundAt < asked.at)
  ) {
    out.extraConversations.set(existing.id, { ...privateConversation, dataRequest: asked });
    return;
  }
  // The opener asks for the customer's details: a request the DM's next message may fill. Asking
  // for an order number from a customer who gave one in an earlier case, the DM (never the public
  // reply) asks whether it is the same order.
  const onFile = orderOnFile(privateConversation, publicConversation.caseId, new Date(at));
  const offer = onFile && asksForOrder(entry) ? say('onFileOffer', language, { then: deps.hours.describe(new Date(onFile.at), new Date(at), language) }) : undefined;
  const withRequest: Conversation = {
    ...privateConversation,
    dataRequest: { asks: entry?.asks_for, faqId: entry?.id, at, until: requestUntil, ...(offer !== undefined ? { onFile: true as const } : {}) },
  };
  out.extraConversations.set(withRequest.id, withRequest);
  const text = entry ? deps.fitAnswer(entry, adapter.capabilities, 'private').join('\n') : (opener ?? say('dmOpener', language, { brand: deps.settings.brandName }));
  // inReplyTo = the public message: channels that open private replies from a public post use it (Facebook comments).
  out.send(withRequest, 'private', { kind: 'text', text }, msg.id);
  if (offer !== undefined) out.send(withRequest, 'private', { kind: 'text', text: offer }, msg.id);
}
