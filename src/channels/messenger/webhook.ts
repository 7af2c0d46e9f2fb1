/**
 * @module channels/messenger/webhook
 * Turns a verified `object: "page"` webhook body into customer messages: Messenger messages,
 * quick replies and postbacks (private), and Facebook Page comments (public). Echoes, delivery
 * and read receipts, standby events and everything else are dropped.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { WebhookBodyError } from '../../core/errors.js';
import type { Logger } from '../../util/logger.js';
import type { ChannelValues } from '../values.js';
import type { PsidLinks } from './psid-links.js';
import type { InboundMessage } from '../../core/types.js';
import { commentAuthorKey, commentThreadKey } from './store-keys.js';

const idSchema = z.union([z.string(), z.number()]).transform(String);

const attachmentSchema = z.object({
  type: z.string(),
  payload: z.looseObject({ url: z.string().optional() }).nullable().optional(),
});

/** One event of `entry[].messaging[]`. */
export const messagingEventSchema = z.looseObject({
  sender: z.object({ id: idSchema }),
  recipient: z.object({ id: idSchema }),
  timestamp: z.number(),
  message: z
    .looseObject({
      mid: z.string(),
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      quick_reply: z.object({ payload: z.string() }).optional(),
      reply_to: z.looseObject({ mid: z.string().optional() }).optional(),
      attachments: z.array(attachmentSchema).optional(),
      sticker_id: idSchema.optional(),
    })
    .optional(),
  postback: z
    .looseObject({
      mid: z.string().optional(),
      title: z.string().optional(),
      payload: z.string().optional(),
    })
    .optional(),
  /** An answer to a Customer Feedback Template: per screen, per question id, the score and the free text. */
  messaging_feedback: z
    .looseObject({
      feedback_screens: z.array(
        z.looseObject({
          screen_id: z.number().optional(),
          questions: z.record(
            z.string(),
            z.looseObject({
              type: z.string(),
              payload: z.string(),
              follow_up: z.looseObject({ type: z.string().optional(), payload: z.string() }).optional(),
            }),
          ),
        }),
      ),
    })
    .optional(),
});
export type MessagingEvent = z.infer<typeof messagingEventSchema>;

/** `entry[].changes[].value` for the `feed` field when someone comments on a Page post. */
export const feedCommentSchema = z.looseObject({
  item: z.literal('comment'),
  verb: z.string(),
  comment_id: z.string(),
  post_id: z.string(),
  parent_id: z.string().optional(),
  message: z.string().optional(),
  created_time: z.number().optional(),
  from: z.object({ id: idSchema, name: z.string().optional() }),
});
export type FeedComment = z.infer<typeof feedCommentSchema>;

/** `feed` when someone posts on the Page (a visitor post): heard by listening. */
export const feedPostSchema = z.looseObject({
  item: z.enum(['post', 'status', 'photo', 'video']),
  verb: z.string(),
  post_id: z.string(),
  message: z.string().optional(),
  created_time: z.number().optional(),
  from: z.object({ id: idSchema, name: z.string().optional() }),
});
export type FeedPost = z.infer<typeof feedPostSchema>;

/**
 * `mention`: the Page was tagged in someone's post or comment, as parsers see it (Meta's reference
 * differs: `from` is accepted for `sender_id`/`sender_name`).
 */
export const mentionSchema = z.looseObject({
  item: z.enum(['post', 'comment']),
  verb: z.string(),
  post_id: z.string(),
  comment_id: z.string().optional(),
  message: z.string().optional(),
  created_time: z.number().optional(),
  sender_id: idSchema.optional(),
  sender_name: z.string().optional(),
  from: z.object({ id: idSchema, name: z.string().optional() }).optional(),
});
export type PageMention = z.infer<typeof mentionSchema>;

const changeSchema = z.looseObject({ field: z.string(), value: z.unknown() });

/** The webhook body Meta posts for Pages. Events are validated one by one (see `parseWebhook`). */
export const webhookBodySchema = z.object({
  object: z.string(),
  entry: z.array(
    z.looseObject({
      id: idSchema,
      time: z.number().optional(),
      messaging: z.array(z.unknown()).optional(),
      standby: z.array(z.unknown()).optional(),
      changes: z.array(changeSchema).optional(),
    }),
  ),
});

/** Thrown for a body that is not a Page webhook at all (not JSON, wrong shape): answered 400. */
export { WebhookBodyError };

/** A stable id for a postback that has no `mid` (Meta added it in v11.0), so retries dedupe. */
export function postbackId(senderId: string, timestamp: number, payload: string): string {
  const digest = createHash('sha256').update(`${senderId}|${timestamp}|${payload}`).digest('hex');
  return `pb_${digest.slice(0, 32)}`;
}

/**
 * Messenger's "like" button sends one of these stickers (small, medium, large thumbs up): a 👍,
 * read like the emoji (an acknowledgement), not as an image the bot could not make out.
 */
const LIKE_STICKERS = new Set(['369239263222822', '369239343222814', '369239383222810']);

function describeAttachments(attachments: z.infer<typeof attachmentSchema>[] | undefined): string {
  if (!attachments?.length) return '';
  return attachments.map((a) => (a.payload?.url ? `[${a.type}: ${a.payload.url}]` : `[${a.type}]`)).join(' ');
}

/** Dependencies of the parser: the channel's values remember comment authors and threads; `links`, PSID links. */
export interface ParseDeps {
  values: ChannelValues;
  links: Pick<PsidLinks, 'commenterOf'>;
  logger: Logger;
  /** The Page's own id, when configured (its own comments are ignored). */
  pageId?: string;
  /** Time for comments that carry no `created_time`. */
  now: () => Date;
}

async function fromMessaging(event: MessagingEvent, deps: ParseDeps): Promise<InboundMessage | undefined> {
  const psid = event.sender.id;
  const sentAt = new Date(event.timestamp).toISOString();
  let base: Omit<InboundMessage, 'linkTo'> | undefined;
  if (event.message) {
    if (event.message.is_echo) return undefined;
    const like = !event.message.text && event.message.sticker_id !== undefined && LIKE_STICKERS.has(event.message.sticker_id);
    const text = like ? '👍' : [event.message.text ?? '', describeAttachments(event.message.attachments)].filter(Boolean).join(' ');
    base = {
      channel: 'messenger',
      id: event.message.mid,
      visibility: 'private',
      customer: { platformId: psid },
      text,
      sentAt,
      ...(event.message.quick_reply ? { payload: event.message.quick_reply.payload } : {}),
      ...(event.message.reply_to?.mid ? { inReplyTo: event.message.reply_to.mid } : {}),
      ref: { psid },
    };
  } else if (event.postback) {
    const payload = event.postback.payload ?? '';
    base = {
      channel: 'messenger',
      id: event.postback.mid ?? postbackId(psid, event.timestamp, payload),
      visibility: 'private',
      customer: { platformId: psid },
      text: event.postback.title ?? payload,
      sentAt,
      payload,
      ref: { psid },
    };
  }
  else if (event.messaging_feedback) {
    // A CSAT answer (1–5) becomes the survey's score payload; the free text, the comment.
    const question = event.messaging_feedback.feedback_screens.flatMap((screen) => Object.values(screen.questions)).find((q) => q.type === 'csat' && /^[1-5]$/.test(q.payload));
    if (question) {
      const comment = question.follow_up?.payload.trim();
      base = {
        channel: 'messenger',
        id: postbackId(psid, event.timestamp, `feedback:${question.payload}`),
        visibility: 'private',
        customer: { platformId: psid },
        text: comment || question.payload,
        sentAt,
        payload: `csat:${question.payload}`,
        ref: { psid },
      };
    }
  }
  if (!base) return undefined; // delivery, read, reaction, optin, referral, handover: nothing to answer
  // A PSID that answered our private reply to a comment continues the commenter's case.
  const commenter = await deps.links.commenterOf(psid);
  return commenter !== undefined ? { ...base, linkTo: { customerPlatformId: commenter } } : base;
}

async function fromComment(pageId: string, comment: FeedComment, deps: ParseDeps): Promise<InboundMessage | undefined> {
  if (comment.verb !== 'add') return undefined;
  if (comment.from.id === pageId || comment.from.id === deps.pageId) return undefined; // the Page's own comment
  await deps.values.set(commentAuthorKey(comment.comment_id), comment.from.id);
  // A public conversation is one comment thread (a top-level comment and the replies under it),
  // not the whole post: everyone commenting on a Page post must not share one case.
  const parent = comment.parent_id && comment.parent_id !== comment.post_id ? comment.parent_id : undefined;
  const threadId = parent ? ((await deps.values.get(commentThreadKey(parent))) ?? parent) : comment.comment_id;
  await deps.values.set(commentThreadKey(comment.comment_id), threadId);
  const sentAt = comment.created_time ? new Date(comment.created_time * 1000).toISOString() : deps.now().toISOString();
  return {
    channel: 'messenger',
    id: comment.comment_id,
    visibility: 'public',
    customer: { platformId: comment.from.id, ...(comment.from.name ? { name: comment.from.name } : {}) },
    text: comment.message ?? '',
    sentAt,
    threadId,
    ...(parent ? { inReplyTo: parent } : {}),
    ref: { commentId: comment.comment_id, postId: comment.post_id },
  };
}

/** A visitor's post on the Page: a public message for listening (answered, if at all, by a comment under it). */
function fromFeedPost(pageId: string, post: FeedPost, deps: ParseDeps): InboundMessage | undefined {
  if (post.verb !== 'add' || post.from.id === pageId || post.from.id === deps.pageId || !post.message) return undefined;
  return {
    channel: 'messenger',
    id: post.post_id,
    visibility: 'public',
    customer: { platformId: post.from.id, ...(post.from.name ? { name: post.from.name } : {}) },
    text: post.message,
    sentAt: post.created_time ? new Date(post.created_time * 1000).toISOString() : deps.now().toISOString(),
    threadId: post.post_id,
    listening: true,
    ref: { postId: post.post_id },
  };
}

/** The Page tagged in a post or comment elsewhere: a public message for listening. */
function fromMention(pageId: string, mention: PageMention, deps: ParseDeps): InboundMessage | undefined {
  const author = mention.sender_id ?? mention.from?.id;
  const name = mention.sender_name ?? mention.from?.name;
  if (mention.verb !== 'add' || !author || author === pageId || author === deps.pageId || !mention.message) return undefined;
  const id = mention.item === 'comment' && mention.comment_id ? mention.comment_id : mention.post_id;
  return {
    channel: 'messenger',
    id,
    visibility: 'public',
    customer: { platformId: author, ...(name ? { name } : {}) },
    text: mention.message,
    sentAt: mention.created_time ? new Date(mention.created_time * 1000).toISOString() : deps.now().toISOString(),
    threadId: id,
    listening: true,
    ref: { postId: mention.post_id, ...(mention.comment_id ? { commentId: mention.comment_id } : {}), tagged: true },
  };
}

/**
 * Parses a Page webhook body. A body that is not JSON or not `object: "page"` throws
 * WebhookBodyError; one malformed event inside a batch is logged and skipped, the rest kept.
 */
export async function parseWebhook(rawBody: Buffer, deps: ParseDeps): Promise<InboundMessage[]> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new WebhookBodyError('Messenger webhook body is not JSON', { cause: error });
  }
  const body = webhookBodySchema.safeParse(json);
  if (!body.success) {
    throw new WebhookBodyError(`Messenger webhook body is not a Page event batch: ${z.prettifyError(body.error)}`);
  }
  if (body.data.object !== 'page') {
    throw new WebhookBodyError(`Messenger webhook object "${body.data.object}" is not "page"`);
  }
  const out: InboundMessage[] = [];
  // Messages only read (their PSID's link): looked up together; comments write, so one by one.
  const messaging: Array<Promise<InboundMessage | undefined>> = [];
  for (const entry of body.data.entry) {
    for (const raw of entry.messaging ?? []) {
      const event = messagingEventSchema.safeParse(raw);
      if (!event.success) {
        deps.logger.warn({ pageId: entry.id, problem: z.prettifyError(event.error) }, 'messenger: skipped a malformed event');
        continue;
      }
      const msg = fromMessaging(event.data, deps);
      msg.catch(() => undefined); // awaited below; a comment that throws first must not leave it unhandled
      messaging.push(msg);
    }
    if (entry.standby?.length) {
      // Another app (e.g. the Page Inbox after a handover) owns these threads: we must not reply.
      deps.logger.debug({ pageId: entry.id, events: entry.standby.length }, 'messenger: standby events ignored');
    }
    for (const change of entry.changes ?? []) {
      const value = change.value as { item?: unknown } | undefined;
      if (change.field === 'mention') {
        const mention = mentionSchema.safeParse(change.value);
        if (!mention.success) {
          deps.logger.warn({ pageId: entry.id, problem: z.prettifyError(mention.error) }, 'messenger: skipped a malformed mention');
          continue;
        }
        const msg = fromMention(entry.id, mention.data, deps);
        if (msg) out.push(msg);
        continue;
      }
      if (change.field !== 'feed') continue;
      if (value?.item !== 'comment') {
        const post = feedPostSchema.safeParse(change.value);
        // Reactions, shares, edits and removals are not messages.
        if (!post.success) continue;
        const msg = fromFeedPost(entry.id, post.data, deps);
        if (msg) out.push(msg);
        continue;
      }
      const comment = feedCommentSchema.safeParse(change.value);
      if (!comment.success) {
        deps.logger.warn({ pageId: entry.id, problem: z.prettifyError(comment.error) }, 'messenger: skipped a malformed comment');
        continue;
      }
      const msg = await fromComment(entry.id, comment.data, deps);
      if (msg) out.push(msg);
    }
  }
  for (const msg of await Promise.all(messaging)) if (msg) out.push(msg);
  // Meta does not guarantee order inside a batch.
  return out.sort((a, b) => a.sentAt.localeCompare(b.sentAt));
}
