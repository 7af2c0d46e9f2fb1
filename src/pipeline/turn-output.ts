/**
 * @module pipeline/turn-output
 * What a customer's turn sends: the replies it queues (outbox items, in order) and the
 * conversations it opens for them besides its own (the private side of a DM prompt).
 */
import type { Conversation, Customer, InboundMessage, OutboxItem, Reply, Visibility } from '../core/types.js';
import { pendingReply } from './outbox-item.js';

export type PlannedReply = Omit<OutboxItem, 'seq'>;

export class TurnOutput {
  readonly replies: PlannedReply[] = [];
  /** Conversations this turn creates or links to its case besides the main one (the private side of a DM prompt): all are written. */
  readonly extraConversations = new Map<string, Conversation>();

  /** `here`: the turn's conversation, where `reply` answers the message. */
  constructor(
    private readonly turn: { msg: InboundMessage; customer: Customer; now: Date; at: string },
    private readonly here: Conversation,
  ) {}

  /** Replies to the customer's message where they wrote it. */
  reply(reply: Reply): void {
    this.send(this.here, this.turn.msg.visibility, reply, this.turn.msg.id);
  }

  /** Queues a reply in `conv` (`inReplyTo`: the platform message it answers). */
  send(conv: Conversation, visibility: Visibility, reply: Reply, inReplyTo?: string): void {
    const { msg, customer, now, at } = this.turn;
    this.replies.push(
      pendingReply({
        conversationId: conv.id,
        channel: msg.channel,
        visibility,
        recipient: customer.platformId,
        inReplyTo,
        reply,
        author: { kind: 'bot' },
        now,
        ref: conv.ref,
        customerLastMessageAt: msg.sentAt ?? at,
      }),
    );
  }
}
