/**
 * @module channels/twitter/search
 * Listening on X: polls the recent-search endpoint (`GET /2/tweets/search/recent`, the last 7 days)
 * with the brand's query (`X_SEARCH_QUERY`: keywords, handles without @, hashtags, misspellings,
 * `-exclusions`), paging with `next_token`, and hands each new post to listening
 * (`ChannelContext.hear`), oldest first, marked `heard` unless it mentions or quotes the brand or
 * replies to it. The cursor (`since_id` = the newest id seen) lives in the store and moves only
 * after every post of a round was heard, so a restart neither loses nor repeats. Rate limits: a 429
 * pauses until `x-rate-limit-reset`; a page that leaves `x-rate-limit-remaining` at 0 pauses until
 * the reset too, without spending a 429. Each post read is counted (X bills reads per post).
 */
import type { TwitterApi } from 'twitter-api-v2';
import { z } from 'zod';
import { ChannelApiError } from '../../core/errors.js';
import type { ChannelContext, Clock } from '../../core/ports.js';
import type { InboundMessage } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import type { ChannelValues } from '../values.js';
import type { ListeningTerms } from '../definition.js';
import { toChannelError } from './api-errors.js';
import { compareIds, postToInbound, v2IncludesSchema, v2PostSchema, type V2Post, type V2User } from './posts.js';
import { SEARCH_BASELINE, SEARCH_CURSOR, SEARCH_READS, SEARCH_RESUME } from './store-keys.js';

/** A page of recent search (the stream's posts have the same shape). */
export const searchPageSchema = z.looseObject({
  data: z.array(v2PostSchema.extend({ entities: z.looseObject({ mentions: z.array(z.looseObject({ username: z.string().optional(), id: z.string().optional() })).optional() }).optional() })).optional(),
  includes: v2IncludesSchema,
  meta: z.looseObject({ result_count: z.number().optional(), newest_id: z.string().optional(), next_token: z.string().optional() }).optional(),
});
export type SearchPost = NonNullable<z.infer<typeof searchPageSchema>['data']>[number];

/** Where a round cut short by the rate limit resumes: posts after `since` and before `until`; `newest` the cursor once done. */
const resumeSchema = z.object({ since: z.string().optional(), until: z.string(), newest: z.string().optional() }).nullable();

function storedResume(raw: string | undefined): z.infer<typeof resumeSchema> | undefined {
  if (raw === undefined) return undefined;
  try {
    return resumeSchema.parse(JSON.parse(raw)) ?? undefined;
  } catch {
    return undefined;
  }
}

export const TWEET_FIELDS = 'created_at,conversation_id,author_id,in_reply_to_user_id,referenced_tweets,note_tweet,entities,lang';
export const USER_FIELDS = 'username,name,public_metrics';
/** Pages one round reads at most (100 posts each); the rest waits for the next round. */
const MAX_PAGES = 10;
/** Recent search reaches back 7 days. */
const WINDOW_MS = 7 * 24 * 3_600_000;

/** What one search round did. */
export interface SearchResult {
  heard: number;
  /** Posts read (what X bills). */
  read: number;
  requests: number;
  /** Set when X rate-limited search: no request before this epoch ms. */
  pausedUntil?: number;
}

/** Dependencies of the searcher. */
export interface SearcherDeps {
  client: TwitterApi;
  prefix: string;
  timeout: number;
  query: string;
  brandUserId: string;
  brandHandle?: string;
  values: ChannelValues;
  clock: Clock;
  logger: Logger;
  /** Shared with the filtered stream: a post already heard is not heard again. */
  seen?: SeenPosts;
}

/** Polls recent search. */
export interface Searcher {
  search(ctx: ChannelContext): Promise<SearchResult>;
}

/** Whether a post is addressed to the brand: it mentions it, replies to it, or quotes one of its posts. */
export function addressedToBrand(post: SearchPost, brandUserId: string, brandHandle: string | undefined, includes: z.infer<typeof v2IncludesSchema>): boolean {
  if (post.in_reply_to_user_id === brandUserId) return true;
  const mentions = post.entities?.mentions ?? [];
  if (mentions.some((m) => m.id === brandUserId || (brandHandle && m.username?.toLowerCase() === brandHandle.toLowerCase()))) return true;
  if (brandHandle && new RegExp(`(^|[^\\w])@${brandHandle}(?!\\w)`, 'i').test(post.text)) return true;
  const quoted = post.referenced_tweets?.filter((r) => r.type === 'quoted').map((r) => r.id) ?? [];
  const tweets = (includes?.tweets ?? []) as Array<{ id: string; author_id?: string }>;
  return quoted.some((id) => tweets.some((t) => t.id === id && t.author_id === brandUserId));
}

/**
 * A post heard by listening (recent search or the filtered stream) as an InboundMessage for
 * `ChannelContext.hear`: marked `heard` unless it is addressed to the brand; undefined for the
 * brand's own posts and retweets.
 */
export function heardMessage(post: SearchPost, includes: z.infer<typeof v2IncludesSchema>, brandUserId: string, brandHandle: string | undefined, now: Date): InboundMessage | undefined {
  const msg = postToInbound(post as V2Post, includes?.users ?? [], brandUserId, now);
  if (!msg) return undefined;
  return addressedToBrand(post, brandUserId, brandHandle, includes) ? { ...msg, listening: true } : { ...msg, listening: true, heard: true };
}

/** Posts this instance heard lately, by id: a post both search and the stream bring (or the stream twice) is heard once. */
export interface SeenPosts {
  has(id: string): boolean;
  /** Remembers an id (heard, or being heard). */
  add(id: string): void;
  /** Forgets an id whose hearing failed: it may be heard again. */
  forget(id: string): void;
}

/** Remembers the last `size` ids heard (oldest forgotten first). */
export function createSeenPosts(size = 10_000): SeenPosts {
  const ids = new Set<string>();
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.delete(id);
      ids.add(id);
      if (ids.size > size) ids.delete(ids.values().next().value!);
    },
    forget(id) {
      ids.delete(id);
    },
  };
}

/** Creates the searcher. */
export function createSearcher(deps: SearcherDeps): Searcher {
  const { client, values, clock, logger, brandUserId } = deps;
  let pausedUntil = 0;

  async function baseline(): Promise<string> {
    const at = await values.get(SEARCH_BASELINE);
    if (at) return at;
    const now = clock.now().toISOString();
    await values.set(SEARCH_BASELINE, now);
    return now;
  }

  async function round(ctx: ChannelContext, result: SearchResult): Promise<void> {
    // A round cut short by the rate limit left older posts unread: read them first (until_id).
    const resume = storedResume(await values.get(SEARCH_RESUME));
    const since = resume ? resume.since : await values.get(SEARCH_CURSOR);
    // The first round starts at the first start (nothing older is heard), at most 7 days back.
    const start = new Date(Math.max(Date.parse(await baseline()), clock.now().getTime() - WINDOW_MS + 60_000)).toISOString();
    const posts: SearchPost[] = [];
    const users: V2User[] = [];
    const quotedTweets: unknown[] = [];
    let newest = since;
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query: Record<string, string | number> = {
        query: deps.query,
        max_results: 100,
        'tweet.fields': TWEET_FIELDS,
        expansions: 'author_id,referenced_tweets.id',
        'user.fields': USER_FIELDS,
        ...(since ? { since_id: since } : { start_time: start }),
        ...(resume ? { until_id: resume.until } : {}),
        ...(token ? { next_token: token } : {}),
      };
      let res;
      try {
        res = await client.v2.get('tweets/search/recent', query, { prefix: deps.prefix, timeout: deps.timeout, fullResponse: true });
      } catch (error) {
        throw toChannelError(error, 'recent search', clock.now().getTime());
      }
      result.requests += 1;
      const body = searchPageSchema.parse(res.data);
      posts.push(...(body.data ?? []));
      users.push(...(body.includes?.users ?? []));
      quotedTweets.push(...(body.includes?.tweets ?? []));
      result.read += body.data?.length ?? 0;
      const pageNewest = body.meta?.newest_id;
      if (pageNewest && (!newest || compareIds(pageNewest, newest) > 0)) newest = pageNewest;
      token = body.meta?.next_token;
      // The window's last request: stop here (the cursor keeps what was read) until X's reset.
      if (res.rateLimit && res.rateLimit.remaining <= 0) {
        pausedUntil = res.rateLimit.reset * 1000;
        result.pausedUntil = pausedUntil;
        if (token) logger.info({ until: new Date(pausedUntil).toISOString() }, 'twitter: recent search rate limit reached; the rest waits for the reset');
        break;
      }
      if (!token) break;
    }
    posts.sort((a, b) => compareIds(a.id, b.id));
    const includes = { users, tweets: quotedTweets as Array<{ id: string }> };
    for (const post of posts) {
      if (since && compareIds(post.id, since) <= 0) continue;
      const heard = heardMessage(post, includes, brandUserId, deps.brandHandle, clock.now());
      if (!heard) continue;
      // Heard already (by the stream): skipped; remembered only once heard, so a failed round reads it again.
      if (deps.seen?.has(heard.id)) continue;
      await (ctx.hear ? ctx.hear(heard) : ctx.receive(heard));
      deps.seen?.add(heard.id);
      result.heard += 1;
    }
    const top = [resume?.newest, newest].filter((x): x is string => x !== undefined).sort(compareIds).at(-1);
    if (token && posts.length > 0) {
      // Cut short: the next round reads what is older than the oldest read, then moves the cursor.
      await values.set(SEARCH_RESUME, JSON.stringify({ ...(since ? { since } : {}), until: posts[0]!.id, newest: top }));
    } else {
      if (top && top !== since) await values.set(SEARCH_CURSOR, top);
      if (resume) await values.delete(SEARCH_RESUME);
    }
    if (result.read > 0) await values.set(SEARCH_READS, String(Number((await values.get(SEARCH_READS)) ?? 0) + result.read));
  }

  return {
    async search(ctx) {
      const result: SearchResult = { heard: 0, read: 0, requests: 0 };
      const nowMs = clock.now().getTime();
      if (pausedUntil > nowMs) return { ...result, pausedUntil };
      try {
        await round(ctx, result);
      } catch (error) {
        if (error instanceof ChannelApiError && error.details.status === 429) {
          pausedUntil = error.details.retryAt ?? nowMs + 60_000;
          logger.warn({ until: new Date(pausedUntil).toISOString() }, 'twitter: recent search rate-limited; pausing');
          return { ...result, pausedUntil };
        }
        throw error;
      }
      return result;
    },
  };
}

/** The longest query X's recent search takes on the Basic and Pro access levels (Enterprise: 4,096). */
export const X_QUERY_MAX = 512;

/** A term as X's query language reads it: a word as is, anything else as a "quoted phrase". */
function term(text: string): string {
  const clean = text.replace(/["()]/g, ' ').replace(/\s+/g, ' ').trim();
  return /^[\p{L}\p{N}_]+$/u.test(clean) ? clean : `"${clean}"`;
}

/**
 * The recent-search query for the listening file's terms (docs/listening.md): the brand's names,
 * keywords, handles without @, #hashtags and misspellings, any of them; not retweets, not the
 * brand's own posts, none of the excluding words. Undefined when there is nothing to search for.
 * A query longer than X takes is refused with what to do instead.
 */
export function listeningQuery(terms: ListeningTerms, brandHandle?: string): string | undefined {
  const any = [
    ...terms.brand.map(term),
    ...terms.keywords.map(term),
    ...terms.handles.map((h) => term(h.replace(/^@/, ''))),
    ...terms.hashtags.map((h) => `#${h.replace(/^#/, '')}`),
    ...terms.misspellings.map(term),
  ].filter((t) => t.length > 0 && t !== '""' && t !== '#');
  const unique = [...new Set(any.map((t) => t.toLowerCase()))].map((lower) => any.find((t) => t.toLowerCase() === lower)!);
  if (unique.length === 0) return undefined;
  const parts = [unique.length === 1 ? unique[0]! : `(${unique.join(' OR ')})`, '-is:retweet'];
  if (brandHandle) parts.push(`-from:${brandHandle.replace(/^@/, '')}`);
  for (const e of terms.exclude) {
    const t = term(e);
    if (t !== '""') parts.push(`-${t}`);
  }
  const query = parts.join(' ');
  if (query.length > X_QUERY_MAX) {
    throw new Error(
      `X search: the query built from the listening file is ${query.length} characters, X's recent search takes ${X_QUERY_MAX} on most access levels: fewer terms, or write X_SEARCH_QUERY yourself (docs/listening.md)`,
    );
  }
  return query;
}
