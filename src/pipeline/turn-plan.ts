/**
 * @module pipeline/turn-plan
 * A customer's turn, planned: from the message, what it means and the conversation's context as
 * read, the records to write (customer, conversations, case, messages, replies) and what the turn
 * did. It writes nothing itself and may run again on a newer context when the commit found the
 * conversation changed (see conversation-writer).
 */
import { DATA_KINDS, faqLabel, type Corpus, type DataKind, type FaqEntry, type IntentDef } from '../core/corpus.js';
import type { DomainEvent } from '../core/events.js';
import type { ActionInput, ActionOutcome, ChannelAdapter, ChannelCapabilities, LabelScore, PrivateReach, TurnContext, Understanding } from '../core/ports.js';
import { transition, type ConversationState } from '../core/state.js';
import type {
  Case,
  Conversation,
  Customer,
  EscalationReason,
  InboundMessage,
  Language,
  OutboxItem,
  QueueInfo,
  QuickReplyOption,
  Reply,
  StoredMessage,
  Visibility,
} from '../core/types.js';
import type { EscalationRules } from '../handoff/escalation.js';
import { isVip } from '../handoff/escalation.js';
import { newId } from '../util/ids.js';
import type { Planned } from './conversation-writer.js';
import { answersWithCode, decide, fills, type Decision } from './decide.js';
import { describeNeeded, say, sayDuration } from './messages.js';
import { typedChoice, yesToSeveral } from './offered-choice.js';
import { followUpAnswers, followUpContext, namesNothing } from './follow-up-question.js';
import { otherLanguage } from './other-language.js';
import { afterCourtesy, afterGreeting, onlyAnnouncement, opensWithAnnouncement, pointOf } from './courtesy.js';
import { asksForOrder, CONTINUES_HOURS, declinesSameOrder, meansSameOrder, orderOnFile, saysStillNotSorted } from './order-on-file.js';
import { sameAnswerGroups } from '../corpus/load.js';
import { isLabel, labelText, resolveLabel, type ResolvedLabel } from './labels.js';
import { mergeCustomer, openTurn, storedInbound } from './turn-open.js';
import { refineUnderstanding } from './understanding-refine.js';

export { isLabel, labelText, mergeCustomer, storedInbound };

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

/** A custom action a turn needs before it can be planned: the pipeline calls it and plans again. */
export interface ActionCall {
  call: ActionInput;
}

/** The identity of an action call: the same input in a new plan reuses the outcome. */
export function actionKey(call: ActionInput): string {
  const data = Object.entries(call.data).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([call.handler, call.faq, call.language, call.channel, call.visibility, data]);
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
  const { msg, key, adapter, now, at, knowledge } = input;
  const opened = openTurn(input, context);
  const { customer, inbound, events, siblings, midConversation } = opened;
  let { conversation, kase } = opened;
  const touched = new Map<string, Conversation>();
  /** Conversations this turn creates besides the main one (the private side of a DM prompt). */
  const extraConversations = new Map<string, Conversation>();
  const { understanding, chosen, yesToOptions, leansOn } = await refineUnderstanding(deps.settings, input, conversation);
  const language = understanding.language;
  conversation.language = language;

  // A request for data the bot made here (or in the public thread that sent the customer here).
  const carries = identifyingKinds(understanding);
  const request = openRequest(conversation, siblings, now);
  const noticeMs = (deps.settings.queueNoticeMinutes ?? 5) * 60_000;
  const requestUntil = new Date(now.getTime() + (deps.settings.dataRequestMinutes ?? 30) * 60_000).toISOString();

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
  const resolvedBefore = context.case?.status === 'resolved' && context.conversation?.caseId === context.case.id ? context.case : undefined;
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
    noticeDue: !conversation.noticeAt || now.getTime() - new Date(conversation.noticeAt).getTime() >= noticeMs,
    midConversation,
    customer: { handle: customer.handle, followers: customer.followers },
    rules: deps.settings.rules,
    thresholds: { answer: deps.settings.answerThreshold, clarify: deps.settings.clarifyThreshold },
    yesToOptions,
    onSpike: msg.spikeTopic !== undefined,
    followUp: leansOn !== undefined && namesNothing(msg.text, understanding.language),
    continuesCase,
    crisis: deps.crisis?.(msg.text, language, msg.channel),
    unaddressed: msg.heard === true && msg.visibility === 'public' && adapter.capabilities.publicRepliesNeedAddress === true,
    caseWithPerson: siblings.some((s) => s.state === 'queued' || s.state === 'assigned'),
  });

  const replies: Array<Omit<OutboxItem, 'seq'>> = [];
  const makeItem = (conv: Conversation, visibility: Visibility, reply: Reply, inReplyTo?: string): Omit<OutboxItem, 'seq'> => ({
    id: newId('out'),
    conversationId: conv.id,
    channel: msg.channel,
    visibility,
    recipient: customer.platformId,
    inReplyTo,
    reply,
    author: { kind: 'bot' },
    status: 'pending',
    attempts: 0,
    notBefore: now.getTime(),
    createdAt: at,
    ref: conv.ref,
    customerLastMessageAt: msg.sentAt ?? at,
  });
  const replyHere = (reply: Reply) => replies.push(makeItem(conversation!, msg.visibility, reply, msg.id));
  const caps = adapter.capabilities;
  const vars = { brand: deps.settings.brandName };
  /**
   * Asking in private for an order number from a customer who gave one in an earlier case: asks
   * whether it is the same order (never naming it), and marks the request so a "sì" means that one.
   */
  const offerOnFile = (entry: FaqEntry | undefined): void => {
    if (!onFile || msg.visibility !== 'private' || !asksForOrder(entry) || !conversation!.dataRequest) return;
    replyHere({ kind: 'text', text: say('onFileOffer', language, { then: deps.hours.describe(new Date(onFile.at), now, language) }) });
    conversation!.dataRequest = { ...conversation!.dataRequest, onFile: true };
  };

  let nextState: ConversationState = conversation.state;
  // A reminder of the data asked for is a miss too; asking which of the options offered is not.
  let missStreak =
    decision.action === 'clarify' ? (decision.which || decision.greeted || decision.declined ? conversation.missStreak : conversation.missStreak + 1) : decision.action === 'dm_prompt' && decision.again ? conversation.missStreak + (decision.followed ? 0 : 1) : 0;
  /** The options offered last, for asking which of them the customer's "yes" meant. */
  const offeredBefore = conversation.lastOffer;
  let escalation: EscalationReason | undefined;
  /** A crisis's holding statement, said instead of the usual acknowledgement. */
  let statement: string | undefined;
  /** The custom action this turn used, with what it was given. */
  let called: ActionInput | undefined;
  /** Internal notes for the operators (why a custom action handed the customer over). */
  const notes: string[] = [];

  /**
   * Moves a request for private data to a DM: the public prompt (with a link when the customer can
   * be written to, or asking them to follow), the DM's first message, and the request the DM continues.
   */
  /** `again`: the customer was sent to the DM before (and says they followed, or wrote there: no DM arrived). */
  const promptPrivate = async (entry: FaqEntry | undefined, again?: { followed: boolean }): Promise<void> => {
    const reach = await input.reach(customer);
    const open = reach === 'open';
    const key = open ? 'dmPromptOpen' : !again ? 'dmPromptFollow' : again.followed ? 'dmPromptFollowedNotYet' : 'dmPromptFollowAgain';
    replyHere({ kind: 'dm_prompt', text: say(key, language), canMessagePrivately: open });
    if (open) await openPrivateChannel(input, context, customer, conversation!, language, replies, makeItem, entry, extraConversations, deps, requestUntil);
    // The DM continues this request (its kinds of data), however long the customer takes to get there.
    conversation!.dataRequest = { asks: entry?.asks_for, faqId: entry?.id, at, until: FOREVER };
  };

  // Options offered stand until the bot says something else here.
  if (decision.action !== 'silent' && decision.action !== 'none') conversation.lastOffer = undefined;

  switch (decision.action) {
    case 'silent':
    case 'none':
      missStreak = conversation.missStreak;
      if (decision.action === 'silent' && decision.raise) raisePriority(decision.raise);
      break;
    case 'queue_notice': {
      missStreak = conversation.missStreak;
      if (decision.received) {
        if (decision.raise) raisePriority(decision.raise);
        replyHere({ kind: 'text', text: say('receivedForPerson', language) });
        conversation.noticeAt = at;
        break;
      }
      if (decision.elsewhere) {
        // In public, while a person has the case in the DM: where it is, and when they will answer.
        const waiting = siblings.find((s) => s.state === 'queued' || s.state === 'assigned')!;
        const when = waiting.state === 'assigned' ? undefined : describeWait(deps, now, waiting.queue, language, (await deps.queueStatus(waiting)).typicalWaitMinutes);
        replyHere({ kind: 'text', text: when === undefined ? say('caseInPrivateHeld', language) : say('caseInPrivate', language, { when }) });
        conversation.noticeAt = at;
        break;
      }
      if (decision.raise) raisePriority(decision.raise);
      const status = await deps.queueStatus(conversation);
      const ahead = Math.max(0, status.position - 1);
      const position = ahead === 0 ? say('queueNext', language) : say(ahead === 1 ? 'queueAheadOne' : 'queueAhead', language, { n: ahead });
      const when = describeWait(deps, now, conversation.queue, language, status.typicalWaitMinutes);
      replyHere({ kind: 'text', text: say(deps.hours.isOpen(now) ? 'queueNotice' : 'queueNoticeClosed', language, { position, when }) });
      conversation.noticeAt = at;
      break;
    }
    case 'privacy_warning': {
      replyHere({ kind: 'text', text: say('privacyWarning', language) });
      // Waiting for a person already: the warning only (they will move the customer if needed).
      if (conversation.state === 'queued') break;
      await openPrivateChannel(input, context, customer, conversation, language, replies, makeItem, undefined, extraConversations, deps, requestUntil);
      nextState = 'awaiting_private';
      break;
    }
    case 'answer': {
      // "Quali sono gli orari? E fate spedizioni in Svizzera?": the other question is answered too,
      // in the order they were asked. A private request asked beside a plain question is taken up
      // too ("posso pagare con PayPal? e dov'è il mio ordine?"): here in private, by a DM in public.
      const also = decision.thenEscalate ? undefined : await otherQuestionAnswered(input, msg.text, decision.entry, language, knowledge.corpus, deps.settings.answerThreshold, !decision.entry.private);
      const takeUp = also?.entry.private && !fills(carries, also.entry.asks_for) ? also.entry : undefined;
      const plainAlso = also && !also.entry.private ? also : undefined;
      const entries = plainAlso ? (plainAlso.first ? [plainAlso.entry, decision.entry] : [decision.entry, plainAlso.entry]) : [decision.entry];
      /** The private request taken up: asked for here in private, or moved to a DM from public. */
      let movedToPrivate = false;
      const takeUpRequest = async (entry: FaqEntry) => {
        if (msg.visibility === 'private') {
          for (const text of deps.fitAnswer(entry, caps, 'private')) replyHere({ kind: 'text', text });
          conversation!.dataRequest = { asks: entry.asks_for, faqId: entry.id, at, until: requestUntil };
          offerOnFile(entry);
        } else {
          await promptPrivate(entry);
          movedToPrivate = true;
        }
      };
      if (takeUp && also!.first) await takeUpRequest(takeUp);
      for (const entry of entries) for (const text of deps.fitAnswer(entry, caps, msg.visibility)) replyHere({ kind: 'text', text });
      conversation.lastAnswer = { faqId: decision.entry.id, at };
      if (decision.thenEscalate) escalation = decision.thenEscalate;
      else nextState = 'bot';
      // A private answer asks for the customer's data: a request, not a new state.
      if (decision.entry.private && !decision.thenEscalate) {
        conversation.dataRequest = { asks: decision.entry.asks_for, faqId: decision.entry.id, at, until: requestUntil };
        offerOnFile(decision.entry);
      }
      if (takeUp && !also!.first) await takeUpRequest(takeUp);
      if (movedToPrivate) nextState = 'awaiting_private';
      break;
    }
    case 'intent_answer':
      replyHere({ kind: 'text', text: decision.intent.answer ?? '' });
      nextState = 'bot';
      break;
    case 'greet':
      replyHere({ kind: 'text', text: say(decision.again ? 'greetAgain' : 'greet', language, vars) });
      break;
    case 'thank':
      if (decision.resolves) {
        // The customer says it is solved: they leave the queue and the case is closed.
        replyHere({ kind: 'text', text: say(decision.intent?.action === 'withdraw' ? 'withdrawnInQueue' : 'resolvedByCustomer', language, vars) });
        nextState = 'resolved';
        kase = { ...kase, status: 'resolved', resolvedAt: at, resolvedBy: 'customer' };
        events.push({ type: 'conversation.resolved', conversationId: conversation.id, caseId: kase.id, at });
      } else {
        const withdrawn = decision.intent?.action === 'withdraw';
        const sorted = decision.intent?.action === 'resolve';
        replyHere({ kind: 'text', text: say(withdrawn ? 'withdrawn' : sorted ? 'sorted' : 'thank', language, vars) });
        // "Never mind", "sorted": the data the bot asked for is no longer wanted.
        if (withdrawn || sorted) conversation.dataRequest = undefined;
      }
      break;
    case 'dm_prompt': {
      if (decision.again) {
        // The request the DM prompt was for goes on (its kinds of data, its FAQ entry, the DM's opener).
        const kept = conversation.dataRequest;
        await promptPrivate(kept?.faqId === undefined ? undefined : knowledge.corpus.faq.find((e) => e.id === kept.faqId), { followed: decision.followed === true });
        if (kept) conversation.dataRequest = { ...kept, until: FOREVER };
        nextState = 'awaiting_private';
        break;
      }
      // A plain question asked beside the private request is answered here, in the order asked.
      const also = decision.entry ? await otherQuestionAnswered(input, msg.text, decision.entry, language, knowledge.corpus, deps.settings.answerThreshold, false) : undefined;
      const answerAlso = () => {
        if (also) for (const text of deps.fitAnswer(also.entry, caps, msg.visibility)) replyHere({ kind: 'text', text });
      };
      if (also?.first) answerAlso();
      if (msg.visibility === 'private') {
        // Already in private: ask for the data here (a request, not a new state).
        const text = decision.entry ? deps.fitAnswer(decision.entry, caps, 'private').join('\n') : say('dmOpener', language, vars);
        replyHere({ kind: 'text', text });
        conversation.dataRequest = { asks: decision.entry?.asks_for, faqId: decision.entry?.id, at, until: requestUntil };
        offerOnFile(decision.entry);
        nextState = 'bot';
      } else {
        await promptPrivate(decision.entry);
        nextState = 'awaiting_private';
      }
      if (also && !also.first) answerAlso();
      break;
    }
    case 'clarify': {
      if (decision.which && offeredBefore && offeredBefore.options.length > 0 && caps.quickReplies > 0) {
        const options = offeredBefore.options.slice(0, caps.quickReplies);
        replyHere({ kind: 'quick_replies', text: say('whichOption', language), options });
        conversation.lastOffer = { options, at, askedWhich: true };
        break;
      }
      if (decision.which && offeredBefore && offeredBefore.options.length > 0) {
        // The options were named in the text (no buttons): named again.
        const options = offeredBefore.options;
        replyHere({ kind: 'text', text: say('whichNamed', language, { options: namedOptions(options.map((o) => o.title), language) }) });
        conversation.lastOffer = { options, at, askedWhich: true };
        break;
      }
      if (decision.stillNeeded && decision.declined) {
        replyHere({ kind: 'text', text: say('onFileDeclined', language, { what: describeNeeded(decision.stillNeeded, language) }) });
        // The offer is answered: a later "sì" is not that order.
        if (conversation.dataRequest) conversation.dataRequest = { ...conversation.dataRequest, onFile: undefined };
        break;
      }
      if (decision.stillNeeded) {
        const reminder = say('dataReminder', language, { what: describeNeeded(decision.stillNeeded, language) });
        replyHere({ kind: 'text', text: decision.greeted ? `${say('here', language)} ${reminder}` : reminder });
        break;
      }
      // Where the channel has no buttons (X), the likely answers are named in the text, and the
      // customer's "sì" or "the first one" picks one as a button would (offered-choice.ts).
      const attachmentOnly = attachmentsOnly(msg.text);
      const max = caps.quickReplies > 0 ? caps.quickReplies : attachmentOnly ? 0 : NAMED_OPTIONS;
      const options = deps.clarifyOptions?.(decision.guesses.map((g) => g.label), language, max) ?? [];
      if (options.length > 0 && caps.quickReplies > 0) {
        const offered = options.slice(0, caps.quickReplies);
        replyHere({ kind: 'quick_replies', text: say('clarifyOptions', language), options: offered });
        conversation.lastOffer = { options: offered.map((o) => ({ title: o.title, payload: o.payload })), at };
      } else if (options.length > 0) {
        replyHere({ kind: 'text', text: say('clarifyNamed', language, { options: namedOptions(options.map((o) => o.title), language) }) });
        conversation.lastOffer = { options: options.map((o) => ({ title: o.title, payload: o.payload })), at };
      } else {
        // A photo or a file alone: the bot cannot look at it, and says so (a second one is a second
        // miss: a person, who can, takes over).
        // In a language the bot does not speak ("¿dónde está mi pedido?"): said in both it speaks.
        replyHere({ kind: 'text', text: say(attachmentOnly ? 'clarifyAttachment' : otherLanguage(msg.text) ? 'otherLanguage' : 'clarify', language) });
      }
      break;
    }
    case 'handler': {
      const entry = decision.entry;
      // The data goes only where it may be used: a private entry's action runs in private (decide).
      const call: ActionInput = {
        handler: entry.handler,
        faq: entry.id,
        language,
        channel: msg.channel,
        visibility: msg.visibility,
        data: entry.private && msg.visibility === 'private' ? gatheredData(understanding, entry.asks_for) : {},
      };
      const outcome = input.handled?.get(actionKey(call));
      if (!outcome) return { result: { call } };
      called = call;
      if (outcome.kind === 'reply') {
        const posts = deps.fitAnswer({ ...entry, answer: outcome.text, answer_short: undefined }, caps, msg.visibility);
        const options = outcome.quickReplies.slice(0, caps.quickReplies);
        posts.forEach((text, i) => replyHere(i === posts.length - 1 && options.length > 0 ? { kind: 'quick_replies', text, options } : { kind: 'text', text }));
        nextState = 'bot';
        if (entry.private) {
          // The request is answered; the public thread that sent the customer here is served in private.
          conversation.dataRequest = undefined;
          for (const s of siblings) {
            if (s.state === 'awaiting_private') touched.set(s.id, { ...s, state: transition(s.state, 'bot'), dataRequest: undefined, updatedAt: at });
          }
        }
      } else {
        escalation = outcome.kind === 'handoff' ? 'handler' : 'handler_failed';
        notes.push((outcome.kind === 'handoff' ? `${entry.handler}: ${outcome.reason ?? 'asked for a person'}` : `${entry.handler} failed: ${outcome.error}`).slice(0, 500));
      }
      break;
    }
    case 'escalate':
      escalation = decision.reason;
      statement = decision.statement;
      if (decision.crisisTopic) conversation.flags = [...new Set([...conversation.flags, `crisis:${decision.crisisTopic}`])];
      break;
  }

  if (escalation) {
    const info = deps.queueInfo({ reason: escalation, enqueuedAt: now, vip: isVip(customer, deps.settings.rules) });
    const when = describeWait(deps, now, info, language, (await deps.queueStatus(conversation)).typicalWaitMinutes);
    // The customer gave their data (to the bot, or to a custom action that could not answer): a colleague checks it.
    const gaveData = (escalation === 'private_case' && !(decision.action === 'escalate' && decision.withoutData)) || (called !== undefined && Object.keys(called.data).length > 0);
    const sameOrder = decision.action === 'escalate' && decision.sameAsBefore === true && onFile !== undefined;
    const continues = decision.action === 'escalate' && decision.continues === true;
    const key2 = escalation === 'negative_sentiment' || escalation === 'crisis' ? 'escalateAngry' : continues ? 'continuesCase' : sameOrder ? 'privateCaseOnFile' : gaveData ? 'privateCase' : 'escalateOpen';
    if (continues && resolvedBefore) {
      notes.push(`The customer says the matter of their earlier case ${resolvedBefore.id} (resolved ${resolvedBefore.resolvedAt ?? ''}) is not sorted: see that case.`);
      // The order of that case, if they gave one, stays on file for this one.
      if (conversation.onFile?.caseId === resolvedBefore.id) conversation.onFile = { ...conversation.onFile, caseId: kase.id };
    }
    const then = onFile ? deps.hours.describe(new Date(onFile.at), now, language) : '';
    const text = deps.hours.isOpen(now) ? say(key2, language, { when, then }) : say(key2 === 'escalateOpen' ? 'escalateClosed' : key2, language, { when, then });
    if (sameOrder) {
      // Where the operators find the order: the earlier case's messages (the number is not copied here).
      notes.push(`Same order as in the customer's earlier case ${onFile.caseId} (${onFile.at}): its number is in that case's messages.`);
      conversation.onFile = { ...onFile, caseId: kase.id, at };
    } else if (gaveData && msg.visibility === 'private') {
      // What the customer gave here, by kind only: a later case may offer it back ("is it the same order?").
      const kinds = [...new Set([...carries, ...(carries.length === 0 && request?.asks?.includes('order_number') && answersWithCode(msg.text, understanding.entities, request.asks) ? (['order_number'] as DataKind[]) : [])])];
      if (kinds.length > 0) conversation.onFile = { kinds, caseId: kase.id, at };
    }
    // A post the bot may not answer in public (heard without a mention) gets no acknowledgement;
    // where the team allows it and the customer accepts DMs, a DM says we read it (a person follows).
    if (escalation !== 'unaddressed') replyHere({ kind: 'text', text: statement ?? text });
    else if (deps.settings.unaddressedDm) {
      await openPrivateChannel(input, context, customer, conversation, language, replies, makeItem, undefined, extraConversations, deps, requestUntil, say('heardDm', language, vars));
    }
    nextState = 'queued';
    conversation.queue = info;
    inbound.escalation = { reason: escalation, priority: info.priority, ...(info.slaDueAt ? { slaDueAt: info.slaDueAt } : {}) };
    // The escalation reply is the first notice of where the customer stands; the request for data is done with.
    conversation.noticeAt = at;
    conversation.dataRequest = undefined;
    events.push({ type: 'conversation.escalated', conversationId: conversation.id, caseId: kase.id, reason: escalation, at });
    // The public thread that sent the customer here is now served in private.
    for (const s of siblings) {
      if (s.state === 'awaiting_private') touched.set(s.id, { ...s, state: transition(s.state, 'bot'), dataRequest: undefined, updatedAt: at });
    }
  }

  // Private data posted in public is flagged for the operators (and hidden where the platform
  // allows) whatever the bot does, even while a person holds the conversation.
  const flagged = msg.visibility === 'public' && understanding.entities.some((e) => e.private);
  if (flagged) {
    inbound.flags = ['private_data'];
    conversation.flags = [...new Set([...conversation.flags, 'private_data_public'])];
    events.push({ type: 'privacy.flagged', conversationId: conversation.id, messageId: inbound.id, at });
  }

  /** Anger, crisis words or a VIP while waiting: the case moves up the queue (never down). */
  function raisePriority(reason: EscalationReason): void {
    const queue = conversation!.queue;
    if (!queue) return;
    const raised = deps.queueInfo({ reason, enqueuedAt: new Date(queue.enqueuedAt), vip: isVip(customer, deps.settings.rules), waiting: queue });
    if (raised.priority < queue.priority) {
      conversation!.queue = { ...raised, firstResponseAt: queue.firstResponseAt };
      events.push({ type: 'conversation.updated', conversationId: conversation!.id, at });
    }
  }

  if (decision.action === 'silent') {
    inbound.action = 'silent';
    events.push({ type: 'conversation.updated', conversationId: conversation.id, at });
  }
  conversation = { ...conversation, state: transition(conversation.state, nextState), missStreak };
  touched.set(conversation.id, conversation);
  for (const item of replies) {
    if (item.conversationId !== conversation.id && !touched.has(item.conversationId)) {
      const extra = extraConversations.get(item.conversationId);
      if (extra) touched.set(extra.id, extra);
    }
  }
  for (const c of touched.values()) if (!kase.conversationIds.includes(c.id)) kase = { ...kase, conversationIds: [...kase.conversationIds, c.id] };

  const action = decision.action === 'intent_answer' || decision.action === 'handler' ? 'answer' : decision.action;
  inbound.action = escalation && (action !== 'answer' || decision.action === 'handler') ? 'escalate' : action;
  if (decision.action === 'answer' || decision.action === 'handler') inbound.faqId = decision.entry.id;
  const outgoing: StoredMessage[] = replies.map((r) => ({
    id: r.id,
    conversationId: r.conversationId,
    caseId: kase!.id,
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
    result: { decision, escalation, top, language, conversation, action: inbound.action, replies, flagged, handler: called?.handler },
  };
}

/** Opens the private side of the case: a DM that tells the customer where to continue. */
async function openPrivateChannel(
  input: TurnInput,
  context: TurnContext,
  customer: Customer,
  publicConversation: Conversation,
  language: Language,
  replies: Array<Omit<OutboxItem, 'seq'>>,
  makeItem: (conv: Conversation, visibility: Visibility, reply: Reply, inReplyTo?: string) => Omit<OutboxItem, 'seq'>,
  entry: FaqEntry | undefined,
  extraConversations: Map<string, Conversation>,
  deps: TurnPlanDeps,
  requestUntil: string,
  /** What the DM says when no FAQ entry asked for it (default: the usual opener). */
  opener?: string,
): Promise<void> {
  const { msg, adapter, at } = input;
  if (!adapter.capabilities.privateMessages || msg.visibility !== 'public') return;
  if (replies.some((r) => r.visibility === 'private')) return;
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
  // post with data in public): the public warning is enough, the DM is not said again.
  const asked = existing?.dataRequest;
  if (
    existing &&
    asked &&
    asked.faqId === entry?.id &&
    new Date(asked.until).getTime() > new Date(at).getTime() &&
    (existing.lastInboundAt === undefined || existing.lastInboundAt < asked.at)
  ) {
    extraConversations.set(existing.id, { ...privateConversation, dataRequest: asked });
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
  extraConversations.set(withRequest.id, withRequest);
  const text = entry ? deps.fitAnswer(entry, adapter.capabilities, 'private').join('\n') : (opener ?? say('dmOpener', language, { brand: deps.settings.brandName }));
  // inReplyTo = the public message: channels that open private replies from a public post use it (Facebook comments).
  replies.push(makeItem(withRequest, 'private', { kind: 'text', text }, msg.id));
  if (offer !== undefined) replies.push(makeItem(withRequest, 'private', { kind: 'text', text: offer }, msg.id));
}

/** The key of the customer's private conversation on the message's channel. */
export function privateKey(msg: Pick<InboundMessage, 'channel' | 'customer'>): string {
  return `${msg.channel}:private:${msg.customer.platformId}`;
}

/** A request's end when it has none of its own (a DM prompt waits for the customer to come to private). */
const FOREVER = '9999-12-31T23:59:59.999Z';

/** The data a message gives for a request: the first value of each kind asked for (any identifying kind when none is named). */
function gatheredData(understanding: Pick<Understanding, 'entities'>, asks: readonly DataKind[] | undefined): Partial<Record<DataKind, string>> {
  const data: Partial<Record<DataKind, string>> = {};
  for (const e of understanding.entities) {
    if (!e.private || !(DATA_KINDS as readonly string[]).includes(e.kind)) continue;
    const kind = e.kind as DataKind;
    if (asks && asks.length > 0 && !asks.includes(kind)) continue;
    data[kind] ??= e.value;
  }
  return data;
}

/** Likely answers named in a clarify's text where the channel has no quick replies. */
const NAMED_OPTIONS = 2;

/** "«Resi»", "«Resi» o «Cambio taglia»"; "“Returns” or “Exchanges”". */
function namedOptions(titles: readonly string[], language: Language): string {
  const quoted = titles.map((t) => (language === 'it' ? `«${t}»` : `“${t}”`));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} ${language === 'it' ? 'o' : 'or'} ${quoted[quoted.length - 1]}`;
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
function openRequest(conversation: Conversation, siblings: readonly Conversation[], now: Date): { asks?: DataKind[]; faqId?: string; onFile?: true } | undefined {
  const live = (r: Conversation['dataRequest']) => r !== undefined && new Date(r.until).getTime() > now.getTime();
  if (live(conversation.dataRequest)) return conversation.dataRequest;
  if (conversation.visibility === 'private' && conversation.state === 'awaiting_private') return {};
  const prompt = siblings.find((s) => s.state === 'awaiting_private');
  if (!prompt) return undefined;
  return prompt.dataRequest ? (live(prompt.dataRequest) ? prompt.dataRequest : undefined) : {};
}

/**
 * When a waiting customer will be answered, honestly: the reopening time when closed; when open,
 * the team's recent typical first response if there is one, else the SLA target as an upper bound
 * ("at the latest"), never the deadline read out as a promise.
 */
function describeWait(deps: TurnPlanDeps, now: Date, info: QueueInfo | undefined, language: Language, typicalMinutes?: number): string {
  if (!deps.hours.isOpen(now)) return deps.hours.describe(deps.hours.nextOpening(now), now, language);
  const due = info?.slaDueAt ? new Date(info.slaDueAt) : undefined;
  const left = due ? Math.round((due.getTime() - now.getTime()) / 60000) : undefined;
  if (typicalMinutes !== undefined && (left === undefined || typicalMinutes <= Math.max(left, 5))) {
    return say('usually', language, { duration: sayDuration(Math.max(5, Math.ceil(typicalMinutes / 5) * 5), language) });
  }
  if (left === undefined) return say('usually', language, { duration: sayDuration(60, language) });
  if (left <= 8 * 60) return say('soonAtTheLatest', language, { duration: sayDuration(Math.max(5, left), language) });
  return say('atTheLatest', language, { when: deps.hours.describe(due!, now, language) });
}

/**
 * Attachments described in brackets (InboundMessage.text: `[image: https://…]`, `[image]`,
 * `[invoice.pdf]`, `[image/png]`) and no words besides.
 */
const ATTACHMENT = String.raw`\[(?:(?:image|video|audio|file|attachment|location|fallback|template|sticker)(?::[^\]\n]*)?|[^\]\s]+\.[A-Za-z0-9]{1,5}|[a-z]+\/[\w.+-]+)\]`;
const ATTACHMENTS_ONLY = new RegExp(String.raw`^(?:\s*${ATTACHMENT})+\s*$`, 'i');
const attachmentsOnly = (text: string): boolean => ATTACHMENTS_ONLY.test(text);
const HAS_ATTACHMENT = new RegExp(ATTACHMENT, 'i');

/**
 * A message of two questions or more ("Quali sono gli orari? E fate spedizioni in Svizzera?"), each
 * ending with "?": the FAQ entry one of the others asks for, understood alone, when it is confident,
 * another entry than the one answered, answered without a person or a custom action (no escalation,
 * no handler), and plain unless `privateToo` (a private entry's request is taken up beside a plain
 * answer, never beside another request for data). One more answer at most: a message is not a
 * questionnaire.
 */
async function otherQuestionAnswered(
  input: TurnInput,
  text: string,
  answered: FaqEntry,
  language: Language,
  corpus: Corpus,
  threshold: number,
  privateToo: boolean,
): Promise<{ entry: FaqEntry; first: boolean } | undefined> {
  const questions = (pointOf(text).match(/[^?.!\n]*\?/g) ?? []).map((q) => q.trim()).filter((q) => q.split(/\s+/).length >= 2);
  if (questions.length < 2) return undefined;
  for (const [i, question] of questions.entries()) {
    const best = (await input.understandText(question, language)).classification.ranked[0];
    if (!best || best.confidence < threshold || !best.label.startsWith('faq:')) continue;
    const entry = resolveLabel(best.label, best.confidence, corpus, language).entry;
    // `first`: asked before the others (the entry answered for the whole message is one of them).
    if (entry && entry.id !== answered.id && (privateToo || !entry.private) && !entry.escalate && entry.handler === undefined && !sameAnswer(corpus, entry, answered)) return { entry, first: i === 0 };
  }
  return undefined;
}

/** The same answer in another language (twins linked by `same_as`, the corpus's own grouping). */
function sameAnswer(corpus: Corpus, a: FaqEntry, b: FaqEntry): boolean {
  const groups = sameAnswerGroups(corpus);
  const group = groups.get(faqLabel(a.id));
  return group !== undefined && group === groups.get(faqLabel(b.id));
}
