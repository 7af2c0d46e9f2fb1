/**
 * @module handoff/operator-desk
 * What operators do to a conversation: claim, reply, note, ask to move to private, transfer,
 * resolve (optionally "add to FAQ"), return to bot. Every move goes through the state machine
 * and the store's atomic compare-and-set, so two operators never hold one conversation.
 */
import type { KnowledgeSource } from '../core/corpus.js';
import { ConflictError, TurnConflictError } from '../core/errors.js';
import type { DomainEvent, EventBus } from '../core/events.js';
import type { ChannelAdapter, Clock, Store, TurnContext, TurnRecord } from '../core/ports.js';
import { canTransition, transition, type ConversationState } from '../core/state.js';
import type { Conversation, FaqSuggestion, Operator, OutboxItem, Reply, StoredMessage, Visibility } from '../core/types.js';
import { newId } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { say } from '../pipeline/messages.js';

/** The operator actions of the console and the operator API. */
export interface OperatorDesk {
  /** Takes a conversation (atomic). An admin may take over one another operator holds. */
  claim(conversationId: string, operator: Operator, opts?: { takeover?: boolean }): Promise<Conversation>;
  /** Sends a reply through the conversation's channel (signed where public replies are signed). */
  reply(conversationId: string, operator: Operator, text: string, opts?: { visibility?: Visibility }): Promise<OutboxItem>;
  /** An internal note: stored in the history, never sent. */
  note(conversationId: string, operator: Operator, text: string): Promise<StoredMessage>;
  /** Invites the customer to continue in private. */
  askPrivate(conversationId: string, operator: Operator): Promise<OutboxItem[]>;
  /** Hands the conversation to another operator. */
  transfer(conversationId: string, operator: Operator, toOperatorId: string): Promise<Conversation>;
  /** Resolves the case; with `addToFaq` a FAQ suggestion is made from it. */
  resolve(
    conversationId: string,
    operator: Operator,
    opts?: { addToFaq?: boolean; answer?: string },
  ): Promise<{ conversation: Conversation; suggestionId?: string }>;
  /** Gives the conversation back to the bot. */
  returnToBot(conversationId: string, operator: Operator): Promise<Conversation>;
}

/** Makes a FAQ suggestion from a resolved case (implemented by corpus/suggestions). */
export type SuggestFromCase = (input: {
  caseId: string;
  customerMessages: string[];
  operatorAnswer: string;
  operator: Operator;
  conversation: Conversation;
}) => Promise<FaqSuggestion | undefined>;

/** Creates the desk. */
export function createOperatorDesk(deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  channels: ReadonlyMap<string, ChannelAdapter>;
  knowledge?: KnowledgeSource;
  suggest?: SuggestFromCase;
  onOutbox?(): void;
}): OperatorDesk {
  const { store, clock } = deps;

  async function load(id: string): Promise<Conversation> {
    const conversation = await store.conversations.get(id);
    if (!conversation) throw new ConflictError(`conversation ${id} does not exist`);
    return conversation;
  }

  /** A conversation read for a change: with its case, the case's other conversations and their revisions. */
  async function read(id: string): Promise<{ conversation: Conversation; context: TurnContext }> {
    const found = await load(id);
    const context = await store.conversations.loadContext({ key: found.key, customerId: found.customerId });
    return { conversation: context.conversation ?? found, context };
  }

  /** Commits a change checked against the revisions read: a change that raced another write is refused. */
  async function commit(context: TurnContext, turn: Omit<TurnRecord, 'expect'>): Promise<void> {
    try {
      await store.conversations.commit({ ...turn, expect: context.revisions });
    } catch (err) {
      if (err instanceof TurnConflictError) throw new ConflictError('the conversation changed meanwhile; reload and try again', { cause: err });
      throw err;
    }
  }

  async function holderName(conversation: Conversation): Promise<string> {
    if (!conversation.assignee) return 'nobody';
    return (await store.directory.getOperator(conversation.assignee))?.name ?? conversation.assignee;
  }

  /** Only the holder may act; an admin may act on any conversation. */
  async function mustHold(conversation: Conversation, operator: Operator): Promise<void> {
    if (conversation.state === 'assigned' && conversation.assignee === operator.id) return;
    if (operator.role === 'admin') return;
    if (conversation.state === 'assigned') {
      throw new ConflictError(`this conversation is held by ${await holderName(conversation)}`);
    }
    throw new ConflictError('claim the conversation first');
  }

  async function publish(events: DomainEvent[]): Promise<void> {
    for (const e of events) await deps.bus.publish(e);
  }

  async function write(
    context: TurnContext,
    conversation: Conversation,
    extra: { messages?: StoredMessage[]; outbox?: Omit<OutboxItem, 'seq'>[]; events: DomainEvent[]; others?: Conversation[] },
  ) {
    await commit(context, {
      conversations: [conversation, ...(extra.others ?? [])],
      case: context.case,
      messages: extra.messages ?? [],
      outbox: extra.outbox ?? [],
      events: extra.events,
    });
    await publish(extra.events);
    if ((extra.outbox ?? []).length > 0) deps.onOutbox?.();
  }

  function outboxItem(conversation: Conversation, operator: Operator | undefined, visibility: Visibility, reply: Reply): Omit<OutboxItem, 'seq'> {
    const now = clock.now();
    return {
      id: newId('out'),
      conversationId: conversation.id,
      channel: conversation.channel,
      visibility,
      recipient: conversation.customerId.slice(conversation.channel.length + 1),
      inReplyTo: visibility === 'public' ? conversation.lastInboundId : undefined,
      reply,
      author: operator ? { kind: 'operator', operatorId: operator.id, name: operator.name, initials: operator.initials } : { kind: 'bot' },
      status: 'pending',
      attempts: 0,
      notBefore: now.getTime(),
      createdAt: now.toISOString(),
      ref: conversation.ref,
      customerLastMessageAt: conversation.lastInboundAt,
    };
  }

  /** Refuses a send the platform would refuse (Messenger's 24 h / 7-day windows), with a clear message. */
  function checkWindow(conversation: Conversation, adapter: ChannelAdapter | undefined): void {
    const window = adapter?.capabilities.messagingWindow;
    if (!window || !conversation.lastInboundAt) return;
    const age = clock.now().getTime() - new Date(conversation.lastInboundAt).getTime();
    if (age > window.humanAgentMs) {
      const days = Math.floor(age / 86_400_000);
      throw new ConflictError(
        `the customer last wrote ${days} days ago: ${conversation.channel} allows replies only up to ${Math.round(window.humanAgentMs / 86_400_000)} days after the customer's last message. Nothing was sent; wait for the customer to write again.`,
      );
    }
  }

  function resolveCase(context: TurnContext, conversation: Conversation, operator: Operator, at: string) {
    const kase = context.case;
    const related = new Map(context.related.map((c) => [c.id, c]));
    const siblings = kase
      ? kase.conversationIds
          .filter((id) => id !== conversation.id)
          .flatMap((id) => related.get(id) ?? [])
          .filter((c) => c.state !== 'resolved' && canTransition(c.state, 'resolved'))
      : [];
    return {
      kase: kase ? { ...kase, status: 'resolved' as const, resolvedAt: at, resolvedBy: operator.id } : undefined,
      siblings: siblings.map((s) => ({ ...s, state: transition(s.state, 'resolved'), assignee: undefined, updatedAt: at })),
    };
  }

  return {
    async claim(conversationId, operator, opts = {}) {
      const { conversation: current, context } = await read(conversationId);
      if (current.state === 'assigned' && current.assignee === operator.id) return current;
      if (current.state === 'assigned' && !(opts.takeover && operator.role === 'admin')) {
        throw new ConflictError(`already claimed by ${await holderName(current)}`);
      }
      const at = clock.now().toISOString();
      const from: ConversationState[] = opts.takeover && operator.role === 'admin' ? ['assigned', 'queued', 'bot', 'awaiting_private'] : ['queued', 'bot', 'awaiting_private'];
      if (!from.includes(current.state)) throw new ConflictError(`the conversation is ${current.state} and cannot be claimed`);
      const updated: Conversation = { ...current, state: 'assigned', assignee: operator.id, updatedAt: at };
      try {
        await store.conversations.commit({ expect: context.revisions, conversations: [updated], messages: [], outbox: [], events: [] });
      } catch (err) {
        if (!(err instanceof TurnConflictError)) throw err;
        // Someone else changed it first (another operator's claim, a customer's turn).
        const now = await load(conversationId);
        throw new ConflictError(now.state === 'assigned' ? `already claimed by ${await holderName(now)}` : `the conversation is ${now.state} and cannot be claimed`);
      }
      await publish([{ type: 'conversation.assigned', conversationId, operatorId: operator.id, at }]);
      return updated;
    },

    async reply(conversationId, operator, text, opts = {}) {
      const { conversation, context } = await read(conversationId);
      await mustHold(conversation, operator);
      const adapter = deps.channels.get(conversation.channel);
      checkWindow(conversation, adapter);
      const visibility = opts.visibility ?? conversation.visibility;
      const signed =
        visibility === 'public' && adapter?.capabilities.signsPublicReplies && !/\^[A-Z]{1,4}\s*$/.test(text) ? `${text.trimEnd()} ^${operator.initials}` : text;
      const item = outboxItem(conversation, operator, visibility, { kind: 'text', text: signed });
      const at = item.createdAt;
      const queue = conversation.queue && !conversation.queue.firstResponseAt ? { ...conversation.queue, firstResponseAt: at } : conversation.queue;
      const message: StoredMessage = {
        id: item.id,
        conversationId,
        caseId: conversation.caseId,
        direction: 'out',
        author: item.author,
        text: signed,
        visibility,
        at,
      };
      await write(context, { ...conversation, queue, updatedAt: at }, { messages: [message], outbox: [item], events: [{ type: 'conversation.updated', conversationId, at }] });
      return { ...item, seq: 0 };
    },

    async note(conversationId, operator, text) {
      const { conversation, context } = await read(conversationId);
      const at = clock.now().toISOString();
      const message: StoredMessage = {
        id: newId('note'),
        conversationId,
        caseId: conversation.caseId,
        direction: 'note',
        author: { kind: 'operator', operatorId: operator.id, name: operator.name, initials: operator.initials },
        text,
        visibility: 'private',
        at,
      };
      await write(context, { ...conversation, updatedAt: at }, { messages: [message], events: [{ type: 'conversation.updated', conversationId, at }] });
      return message;
    },

    async askPrivate(conversationId, operator) {
      const { conversation, context } = await read(conversationId);
      await mustHold(conversation, operator);
      const adapter = deps.channels.get(conversation.channel);
      const language = conversation.language ?? 'it';
      if (conversation.visibility === 'private') throw new ConflictError('this conversation is already private');
      const customer = await store.directory.getCustomer(conversation.customerId);
      const reach = customer && adapter?.privateReach ? await adapter.privateReach(customer) : 'needs_follow';
      const open = reach === 'open';
      const items = [outboxItem(conversation, operator, 'public', { kind: 'dm_prompt', text: say(open ? 'dmPromptOpen' : 'dmPromptFollow', language), canMessagePrivately: open })];
      const at = items[0]!.createdAt;
      const messages: StoredMessage[] = items.map((i) => ({
        id: i.id,
        conversationId,
        caseId: conversation.caseId,
        direction: 'out',
        author: i.author,
        text: i.reply.text,
        visibility: i.visibility,
        at,
      }));
      await write(context, { ...conversation, updatedAt: at }, { messages, outbox: items, events: [{ type: 'conversation.updated', conversationId, at }] });
      return items.map((i) => ({ ...i, seq: 0 }));
    },

    async transfer(conversationId, operator, toOperatorId) {
      const { conversation, context } = await read(conversationId);
      await mustHold(conversation, operator);
      const target = await store.directory.getOperator(toOperatorId);
      if (!target) throw new ConflictError(`operator ${toOperatorId} does not exist`);
      const at = clock.now().toISOString();
      if (conversation.state !== 'assigned' && conversation.state !== 'queued') throw new ConflictError('the conversation changed meanwhile; reload and try again');
      const updated: Conversation = { ...conversation, state: 'assigned', assignee: target.id, updatedAt: at };
      await commit(context, { conversations: [updated], messages: [], outbox: [], events: [] });
      await publish([{ type: 'conversation.assigned', conversationId, operatorId: target.id, at }]);
      return updated;
    },

    async resolve(conversationId, operator, opts = {}) {
      const { conversation, context } = await read(conversationId);
      await mustHold(conversation, operator);
      const at = clock.now().toISOString();
      const updated: Conversation = { ...conversation, state: transition(conversation.state, 'resolved'), assignee: undefined, updatedAt: at };
      const { kase, siblings } = resolveCase(context, conversation, operator, at);
      let suggestionId: string | undefined;
      if (opts.addToFaq && deps.suggest) {
        const messages = await store.conversations.listMessages({ caseId: conversation.caseId });
        const customerMessages = messages.filter((m) => m.direction === 'in').map((m) => m.text);
        const lastOperator = [...messages].reverse().find((m) => m.direction === 'out' && m.author.kind === 'operator');
        const answer = opts.answer ?? lastOperator?.text;
        if (answer && customerMessages.length > 0) {
          const suggestion = await deps.suggest({ caseId: conversation.caseId, customerMessages, operatorAnswer: answer, operator, conversation });
          if (suggestion) {
            await store.suggestions.add(suggestion);
            suggestionId = suggestion.id;
          }
        }
      }
      const events: DomainEvent[] = [{ type: 'conversation.resolved', conversationId, caseId: conversation.caseId, operatorId: operator.id, addToFaq: opts.addToFaq, at }];
      if (suggestionId) events.push({ type: 'suggestion.created', suggestionId, at });
      await commit(context, { conversations: [updated, ...siblings], case: kase, messages: [], outbox: [], events });
      await publish(events);
      return { conversation: updated, suggestionId };
    },

    async returnToBot(conversationId, operator) {
      const { conversation, context } = await read(conversationId);
      await mustHold(conversation, operator);
      const at = clock.now().toISOString();
      const updated: Conversation = { ...conversation, state: transition(conversation.state, 'bot'), assignee: undefined, missStreak: 0, queue: undefined, updatedAt: at };
      await write(context, updated, { events: [{ type: 'conversation.returned_to_bot', conversationId, at }] });
      return updated;
    },
  };
}
