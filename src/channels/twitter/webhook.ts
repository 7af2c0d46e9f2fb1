/**
 * @module channels/twitter/webhook
 * One parser for both webhook families X delivers, behind one function:
 * - the X Activity API (XAA): `{ data: { event_type, filter, payload, includes } }`, v2 objects;
 * - the Account Activity API (AAA, end of life 2027-01-01): `for_user_id` with
 *   `tweet_create_events` / `direct_message_events`, v1.1 objects.
 * Our own posts and DMs, retweets and other events (likes, follows, typing, reads) are dropped.
 */
import { z } from 'zod';
import { WebhookBodyError } from '../../core/errors.js';
import type { ChannelValues } from '../values.js';
import type { InboundMessage } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { dmToInbound, postText, postToInbound, stripLeadingMentions, v2DmEventSchema, v2IncludesSchema, v2PostSchema } from './posts.js';
import { threadKey } from './store-keys.js';

// ───────────────────────────── X Activity API ─────────────────────────────

const xaaEventSchema = z.looseObject({
  event_uuid: z.string().optional(),
  event_type: z.string(),
  filter: z.looseObject({ user_id: z.string().optional() }).optional(),
  tag: z.string().optional(),
  payload: z.unknown(),
  includes: v2IncludesSchema,
});
const xaaBodySchema = z.looseObject({ data: z.union([xaaEventSchema, z.array(xaaEventSchema)]) });

// ───────────────────────────── Account Activity API ─────────────────────────────

const v1UserSchema = z.looseObject({
  id_str: z.string(),
  screen_name: z.string().optional(),
  name: z.string().optional(),
  followers_count: z.number().optional(),
});
const v1TweetSchema = z.looseObject({
  id_str: z.string(),
  text: z.string().optional(),
  full_text: z.string().optional(),
  truncated: z.boolean().optional(),
  extended_tweet: z.looseObject({ full_text: z.string() }).optional(),
  user: v1UserSchema,
  in_reply_to_status_id_str: z.string().nullable().optional(),
  in_reply_to_user_id_str: z.string().nullable().optional(),
  retweeted_status: z.unknown().optional(),
  is_quote_status: z.boolean().optional(),
  quoted_status_id_str: z.string().optional(),
  timestamp_ms: z.string().optional(),
  created_at: z.string().optional(),
});
const v1DmEventSchema = z.looseObject({
  type: z.string(),
  id: z.string(),
  created_timestamp: z.string().optional(),
  message_create: z
    .looseObject({
      sender_id: z.string(),
      target: z.looseObject({ recipient_id: z.string() }).optional(),
      message_data: z.looseObject({
        text: z.string().optional(),
        quick_reply_response: z.looseObject({ metadata: z.string().optional() }).optional(),
      }),
    })
    .optional(),
});
const aaaBodySchema = z.looseObject({
  for_user_id: z.string(),
  tweet_create_events: z.array(v1TweetSchema).optional(),
  direct_message_events: z.array(v1DmEventSchema).optional(),
  users: z.record(z.string(), v1UserSchema.partial({ id_str: true }).extend({ id: z.string().optional() })).optional(),
});

/** What the parser needs. */
export interface WebhookContext {
  brandUserId: string;
  values: ChannelValues;
  logger: Logger;
  now: () => Date;
}

function v1Time(tweet: { timestamp_ms?: string; created_at?: string }, now: Date): string {
  if (tweet.timestamp_ms && /^\d+$/.test(tweet.timestamp_ms)) return new Date(Number(tweet.timestamp_ms)).toISOString();
  const parsed = tweet.created_at ? Date.parse(tweet.created_at) : Number.NaN;
  return Number.isNaN(parsed) ? now.toISOString() : new Date(parsed).toISOString();
}

/**
 * v1.1 Tweets carry no conversation_id: the thread is the one of the post they answer, as
 * remembered when we saw or sent it, else the answered post itself, else the post.
 */
async function aaaTweet(tweet: z.infer<typeof v1TweetSchema>, ctx: WebhookContext): Promise<InboundMessage | undefined> {
  if (tweet.user.id_str === ctx.brandUserId) return undefined;
  if (tweet.retweeted_status !== undefined && tweet.retweeted_status !== null) return undefined;
  const repliedTo = tweet.in_reply_to_status_id_str ?? undefined;
  const threadId = repliedTo ? ((await ctx.values.get(threadKey(repliedTo))) ?? repliedTo) : tweet.id_str;
  await ctx.values.set(threadKey(tweet.id_str), threadId);
  const text = postText(tweet.extended_tweet?.full_text ?? tweet.full_text ?? tweet.text ?? '');
  const kind = repliedTo ? 'reply' : tweet.is_quote_status ? 'quote' : 'mention';
  return {
    channel: 'twitter',
    id: tweet.id_str,
    visibility: 'public',
    customer: {
      platformId: tweet.user.id_str,
      ...(tweet.user.screen_name ? { handle: tweet.user.screen_name } : {}),
      ...(tweet.user.name ? { name: tweet.user.name } : {}),
      ...(tweet.user.followers_count !== undefined ? { followers: tweet.user.followers_count } : {}),
    },
    text: stripLeadingMentions(text),
    sentAt: v1Time(tweet, ctx.now()),
    threadId,
    ...(repliedTo ? { inReplyTo: repliedTo } : {}),
    ref: {
      kind,
      ...(tweet.user.screen_name ? { handle: tweet.user.screen_name } : {}),
      ...(tweet.quoted_status_id_str ? { quotedId: tweet.quoted_status_id_str } : {}),
      ...(tweet.in_reply_to_user_id_str ? { inReplyToUserId: tweet.in_reply_to_user_id_str } : {}),
    },
  };
}

function aaaDm(event: z.infer<typeof v1DmEventSchema>, body: z.infer<typeof aaaBodySchema>, ctx: WebhookContext): InboundMessage | undefined {
  const mc = event.message_create;
  if (event.type !== 'message_create' || !mc) return undefined;
  // Echoes of the DMs we sent arrive too.
  if (mc.sender_id === body.for_user_id || mc.sender_id === ctx.brandUserId) return undefined;
  const user = body.users?.[mc.sender_id];
  const ts = event.created_timestamp && /^\d+$/.test(event.created_timestamp) ? new Date(Number(event.created_timestamp)) : ctx.now();
  const payload = mc.message_data.quick_reply_response?.metadata;
  return {
    channel: 'twitter',
    id: event.id,
    visibility: 'private',
    customer: {
      platformId: mc.sender_id,
      ...(user?.screen_name ? { handle: user.screen_name } : {}),
      ...(user?.name ? { name: user.name } : {}),
      ...(user?.followers_count !== undefined ? { followers: user.followers_count } : {}),
    },
    text: mc.message_data.text ?? '',
    sentAt: ts.toISOString(),
    ...(payload ? { payload } : {}),
  };
}

async function parseXaa(body: z.infer<typeof xaaBodySchema>, ctx: WebhookContext): Promise<InboundMessage[]> {
  const events = Array.isArray(body.data) ? body.data : [body.data];
  const out: InboundMessage[] = [];
  for (const event of events) {
    const users = event.includes?.users ?? [];
    const post = v2PostSchema.safeParse(event.payload);
    const dm = v2DmEventSchema.safeParse(event.payload);
    if (event.event_type.startsWith('post.') && event.event_type !== 'post.delete' && post.success) {
      const msg = postToInbound(post.data, users, ctx.brandUserId, ctx.now());
      if (msg) out.push(msg);
      continue;
    }
    if ((event.event_type.startsWith('dm.') || event.event_type.startsWith('chat.')) && dm.success) {
      const msg = dmToInbound({ ...dm.data, event_type: dm.data.event_type }, users, ctx.brandUserId, ctx.now());
      if (msg) out.push(msg);
      continue;
    }
    ctx.logger.debug({ eventType: event.event_type }, 'twitter: X Activity API event ignored');
  }
  return out;
}

async function parseAaa(body: z.infer<typeof aaaBodySchema>, ctx: WebhookContext): Promise<InboundMessage[]> {
  const out: InboundMessage[] = [];
  for (const tweet of body.tweet_create_events ?? []) {
    const msg = await aaaTweet(tweet, ctx);
    if (msg) out.push(msg);
  }
  for (const event of body.direct_message_events ?? []) {
    const msg = aaaDm(event, body, ctx);
    if (msg) out.push(msg);
  }
  return out;
}

/**
 * Turns a verified webhook body of either family into customer messages. Throws on a body that is
 * not JSON or matches neither family (the server answers 400 and nothing is processed).
 */
export async function parseWebhook(rawBody: Buffer, ctx: WebhookContext): Promise<InboundMessage[]> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new WebhookBodyError('X webhook: the body is not JSON', { cause: error });
  }
  const xaa = xaaBodySchema.safeParse(json);
  if (xaa.success) return parseXaa(xaa.data, ctx);
  const aaa = aaaBodySchema.safeParse(json);
  if (aaa.success) return parseAaa(aaa.data, ctx);
  throw new WebhookBodyError(`X webhook: neither an X Activity API nor an Account Activity API body (${aaa.error.issues[0]?.path.join('.') ?? ''}: ${aaa.error.issues[0]?.message ?? ''})`);
}
