/**
 * @module channels/twitter/posts
 * X API v2 shapes (posts, users, DM events) as the mentions timeline, DM lookup and the X Activity
 * API deliver them, and their translation to InboundMessage. Shared by polling and webhooks.
 */
import { z } from 'zod';
import type { CustomerProfile, InboundMessage } from '../../core/types.js';

/** A v2 user as expanded in `includes.users` or returned by GET /2/users/:id. */
export const v2UserSchema = z.looseObject({
  id: z.string(),
  username: z.string().optional(),
  name: z.string().optional(),
  public_metrics: z.looseObject({ followers_count: z.number().optional() }).optional(),
  connection_status: z.array(z.string()).optional(),
  receives_your_dm: z.boolean().optional(),
});
export type V2User = z.infer<typeof v2UserSchema>;

/** A v2 post (Tweet) with the fields we ask for. */
export const v2PostSchema = z.looseObject({
  id: z.string(),
  text: z.string(),
  author_id: z.string().optional(),
  conversation_id: z.string().optional(),
  created_at: z.string().optional(),
  in_reply_to_user_id: z.string().optional(),
  referenced_tweets: z.array(z.looseObject({ type: z.string(), id: z.string() })).optional(),
  note_tweet: z.looseObject({ text: z.string() }).optional(),
});
export type V2Post = z.infer<typeof v2PostSchema>;

/** A v2 DM event. */
export const v2DmEventSchema = z.looseObject({
  id: z.string(),
  event_type: z.string(),
  text: z.string().optional(),
  sender_id: z.string().optional(),
  dm_conversation_id: z.string().optional(),
  created_at: z.string().optional(),
});
export type V2DmEvent = z.infer<typeof v2DmEventSchema>;

/** `includes` of a v2 response. */
export const v2IncludesSchema = z
  .looseObject({ users: z.array(v2UserSchema).optional(), tweets: z.array(z.looseObject({ id: z.string() })).optional() })
  .optional();

/** What kind of public post mentioned us: an original mention, a reply in a thread, or a quote. */
export type PostKind = 'mention' | 'reply' | 'quote' | 'retweet';

/** Reply, quote and retweet are told apart by `referenced_tweets` (a retweet is never a customer message). */
export function postKind(post: Pick<V2Post, 'referenced_tweets'>): PostKind {
  const types = new Set((post.referenced_tweets ?? []).map((r) => r.type));
  if (types.has('retweeted')) return 'retweet';
  if (types.has('replied_to')) return 'reply';
  if (types.has('quoted')) return 'quote';
  return 'mention';
}

/**
 * A post's text as the customer wrote it: X returns posts' `text` with `&`, `<` and `>` escaped as
 * HTML entities (`&amp;`, `&lt;`, `&gt;`), in API v2 as in v1.1 (DM texts are not escaped).
 */
export function postText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Drops the @handles X puts before a reply's text ("@brand @other where is…" → "where is…"). */
export function stripLeadingMentions(text: string): string {
  const stripped = text.replace(/^(?:\s*@\w{1,15})+\s*/u, '');
  return stripped.trim() === '' ? text.trim() : stripped.trim();
}

/** The customer as X describes them. */
export function profileOf(userId: string, user: V2User | undefined): CustomerProfile {
  return {
    platformId: userId,
    ...(user?.username ? { handle: user.username } : {}),
    ...(user?.name ? { name: user.name } : {}),
    ...(user?.public_metrics?.followers_count !== undefined ? { followers: user.public_metrics.followers_count } : {}),
  };
}

/**
 * A v2 post mentioning the brand as an InboundMessage; undefined for the brand's own posts and
 * for retweets. `threadId` is the post's conversation_id, so a mention inside a thread joins the
 * case of that thread.
 */
export function postToInbound(post: V2Post, users: readonly V2User[], brandUserId: string, now: Date): InboundMessage | undefined {
  const author = post.author_id;
  if (!author || author === brandUserId) return undefined;
  const kind = postKind(post);
  if (kind === 'retweet') return undefined;
  const repliedTo = post.referenced_tweets?.find((r) => r.type === 'replied_to')?.id;
  const quoted = post.referenced_tweets?.find((r) => r.type === 'quoted')?.id;
  const text = postText(post.note_tweet?.text ?? post.text);
  const profile = profileOf(author, users.find((u) => u.id === author));
  return {
    channel: 'twitter',
    id: post.id,
    visibility: 'public',
    customer: profile,
    text: stripLeadingMentions(text),
    sentAt: post.created_at ? new Date(post.created_at).toISOString() : now.toISOString(),
    threadId: post.conversation_id ?? post.id,
    ...(repliedTo ? { inReplyTo: repliedTo } : {}),
    ref: {
      kind,
      ...(profile.handle ? { handle: profile.handle } : {}),
      ...(quoted ? { quotedId: quoted } : {}),
      ...(post.in_reply_to_user_id ? { inReplyToUserId: post.in_reply_to_user_id } : {}),
    },
  };
}

/** A v2 DM event as an InboundMessage; undefined for our own DMs and non-message events. */
export function dmToInbound(event: V2DmEvent, users: readonly V2User[], brandUserId: string, now: Date): InboundMessage | undefined {
  if (event.event_type !== 'MessageCreate' || !event.sender_id || event.sender_id === brandUserId) return undefined;
  return {
    channel: 'twitter',
    id: event.id,
    visibility: 'private',
    customer: profileOf(event.sender_id, users.find((u) => u.id === event.sender_id)),
    text: event.text ?? '',
    sentAt: event.created_at ? new Date(event.created_at).toISOString() : now.toISOString(),
    ...(event.dm_conversation_id ? { ref: { dmConversationId: event.dm_conversation_id } } : {}),
  };
}

/** Compares two X snowflake ids numerically (they outgrow Number). */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
