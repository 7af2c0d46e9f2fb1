/**
 * @module channels/twitter/polling
 * For accounts without webhook access: reads the mentions timeline (`since_id`) and DM events,
 * paging to the end, and feeds new customer messages to the pipeline oldest first. Cursors live in
 * the store and move only after every message of a round was accepted, so a restart neither loses
 * nor repeats (the pipeline's inbound dedupe absorbs a round interrupted half-way).
 */
import type { TwitterApi } from 'twitter-api-v2';
import { z } from 'zod';
import { ChannelApiError } from '../../core/errors.js';
import type { ChannelContext, Clock } from '../../core/ports.js';
import type { ChannelValues } from '../values.js';
import type { InboundMessage } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { toChannelError } from './api-errors.js';
import { compareIds, dmToInbound, postToInbound, v2DmEventSchema, v2IncludesSchema, v2PostSchema, type V2DmEvent, type V2Post, type V2User } from './posts.js';
import { DMS_CURSOR, MENTIONS_CURSOR, POLL_BASELINE } from './store-keys.js';

/** What one polling round did. */
export interface PollResult {
  mentions: number;
  dms: number;
  /** Requests made (pages read). */
  requests: number;
  /** Set when X rate-limited a timeline: no request to it before this epoch ms. */
  pausedUntil?: number;
}

const pageSchema = <T extends z.ZodType>(item: T) =>
  z.looseObject({
    data: z.array(item).optional(),
    includes: v2IncludesSchema,
    meta: z.looseObject({ result_count: z.number().optional(), newest_id: z.string().optional(), next_token: z.string().optional() }).optional(),
  });
const mentionsPageSchema = pageSchema(v2PostSchema);
const dmPageSchema = pageSchema(v2DmEventSchema);

const TWEET_FIELDS = 'created_at,conversation_id,author_id,in_reply_to_user_id,referenced_tweets,note_tweet';
const USER_FIELDS = 'username,name,public_metrics';
/** A safety stop: X keeps at most 800 mentions, i.e. 8 pages of 100. */
const MAX_PAGES = 20;

/** Dependencies of the poller. */
export interface PollerDeps {
  client: TwitterApi;
  prefix: string;
  timeout: number;
  brandUserId: string;
  values: ChannelValues;
  clock: Clock;
  logger: Logger;
}

/** Polls X for mentions and DMs. */
export interface Poller {
  /** Records the first start (nothing older is answered). */
  init(): Promise<void>;
  poll(ctx: ChannelContext): Promise<PollResult>;
}

/** Creates the poller. */
export function createPoller(deps: PollerDeps): Poller {
  const { client, values, clock, logger, brandUserId } = deps;
  const paused = { mentions: 0, dms: 0 };

  async function baseline(): Promise<string> {
    const at = await values.get(POLL_BASELINE);
    if (at) return at;
    const now = clock.now().toISOString();
    await values.set(POLL_BASELINE, now);
    return now;
  }

  async function get<T extends z.ZodType>(url: string, query: Record<string, string | number>, params: Record<string, string>, schema: T, what: string): Promise<z.infer<T>> {
    try {
      return schema.parse(await client.v2.get(url, query, { prefix: deps.prefix, timeout: deps.timeout, params }));
    } catch (error) {
      throw toChannelError(error, what, clock.now().getTime());
    }
  }

  async function pollMentions(ctx: ChannelContext, result: PollResult): Promise<void> {
    const since = await values.get(MENTIONS_CURSOR);
    const start = await baseline();
    const posts: V2Post[] = [];
    const users: V2User[] = [];
    let newest = since;
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query: Record<string, string | number> = {
        max_results: 100,
        'tweet.fields': TWEET_FIELDS,
        expansions: 'author_id',
        'user.fields': USER_FIELDS,
        ...(since ? { since_id: since } : { start_time: start }),
        ...(token ? { pagination_token: token } : {}),
      };
      const res = await get('users/:id/mentions', query, { id: brandUserId }, mentionsPageSchema, 'mentions timeline');
      result.requests += 1;
      posts.push(...(res.data ?? []));
      users.push(...(res.includes?.users ?? []));
      const pageNewest = res.meta?.newest_id;
      if (pageNewest && (!newest || compareIds(pageNewest, newest) > 0)) newest = pageNewest;
      token = res.meta?.next_token;
      if (!token) break;
    }
    posts.sort((a, b) => compareIds(a.id, b.id));
    for (const post of posts) {
      if (since && compareIds(post.id, since) <= 0) continue;
      const msg = postToInbound(post, users, brandUserId, clock.now());
      if (!msg) continue;
      await ctx.receive(msg);
      result.mentions += 1;
    }
    if (newest && newest !== since) await values.set(MENTIONS_CURSOR, newest);
  }

  async function pollDms(ctx: ChannelContext, result: PollResult): Promise<void> {
    const cursor = await values.get(DMS_CURSOR);
    const start = Date.parse(await baseline());
    const events: V2DmEvent[] = [];
    const users: V2User[] = [];
    let token: string | undefined;
    let reachedKnown = false;
    for (let page = 0; page < MAX_PAGES && !reachedKnown; page++) {
      const query: Record<string, string | number> = {
        max_results: 100,
        event_types: 'MessageCreate',
        'dm_event.fields': 'id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids,referenced_tweets',
        expansions: 'sender_id',
        'user.fields': USER_FIELDS,
        ...(token ? { pagination_token: token } : {}),
      };
      const res = await get('dm_events', query, {}, dmPageSchema, 'DM events');
      result.requests += 1;
      users.push(...(res.includes?.users ?? []));
      for (const event of res.data ?? []) {
        // Newest first: stop at the first event already seen, or older than our first start.
        const old = cursor ? compareIds(event.id, cursor) <= 0 : event.created_at !== undefined && Date.parse(event.created_at) < start;
        if (old) {
          reachedKnown = true;
          break;
        }
        events.push(event);
      }
      token = res.meta?.next_token;
      if (!token) break;
    }
    events.sort((a, b) => compareIds(a.id, b.id));
    for (const event of events) {
      const msg: InboundMessage | undefined = dmToInbound(event, users, brandUserId, clock.now());
      if (!msg) continue;
      await ctx.receive(msg);
      result.dms += 1;
    }
    const newest = events.at(-1)?.id;
    if (newest) await values.set(DMS_CURSOR, newest);
  }

  /** Runs one timeline; a 429 pauses that timeline until X's reset time instead of failing the round. */
  async function guarded(which: 'mentions' | 'dms', run: () => Promise<void>, result: PollResult): Promise<void> {
    const nowMs = clock.now().getTime();
    if (paused[which] > nowMs) {
      result.pausedUntil = Math.max(result.pausedUntil ?? 0, paused[which]);
      return;
    }
    try {
      await run();
    } catch (error) {
      if (error instanceof ChannelApiError && error.details.status === 429) {
        paused[which] = error.details.retryAt ?? nowMs + 60_000;
        result.pausedUntil = Math.max(result.pausedUntil ?? 0, paused[which]);
        logger.warn({ timeline: which, until: new Date(paused[which]).toISOString() }, 'twitter: polling rate-limited; pausing this timeline');
        return;
      }
      throw error;
    }
  }

  return {
    async init() {
      await baseline();
    },
    async poll(ctx) {
      const result: PollResult = { mentions: 0, dms: 0, requests: 0 };
      await guarded('mentions', () => pollMentions(ctx, result), result);
      await guarded('dms', () => pollDms(ctx, result), result);
      return result;
    },
  };
}
