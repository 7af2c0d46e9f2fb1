/**
 * @module pipeline/outbox-item
 * A reply as the outbox first holds it: pending, not yet tried, due now. One builder for every
 * writer of replies (a customer's turn, the operator desk, the survey job), so the defaults an
 * outbox item starts with are said once.
 */
import type { Author, ChannelName, OutboxItem, Reply, Visibility } from '../core/types.js';
import { newId } from '../util/ids.js';

/** A new pending reply to `recipient` in a conversation, due at `now`; absent optional fields are left out. */
export function pendingReply(fields: {
  conversationId: string;
  channel: ChannelName;
  visibility: Visibility;
  recipient: string;
  reply: Reply;
  author: Author;
  now: Date;
  /** The platform message it answers (public replies). */
  inReplyTo?: string;
  /** The conversation's platform reference (how the channel reaches it). */
  ref?: OutboxItem['ref'];
  /** When the customer last wrote (platforms' messaging windows). */
  customerLastMessageAt?: string;
}): Omit<OutboxItem, 'seq'> {
  const { now, inReplyTo, ref, customerLastMessageAt, ...rest } = fields;
  return {
    id: newId('out'),
    ...rest,
    ...(inReplyTo !== undefined ? { inReplyTo } : {}),
    status: 'pending',
    attempts: 0,
    notBefore: now.getTime(),
    createdAt: now.toISOString(),
    ...(ref !== undefined ? { ref } : {}),
    ...(customerLastMessageAt !== undefined ? { customerLastMessageAt } : {}),
  };
}
