/**
 * @module pipeline/turn-decision
 * The third step of a customer's turn (turn-plan.ts): the facts the decision table looks at
 * (decide.ts), gathered from the message, its understanding and the conversation, and the decision.
 */
import { DATA_KINDS, type DataKind } from '../core/corpus.js';
import type { TurnContext, Understanding } from '../core/ports.js';
import type { Case, Conversation, Language } from '../core/types.js';
import { answersWithCode, decide, fills, type Decision } from './decide.js';
import { namesNothing } from './follow-up-question.js';
import { resolveLabel, type ResolvedLabel } from './labels.js';
import { returning } from './returning.js';
import { optsOut } from './opt-out.js';
import { saysWrotePrivately } from './private-channel.js';
import { triedAlready } from './tried-already.js';
import { codeOfAnswer } from './code-of-answer.js';
import { questionsOf, sameAnswer } from './other-question.js';
import { CONTINUES_HOURS, declinesSameOrder, meansSameOrder, onlySaysSame, orderOnFile, saysStillNotSorted } from './order-on-file.js';
import type { OpenedTurn } from './turn-open.js';
import type { TurnInput, TurnPlanDeps } from './turn-plan.js';
import { STORY_WORDS, type RefinedUnderstanding } from './understanding-refine.js';
import { otherLanguage } from './other-language.js';

/** A request for data the message may fill (see `openRequest`). */
export type OpenRequest = { asks?: DataKind[]; faqId?: string; onFile?: true };

/** What the decision was taken on, as the effects of the turn need it again. */
export interface TurnFacts {
  language: Language;
  /** The kinds of identifying data the message carries. */
  carries: DataKind[];
  /** A request for data the bot made here (or in the public thread that sent the customer here). */
  request?: OpenRequest;
  /** The order the customer gave in an earlier case here (private only). */
  onFile?: Conversation['onFile'];
  /** This conversation's case, resolved before this message (by a person or not). */
  resolvedBefore?: Pick<Case, 'id' | 'resolvedAt' | 'resolvedBy'>;
  /** The label the message is read as, resolved to its FAQ entry or intent. */
  top?: ResolvedLabel;
}

/** Gathers the facts of the turn and takes the decision (decide.ts's table). */
export function decideTurn(
  deps: TurnPlanDeps,
  input: Pick<TurnInput, 'msg' | 'adapter' | 'now' | 'knowledge'>,
  context: TurnContext,
  opened: OpenedTurn,
  refined: RefinedUnderstanding,
): { decision: Decision; facts: TurnFacts } {
  const { msg, adapter, now, knowledge } = input;
  const { conversation, kase, customer, siblings, midConversation } = opened;
  const { understanding, chosen, yesToOptions, leansOn, beyondAnswer, answerPart } = refined;
  const language = understanding.language;

  // A request for data the bot made here (or in the public thread that sent the customer here).
  const carries = identifyingKinds(understanding);
  const request = openRequest(conversation, siblings, now);
  const noticeMs = (deps.settings.queueNoticeMinutes ?? 5) * 60_000;

  // The order the customer gave in an earlier case here (private only): "sì, lo stesso" while the bot
  // waits for an order number is that one (pipeline/order-on-file.ts).
  const onFile = orderOnFile(conversation, kase.id, now);
  const onFileAnswer =
    onFile && request && msg.visibility === 'private' && carries.length === 0 && (request.asks === undefined || request.asks.length === 0 || request.asks.includes('order_number'))
      ? meansSameOrder(msg.text, request.onFile === true)
        ? 'same'
        : request.onFile === true && declinesSameOrder(msg.text)
          ? 'declined'
          : undefined
      : undefined;

  // "Ancora niente" soon after a person resolved this conversation's case: that case is not over.
  // Or the case it was in before this one, when the bot has said nothing but small talk since ("ciao"
  // first, then "il pacco non è ancora arrivato": it asked for the order number again).
  const earlier = conversation.earlierCase;
  const smallTalkSince =
    earlier?.resolvedAt !== undefined &&
    conversation.caseId !== earlier.id &&
    conversation.state === 'bot' &&
    conversation.dataRequest === undefined &&
    !(conversation.lastAnswer !== undefined && conversation.lastAnswer.at > earlier.resolvedAt);
  const resolvedBefore = context.case?.status === 'resolved' && context.conversation?.caseId === context.case.id ? context.case : smallTalkSince ? earlier : undefined;
  const byPerson = resolvedBefore?.resolvedBy !== undefined && !['bot', 'idle', 'customer', 'erased'].includes(resolvedBefore.resolvedBy);
  const continuesCase =
    msg.visibility === 'private' &&
    byPerson &&
    resolvedBefore?.resolvedAt !== undefined &&
    now.getTime() - new Date(resolvedBefore.resolvedAt).getTime() <= CONTINUES_HOURS * 3_600_000 &&
    saysStillNotSorted(msg.text);

  const ranked = understanding.classification.ranked;
  const best = chosen !== undefined ? { label: chosen, confidence: 1 } : ranked[0];
  const top = best ? resolveLabel(best.label, best.confidence, knowledge.corpus, language) : undefined;

  const decision = decide({
    state: conversation.state,
    visibility: msg.visibility,
    text: msg.text,
    understanding,
    top,
    missStreak: conversation.missStreak,
    dataRequest:
      request && msg.visibility === 'private'
        ? {
            filled: fills(carries, request.asks) || answersWithCode(msg.text, understanding.entities, request.asks),
            entry: request.faqId === undefined ? undefined : knowledge.corpus.faq.find((e) => e.id === request.faqId),
            asks: request.asks,
            sameAsBefore: onFileAnswer === 'same',
            declinedOnFile: onFileAnswer === 'declined',
          }
        : undefined,
    carries,
    attachment: HAS_ATTACHMENT.test(msg.text),
    stickersOnly: STICKERS_ONLY.test(msg.text),
    noticeDue: !conversation.noticeAt || now.getTime() - new Date(conversation.noticeAt).getTime() >= noticeMs,
    midConversation,
    returning: returning(context.conversation, midConversation, msg.text, now),
    customer: { handle: customer.handle, followers: customer.followers },
    rules: deps.settings.rules,
    thresholds: { answer: deps.settings.answerThreshold, clarify: deps.settings.clarifyThreshold },
    yesToOptions,
    saysSameUnasked: onFileAnswer === undefined && chosen === undefined && !yesToOptions && !msg.payload && onlySaysSame(msg.text),
    onSpike: msg.spikeTopic !== undefined,
    followUp: leansOn !== undefined && namesNothing(msg.text, understanding.language),
    beyondAnswer: beyondAnswer === true && !namesNothing(msg.text, understanding.language),
    optsOut: optsOut(msg.text),
    wrotePrivately: msg.visibility === 'public' && saysWrotePrivately(msg.text),
    triedAlready: context.conversation !== undefined && triedAlready(msg.text, understanding.language, context.conversation, now, knowledge.corpus.faq),
    codeOfAnswer:
      context.conversation !== undefined &&
      chosen === undefined &&
      !msg.payload &&
      codeOfAnswer(msg.text, context.conversation, knowledge.corpus.faq, now, top !== undefined && top.confidence >= deps.settings.answerThreshold),
    asksSeveral: questionsOf(msg.text).length >= 2,
    longUnclear: (msg.text.match(/[\p{L}\p{N}]+/gu) ?? []).length >= STORY_WORDS && !otherLanguage(msg.text),
    sameAsLastAnswer: top?.entry !== undefined && conversation.lastAnswer !== undefined && sameAnswer(knowledge.corpus, top.entry.id, conversation.lastAnswer.faqId),
    answerPart,
    continuesCase,
    crisis: deps.crisis?.(msg.text, language, msg.channel),
    unaddressed: msg.heard === true && msg.visibility === 'public' && adapter.capabilities.publicRepliesNeedAddress === true,
    caseWithPerson: siblings.some((s) => s.state === 'queued' || s.state === 'assigned'),
  });
  return { decision, facts: { language, carries, request, onFile, resolvedBefore, top } };
}

/** The kinds of identifying data a message carries (private entities: order numbers, codes, emails…). */
export function identifyingKinds(understanding: Pick<Understanding, 'entities'>): DataKind[] {
  const kinds = new Set<DataKind>();
  for (const e of understanding.entities) if (e.private && (DATA_KINDS as readonly string[]).includes(e.kind)) kinds.add(e.kind as DataKind);
  return [...kinds];
}

/**
 * The request for data a message may fill: this conversation's own (until it runs out), a legacy
 * private conversation left `awaiting_private`, or the public thread's DM prompt that sent the
 * customer here.
 */
function openRequest(conversation: Conversation, siblings: readonly Conversation[], now: Date): OpenRequest | undefined {
  const live = (r: Conversation['dataRequest']) => r !== undefined && new Date(r.until).getTime() > now.getTime();
  if (live(conversation.dataRequest)) return conversation.dataRequest;
  if (conversation.visibility === 'private' && conversation.state === 'awaiting_private') return {};
  const prompt = siblings.find((s) => s.state === 'awaiting_private');
  if (!prompt) return undefined;
  return prompt.dataRequest ? (live(prompt.dataRequest) ? prompt.dataRequest : undefined) : {};
}

/**
 * Attachments described in brackets (InboundMessage.text: `[image: https://…]`, `[image]`,
 * `[invoice.pdf]`, `[image/png]`) and no words besides.
 */
const ATTACHMENT = String.raw`\[(?:(?:image|video|audio|file|attachment|location|fallback|template|sticker)(?::[^\]\n]*)?|[^\]\s]+\.[A-Za-z0-9]{1,5}|[a-z]+\/[\w.+-]+)\]`;
const ATTACHMENTS_ONLY = new RegExp(String.raw`^(?:\s*${ATTACHMENT})+\s*$`, 'i');
export const attachmentsOnly = (text: string): boolean => ATTACHMENTS_ONLY.test(text);
const HAS_ATTACHMENT = new RegExp(ATTACHMENT, 'i');
/** Stickers and nothing else (`[sticker]`, `[sticker: https://…]`), as channels describe them. */
const STICKERS_ONLY = /^(?:\s*\[sticker(?::[^\]\n]*)?\])+\s*$/i;
