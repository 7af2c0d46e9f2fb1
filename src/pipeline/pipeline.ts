/**
 * @module pipeline
 * `handleMessage(msg)`: the one entry point every channel feeds.
 * dedupe (channel, message id) → lock(conversation) → load conversation → operator holds it?
 * → privacy guard → understand → decide → record replies in the outbox → (sender) send.
 */
import type { FaqEntry, IntentDef, KnowledgeSource } from '../core/corpus.js';
import { publishInBackground, type EventBus, type DomainEvent } from '../core/events.js';
import { AlreadyProcessedError, PipelineError, TurnConflictError } from '../core/errors.js';
import type { ChannelAdapter, ChannelCapabilities, Clock, PrivateReach, Store, TurnRecord, Understanding } from '../core/ports.js';
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
import type { Logger } from '../util/logger.js';
import { decide, type Decision } from './decide.js';
import { say } from './messages.js';
import type { ReplySender } from './outbox-sender.js';

/** Runs of one turn before it gives up when it keeps racing other writers of its conversation (it stays pending). */
const MAX_TURN_ATTEMPTS = 5;

/** Business hours as the pipeline needs them (implemented in handoff/business-hours). */
export interface HoursView {
  isOpen(at: Date): boolean;
  nextOpening(at: Date): Date;
  /** "lunedì alle 9:00" / "on Monday at 9:00". */
  describe(at: Date, now: Date, language: Language): string;
}

/** Everything the pipeline needs, passed in (no globals). */
export interface PipelineDeps {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  knowledge: KnowledgeSource;
  channels: ReadonlyMap<string, ChannelAdapter>;
  hours: HoursView;
  settings: {
    brandName: string;
    defaultLocale: Language;
    answerThreshold: number;
    clarifyThreshold: number;
    rules: EscalationRules;
  };
  /** Posts to send for a FAQ answer on a channel (answer, answer_short or a numbered thread). */
  fitAnswer(entry: FaqEntry, caps: ChannelCapabilities, visibility: Visibility): string[];
  /** Quick-reply options for a clarify (titles fitted to the channel). */
  clarifyOptions?(labels: string[], language: Language, caps: ChannelCapabilities): QuickReplyOption[];
  /** Queue data (priority, SLA due time) for an escalation. */
  queueInfo(input: { reason: EscalationReason; enqueuedAt: Date; vip: boolean }): QueueInfo;
  /**
   * The sender, told of every turn's replies: with a store that claims in the commit
   * (Store.commitTurnAndClaim), it is handed the replies claimed; the others it claims itself.
   */
  sender?: ReplySender;
  /** Messages processed at once before new deliveries wait to be acknowledged (default 256). */
  maxInFlight?: number;
  /**
   * With a store that accepts in the turn (Store.acceptsInTurn): below this many turns under way a
   * message is recorded by its own turn and acknowledged after it (default 16); above, it is
   * accepted on its own first, in batches.
   */
  acceptInTurnBelow?: number;
  /** How long a turn may take before the channel shows a typing indicator (default 300 ms). */
  typingDelayMs?: number;
}

/** What happened to one customer message: the test runner and `sportello chat` read this. */
export interface TurnOutcome {
  action: Decision['action'] | 'duplicate';
  reason?: EscalationReason;
  faqId?: string;
  intent?: string;
  confidence?: number;
  language?: Language;
  conversation?: Conversation;
  replies: OutboxItem[];
}

/** The pipeline: `receive` (accept + process, idempotent) and `handleMessage` (process an accepted one). */
export interface Pipeline {
  /** Accepts a message (false for a duplicate) and processes it; resolves when processed. */
  receive(msg: InboundMessage): Promise<TurnOutcome>;
  /** Records a message durably and returns at once; processing continues in the background. */
  accept(msg: InboundMessage): Promise<{ duplicate: boolean; done: Promise<TurnOutcome> }>;
  /** Processes an accepted message under its conversation's lock. */
  handleMessage(msg: InboundMessage): Promise<TurnOutcome>;
  /** Processes messages accepted before a crash but never processed. */
  recover(): Promise<number>;
  /** Resolves when every message accepted so far is processed. */
  idle(): Promise<void>;
}

/** The conversation key: public threads by thread, private conversations by customer. */
export function conversationKey(msg: Pick<InboundMessage, 'channel' | 'visibility' | 'threadId' | 'id' | 'customer'>): string {
  return msg.visibility === 'public'
    ? `${msg.channel}:public:${msg.threadId ?? msg.id}`
    : `${msg.channel}:private:${msg.customer.platformId}`;
}

/** Creates the pipeline. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { store, clock, logger } = deps;
  const inFlight = new Set<Promise<unknown>>();
  /** Deliveries waiting for a processing slot (backpressure), woken one per finished turn. */
  const waiting: Array<() => void> = [];

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p
      .finally(() => {
        inFlight.delete(p);
        waiting.shift()?.();
      })
      .catch(() => undefined);
    return p;
  }

  /** Backpressure: waits while `maxInFlight` turns are under way, so a burst cannot pile up unboundedly. */
  async function slot(): Promise<void> {
    const limit = deps.maxInFlight ?? 256;
    while (inFlight.size >= limit) await new Promise<void>((wake) => waiting.push(wake));
  }

  async function accept(msg: InboundMessage) {
    // A store that tells duplicates from memory records the message at once and writes it while
    // the turn is decided, so the record and the turn usually reach the disk in one write.
    const early = store.acceptInboundNow?.(msg);
    // A shared store records the message in the turn's own transaction instead, while few turns
    // are under way. Under a burst, messages are accepted first (many per transaction) so that
    // acknowledgements do not wait for turns queued behind others.
    if (!early && store.acceptsInTurn && inFlight.size < (deps.acceptInTurnBelow ?? 16)) return acceptInTurn(msg);
    const fresh = early ? early.fresh : await store.acceptInbound(msg);
    if (!fresh) {
      logger.info({ channel: msg.channel, messageId: msg.id }, 'duplicate delivery ignored');
      return { duplicate: true, done: Promise.resolve<TurnOutcome>({ action: 'duplicate', replies: [] }) };
    }
    // The message is recorded; acknowledge it only when processing keeps up.
    await slot();
    const done = track(
      handleMessage(msg).catch((err: unknown) => {
        logger.error({ err, channel: msg.channel, messageId: msg.id }, 'message processing failed; it stays pending');
        throw err;
      }),
    );
    done.catch(() => undefined);
    // Acknowledged only once the record is on disk: if that write fails, the platform redelivers.
    if (early) await early.durable;
    return { duplicate: false, done };
  }

  /**
   * Store.acceptsInTurn: the turn's commit records the message, so the message is acknowledged
   * once its turn is committed (a duplicate is found there: the turn is refused whole). If the
   * turn fails, the message is recorded on its own, to be processed again (`recover`), before it
   * is acknowledged; if even that fails, the caller answers with an error and the platform
   * delivers the message again.
   */
  async function acceptInTurn(msg: InboundMessage) {
    await slot();
    const done = track(handleMessage(msg));
    done.catch(() => undefined);
    try {
      const outcome = await done;
      return { duplicate: outcome.action === 'duplicate', done };
    } catch (err) {
      logger.error({ err, channel: msg.channel, messageId: msg.id }, 'message processing failed; it is kept and stays pending');
      const fresh = await store.acceptInbound(msg);
      return { duplicate: !fresh, done };
    }
  }

  async function receive(msg: InboundMessage): Promise<TurnOutcome> {
    const { done } = await accept(msg);
    return done;
  }

  async function handleMessage(msg: InboundMessage): Promise<TurnOutcome> {
    const key = conversationKey(msg);
    try {
      return await store.withConversationLock(key, async () => {
        // A shared store does not lock a conversation across instances: a turn that raced another
        // one (or an operator's action) is refused whole, and runs again on what the winner wrote.
        for (let attempt = 1; ; attempt += 1) {
          try {
            return await processTurn(msg, key);
          } catch (err) {
            if (!(err instanceof TurnConflictError) || attempt >= MAX_TURN_ATTEMPTS) throw err;
            logger.debug({ channel: msg.channel, messageId: msg.id, attempt }, 'turn raced another on its conversation; running it again');
            if (attempt > 1) await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
          }
        }
      });
    } catch (err) {
      if (err instanceof AlreadyProcessedError) {
        // Another instance (or a live delivery racing crash recovery) answered it: nothing to do.
        logger.info({ channel: msg.channel, messageId: msg.id }, 'message already processed elsewhere');
        return { action: 'duplicate', replies: [] };
      }
      throw new PipelineError('could not handle message', { channel: msg.channel, messageId: msg.id }, { cause: err });
    }
  }

  async function processTurn(msg: InboundMessage, key: string): Promise<TurnOutcome> {
    const now = clock.now();
    const at = now.toISOString();
    const adapter = deps.channels.get(msg.channel);
    if (!adapter) throw new PipelineError(`no channel adapter named ${msg.channel}`, { channel: msg.channel });
    // A typing indicator only when the turn is slow: a quick answer needs none (and saves a platform call).
    const typing = adapter.typing
      ? setTimeout(() => void adapter.typing!(msg).catch((err: unknown) => logger.debug({ err }, 'typing indicator failed')), deps.typingDelayMs ?? 300)
      : undefined;
    try {
      return await decideAndCommit(msg, key, adapter, now, at);
    } finally {
      clearTimeout(typing);
    }
  }

  /**
   * Writes a turn and hands its replies to the sender: claimed in the same write when the store
   * can (one round trip less per reply, and no claim for the sender to make) and the sender has
   * room, else left in the outbox for the sender to claim.
   */
  async function commitAndSend(record: TurnRecord): Promise<void> {
    const { sender } = deps;
    const count = record.outbox.length;
    const lease = count > 0 && store.commitTurnAndClaim ? sender?.reserve(count) : undefined;
    if (!lease || !sender || !store.commitTurnAndClaim) {
      await store.commitTurn(record);
      if (count > 0) sender?.kick();
      return;
    }
    let claimed: OutboxItem[] = [];
    try {
      claimed = await store.commitTurnAndClaim(record, lease.now, lease.leaseMs);
    } finally {
      sender.sendClaimed(claimed, count);
    }
    if (claimed.length < count) sender.kick();
  }

  async function decideAndCommit(msg: InboundMessage, key: string, adapter: ChannelAdapter, now: Date, at: string): Promise<TurnOutcome> {

    // Understanding needs only the text: it starts now, on the understanding worker, while the
    // store reads the context (the conversation's language is checked against it below).
    const knowledge = deps.knowledge.current();
    const said = msg.payload && isLabel(msg.payload) ? labelText(msg.payload, knowledge) ?? msg.text : msg.text;
    const { understander } = knowledge;
    const early = understander.understandAsync?.(said);
    // Awaited below unless the context read fails first; then its outcome does not matter.
    early?.catch(() => undefined);

    // Load (or create) the customer, the conversation and its case: one store call.
    const link = msg.linkTo;
    const context = await store.loadTurnContext({
      key,
      customerId: `${msg.channel}:${msg.customer.platformId}`,
      ...(link && 'customerPlatformId' in link ? { linkedCustomerId: `${msg.channel}:${link.customerPlatformId}` } : {}),
    });
    const customer = mergeCustomer(msg, context.customer, at);
    let conversation = context.conversation;
    let kase: Case | undefined;
    const touched = new Map<string, Conversation>();
    /** Conversations this turn creates besides the main one (the private side of a DM prompt). */
    const extraConversations = new Map<string, Conversation>();
    if (conversation?.state === 'resolved') {
      conversation = { ...conversation, state: transition('resolved', 'bot'), missStreak: 0, assignee: undefined, queue: undefined };
    }
    if (conversation) kase = context.case;
    if (!conversation || !kase || kase.status === 'resolved') {
      const openCase = context.linkedOpenCase ?? context.openCase;
      kase = openCase ?? { id: newId('cs'), customerId: customer.id, status: 'open', conversationIds: [], openedAt: at };
      conversation = conversation
        ? { ...conversation, caseId: kase.id }
        : {
            id: newId('cv'),
            key,
            channel: msg.channel,
            visibility: msg.visibility,
            customerId: customer.id,
            caseId: kase.id,
            state: 'bot',
            missStreak: 0,
            threadId: msg.threadId,
            flags: [],
            createdAt: at,
            updatedAt: at,
          };
    }
    if (!kase.conversationIds.includes(conversation.id)) kase = { ...kase, conversationIds: [...kase.conversationIds, conversation.id] };
    conversation = {
      ...conversation,
      lastInboundId: msg.id,
      lastInboundAt: msg.sentAt ?? at,
      updatedAt: at,
      ref: msg.ref ?? conversation.ref,
    };

    const inbound: StoredMessage = {
      id: newId('msg'),
      conversationId: conversation.id,
      caseId: kase.id,
      direction: 'in',
      author: { kind: 'customer' },
      text: msg.text,
      visibility: msg.visibility,
      platformId: msg.id,
      at,
    };
    const events: DomainEvent[] = [
      { type: 'message.received', conversationId: conversation.id, caseId: kase.id, messageId: inbound.id, at },
    ];

    // The other conversations of this case (the public thread of a DM, and vice versa).
    const related = new Map(context.related.map((c) => [c.id, c]));
    const siblings = kase.conversationIds.filter((id) => id !== conversation!.id).flatMap((id) => related.get(id) ?? []);

    const previousLanguage = conversation.language;
    let understanding = early ? await early : understander.understand(said, { previousLanguage });
    // Unless the text settled its language, the conversation's language wins: understood again in it.
    if (early && previousLanguage && !understanding.languageSettled && understanding.language !== previousLanguage) {
      understanding = await understander.understandAsync!(said, { previousLanguage });
    }
    const language = understanding.language;
    conversation.language = language;

    const ranked = understanding.classification.ranked;
    const best = msg.payload && isLabel(msg.payload) ? { label: msg.payload, confidence: 1 } : ranked[0];
    const top = best ? resolveLabel(best.label, best.confidence, knowledge.corpus, language) : undefined;

    const decision = decide({
      state: conversation.state,
      visibility: msg.visibility,
      text: msg.text,
      understanding,
      top,
      missStreak: conversation.missStreak,
      caseAwaitsPrivate: siblings.some((s) => s.state === 'awaiting_private'),
      customer: { handle: customer.handle, followers: customer.followers },
      rules: deps.settings.rules,
      thresholds: { answer: deps.settings.answerThreshold, clarify: deps.settings.clarifyThreshold },
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

    let nextState: ConversationState = conversation.state;
    let missStreak = decision.action === 'clarify' ? conversation.missStreak + 1 : 0;
    let escalation: EscalationReason | undefined;

    switch (decision.action) {
      case 'silent':
      case 'none':
        missStreak = conversation.missStreak;
        break;
      case 'privacy_warning': {
        inbound.flags = ['private_data'];
        conversation.flags = [...new Set([...conversation.flags, 'private_data_public'])];
        events.push({ type: 'privacy.flagged', conversationId: conversation.id, messageId: inbound.id, at });
        replyHere({ kind: 'text', text: say('privacyWarning', language) });
        await openPrivateChannel(customer, conversation, language, replies, makeItem, undefined, msg, extraConversations);
        nextState = 'awaiting_private';
        break;
      }
      case 'answer': {
        for (const text of deps.fitAnswer(decision.entry, caps, msg.visibility)) replyHere({ kind: 'text', text });
        if (decision.thenEscalate) escalation = decision.thenEscalate;
        else if (decision.entry.private) nextState = 'awaiting_private';
        else nextState = 'bot';
        break;
      }
      case 'intent_answer':
        replyHere({ kind: 'text', text: decision.intent.answer ?? '' });
        nextState = 'bot';
        break;
      case 'greet':
        replyHere({ kind: 'text', text: say('greet', language, vars) });
        break;
      case 'thank':
        replyHere({ kind: 'text', text: say('thank', language, vars) });
        break;
      case 'dm_prompt': {
        if (msg.visibility === 'private') {
          const text = decision.entry ? deps.fitAnswer(decision.entry, caps, 'private').join('\n') : say('dmOpener', language, vars);
          replyHere({ kind: 'text', text });
        } else {
          const reach = await privateReach(adapter, customer);
          const open = reach === 'open';
          replyHere({ kind: 'dm_prompt', text: say(open ? 'dmPromptOpen' : 'dmPromptFollow', language), canMessagePrivately: open });
          if (open) await openPrivateChannel(customer, conversation, language, replies, makeItem, decision.entry, msg, extraConversations);
        }
        nextState = 'awaiting_private';
        break;
      }
      case 'clarify': {
        const options = deps.clarifyOptions?.(decision.guesses.map((g) => g.label), language, caps) ?? [];
        if (options.length > 0 && caps.quickReplies > 0) {
          replyHere({ kind: 'quick_replies', text: say('clarifyOptions', language), options: options.slice(0, caps.quickReplies) });
        } else {
          replyHere({ kind: 'text', text: say('clarify', language) });
        }
        break;
      }
      case 'escalate':
        escalation = decision.reason;
        break;
    }

    if (escalation) {
      const info = deps.queueInfo({ reason: escalation, enqueuedAt: now, vip: isVip(customer, deps.settings.rules) });
      const when = describeWait(now, info, language);
      const key2 = escalation === 'negative_sentiment' || escalation === 'crisis' ? 'escalateAngry' : escalation === 'private_case' ? 'privateCase' : 'escalateOpen';
      const text = deps.hours.isOpen(now) ? say(key2, language, { when }) : say(key2 === 'escalateOpen' ? 'escalateClosed' : key2, language, { when });
      replyHere({ kind: 'text', text });
      nextState = 'queued';
      conversation.queue = info;
      events.push({ type: 'conversation.escalated', conversationId: conversation.id, caseId: kase.id, reason: escalation, at });
      // The public thread that sent the customer here is now served in private.
      for (const s of siblings) {
        if (s.state === 'awaiting_private') touched.set(s.id, { ...s, state: transition(s.state, 'bot'), updatedAt: at });
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

    const action = decision.action === 'intent_answer' ? 'answer' : decision.action;
    inbound.action = escalation && action !== 'answer' ? 'escalate' : action;
    if (decision.action === 'answer') inbound.faqId = decision.entry.id;
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
    }));

    const record: TurnRecord = {
      expect: context.revisions,
      inbound: { channel: msg.channel, id: msg.id },
      customer,
      conversations: [...touched.values()],
      case: kase,
      messages: [inbound, ...outgoing],
      outbox: replies,
      events,
    };
    await commitAndSend(record);
    publishInBackground(deps.bus, events, (err, event) => logger.warn({ err, type: event.type }, 'could not publish an event'));
    if (decision.action === 'privacy_warning' && adapter.hideMessage) {
      // Hide the post where the platform allows (Facebook comments, replies on X): it stays flagged for operators.
      await adapter.hideMessage(conversation, msg.id).catch((err: unknown) => logger.warn({ err, channel: msg.channel }, 'could not hide a post with private data'));
    }

    logger.info(
      {
        channel: msg.channel,
        conversationId: conversation.id,
        action: inbound.action,
        reason: escalation,
        label: top?.label,
        confidence: top ? Number(top.confidence.toFixed(3)) : undefined,
        language,
      },
      'turn handled',
    );
    return {
      action: escalation && decision.action !== 'answer' ? 'escalate' : decision.action === 'intent_answer' ? 'answer' : decision.action,
      reason: escalation,
      faqId: decision.action === 'answer' ? decision.entry.id : decision.action === 'dm_prompt' ? decision.entry?.id : undefined,
      intent: top?.intent?.name,
      confidence: top?.confidence,
      language,
      conversation,
      replies: replies.map((r, i) => ({ ...r, seq: i + 1 })),
    };
  }

  /** Opens the private side of the case: a DM that tells the customer where to continue. */
  async function openPrivateChannel(
    customer: Customer,
    publicConversation: Conversation,
    language: Language,
    replies: Array<Omit<OutboxItem, 'seq'>>,
    makeItem: (conv: Conversation, visibility: Visibility, reply: Reply, inReplyTo?: string) => Omit<OutboxItem, 'seq'>,
    entry: FaqEntry | undefined,
    msg: InboundMessage,
    extraConversations: Map<string, Conversation>,
  ): Promise<void> {
    const adapter = deps.channels.get(msg.channel);
    if (!adapter?.capabilities.privateMessages || msg.visibility !== 'public') return;
    if (replies.some((r) => r.visibility === 'private')) return;
    const reach = await privateReach(adapter, customer);
    if (reach !== 'open') return;
    const key = `${msg.channel}:private:${customer.platformId}`;
    const at = clock.now().toISOString();
    const existing = await store.findConversationByKey(key);
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
    extraConversations.set(privateConversation.id, privateConversation);
    const text = entry ? deps.fitAnswer(entry, adapter.capabilities, 'private').join('\n') : say('dmOpener', language, { brand: deps.settings.brandName });
    // inReplyTo = the public message: channels that open private replies from a public post use it (Facebook comments).
    replies.push(makeItem(privateConversation, 'private', { kind: 'text', text }, msg.id));
  }

  async function privateReach(adapter: ChannelAdapter, customer: Customer): Promise<PrivateReach> {
    if (!adapter.capabilities.privateMessages) return 'unavailable';
    if (!adapter.privateReach) return 'open';
    try {
      return await adapter.privateReach(customer);
    } catch (err) {
      logger.warn({ err, channel: adapter.name }, 'private reach lookup failed; asking the customer to write privately');
      return 'needs_follow';
    }
  }

  function describeWait(now: Date, info: QueueInfo, language: Language): string {
    if (!deps.hours.isOpen(now)) return deps.hours.describe(deps.hours.nextOpening(now), now, language);
    const due = info.slaDueAt ? new Date(info.slaDueAt) : undefined;
    const minutes = due ? Math.max(5, Math.round((due.getTime() - now.getTime()) / 60000)) : 60;
    if (minutes > 8 * 60) return deps.hours.describe(due!, now, language);
    return say('soon', language, { minutes });
  }

  function mergeCustomer(msg: InboundMessage, existing: Customer | undefined, at: string): Customer {
    const id = `${msg.channel}:${msg.customer.platformId}`;
    const p = msg.customer;
    return {
      id,
      channel: msg.channel,
      platformId: p.platformId,
      handle: p.handle ?? existing?.handle,
      name: p.name ?? existing?.name,
      followers: p.followers ?? existing?.followers,
      firstSeenAt: existing?.firstSeenAt ?? at,
      lastSeenAt: at,
    };
  }

  async function recover(): Promise<number> {
    const pending = await store.pendingInbound(1000);
    for (const msg of pending) {
      await handleMessage(msg).catch((err: unknown) => logger.error({ err, messageId: msg.id }, 'recovery of a message failed'));
    }
    return pending.length;
  }

  async function idle(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  return { receive, accept, handleMessage, recover, idle };
}

function isLabel(payload: string): boolean {
  return payload.startsWith('faq:') || payload.startsWith('intent:');
}

function labelText(label: string, knowledge: { corpus: { faq: FaqEntry[] } }): string | undefined {
  return knowledge.corpus.faq.find((e) => `faq:${e.id}` === label)?.questions[0];
}

/** Resolves a classifier label to its FAQ entry or intent. */
function resolveLabel(
  label: string,
  confidence: number,
  corpus: { faq: FaqEntry[]; intents: IntentDef[] },
  language: Language,
): { label: string; confidence: number; entry?: FaqEntry; intent?: IntentDef } {
  if (label.startsWith('faq:')) {
    const id = label.slice(4);
    return { label, confidence, entry: corpus.faq.find((e) => e.id === id) };
  }
  const name = label.startsWith('intent:') ? label.slice(7) : label;
  const intent = corpus.intents.find((i) => i.name === name && i.locale === language) ?? corpus.intents.find((i) => i.name === name);
  return { label, confidence, intent };
}

export type { Understanding };
