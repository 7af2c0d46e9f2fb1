/**
 * @module handoff/operator-desk
 * What operators do to a conversation: claim, reply, note, ask to move to private, transfer,
 * resolve (optionally "add to FAQ"), return to bot. Each is planned on the conversation as read
 * under its lock and committed with a revision check (pipeline/conversation-writer), like a
 * customer's turn: a turn or another operator that changed the conversation first makes the action
 * plan again on what they wrote, so two operators never hold one conversation and nothing a
 * customer wrote meanwhile is lost. Every state move is checked against the state table.
 */
import type { KnowledgeSource } from '../core/corpus.js';
import { ConflictError } from '../core/errors.js';
import type { DomainEvent, EventBus } from '../core/events.js';
import type { ChannelAdapter, Clock, Store, TurnContext, TurnRecord } from '../core/ports.js';
import { canTransition, transition } from '../core/state.js';
import type { Conversation, FaqSuggestion, Operator, OutboxItem, Reply, StoredMessage, Visibility } from '../core/types.js';
import { newId } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { createConversationWriter, type Planned } from '../pipeline/conversation-writer.js';
import type { EventRecorder } from '../events/recorder.js';
import { say } from '../pipeline/messages.js';
import type { ReplySender } from '../pipeline/outbox-sender.js';
import { pendingReply } from '../pipeline/outbox-item.js';
import { PrivateDataInPublicError, privateDataInPublic } from './public-guard.js';

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
  /**
   * Hands the conversation to another operator. The history keeps a note of it (who to, and the
   * reason when one is given), so the new holder reads why they have it.
   */
  transfer(conversationId: string, operator: Operator, toOperatorId: string, opts?: { reason?: string }): Promise<Conversation>;
  /** Resolves the case; with `addToFaq` a FAQ suggestion is made from it. */
  resolve(
    conversationId: string,
    operator: Operator,
    opts?: { addToFaq?: boolean; answer?: string },
  ): Promise<{ conversation: Conversation; suggestionId?: string }>;
  /**
   * An automatic claim (auto-assignment, issue 21): takes the conversation for `operator` only
   * while it waits in the queue; undefined when it no longer does (claimed, resolved, back to the bot).
   */
  assign(conversationId: string, operator: Operator): Promise<Conversation | undefined>;
  /**
   * Puts a conversation `holder` holds back in the queue (the holder went away: issue 21). Nothing
   * (undefined) when `holder` no longer holds it: someone else acted first.
   */
  release(conversationId: string, holder: string): Promise<Conversation | undefined>;
  /** Gives the conversation back to the bot. */
  returnToBot(conversationId: string, operator: Operator): Promise<Conversation>;
  /** The holder is writing a reply: the customer is told where the channel can (nothing is stored). */
  composing(conversationId: string, operator: Operator): Promise<void>;
}

/** Makes a FAQ suggestion from a resolved case (implemented by corpus/suggestions). */
export type SuggestFromCase = (input: {
  caseId: string;
  customerMessages: string[];
  operatorAnswer: string;
  operator: Operator;
  conversation: Conversation;
}) => Promise<FaqSuggestion | undefined>;

/** Creates the desk. Every action goes through the conversation writer, as a customer's turn does. */
export function createOperatorDesk(deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  channels: ReadonlyMap<string, ChannelAdapter>;
  knowledge?: KnowledgeSource;
  suggest?: SuggestFromCase;
  /** Told of the replies an action writes (the outbox sender). */
  sender?: ReplySender;
  /** Makes each action's outbound event deliveries (webhooks), committed with it. */
  recorder: EventRecorder;
  /** The brand's order numbers (ORDER_NUMBER_PATTERN): never written in a public reply. */
  orderNumberPattern?: string;
}): OperatorDesk {
  const { store, clock } = deps;
  const writer = createConversationWriter({ store, bus: deps.bus, logger: deps.logger, sender: deps.sender, recorder: deps.recorder });

  /**
   * Runs one action on a conversation: `plan` sees the conversation and its case as just read
   * under the conversation's lock, and is planned again if a customer's turn (or another
   * operator, or another instance) changed them before the commit.
   */
  async function act<T>(conversationId: string, plan: (conversation: Conversation, context: TurnContext) => Planned<T> | Promise<Planned<T>>): Promise<T> {
    const found = await store.conversations.get(conversationId);
    if (!found) throw new ConflictError(`conversation ${conversationId} does not exist`);
    return writer.change({ key: found.key, customerId: found.customerId }, (context) => {
      const conversation = context.conversation;
      if (!conversation || conversation.id !== conversationId) throw new ConflictError(`conversation ${conversationId} does not exist`);
      return plan(conversation, context);
    });
  }

  async function holderName(conversation: Conversation): Promise<string> {
    if (!conversation.assignee) return 'nobody';
    return (await store.directory.getOperator(conversation.assignee))?.name ?? conversation.assignee;
  }

  /**
   * Refuses a public reply that holds private data (handoff/public-guard): the customer's email,
   * phone or IBAN as they wrote them in any of their conversations, or an order number, card,
   * codice fiscale or customer code. Nothing is written.
   */
  async function mustBeFitForPublic(conversation: Conversation, text: string): Promise<void> {
    const customerTexts = async () => {
      // The customer's records: this one and those linked to it (the same person on another channel).
      const records = [conversation.customerId, ...(await store.customerFiles.get(conversation.customerId)).links];
      const conversations = (await Promise.all(records.map((customerId) => store.conversations.list({ customerId })))).flat();
      const all = await Promise.all(conversations.map((c) => store.conversations.listMessages({ conversationId: c.id })));
      return all.flat().flatMap((m) => (m.direction === 'in' ? [m.text] : []));
    };
    const kinds = await privateDataInPublic(text, customerTexts, { orderNumberPattern: deps.orderNumberPattern });
    if (kinds.length > 0) throw new PrivateDataInPublicError(kinds);
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

  function outboxItem(conversation: Conversation, operator: Operator | undefined, visibility: Visibility, reply: Reply): Omit<OutboxItem, 'seq'> {
    return pendingReply({
      conversationId: conversation.id,
      channel: conversation.channel,
      visibility,
      recipient: conversation.customerId.slice(conversation.channel.length + 1),
      inReplyTo: visibility === 'public' ? conversation.lastInboundId : undefined,
      reply,
      author: operator ? { kind: 'operator', operatorId: operator.id, name: operator.name, initials: operator.initials } : { kind: 'bot' },
      now: clock.now(),
      ref: conversation.ref,
      customerLastMessageAt: conversation.lastInboundAt,
    });
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

  /** An operator's internal note in the conversation's history (stored, never sent). */
  function noteOf(conversation: Conversation, operator: Operator, text: string, at: string): StoredMessage {
    return {
      id: newId('note'),
      conversationId: conversation.id,
      caseId: conversation.caseId,
      direction: 'note',
      author: { kind: 'operator', operatorId: operator.id, name: operator.name, initials: operator.initials },
      text,
      visibility: 'private',
      at,
    };
  }

  /** The records of an action that changes the conversation (and maybe its siblings) and adds messages and replies. */
  function change(
    conversation: Conversation,
    context: TurnContext,
    extra: { messages?: StoredMessage[]; outbox?: Omit<OutboxItem, 'seq'>[]; events: DomainEvent[]; others?: Conversation[] },
  ): Omit<TurnRecord, 'expect'> {
    return {
      conversations: [conversation, ...(extra.others ?? [])],
      case: context.case,
      messages: extra.messages ?? [],
      outbox: extra.outbox ?? [],
      events: extra.events,
    };
  }

  function resolvedCase(conversation: Conversation, context: TurnContext, operator: Operator, at: string) {
    const kase = context.case;
    const siblings = context.related.filter(
      (c) => c.id !== conversation.id && c.caseId === conversation.caseId && c.state !== 'resolved' && canTransition(c.state, 'resolved'),
    );
    return {
      kase: kase ? { ...kase, status: 'resolved' as const, resolvedAt: at, resolvedBy: operator.id } : undefined,
      siblings: siblings.map((s) => ({ ...s, state: transition(s.state, 'resolved'), assignee: undefined, updatedAt: at })),
    };
  }

  return {
    claim(conversationId, operator, opts = {}) {
      return act(conversationId, async (current) => {
        if (current.state === 'assigned' && current.assignee === operator.id) return { result: current };
        const takeover = opts.takeover === true && operator.role === 'admin';
        if (current.state === 'assigned' && !takeover) throw new ConflictError(`already claimed by ${await holderName(current)}`);
        if (current.state === 'resolved') {
          throw new ConflictError('this conversation is resolved: it cannot be claimed until the customer writes again');
        }
        const at = clock.now().toISOString();
        const updated: Conversation = { ...current, state: 'assigned', assignee: operator.id, updatedAt: at };
        return { write: { conversations: [updated], messages: [], outbox: [], events: [{ type: 'conversation.assigned', conversationId, operatorId: operator.id, at }] }, result: updated };
      });
    },

    reply(conversationId, operator, text, opts = {}) {
      return act(conversationId, async (conversation, context) => {
        await mustHold(conversation, operator);
        const adapter = deps.channels.get(conversation.channel);
        checkWindow(conversation, adapter);
        const visibility = opts.visibility ?? conversation.visibility;
        if (visibility === 'public') await mustBeFitForPublic(conversation, text);
        const signed =
          visibility === 'public' && adapter?.capabilities.signsPublicReplies && !/\^[A-Z]{1,4}\s*$/.test(text) ? `${text.trimEnd()} ^${operator.initials}` : text;
        const item = outboxItem(conversation, operator, visibility, { kind: 'text', text: signed });
        const at = item.createdAt;
        const queue = conversation.queue && !conversation.queue.firstResponseAt ? { ...conversation.queue, firstResponseAt: at } : conversation.queue;
        const message: StoredMessage = { id: item.id, conversationId, caseId: conversation.caseId, direction: 'out', author: item.author, text: signed, visibility, at };
        return {
          write: change({ ...conversation, queue, updatedAt: at }, context, { messages: [message], outbox: [item], events: [{ type: 'conversation.updated', conversationId, at }] }),
          result: { ...item, seq: 0 },
        };
      });
    },

    note(conversationId, operator, text) {
      return act(conversationId, (conversation, context) => {
        const at = clock.now().toISOString();
        const message = noteOf(conversation, operator, text, at);
        return { write: change({ ...conversation, updatedAt: at }, context, { messages: [message], events: [{ type: 'conversation.updated', conversationId, at }] }), result: message };
      });
    },

    askPrivate(conversationId, operator) {
      return act(conversationId, async (conversation, context) => {
        await mustHold(conversation, operator);
        if (conversation.visibility === 'private') throw new ConflictError('this conversation is already private');
        const adapter = deps.channels.get(conversation.channel);
        const language = conversation.language ?? 'it';
        const customer = context.customer ?? (await store.directory.getCustomer(conversation.customerId));
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
        return {
          write: change({ ...conversation, updatedAt: at }, context, { messages, outbox: items, events: [{ type: 'conversation.updated', conversationId, at }] }),
          result: items.map((i) => ({ ...i, seq: 0 })),
        };
      });
    },

    async transfer(conversationId, operator, toOperatorId, opts = {}) {
      const target = await store.directory.getOperator(toOperatorId);
      if (!target) throw new ConflictError(`operator ${toOperatorId} does not exist`);
      return act(conversationId, async (conversation, context) => {
        await mustHold(conversation, operator);
        if (conversation.state === 'assigned' && conversation.assignee === target.id) throw new ConflictError(`this conversation is already held by ${target.name}`);
        const at = clock.now().toISOString();
        const updated: Conversation = { ...conversation, state: transition(conversation.state, 'assigned'), assignee: target.id, updatedAt: at };
        const reason = opts.reason?.trim();
        const note: StoredMessage = {
          ...noteOf(conversation, operator, `→ ${target.name}${reason ? `: ${reason}` : ''}`, at),
          transfer: { from: operator.id, to: target.id, ...(reason ? { reason } : {}) },
        };
        return {
          write: change(updated, context, { messages: [note], events: [{ type: 'conversation.assigned', conversationId, operatorId: target.id, at }] }),
          result: updated,
        };
      });
    },

    async resolve(conversationId, operator, opts = {}) {
      const at = clock.now().toISOString();
      // "Add to FAQ" never loses the operator's answer: the suggestion is made before the
      // resolution is written, and a case it cannot be made from is not resolved (409, nothing changes).
      let suggestion: FaqSuggestion | undefined;
      if (opts.addToFaq && deps.suggest) {
        const found = await store.conversations.get(conversationId);
        if (!found) throw new ConflictError(`conversation ${conversationId} does not exist`);
        const messages = await store.conversations.listMessages({ caseId: found.caseId });
        const customerMessages = messages.filter((m) => m.direction === 'in').map((m) => m.text);
        const lastOperator = [...messages].reverse().find((m) => m.direction === 'out' && m.author.kind === 'operator');
        const answer = opts.answer ?? lastOperator?.text;
        if (!answer) throw new ConflictError('"add to FAQ" needs your answer: reply to the customer first (or give the answer), then resolve');
        if (customerMessages.length === 0) throw new ConflictError('"add to FAQ" needs a question: the customer has written nothing in this case');
        suggestion = await deps.suggest({ caseId: found.caseId, customerMessages, operatorAnswer: answer, operator, conversation: found });
      }
      const { conversation, kase } = await act(conversationId, async (current, context) => {
        await mustHold(current, operator);
        const updated: Conversation = { ...current, state: 'resolved', assignee: undefined, updatedAt: at };
        const { kase, siblings } = resolvedCase(current, context, operator, at);
        const events: DomainEvent[] = [{ type: 'conversation.resolved', conversationId, caseId: current.caseId, operatorId: operator.id, addToFaq: opts.addToFaq, at }];
        return { write: { conversations: [updated, ...siblings], case: kase, messages: [], outbox: [], events }, result: { conversation: updated, kase } };
      });
      let suggestionId: string | undefined;
      if (suggestion) {
        await store.suggestions.add({ ...suggestion, caseId: kase?.id ?? suggestion.caseId });
        suggestionId = suggestion.id;
        await deps.bus.publish({ type: 'suggestion.created', suggestionId, at });
      }
      return { conversation, suggestionId };
    },

    assign(conversationId, operator) {
      return act(conversationId, (current) => {
        if (current.state !== 'queued') return { result: undefined };
        const at = clock.now().toISOString();
        const updated: Conversation = { ...current, state: 'assigned', assignee: operator.id, updatedAt: at };
        return { write: { conversations: [updated], messages: [], outbox: [], events: [{ type: 'conversation.assigned', conversationId, operatorId: operator.id, at }] }, result: updated };
      });
    },

    release(conversationId, holder) {
      return act(conversationId, (conversation, context) => {
        if (conversation.state !== 'assigned' || conversation.assignee !== holder) return { result: undefined };
        const at = clock.now().toISOString();
        const updated: Conversation = { ...conversation, state: 'queued', assignee: undefined, updatedAt: at };
        return { write: change(updated, context, { events: [{ type: 'conversation.updated', conversationId, at }] }), result: updated };
      });
    },

    returnToBot(conversationId, operator) {
      return act(conversationId, async (conversation, context) => {
        await mustHold(conversation, operator);
        const at = clock.now().toISOString();
        const updated: Conversation = { ...conversation, state: 'bot', assignee: undefined, missStreak: 0, queue: undefined, updatedAt: at };
        return { write: change(updated, context, { events: [{ type: 'conversation.returned_to_bot', conversationId, at }] }), result: updated };
      });
    },

    async composing(conversationId, operator) {
      // A read, no change: only the one who may reply is shown typing.
      const conversation = await store.conversations.get(conversationId);
      if (!conversation) throw new ConflictError(`conversation ${conversationId} does not exist`);
      await mustHold(conversation, operator);
      // An event, not a call to this instance's channel: the customer's page may be connected to
      // another instance, and every instance shows it to the pages it serves (app.ts).
      await deps.bus.publish({ type: 'operator.composing', conversationId, operatorId: operator.id, at: clock.now().toISOString() });
    },
  };
}
