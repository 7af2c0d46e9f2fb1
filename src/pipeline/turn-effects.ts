/**
 * @module pipeline/turn-effects
 * The last step of a customer's turn (turn-plan.ts): the decision carried out, action by action.
 * Each action queues its replies (TurnOutput), sets the fields of the turn's working copy of the
 * conversation it owns (the request for data, the options offered, the last answer, the notice
 * time), and returns what else it did (next state, escalation, events, notes); an escalation, from
 * any action, is then carried out the same way (`escalate`, turn-queue.ts).
 */
import { DATA_KINDS, type DataKind, type FaqEntry } from '../core/corpus.js';
import type { DomainEvent } from '../core/events.js';
import type { ActionInput, TurnContext, Understanding } from '../core/ports.js';
import { transition, type ConversationState } from '../core/state.js';
import type { Case, Conversation, Customer, EscalationReason, Language, QuickReplyOption, StoredMessage } from '../core/types.js';
import { fills, type Decision } from './decide.js';
import { describeNeeded, say } from './messages.js';
import { otherLanguage } from './other-language.js';
import { otherQuestionAnswered } from './other-question.js';
import { asksForOrder } from './order-on-file.js';
import { FOREVER, openPrivateChannel, privateKey, promptPrivate } from './private-channel.js';
import { attachmentsOnly, type TurnFacts } from './turn-decision.js';
import type { TurnOutput } from './turn-output.js';
import type { TurnInput, TurnPlanDeps } from './turn-plan.js';
import { escalate, noticeQueue, raisePriority } from './turn-queue.js';

/** What carrying out a decision reads: the turn so far, settled. */
export interface TurnScope {
  deps: TurnPlanDeps;
  input: TurnInput;
  context: TurnContext;
  customer: Customer;
  /** The other conversations of this case (the public thread of a DM, and vice versa). */
  siblings: readonly Conversation[];
  understanding: Understanding;
  facts: TurnFacts;
  /** Where the replies go. */
  out: TurnOutput;
  /** Until when a request for data made this turn waits for the customer's next message. */
  requestUntil: string;
}

/** What carrying out the decision did besides its replies and the conversation's fields. */
export interface CarriedOut {
  nextState: ConversationState;
  missStreak: number;
  escalation?: EscalationReason;
  /** The escalation as the customer's message records it. */
  escalated?: NonNullable<StoredMessage['escalation']>;
  /** The custom action this turn used, with what it was given. */
  called?: ActionInput;
  /** The case, closed when the customer says it is solved. */
  kase: Case;
  /** Events, in the order they happened. */
  events: DomainEvent[];
  /** Internal notes for the operators (why a custom action handed the customer over, where the order is). */
  notes: string[];
  /** Other conversations of the case the turn changes (the public thread now served in private). */
  touched: Conversation[];
}

/** What one action did besides its replies and the conversation's fields it set. */
interface ActionEffect {
  nextState?: ConversationState;
  escalation?: EscalationReason;
  /** A crisis's holding statement, said instead of the usual acknowledgement. */
  statement?: string;
  called?: ActionInput;
  notes?: string[];
  events?: DomainEvent[];
  /** The customer says it is solved: the case is closed. */
  resolvesCase?: true;
  /** The request is answered in private: the public thread that sent the customer here is served in private. */
  servedInPrivate?: true;
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

export type Of<A extends Decision['action']> = Extract<Decision, { action: A }>;

/**
 * Carries out the decision on the turn's working copy of the conversation. A custom action whose
 * outcome the turn does not have yet is returned as a call instead (see `planTurn`).
 */
export async function carryOut(scope: TurnScope, decision: Decision, conversation: Conversation, kase: Case): Promise<CarriedOut | ActionCall> {
  const { input } = scope;
  /** The options offered last, for asking which of them the customer's "yes" meant. */
  const offeredBefore = conversation.lastOffer;
  // Options offered stand until the bot says something else here.
  if (decision.action !== 'silent' && decision.action !== 'none') conversation.lastOffer = undefined;

  const effect = await act(scope, decision, conversation, offeredBefore);
  if ('call' in effect) return effect;

  const events = [...(effect.events ?? [])];
  const notes = [...(effect.notes ?? [])];
  let nextState = effect.nextState ?? conversation.state;
  if (effect.resolvesCase) {
    kase = { ...kase, status: 'resolved', resolvedAt: input.at, resolvedBy: 'customer' };
    events.push({ type: 'conversation.resolved', conversationId: conversation.id, caseId: kase.id, at: input.at });
  }
  let escalated: CarriedOut['escalated'];
  if (effect.escalation) {
    const done = await escalate(scope, decision, conversation, kase, { reason: effect.escalation, statement: effect.statement, called: effect.called });
    nextState = 'queued';
    escalated = done.record;
    notes.push(...done.notes);
    events.push(done.event);
  }
  // The public thread that sent the customer here is now served in private.
  const touched = effect.escalation || effect.servedInPrivate ? servedInPrivate(scope.siblings, input.at) : [];
  return {
    nextState,
    missStreak: missStreakAfter(decision, conversation.missStreak),
    escalation: effect.escalation,
    escalated,
    called: effect.called,
    kase,
    events,
    notes,
    touched,
  };
}

/** The conversation's misses in a row after this decision (two bring a person: decide.ts). */
function missStreakAfter(decision: Decision, streak: number): number {
  switch (decision.action) {
    case 'silent':
    case 'none':
    case 'queue_notice':
      return streak;
    // Asking which of the options offered is not a miss.
    case 'clarify':
      return decision.which || decision.greeted || decision.declined ? streak : streak + 1;
    // A reminder of the data asked for is a miss too.
    case 'dm_prompt':
      return decision.again ? streak + (decision.followed || decision.wrote ? 0 : 1) : 0;
    default:
      return 0;
  }
}

async function act(scope: TurnScope, decision: Decision, conversation: Conversation, offeredBefore: Conversation['lastOffer']): Promise<ActionEffect | ActionCall> {
  const { deps, out } = scope;
  const { language } = scope.facts;
  switch (decision.action) {
    case 'silent':
      return { events: decision.raise ? raisePriority(scope, conversation, decision.raise) : [] };
    case 'none':
      return {};
    case 'queue_notice':
      return { events: await noticeQueue(scope, decision, conversation) };
    case 'privacy_warning':
      out.reply({ kind: 'text', text: say('privacyWarning', language) });
      // Waiting for a person already: the warning only (they will move the customer if needed).
      if (conversation.state === 'queued') return {};
      // A person was asked for too: queued now (the person moves the customer to a DM if needed).
      if (decision.thenEscalate) return { escalation: decision.thenEscalate };
      await openPrivateChannel(scope, conversation, undefined);
      return { nextState: 'awaiting_private' };
    case 'answer':
      return answer(scope, decision, conversation);
    case 'intent_answer':
      out.reply({ kind: 'text', text: decision.intent.answer ?? '' });
      return { nextState: 'bot' };
    case 'greet':
      out.reply({ kind: 'text', text: say(decision.back ? 'greetBack' : decision.again ? 'greetAgain' : 'greet', language, { brand: deps.settings.brandName }) });
      return {};
    case 'thank':
      return thank(scope, decision, conversation);
    case 'dm_prompt':
      return askForData(scope, decision, conversation);
    case 'clarify':
      clarify(scope, decision, conversation, offeredBefore);
      return {};
    case 'handler':
      return callHandler(scope, decision, conversation);
    case 'escalate':
      if (decision.crisisTopic) conversation.flags = [...new Set([...conversation.flags, `crisis:${decision.crisisTopic}`])];
      return { escalation: decision.reason, statement: decision.statement };
  }
}

/** An FAQ answer (and a second question of the message, answered or taken up). */
async function answer(scope: TurnScope, decision: Of<'answer'>, conversation: Conversation): Promise<ActionEffect> {
  const { deps, input, out, requestUntil } = scope;
  const { msg, at, knowledge } = input;
  const { language, carries } = scope.facts;
  const caps = input.adapter.capabilities;
  // "Quali sono gli orari? E fate spedizioni in Svizzera?": the other question is answered too,
  // in the order they were asked. A private request asked beside a plain question is taken up
  // too ("posso pagare con PayPal? e dov'è il mio ordine?"): here in private, by a DM in public.
  const also = decision.thenEscalate ? undefined : await otherQuestionAnswered(input, msg.text, decision.entry, language, knowledge.corpus, deps.settings.answerThreshold, !decision.entry.private);
  // Waiting for a person: a plain answer, and the case stays in the queue (a private request is theirs).
  const queued = conversation.state === 'queued';
  const takeUp = !queued && also?.entry.private && !fills(carries, also.entry.asks_for) ? also.entry : undefined;
  const plainAlso = also && !also.entry.private ? also : undefined;
  const entries = plainAlso ? (plainAlso.first ? [plainAlso.entry, decision.entry] : [decision.entry, plainAlso.entry]) : [decision.entry];
  /** The private request taken up: asked for here in private, or moved to a DM from public. */
  let movedToPrivate = false;
  const takeUpRequest = async (entry: FaqEntry) => {
    if (msg.visibility === 'private') {
      for (const text of deps.fitAnswer(entry, caps, 'private')) out.reply({ kind: 'text', text });
      conversation.dataRequest = { asks: entry.asks_for, faqId: entry.id, at, until: requestUntil };
      offerOnFile(scope, conversation, entry);
    } else {
      await promptPrivate(scope, conversation, entry);
      movedToPrivate = true;
    }
  };
  if (takeUp && also!.first) await takeUpRequest(takeUp);
  // A follow-up of the answer just given ("e in contrassegno?"): the part of it that answers, not all of it again.
  const said = (entry: FaqEntry) => (entry === decision.entry && decision.part !== undefined ? { ...entry, answer: decision.part, answer_short: undefined } : entry);
  for (const entry of entries) for (const text of deps.fitAnswer(said(entry), caps, msg.visibility)) out.reply({ kind: 'text', text });
  conversation.lastAnswer = { faqId: decision.entry.id, at };
  // A private answer asks for the customer's data: a request, not a new state.
  if (decision.entry.private && !decision.thenEscalate) {
    conversation.dataRequest = { asks: decision.entry.asks_for, faqId: decision.entry.id, at, until: requestUntil };
    offerOnFile(scope, conversation, decision.entry);
  }
  if (takeUp && !also!.first) await takeUpRequest(takeUp);
  if (decision.thenEscalate) return { escalation: decision.thenEscalate };
  if (queued) return {};
  return { nextState: movedToPrivate ? 'awaiting_private' : 'bot' };
}

/** Thanks, praise, "never mind", "sorted" (which close the case when the customer says so). */
function thank(scope: TurnScope, decision: Of<'thank'>, conversation: Conversation): ActionEffect {
  const { out } = scope;
  const { language } = scope.facts;
  const vars = { brand: scope.deps.settings.brandName };
  if (decision.optOut) {
    // Recorded on the customer, written with this turn: the survey job skips them from now on.
    scope.customer.surveyOptOutAt = scope.input.at;
    out.reply({ kind: 'text', text: say('optedOut', language, vars) });
    return { nextState: 'resolved', resolvesCase: true };
  }
  if (decision.resolves) {
    // The customer says it is solved: they leave the queue and the case is closed.
    out.reply({ kind: 'text', text: say(decision.intent?.action === 'withdraw' ? 'withdrawnInQueue' : 'resolvedByCustomer', language, vars) });
    return { nextState: 'resolved', resolvesCase: true };
  }
  const withdrawn = decision.intent?.action === 'withdraw';
  const sorted = decision.intent?.action === 'resolve';
  // An intent may word its own reply ("bye" → "Bye! …", not "You're welcome!"); praise gets thanks.
  const own = withdrawn || sorted ? undefined : decision.intent?.answer;
  out.reply({ kind: 'text', text: own ?? say(withdrawn ? 'withdrawn' : sorted ? 'sorted' : decision.praise ? 'praised' : 'thank', language, vars) });
  // "Never mind", "sorted": the data the bot asked for is no longer wanted.
  if (withdrawn || sorted) conversation.dataRequest = undefined;
  return {};
}

/** A request for private data: asked here in private, moved to a DM from public (`dm_prompt`). */
async function askForData(scope: TurnScope, decision: Of<'dm_prompt'>, conversation: Conversation): Promise<ActionEffect> {
  const { deps, input, out, requestUntil } = scope;
  const { msg, at, knowledge } = input;
  const { language } = scope.facts;
  const caps = input.adapter.capabilities;
  if (decision.again) {
    // The customer wrote in the DM (since the prompt, within the day): said so, not prompted again
    // ("we don't see a private message from you yet", "we've just written to you" were untrue).
    if (wroteInPrivate(scope, conversation)) {
      out.reply({ kind: 'text', text: say('dmArrived', language) });
      return {};
    }
    // The request the DM prompt was for goes on (its kinds of data, its FAQ entry, the DM's opener).
    const kept = conversation.dataRequest;
    await promptPrivate(scope, conversation, kept?.faqId === undefined ? undefined : knowledge.corpus.faq.find((e) => e.id === kept.faqId), { followed: decision.followed === true });
    if (kept) conversation.dataRequest = { ...kept, until: FOREVER };
    return { nextState: 'awaiting_private' };
  }
  // A plain question asked beside the private request is answered here, in the order asked.
  const also = decision.entry ? await otherQuestionAnswered(input, msg.text, decision.entry, language, knowledge.corpus, deps.settings.answerThreshold, false) : undefined;
  const answerAlso = () => {
    if (also) for (const text of deps.fitAnswer(also.entry, caps, msg.visibility)) out.reply({ kind: 'text', text });
  };
  if (also?.first) answerAlso();
  let nextState: ConversationState;
  if (msg.visibility === 'private') {
    // Already in private: ask for the data here (a request, not a new state).
    const text = decision.entry ? deps.fitAnswer(decision.entry, caps, 'private').join('\n') : say('dmOpener', language, { brand: deps.settings.brandName });
    out.reply({ kind: 'text', text });
    conversation.dataRequest = { asks: decision.entry?.asks_for, faqId: decision.entry?.id, at, until: requestUntil };
    offerOnFile(scope, conversation, decision.entry);
    nextState = 'bot';
  } else {
    await promptPrivate(scope, conversation, decision.entry);
    nextState = 'awaiting_private';
  }
  if (also && !also.first) answerAlso();
  return { nextState };
}

/** How recent a customer's DM must be for a public "I sent you a DM" to be about it. */
const DM_ARRIVED_MS = 24 * 3_600_000;

/** True when the customer's private conversation on this channel has their message since the DM prompt (or, with none, within the day). */
function wroteInPrivate(scope: TurnScope, conversation: Conversation): boolean {
  const { msg, now } = scope.input;
  const dm = scope.context.related.find((c) => c.key === privateKey(msg));
  const last = dm?.lastInboundAt;
  if (last === undefined || now.getTime() - Date.parse(last) > DM_ARRIVED_MS) return false;
  const asked = conversation.dataRequest?.at;
  return asked === undefined || Date.parse(last) >= Date.parse(asked);
}

/** Unsure what was meant: which of the options offered, a reminder of the data asked for, or the likely answers. */
function clarify(scope: TurnScope, decision: Of<'clarify'>, conversation: Conversation, offeredBefore: Conversation['lastOffer']): void {
  const { deps, input, out } = scope;
  const { msg, at } = input;
  const { language } = scope.facts;
  const caps = input.adapter.capabilities;
  if (decision.which && offeredBefore && offeredBefore.options.length > 0 && caps.quickReplies > 0) {
    const options = offeredBefore.options.slice(0, caps.quickReplies);
    out.reply({ kind: 'quick_replies', text: say('whichOption', language), options });
    conversation.lastOffer = { options, at, askedWhich: true };
    return;
  }
  if (decision.which && offeredBefore && offeredBefore.options.length > 0) {
    // The options were named in the text (no buttons): named again.
    const options = offeredBefore.options;
    out.reply({ kind: 'text', text: say('whichNamed', language, { options: namedOptions(options.map((o) => o.title), language) }) });
    conversation.lastOffer = { options, at, askedWhich: true };
    return;
  }
  if (decision.stillNeeded && decision.declined) {
    out.reply({ kind: 'text', text: say('onFileDeclined', language, { what: describeNeeded(decision.stillNeeded, language) }) });
    // The offer is answered: a later "sì" is not that order.
    if (conversation.dataRequest) conversation.dataRequest = { ...conversation.dataRequest, onFile: undefined };
    return;
  }
  if (decision.beyondAnswer) {
    out.reply({ kind: 'text', text: say('beyondAnswer', language) });
    return;
  }
  if (decision.sameAsWhat) {
    out.reply({ kind: 'text', text: say('sameAsWhat', language) });
    return;
  }
  if (decision.stillNeeded) {
    const reminder = say('dataReminder', language, { what: describeNeeded(decision.stillNeeded, language) });
    out.reply({ kind: 'text', text: decision.greeted ? `${say('here', language)} ${reminder}` : reminder });
    return;
  }
  // Where the channel has no buttons (X), the likely answers are named in the text, and the
  // customer's "sì" or "the first one" picks one as a button would (offered-choice.ts).
  const attachmentOnly = attachmentsOnly(msg.text);
  const max = caps.quickReplies > 0 ? caps.quickReplies : attachmentOnly ? 0 : NAMED_OPTIONS;
  const options: QuickReplyOption[] = deps.clarifyOptions?.(decision.guesses.map((g) => g.label), language, max) ?? [];
  if (options.length > 0 && caps.quickReplies > 0) {
    const offered = options.slice(0, caps.quickReplies);
    out.reply({ kind: 'quick_replies', text: say('clarifyOptions', language), options: offered });
    conversation.lastOffer = { options: offered.map((o) => ({ title: o.title, payload: o.payload })), at };
  } else if (options.length > 0) {
    out.reply({ kind: 'text', text: say('clarifyNamed', language, { options: namedOptions(options.map((o) => o.title), language) }) });
    conversation.lastOffer = { options: options.map((o) => ({ title: o.title, payload: o.payload })), at };
  } else {
    // A photo or a file alone: the bot cannot look at it, and says so (a second one is a second
    // miss: a person, who can, takes over).
    // In a language the bot does not speak ("¿dónde está mi pedido?"): said in both it speaks.
    out.reply({ kind: 'text', text: say(attachmentOnly ? 'clarifyAttachment' : otherLanguage(msg.text) ? 'otherLanguage' : 'clarify', language) });
  }
}

/** An FAQ entry answered by its custom action: its outcome when the turn has it, else the call to make. */
function callHandler(scope: TurnScope, decision: Of<'handler'>, conversation: Conversation): ActionEffect | ActionCall {
  const { deps, input, out, understanding } = scope;
  const { msg } = input;
  const { language } = scope.facts;
  const caps = input.adapter.capabilities;
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
  if (!outcome) return { call };
  if (outcome.kind === 'reply') {
    const posts = deps.fitAnswer({ ...entry, answer: outcome.text, answer_short: undefined }, caps, msg.visibility);
    const options = outcome.quickReplies.slice(0, caps.quickReplies);
    posts.forEach((text, i) => out.reply(i === posts.length - 1 && options.length > 0 ? { kind: 'quick_replies', text, options } : { kind: 'text', text }));
    if (!entry.private) return { nextState: 'bot', called: call };
    // The request is answered; the public thread that sent the customer here is served in private.
    conversation.dataRequest = undefined;
    return { nextState: 'bot', called: call, servedInPrivate: true };
  }
  return {
    called: call,
    escalation: outcome.kind === 'handoff' ? 'handler' : 'handler_failed',
    notes: [(outcome.kind === 'handoff' ? `${entry.handler}: ${outcome.reason ?? 'asked for a person'}` : `${entry.handler} failed: ${outcome.error}`).slice(0, 500)],
  };
}

/** The public threads waiting for the customer in the DM (`awaiting_private`), now served there. */
function servedInPrivate(siblings: readonly Conversation[], at: string): Conversation[] {
  return siblings.filter((s) => s.state === 'awaiting_private').map((s) => ({ ...s, state: transition(s.state, 'bot'), dataRequest: undefined, updatedAt: at }));
}

/**
 * Asking in private for an order number from a customer who gave one in an earlier case: asks
 * whether it is the same order (never naming it), and marks the request so a "sì" means that one.
 */
function offerOnFile(scope: TurnScope, conversation: Conversation, entry: FaqEntry | undefined): void {
  const { deps, input, out } = scope;
  const { onFile, language } = scope.facts;
  if (!onFile || input.msg.visibility !== 'private' || !asksForOrder(entry) || !conversation.dataRequest) return;
  out.reply({ kind: 'text', text: say('onFileOffer', language, { then: deps.hours.describe(new Date(onFile.at), input.now, language) }) });
  conversation.dataRequest = { ...conversation.dataRequest, onFile: true };
}

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
