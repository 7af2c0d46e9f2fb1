/**
 * @module pipeline/surveys
 * Satisfaction surveys in the dialogue: what a survey says, how an answer is recognised (a score
 * 1–5 by quick reply, by a platform's feedback form or as a number in text, with an optional
 * comment; "stop" to opt out), and the turn that records it on the surveyed case. A low score
 * opens a follow-up case in the queue (`planFollowUp`), with the surveyed case attached
 * (`followUpOf`). The scheduled side (when a survey goes, on which channel) is in follow-ups.ts.
 */
import type { DomainEvent } from '../core/events.js';
import type { TurnContext } from '../core/ports.js';
import { transition } from '../core/state.js';
import type { Case, CaseSurvey, Conversation, Customer, EscalationReason, InboundMessage, Language, OutboxItem, QueueInfo, QuickReplyOption, Reply, StoredMessage } from '../core/types.js';
import { newId } from '../util/ids.js';
import type { ConversationWriter, Planned } from './conversation-writer.js';
import { say } from './messages.js';
import { saysStop } from './opt-out.js';
import { storedInbound } from './turn-plan.js';

/** How long after it was sent a survey's answer is still taken as one (then a number is just a message). */
export const SURVEY_ANSWER_MS = 7 * 24 * 3_600_000;

/** The quick-reply payload of a score: `csat:1` … `csat:5` (channels' feedback forms map to it too). */
export const surveyPayload = (score: number): string => `csat:${score}`;

/** The survey as a reply, in the customer's language. */
export function surveyReply(caseId: string, language: Language, brand: string): Extract<Reply, { kind: 'survey' }> {
  const question = say('surveyQuestion', language, { brand });
  const options: QuickReplyOption[] = [1, 2, 3, 4, 5].map((n) => ({ title: String(n), payload: surveyPayload(n) }));
  return { kind: 'survey', text: `${question}\n${say('surveyHow', language)}`, question, options, caseId, language };
}

/** What a customer's message says to a survey. */
export type SurveyAnswer = { kind: 'score'; score: 1 | 2 | 3 | 4 | 5; comment?: string } | { kind: 'stop' };

/** "4", "4/5", "4 su 5", "4 out of 5", then maybe a comment ("4 - quick and kind"). */
const SCORE_TEXT = /^\s*([1-5])(?![\d.,]\d)(\s*(?:stelle|stella|stars?))?(\s*(?:\/|su|out of|di)\s*5)?\s*([-–—:,.;!)]+\s*|\s+|$)([\s\S]*)$/i;
/**
 * What makes a leading number a quantity, not a score, when nothing parts them ("3 giorni fa ho
 * ordinato…", "2 paia di jeans…", "2 items missing"): a customer writing again within a week of
 * the survey is asking something, and was thanked for the rating instead.
 */
const QUANTITY = /^(?:giorn[oi]|settiman[ae]|mes[ei]|or[ae]|minuti|paia|paio|pezz[oi]|articol[oi]|pacch[io]|pacco|ordin[ei]|capi|cap[oi]|magli[ae]|scarpe|volte|euro|€|days?|weeks?|months?|hours?|minutes?|items?|pairs?|pieces?|parcels?|packages?|boxes|orders?|times|euros?|dollars?)(?=[\s,.!?]|$)/i;
/** A score in words, alone ("cinque", "four stars", "tre su 5"): a word inside a sentence ("uno dei pacchi…") is not one. */
const SCORE_WORD = /^\s*(uno|una|due|tre|quattro|cinque|one|two|three|four|five)(?:\s*(?:stelle|stella|stars?))?(?:\s*(?:\/|su|out of|di)\s*5)?\s*[!.]*\s*$/i;
const WORD_SCORES: Record<string, 1 | 2 | 3 | 4 | 5> = { uno: 1, una: 1, one: 1, due: 2, two: 2, tre: 3, three: 3, quattro: 4, four: 4, cinque: 5, five: 5 };
/** Stars ("⭐⭐⭐⭐", "★★★☆☆"), then anything said after them. */
const SCORE_STARS = /^\s*((?:(?:⭐|🌟|★)\uFE0F?\s*){1,5})(?:☆\s*)*(?:[-–—:,.;!]+\s*)?([\s\S]*)$/u;
const SCORE_PAYLOAD = /^csat:([1-5])$/;

/** Reads a message as an answer to a survey; undefined: it is not one (a new question). */
export function readSurveyAnswer(text: string, payload?: string): SurveyAnswer | undefined {
  const fromPayload = payload ? SCORE_PAYLOAD.exec(payload) : null;
  if (fromPayload) {
    const score = Number(fromPayload[1]) as 1 | 2 | 3 | 4 | 5;
    const comment = text.trim();
    return comment && comment !== String(score) ? { kind: 'score', score, comment: comment.slice(0, 2000) } : { kind: 'score', score };
  }
  if (saysStop(text)) return { kind: 'stop' };
  const word = SCORE_WORD.exec(text);
  if (word) return { kind: 'score', score: WORD_SCORES[word[1]!.toLowerCase()]! };
  const stars = SCORE_STARS.exec(text);
  if (stars) {
    const score = [...stars[1]!.matchAll(/⭐|🌟|★/gu)].length as 1 | 2 | 3 | 4 | 5;
    const comment = (stars[2] ?? '').trim();
    return comment ? { kind: 'score', score, comment: comment.slice(0, 2000) } : { kind: 'score', score };
  }
  const m = SCORE_TEXT.exec(text);
  if (!m) return undefined;
  const score = Number(m[1]) as 1 | 2 | 3 | 4 | 5;
  const comment = (m[5] ?? '').trim();
  // A number run into words, with no "/5", "stelle" or punctuation after it: a quantity ("3 giorni
  // fa…") or a question ("2 domande: …?") is a new message, not a score.
  const bare = !m[2] && !m[3] && !/[-–—:,.;!)]/.test(m[4] ?? '');
  if (bare && comment && (QUANTITY.test(comment) || /\?\s*$/.test(comment))) return undefined;
  return comment ? { kind: 'score', score, comment: comment.slice(0, 2000) } : { kind: 'score', score };
}

/** The survey of a case still waiting for its answer (sent, unanswered, not too long ago). */
export function pendingSurvey(kase: Case | undefined, now: Date): CaseSurvey | undefined {
  const s = kase?.status === 'resolved' ? kase.survey : undefined;
  if (!s?.sentAt || s.answeredAt !== undefined || s.skipped) return undefined;
  return now.getTime() - new Date(s.sentAt).getTime() <= SURVEY_ANSWER_MS ? s : undefined;
}

/** What the answer turn needs besides the message and its context. */
export interface SurveyAnswerDeps {
  defaultLocale: Language;
  /** Scores at or below this open a follow-up in the queue (0: never). */
  lowScore: number;
}

/** What an answer turn did. */
export interface SurveyAnswerResult {
  answer: SurveyAnswer;
  caseId: string;
  conversation: Conversation;
  /** A low score: the conversation waits for the follow-up the pipeline opens next (`planFollowUp`). */
  followUp: boolean;
  replies: Array<Omit<OutboxItem, 'seq'>>;
}

/**
 * Plans the turn of a customer's answer to the survey of the conversation's (resolved) case: the
 * score and comment on the case (or the opt-out on the customer), the thanks, and the events.
 * The conversation stays resolved and in that case: an answer opens no case. A low score marks the
 * conversation (`followUpOf`) and the case (`survey.followUpDue`) for the follow-up, which opens a
 * new case: a second change, since one change writes one case (see `openFollowUp`).
 */
export function planSurveyAnswer(
  deps: SurveyAnswerDeps,
  input: { msg: InboundMessage; customer: Customer; now: Date; at: string },
  context: TurnContext,
  answer: SurveyAnswer,
): Planned<SurveyAnswerResult> {
  const { msg, at } = input;
  let customer = input.customer;
  let kase = context.case!;
  const language = context.conversation!.language ?? deps.defaultLocale;
  let conversation: Conversation = {
    ...context.conversation!,
    lastInboundId: msg.id,
    lastInboundAt: msg.sentAt ?? at,
    updatedAt: at,
    ref: msg.ref ?? context.conversation!.ref,
  };
  const inbound: StoredMessage = { ...storedInbound(msg, conversation.id, kase.id, at), action: answer.kind === 'stop' ? 'survey_stop' : 'survey_answer' };
  const events: DomainEvent[] = [{ type: 'message.received', conversationId: conversation.id, caseId: kase.id, messageId: inbound.id, at }];
  let text: string;
  let followUp = false;
  if (answer.kind === 'stop') {
    customer = { ...customer, surveyOptOutAt: at };
    text = say('surveyStopped', language);
  } else {
    followUp = deps.lowScore > 0 && answer.score <= deps.lowScore;
    kase = {
      ...kase,
      survey: {
        ...kase.survey,
        answeredAt: at,
        score: answer.score,
        ...(answer.comment ? { comment: answer.comment } : {}),
        // Until the follow-up is open: the survey job finishes it if this process stops first.
        ...(followUp ? { followUpDue: conversation.id } : {}),
      },
    };
    if (followUp) conversation = { ...conversation, followUpOf: kase.id };
    text = say(followUp ? 'surveyLowScore' : 'surveyThanks', language);
    events.push({
      type: 'csat.received',
      conversationId: conversation.id,
      caseId: kase.id,
      channel: conversation.channel,
      score: answer.score,
      at,
    });
  }
  const reply: Omit<OutboxItem, 'seq'> = {
    id: newId('out'),
    conversationId: conversation.id,
    channel: msg.channel,
    visibility: msg.visibility,
    recipient: customer.platformId,
    inReplyTo: msg.id,
    reply: { kind: 'text', text },
    author: { kind: 'bot' },
    status: 'pending',
    attempts: 0,
    notBefore: input.now.getTime(),
    createdAt: at,
    ref: conversation.ref,
    customerLastMessageAt: msg.sentAt ?? at,
  };
  const out: StoredMessage = {
    id: reply.id,
    conversationId: conversation.id,
    caseId: kase.id,
    direction: 'out',
    author: { kind: 'bot' },
    text,
    visibility: msg.visibility,
    at,
    action: inbound.action,
  };
  return {
    write: {
      inbound: { channel: msg.channel, id: msg.id },
      customer,
      conversations: [conversation],
      case: kase,
      messages: [inbound, out],
      outbox: [reply],
      events,
    },
    result: { answer, caseId: kase.id, conversation, followUp, replies: [reply] },
  };
}

/** What opening a follow-up needs. */
export interface FollowUpDeps {
  defaultLocale: Language;
  /** Queue data (priority, SLA due time) for the follow-up. */
  queueInfo(input: { reason: EscalationReason; enqueuedAt: Date; vip: boolean }): QueueInfo;
  isVip(customer: Customer | undefined): boolean;
}

/**
 * Opens the follow-up a low score asked for: a new case (`followUpOf` the surveyed one) holding
 * the conversation, queued for a person, with a note saying why. Nothing when the conversation is
 * no longer marked (done already, or the customer wrote meanwhile and the turn took it on).
 */
export function planFollowUp(deps: FollowUpDeps, context: TurnContext, now: Date): Planned<{ caseId?: string }> {
  const conversation = context.conversation;
  const surveyed = context.requestedCase;
  if (!conversation?.followUpOf || !surveyed || surveyed.id !== conversation.followUpOf) return { result: {} };
  const at = now.toISOString();
  // A new case of the customer's may be open already (they wrote on another conversation): the follow-up joins it.
  const kase: Case = context.openCase
    ? { ...context.openCase, conversationIds: [...new Set([...context.openCase.conversationIds, conversation.id])] }
    : { id: newId('cs'), customerId: conversation.customerId, status: 'open', conversationIds: [conversation.id], openedAt: at, followUpOf: surveyed.id };
  const queue = deps.queueInfo({ reason: 'low_satisfaction', enqueuedAt: now, vip: deps.isVip(context.customer) });
  const { followUpOf: _done, ...rest } = conversation;
  const moved: Conversation = {
    ...rest,
    caseId: kase.id,
    state: conversation.state === 'queued' || conversation.state === 'assigned' ? conversation.state : transition(conversation.state, 'queued'),
    queue: conversation.state === 'queued' || conversation.state === 'assigned' ? conversation.queue : queue,
    missStreak: 0,
    noticeAt: at,
    updatedAt: at,
  };
  const language = conversation.language ?? deps.defaultLocale;
  const score = surveyed.survey?.score ?? 0;
  const note: StoredMessage = {
    id: newId('note'),
    conversationId: conversation.id,
    caseId: kase.id,
    direction: 'note',
    author: { kind: 'bot' },
    // The comment stays on the surveyed case (shown with it); the note names the case.
    text: say('surveyFollowUpNote', language, { score, case: surveyed.id, comment: surveyed.survey?.comment ? ` (“${surveyed.survey.comment.slice(0, 300)}”)` : '' }),
    visibility: 'private',
    at,
  };
  const events: DomainEvent[] = [{ type: 'conversation.escalated', conversationId: conversation.id, caseId: kase.id, reason: 'low_satisfaction', at }];
  return { write: { conversations: [moved], case: kase, messages: [note], outbox: [], events }, result: { caseId: kase.id } };
}

/** Marks the surveyed case's follow-up done (`followUpDue` cleared, the case it opened named). */
export function planFollowUpDone(context: TurnContext, surveyedId: string, followUpCaseId: string | undefined): Planned<void> {
  const surveyed = context.requestedCase;
  if (!surveyed || surveyed.id !== surveyedId || !surveyed.survey?.followUpDue) return { result: undefined };
  const { followUpDue: _done, ...survey } = surveyed.survey;
  return {
    write: { case: { ...surveyed, survey: { ...survey, ...(followUpCaseId ? { followUpCaseId } : {}) } }, conversations: [], messages: [], outbox: [], events: [] },
    result: undefined,
  };
}

/**
 * Opens a low score's follow-up (`planFollowUp`), then clears the surveyed case's `followUpDue`:
 * two changes, each idempotent, so the survey job can finish what a stopped process left.
 */
export async function openFollowUp(
  writer: ConversationWriter,
  deps: FollowUpDeps,
  query: { key: string; customerId: string; caseId: string },
  now: () => Date,
): Promise<string | undefined> {
  const { caseId } = await writer.change(query, (context) => planFollowUp(deps, context, now()));
  await writer.change(query, (context) => planFollowUpDone(context, query.caseId, caseId));
  return caseId;
}
