/**
 * @module pipeline/turn-open
 * The first step of a customer's turn (turn-plan.ts): the customer as the message shows them, the
 * conversation and case it belongs to (reopened, or new), the message as stored, and the case's
 * other conversations.
 */
import type { DomainEvent } from '../core/events.js';
import type { TurnContext } from '../core/ports.js';
import { transition } from '../core/state.js';
import type { Case, Conversation, Customer, InboundMessage, StoredMessage } from '../core/types.js';
import { newId } from '../util/ids.js';

/** A turn opened: what every later step reads (and the records it writes in the end). */
export interface OpenedTurn {
  customer: Customer;
  /** The turn's working copy of the conversation: the steps of the turn set its fields. */
  conversation: Conversation;
  kase: Case;
  /** The message as stored in the conversation and case. */
  inbound: StoredMessage;
  events: DomainEvent[];
  /** The other conversations of this case (the public thread of a DM, and vice versa). */
  siblings: Conversation[];
  /** The customer writes in a conversation under way (neither new nor resolved). */
  midConversation: boolean;
}

/** Opens the turn on the context read: the conversation and case the message continues, or new ones. */
export function openTurn(input: { msg: InboundMessage; key: string; at: string }, context: TurnContext): OpenedTurn {
  const { msg, key, at } = input;
  const customer = mergeCustomer(msg, context.customer, at);
  let conversation = context.conversation;
  let kase: Case | undefined;
  const midConversation = context.conversation !== undefined && context.conversation.state !== 'resolved' && context.case?.status !== 'resolved';
  if (conversation?.state === 'resolved') {
    conversation = { ...conversation, state: transition('resolved', 'bot'), missStreak: 0, assignee: undefined, queue: undefined };
  }
  if (conversation) kase = context.case;
  if (!conversation || !kase || kase.status === 'resolved') {
    const openCase = context.linkedOpenCase ?? context.openCase;
    kase = openCase ?? { id: newId('cs'), customerId: customer.id, status: 'open', conversationIds: [], openedAt: at };
    // The case it was in, resolved: "ciao", then "ancora niente" may still be about it (turn-decision.ts).
    const earlier = conversation && context.case?.status === 'resolved' && context.case.id === conversation.caseId && context.case.id !== kase.id ? context.case : undefined;
    conversation = conversation
      ? { ...conversation, caseId: kase.id, ...(earlier ? { earlierCase: { id: earlier.id, resolvedAt: earlier.resolvedAt, resolvedBy: earlier.resolvedBy } } : {}) }
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

  const inbound = storedInbound(msg, conversation.id, kase.id, at);
  const events: DomainEvent[] = [
    { type: 'message.received', conversationId: conversation.id, caseId: kase.id, messageId: inbound.id, at },
  ];

  // The other conversations of this case (the public thread of a DM, and vice versa).
  const related = new Map(context.related.map((c) => [c.id, c]));
  const ownId = conversation.id;
  const siblings = kase.conversationIds.filter((id) => id !== ownId).flatMap((id) => related.get(id) ?? []);
  // A conversation with no language yet (the DM after a public thread, a new thread, a linked
  // commenter's Messenger chat) starts in the customer's last known one: a message with no language
  // of its own ("AB123456", "?") is answered in it, not in the brand's default.
  if (conversation.language === undefined) {
    const known = customer.language ?? [...siblings].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1)).find((s) => s.language !== undefined)?.language;
    if (known !== undefined) conversation = { ...conversation, language: known };
  }
  return { customer, conversation, kase, inbound, events, siblings, midConversation };
}

/** A customer's message as stored in their conversation and case. */
export function storedInbound(msg: Pick<InboundMessage, 'id' | 'text' | 'visibility'>, conversationId: string, caseId: string, at: string): StoredMessage {
  return { id: newId('msg'), conversationId, caseId, direction: 'in', author: { kind: 'customer' }, text: msg.text, visibility: msg.visibility, platformId: msg.id, at };
}

/** The customer as this message shows them, merged with what is stored. */
export function mergeCustomer(msg: InboundMessage, existing: Customer | undefined, at: string): Customer {
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
    ...(existing?.surveyOptOutAt ? { surveyOptOutAt: existing.surveyOptOutAt } : {}),
    ...(existing?.language ? { language: existing.language } : {}),
  };
}
