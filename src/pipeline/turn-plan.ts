/**
 * @module pipeline/turn-plan
 * A customer's turn, planned: from the message, what it means and the conversation's context as
 * read, the records to write (customer, conversations, case, messages, replies) and what the turn
 * did. It writes nothing itself and may run again on a newer context when the commit found the
 * conversation changed (see conversation-writer).
 *
 * The turn in steps, each in its own module:
 * 1. open (turn-open.ts): the customer, the conversation and case the message continues (or new
 *    ones), the message as stored, the case's other conversations;
 * 2. understand (understanding-refine.ts): what the message means, read again where the whole text
 *    misleads (a typed choice, thanks or a greeting before the question, a short follow-up);
 * 3. decide (turn-decision.ts): the facts the decision table looks at, and its decision (decide.ts);
 * 4. carry out (turn-effects.ts, private-channel.ts): the replies, the DM, the escalation, the
 *    conversation's new fields, action by action;
 * 5. record (`recordTurn` below): the messages, conversations, case and events to write.
 */
import type { Corpus, FaqEntry } from '../core/corpus.js';
import type { ActionOutcome, ChannelAdapter, ChannelCapabilities, PrivateReach, TurnContext, Understanding } from '../core/ports.js';
import { transition } from '../core/state.js';
import type { Conversation, Customer, EscalationReason, InboundMessage, Language, OutboxItem, QueueInfo, QuickReplyOption, StoredMessage, Visibility } from '../core/types.js';
import type { EscalationRules } from '../handoff/escalation.js';
import { newId } from '../util/ids.js';
import type { Planned } from './conversation-writer.js';
import type { Decision } from './decide.js';
import type { ResolvedLabel } from './labels.js';
import { decideTurn, type TurnFacts } from './turn-decision.js';
import { carryOut, type ActionCall, type CarriedOut, type TurnScope } from './turn-effects.js';
import { openTurn, type OpenedTurn } from './turn-open.js';
import { TurnOutput } from './turn-output.js';
import { refineUnderstanding } from './understanding-refine.js';

export { isLabel, labelText } from './labels.js';
export { privateKey } from './private-channel.js';
export { identifyingKinds } from './turn-decision.js';
export { actionKey, type ActionCall } from './turn-effects.js';
export { mergeCustomer, storedInbound } from './turn-open.js';

/** Business hours as a turn needs them (implemented in handoff/business-hours). */
export interface HoursView {
  isOpen(at: Date): boolean;
  nextOpening(at: Date): Date;
  /** "lunedì alle 9:00" / "on Monday at 9:00". */
  describe(at: Date, now: Date, language: Language): string;
}

/** Where a conversation stands in the queue. */
export interface QueueStatus {
  /** 1: next to be answered (a conversation not queued yet counts as after the last). */
  position: number;
  /** Median minutes to a first response of recent escalations, when there are enough of them. */
  typicalWaitMinutes?: number;
}

/** What planning a turn needs besides the message and its context. */
export interface TurnPlanDeps {
  hours: HoursView;
  settings: {
    brandName: string;
    defaultLocale: Language;
    answerThreshold: number;
    clarifyThreshold: number;
    rules: EscalationRules;
    /** A queued customer is told where they stand at most this often (default 5). */
    queueNoticeMinutes?: number;
    /** How long a request for data stays open for a later message (default 30). */
    dataRequestMinutes?: number;
    /** Satisfaction answers: a score at or below `lowScore` opens a follow-up (0 or absent: never). */
    surveys?: { lowScore: number };
    /**
     * A care request heard without a mention where no public reply is allowed (X): besides queueing
     * it for a person, the bot opens a DM when the customer accepts DMs (the listening file's
     * `unaddressed.dm`; off by default). Never a public reply.
     */
    unaddressedDm?: boolean;
  };
  /** Posts to send for a FAQ answer on a channel (answer, answer_short or a numbered thread). */
  fitAnswer(entry: FaqEntry, caps: ChannelCapabilities, visibility: Visibility): string[];
  /** Options for a clarify, at most `max` (titles of ≤ 20 characters, payload the label). */
  clarifyOptions?(labels: string[], language: Language, max: number): QuickReplyOption[];
  /** Queue data (priority, SLA due time) for an escalation, or for a waiting case (`waiting`) the reason raises. */
  queueInfo(input: { reason: EscalationReason; enqueuedAt: Date; vip: boolean; waiting?: QueueInfo }): QueueInfo;
  /** Where a conversation stands in the queue (read when a waiting customer is told). */
  queueStatus(conversation: Conversation): Promise<QueueStatus>;
  /** Whether a message is about the crisis an operator opened, and its holding statement (none: no crisis mode). */
  crisis?(text: string, language: Language, channel: string): { topic: string; statement?: string } | undefined;
}

/** One message's turn, as the pipeline hands it to the planner. */
export interface TurnInput {
  msg: InboundMessage;
  key: string;
  adapter: ChannelAdapter;
  now: Date;
  at: string;
  knowledge: { corpus: Corpus };
  /** What the message means, in the conversation's language where the text did not settle it. */
  understand(previousLanguage: Language | undefined): Promise<Understanding>;
  /**
   * What another text means: the message read after the FAQ question the bot answered last (a
   * short follow-up of it), or one of the message's questions alone.
   */
  understandText(text: string, language: Language): Promise<Understanding>;
  /** Whether the brand can write to this customer in private (asked of the channel only when needed). */
  reach(customer: Customer): Promise<PrivateReach>;
  /**
   * Outcomes of the custom actions called for this turn so far, by `actionKey` of their input: a
   * plan that needs one it does not find here returns the call instead of a turn (see `planTurn`).
   */
  handled?: ReadonlyMap<string, ActionOutcome>;
}

/** What a planned turn did (the pipeline reports it and logs it). */
export interface TurnPlan {
  decision: Decision;
  escalation?: EscalationReason;
  top?: ResolvedLabel;
  language: Language;
  /** The turn's conversation as it will be written. */
  conversation: Conversation;
  /** The inbound message's action as stored. */
  action: string;
  /** The message is public and carries private data: flagged, to be hidden where the platform allows. */
  flagged: boolean;
  /** The custom action whose outcome the turn used (it answered, asked for a person, or failed). */
  handler?: string;
  replies: Array<Omit<OutboxItem, 'seq'>>;
}

/**
 * Plans one customer turn on the context read. When the decision is a custom action whose outcome
 * `input.handled` does not hold yet, it writes nothing and returns the call: an action is I/O, so
 * it runs outside the conversation's lock (pipeline.ts), and the turn is planned again, on what is
 * stored then, with its outcome.
 */
export async function planTurn(deps: TurnPlanDeps, input: TurnInput, context: TurnContext): Promise<Planned<TurnPlan | ActionCall>> {
  const { msg, now, at } = input;
  const opened = openTurn(input, context);
  // `conversation` is the turn's working copy: the steps below set its fields, and it is written at the end.
  const { conversation, customer } = opened;
  const refined = await refineUnderstanding(deps.settings, input, conversation);
  conversation.language = refined.understanding.language;
  // The customer's last known language, for their next conversation (turn-open.ts).
  customer.language = refined.understanding.language;
  const { decision, facts } = decideTurn(deps, input, context, opened, refined);

  const out = new TurnOutput({ msg, customer, now, at }, conversation);
  const requestUntil = new Date(now.getTime() + (deps.settings.dataRequestMinutes ?? 30) * 60_000).toISOString();
  const scope: TurnScope = { deps, input, context, customer, siblings: opened.siblings, understanding: refined.understanding, facts, out, requestUntil };
  const carried = await carryOut(scope, decision, conversation, opened.kase);
  if ('call' in carried) return { result: carried };
  return recordTurn(input, opened, refined.understanding, decision, facts, out, carried);
}

/** The records the turn writes, and what it did. */
function recordTurn(
  input: TurnInput,
  opened: OpenedTurn,
  understanding: Understanding,
  decision: Decision,
  facts: TurnFacts,
  out: TurnOutput,
  carried: CarriedOut,
): Planned<TurnPlan> {
  const { msg, at } = input;
  const { customer, inbound } = opened;
  const { escalation, notes } = carried;
  const replies = out.replies;
  let conversation = opened.conversation;
  let kase = carried.kase;
  const events = [...opened.events, ...carried.events];

  // Private data posted in public is flagged for the operators (and hidden where the platform
  // allows) whatever the bot does, even while a person holds the conversation.
  const flagged = msg.visibility === 'public' && understanding.entities.some((e) => e.private);
  if (flagged) {
    inbound.flags = ['private_data'];
    conversation.flags = [...new Set([...conversation.flags, 'private_data_public'])];
    events.push({ type: 'privacy.flagged', conversationId: conversation.id, messageId: inbound.id, at });
  }
  if (decision.action === 'silent') events.push({ type: 'conversation.updated', conversationId: conversation.id, at });

  conversation = { ...conversation, state: transition(conversation.state, carried.nextState), missStreak: carried.missStreak };
  const touched = new Map(carried.touched.map((c) => [c.id, c]));
  touched.set(conversation.id, conversation);
  for (const extra of out.extraConversations.values()) if (!touched.has(extra.id)) touched.set(extra.id, extra);
  for (const c of touched.values()) if (!kase.conversationIds.includes(c.id)) kase = { ...kase, conversationIds: [...kase.conversationIds, c.id] };

  if (carried.escalated) inbound.escalation = carried.escalated;
  const action = decision.action === 'intent_answer' || decision.action === 'handler' ? 'answer' : decision.action;
  inbound.action = escalation && (action !== 'answer' || decision.action === 'handler') ? 'escalate' : action;
  if (decision.action === 'answer' || decision.action === 'handler') inbound.faqId = decision.entry.id;
  const outgoing: StoredMessage[] = replies.map((r) => ({
    id: r.id,
    conversationId: r.conversationId,
    caseId: kase.id,
    direction: 'out',
    author: { kind: 'bot' },
    text: r.reply.text,
    visibility: r.visibility,
    at,
    action: inbound.action,
    // What the history shows of the bot's reply: the FAQ entry it answered with, the options it offered.
    ...(inbound.faqId !== undefined && r.conversationId === inbound.conversationId ? { faqId: inbound.faqId } : {}),
    ...(r.reply.kind === 'quick_replies' ? { quickReplies: r.reply.options.map((o) => ({ title: o.title, payload: o.payload })) } : {}),
  }));
  for (const text of notes) {
    outgoing.push({ id: newId('note'), conversationId: conversation.id, caseId: kase.id, direction: 'note', author: { kind: 'bot' }, text, visibility: 'private', at });
  }

  return {
    write: {
      inbound: { channel: msg.channel, id: msg.id },
      customer,
      conversations: [...touched.values()],
      case: kase,
      messages: [inbound, ...outgoing],
      outbox: replies,
      events,
    },
    result: { decision, escalation, top: facts.top, language: facts.language, conversation, action: inbound.action, replies, flagged, handler: carried.called?.handler },
  };
}
