/**
 * @module channels/twitter/twitter-channel
 * X (Twitter) behind one ChannelAdapter, on twitter-api-v2 (OAuth 1.0a user context): public
 * replies threaded under the customer's post, DMs, private reach (can the brand DM them?), reply
 * hiding, webhooks of both families (signature.ts, webhook.ts) and polling (polling.ts).
 */
import { TwitterApi } from 'twitter-api-v2';
import { z } from 'zod';
import { ChannelApiError } from '../../core/errors.js';
import type {
  ChannelAdapter,
  ChannelCapabilities,
  ChannelContext,
  ChannelRequest,
  ChannelResponse,
  Clock,
  PrivateReach,
  SendResult,
  Store,
} from '../../core/ports.js';
import type { TwitterSettings } from './settings.js';
import type { Conversation, Customer, InboundMessage, OutboxItem } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { outboundHttpsAgent, type OutboundLimits } from '../../util/outbound.js';
import { toChannelError } from './api-errors.js';
import { createPoller, type PollResult } from './polling.js';
import { createSearcher, createSeenPosts, listeningQuery, type SearchResult } from './search.js';
import { createStreamListener, type StreamStatus, type StreamTimings } from './stream.js';
import type { ListeningTerms } from '../definition.js';
import { postText, v2UserSchema } from './posts.js';
import { answerCrc, verifyWebhookSignature } from './signature.js';
import { chainKey, reachKey, recentTextKey, sentPartsKey, threadKey, twitterValues } from './store-keys.js';
import { MAX_POST, replyText, splitDm, splitForThread, weightedLength } from './text.js';
import { parseWebhook } from './webhook.js';
import { TWITTER_CAPABILITIES } from './capabilities.js';

export { TWITTER_CAPABILITIES } from './capabilities.js';

/** How long a reach lookup is trusted: "open" rarely changes, a follow-back may come any minute. */
export const REACH_TTL_MS = { open: 60 * 60_000, needs_follow: 5 * 60_000, unavailable: 30 * 60_000 } as const;
/**
 * How long X is assumed to remember a text for its duplicate check (X does not publish it): within
 * it, the same public text to another customer is made distinct by their @handle.
 */
export const DUPLICATE_WINDOW_MS = 24 * 60 * 60_000;
/** How many customers' reach the channel remembers in memory (the store keeps every one). */
const REACH_MEMORY = 10_000;
/** How many of the brand's latest DMs with a customer the late check reads (after a timed-out DM). */
const LATE_CHECK_EVENTS = 50;
/** How many of the brand's latest posts the late check reads (after a timed-out public reply). */
const LATE_CHECK_POSTS = 50;

/** Dependencies of the X channel. */
export interface TwitterChannelDeps {
  config: TwitterSettings;
  /** Only small named values are used (poll cursors, reach cache, thread ids, thread progress). */
  store: Pick<Store, 'values'>;
  clock: Clock;
  logger: Logger;
  /** Connect and total time limits of every X API call (a call without an answer is a NetworkError, retried by the outbox). */
  outbound: OutboundLimits;
  /** Extra trust for the API's TLS certificate (tests: the fake X API's self-signed certificate). */
  tls?: { ca: string };
  /** The listening file's terms: recent search uses them when X_SEARCH_QUERY does not say otherwise. */
  listening?: ListeningTerms;
  /** The filtered stream's heartbeat timeout and backoffs (tests make them short; defaults: X's guidance). */
  streamTimings?: Partial<StreamTimings>;
}

/** The X adapter, plus a way to poll at once (tests, the CLI). */
export interface TwitterChannel extends ChannelAdapter {
  /** Runs one polling round now (mentions, then DMs); needs `start` first. */
  pollNow(): Promise<PollResult>;
  /** Runs one listening round of recent search now (X_SEARCH_QUERY; tests drive it). */
  searchNow(): Promise<SearchResult>;
  /** The filtered stream's state (X_LISTEN_MODE=stream); undefined in search mode. */
  streamStatus(): StreamStatus | undefined;
}

const postResponseSchema = z.looseObject({ data: z.looseObject({ id: z.string(), text: z.string().optional() }) });
const dmIdsSchema = z.looseObject({ dm_event_id: z.string(), dm_conversation_id: z.string().optional() });
/** X's docs show `{ data: {...} }`; twitter-api-v2's types say top level: accept both. */
const dmResponseSchema = z.union([z.looseObject({ data: dmIdsSchema }).transform((r) => r.data), dmIdsSchema]);
const userResponseSchema = z.looseObject({ data: v2UserSchema });
const dmEventsSchema = z.looseObject({
  data: z.array(z.looseObject({ id: z.string(), sender_id: z.string().optional(), text: z.string().optional(), created_at: z.string().optional() })).optional(),
});
const timelineSchema = z.looseObject({
  data: z
    .array(
      z.looseObject({
        id: z.string(),
        text: z.string().optional(),
        created_at: z.string().optional(),
        referenced_tweets: z.array(z.looseObject({ type: z.string(), id: z.string() })).optional(),
      }),
    )
    .optional(),
});

/**
 * A text as X gives it back, comparable with the one sent: X escapes `&`, `<` and `>` in posts'
 * texts and wraps links in t.co (so links are compared as "a link").
 */
function comparableText(text: string): string {
  return postText(text)
    .replace(/https?:\/\/\S+/g, '<link>')
    .trim();
}
const hiddenResponseSchema = z.looseObject({ data: z.looseObject({ hidden: z.boolean() }) });
const reachCacheSchema = z.object({ reach: z.enum(['open', 'needs_follow', 'unavailable']), at: z.number() });
const progressSchema = z.array(z.string());

/** Parses a stored JSON value; a garbled one counts as absent (it is only a cache or a hint). */
function storedJson<T extends z.ZodType>(raw: string | undefined, schema: T): z.infer<T> | undefined {
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined; // not JSON: treated as no value, the caller looks the data up again
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** The DM compose link X turns into a "Send a private message" button. */
export function dmComposeLink(brandUserId: string): string {
  return `https://x.com/messages/compose?recipient_id=${encodeURIComponent(brandUserId)}`;
}

/** Creates the X channel adapter. */
export function createTwitterChannel(deps: TwitterChannelDeps): TwitterChannel {
  const { config, clock, logger } = deps;
  const values = twitterValues(deps.store);
  const log = logger.child({ channel: 'twitter' });
  if (!config.apiOrigin.startsWith('https://')) {
    throw new Error(`X_API_ORIGIN must be https:// (twitter-api-v2 speaks only HTTPS); got ${config.apiOrigin}`);
  }
  const agent = outboundHttpsAgent(deps.outbound, deps.tls ? { ca: deps.tls.ca } : {});
  const REQUEST_TIMEOUT_MS = deps.outbound.timeoutMs;
  const client = new TwitterApi(
    { appKey: config.apiKey, appSecret: config.apiSecret, accessToken: config.accessToken, accessSecret: config.accessSecret },
    { httpAgent: agent },
  );
  // Explicit prefixes on every call: the library has no base-URL setting (PROTOCOLS.md §4.1).
  const v2 = { prefix: `${config.apiOrigin}/2/`, timeout: REQUEST_TIMEOUT_MS };
  const now = () => clock.now().getTime();

  const capabilities = TWITTER_CAPABILITIES;

  /** Which parts of a multi-part item were already posted (a retry resumes, never reposts). */
  async function progress(itemId: string): Promise<string[]> {
    return storedJson(await values.get(sentPartsKey(itemId)), progressSchema) ?? [];
  }

  /**
   * X refuses a text the account already posted ("duplicate content"), and the FAQ gives many
   * customers the same answer: when this text went out recently, the customer's @handle goes in
   * front, if it still fits in one post.
   */
  async function distinct(text: string, handle: string | undefined): Promise<string> {
    const last = Number((await values.get(recentTextKey(text))) ?? 0);
    if (!handle || now() - last > DUPLICATE_WINDOW_MS) return text;
    const prefixed = `@${handle} ${text}`;
    return weightedLength(prefixed) <= MAX_POST ? prefixed : text;
  }

  async function sendPublic(item: OutboxItem): Promise<SendResult> {
    const target = item.inReplyTo;
    if (!target) {
      throw new ChannelApiError('X: a public reply needs the post it answers (inReplyTo); not sent', {
        channel: 'twitter',
        status: 0,
        code: 'no_reply_target',
        retryable: false,
      });
    }
    const whole = replyText(item.reply);
    const parts = splitForThread(whole, MAX_POST);
    // The pipeline sends a long answer as numbered items ("2/3 …") all answering the customer's
    // post: each later one goes under our previous post, so X shows one thread.
    const numbered = /^(\d+)\/(\d+) /.exec(whole);
    const chained = numbered && Number(numbered[1]) > 1 ? await values.get(chainKey(item.conversationId, target)) : undefined;
    const handle = typeof item.ref?.['handle'] === 'string' ? item.ref['handle'] : undefined;
    const deepLink = item.reply.kind === 'dm_prompt' ? dmComposeLink(config.brandUserId) : undefined;
    const done = parts.length > 1 ? await progress(item.id) : [];
    // Only Account Activity payloads need the thread remembered (v1.1 has no conversation_id).
    const knownThread = await values.get(threadKey(target));
    let previous = done.at(-1) ?? chained ?? target;
    let found = false;
    for (const [i, part] of parts.entries()) {
      if (i < done.length) continue;
      const text = i === 0 ? await distinct(part, handle) : part;
      // The previous attempt timed out after X took it: this post may be up already (read back
      // rather than sent again, which X would refuse as duplicate content and operators see failed).
      const delivered = (item.inDoubt ?? 0) > 0 && i === done.length ? await postedAfterAll(item, [text, part], previous) : undefined;
      if (delivered) {
        log.info({ outboxId: item.id, part: i + 1 }, 'twitter: a public reply whose send timed out was posted after all; not sent again');
        found = true;
        await values.set(recentTextKey(part), String(now()));
        done.push(delivered);
        if (parts.length > 1) await values.set(sentPartsKey(item.id), JSON.stringify(done));
        previous = delivered;
        continue;
      }
      const body = {
        text,
        reply: { in_reply_to_tweet_id: previous },
        ...(deepLink && i === parts.length - 1 ? { direct_message_deep_link: deepLink } : {}),
      };
      let id: string;
      try {
        id = postResponseSchema.parse(await client.v2.post('tweets', body, v2)).data.id;
      } catch (error) {
        throw toChannelError(error, parts.length > 1 ? `reply (post ${i + 1} of ${parts.length})` : 'reply', now());
      }
      if (knownThread) await values.set(threadKey(id), knownThread);
      await values.set(recentTextKey(part), String(now()));
      done.push(id);
      if (parts.length > 1) await values.set(sentPartsKey(item.id), JSON.stringify(done));
      previous = id;
    }
    if (parts.length > 1 || numbered) await values.set(chainKey(item.conversationId, target), previous);
    return { platformId: done[0] ?? '', ...(found ? { alreadyDelivered: true } : {}) };
  }

  /**
   * The late check after a public reply whose outcome is unknown: the brand's latest posts, read
   * back (`GET /2/users/:id/tweets`); the id of one answering `previous` with this text (or the
   * text with the @handle in front), posted since the reply was written, if X made it after all.
   */
  async function postedAfterAll(item: OutboxItem, texts: string[], previous: string): Promise<string | undefined> {
    let timeline: z.infer<typeof timelineSchema>;
    try {
      timeline = timelineSchema.parse(
        await client.v2.get('users/:id/tweets', { max_results: LATE_CHECK_POSTS, 'tweet.fields': 'created_at,referenced_tweets', exclude: 'retweets' }, { ...v2, params: { id: config.brandUserId } }),
      );
    } catch (error) {
      throw toChannelError(error, 'reply late check', now());
    }
    const since = Date.parse(item.createdAt);
    const wanted = new Set(texts.map(comparableText));
    return timeline.data?.find(
      (p) =>
        p.text !== undefined &&
        wanted.has(comparableText(p.text)) &&
        (p.referenced_tweets ?? []).some((r) => r.type === 'replied_to' && r.id === previous) &&
        (!p.created_at || Date.parse(p.created_at) >= since - 60_000),
    )?.id;
  }

  /**
   * The late check after a DM whose outcome is unknown (X took the request and did not answer in
   * time): the brand's latest DMs with the customer, read back; the id of one with this text sent
   * since the reply was written, if X delivered it after all. X takes no idempotency key.
   */
  async function alreadyDelivered(item: OutboxItem, text: string): Promise<string | undefined> {
    let events: z.infer<typeof dmEventsSchema>;
    try {
      events = dmEventsSchema.parse(
        await client.v2.get(
          'dm_conversations/with/:participant_id/dm_events',
          { 'dm_event.fields': 'id,text,sender_id,created_at', event_types: 'MessageCreate', max_results: LATE_CHECK_EVENTS },
          { ...v2, params: { participant_id: item.recipient } },
        ),
      );
    } catch (error) {
      throw toChannelError(error, 'DM late check', now());
    }
    const since = Date.parse(item.createdAt);
    const wanted = comparableText(text);
    return events.data?.find((e) => e.sender_id === config.brandUserId && e.text !== undefined && comparableText(e.text) === wanted && (!e.created_at || Date.parse(e.created_at) >= since - 60_000))?.id;
  }

  async function sendPrivate(item: OutboxItem): Promise<SendResult> {
    const parts = splitDm(replyText(item.reply));
    const done = parts.length > 1 ? await progress(item.id) : [];
    let found = false;
    for (const [i, text] of parts.entries()) {
      if (i < done.length) continue;
      // The previous attempt timed out after X took it: the next part may be there already.
      const delivered = (item.inDoubt ?? 0) > 0 && i === done.length ? await alreadyDelivered(item, text) : undefined;
      if (delivered) {
        log.info({ outboxId: item.id, part: i + 1 }, 'twitter: a DM whose send timed out was delivered after all; not sent again');
        found = true;
        done.push(delivered);
        if (parts.length > 1) await values.set(sentPartsKey(item.id), JSON.stringify(done));
        continue;
      }
      let id: string;
      try {
        const res = dmResponseSchema.parse(
          await client.v2.post('dm_conversations/with/:participant_id/messages', { text }, { ...v2, params: { participant_id: item.recipient } }),
        );
        id = res.dm_event_id;
      } catch (error) {
        const mapped = toChannelError(error, 'DM', now());
        if (mapped instanceof ChannelApiError && mapped.details.status === 403 && /not permitted to send a direct message/i.test(mapped.message)) {
          // The customer no longer accepts the brand's DMs (unfollowed, closed their DMs): what the
          // reach cache said is stale; the next answer asks for a follow rather than promising a DM.
          const known = { reach: 'needs_follow' as const, at: now() };
          remember(item.recipient, known);
          await values.set(reachKey(item.recipient), JSON.stringify(known), { ttlMs: REACH_TTL_MS.needs_follow });
          throw new ChannelApiError(`${mapped.message} (the customer does not accept the brand's DMs now: they may have stopped following it; ask them in public to follow or to write first)`, mapped.details, { cause: error });
        }
        throw mapped;
      }
      done.push(id);
      if (parts.length > 1) await values.set(sentPartsKey(item.id), JSON.stringify(done));
    }
    return { platformId: done[0] ?? '', ...(found ? { alreadyDelivered: true } : {}) };
  }

  /** Reach looked up lately, newest last (bounded: the oldest are forgotten first). */
  const reachMemory = new Map<string, { reach: PrivateReach; at: number }>();
  function remember(userId: string, known: { reach: PrivateReach; at: number }): void {
    reachMemory.delete(userId);
    reachMemory.set(userId, known);
    if (reachMemory.size > REACH_MEMORY) reachMemory.delete(reachMemory.keys().next().value!);
  }

  async function lookupReach(userId: string): Promise<PrivateReach> {
    let user: z.infer<typeof v2UserSchema>;
    try {
      user = userResponseSchema.parse(
        await client.v2.get('users/:id', { 'user.fields': 'connection_status,receives_your_dm,public_metrics' }, { ...v2, params: { id: userId } }),
      ).data;
    } catch (error) {
      throw toChannelError(error, 'relationship lookup', now());
    }
    const status = new Set(user.connection_status ?? []);
    if (status.has('blocking')) return 'unavailable';
    // Either they accept DMs from anyone (receives_your_dm) or they follow the brand.
    return user.receives_your_dm === true || status.has('followed_by') ? 'open' : 'needs_follow';
  }

  const poller = createPoller({
    client,
    prefix: v2.prefix,
    timeout: REQUEST_TIMEOUT_MS,
    brandUserId: config.brandUserId,
    values,
    clock,
    logger: log,
  });
  // X_SEARCH_QUERY as written, else one built from the listening file's terms.
  const searchQuery = config.searchQuery ?? (deps.listening ? listeningQuery(deps.listening, config.brandHandle) : undefined);
  if (searchQuery !== undefined && !config.searchQuery) log.info({ query: searchQuery }, 'X search: the query built from the listening file');
  // Posts heard lately: one heard by both search and the stream (or by the stream twice) is heard once.
  const seen = createSeenPosts();
  const searcher = searchQuery
    ? createSearcher({ client, prefix: v2.prefix, timeout: REQUEST_TIMEOUT_MS, query: searchQuery, brandUserId: config.brandUserId, brandHandle: config.brandHandle, values, clock, logger: log, seen })
    : undefined;
  // X_LISTEN_MODE=stream: the filtered stream with the same query as its rule; search when X says the app has no access.
  const stream =
    searchQuery && config.listenMode === 'stream'
      ? createStreamListener({
          origin: config.apiOrigin,
          agent,
          timeout: REQUEST_TIMEOUT_MS,
          apiKey: config.apiKey,
          apiSecret: config.apiSecret,
          ...(config.bearerToken ? { bearerToken: config.bearerToken } : {}),
          query: searchQuery,
          brandUserId: config.brandUserId,
          ...(config.brandHandle ? { brandHandle: config.brandHandle } : {}),
          seen,
          clock,
          logger: log,
          ...(deps.streamTimings ? { timings: deps.streamTimings } : {}),
          onUnavailable: () => startSearch(),
        })
      : undefined;
  let searchStarted = false;
  if (config.listenMode === 'stream' && !searchQuery) log.warn('twitter: X_LISTEN_MODE=stream, but neither X_SEARCH_QUERY nor a listening file with terms says what to listen for: no stream');
  let searchTimer: NodeJS.Timeout | undefined;
  let searching: Promise<SearchResult> | undefined;

  async function searchNow(): Promise<SearchResult> {
    if (!context) throw new Error('X search: start() the channel first');
    if (!searcher) throw new Error('X search: neither X_SEARCH_QUERY nor a listening file with terms to search for is set');
    const ctx = context;
    searching ??= searcher.search(ctx).finally(() => {
      searching = undefined;
    });
    return searching;
  }

  function scheduleSearch(): void {
    if (stopped || !searcher) return;
    searchTimer = setTimeout(() => {
      void searchNow()
        .catch((err: unknown) => log.warn({ err }, 'twitter: search round failed; trying again next round'))
        .finally(scheduleSearch);
    }, config.searchSeconds * 1000);
    searchTimer.unref();
  }

  /** Starts polling recent search (search mode, or the stream's fallback); once. */
  function startSearch(): void {
    if (!searcher || stopped || searchStarted) return;
    searchStarted = true;
    log.info({ everySeconds: config.searchSeconds }, 'twitter: listening with recent search');
    void searchNow()
      .catch((err: unknown) => log.warn({ err }, 'twitter: search round failed; trying again next round'))
      .finally(scheduleSearch);
  }

  let timer: NodeJS.Timeout | undefined;
  let context: ChannelContext | undefined;
  let running: Promise<PollResult> | undefined;
  let stopped = false;

  async function pollNow(): Promise<PollResult> {
    if (!context) throw new Error('X polling: start() the channel first');
    const ctx = context;
    running ??= poller.poll(ctx).finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (stopped || config.pollSeconds <= 0) return;
    timer = setTimeout(() => {
      void pollNow()
        .catch((err: unknown) => log.warn({ err }, 'twitter: polling round failed; trying again next round'))
        .finally(schedule);
    }, config.pollSeconds * 1000);
    timer.unref();
  }

  return {
    name: 'twitter',
    capabilities,

    async handshake(req: ChannelRequest): Promise<ChannelResponse | undefined> {
      return answerCrc(config.apiSecret, req);
    },

    async verify(req: ChannelRequest): Promise<boolean> {
      const ok = verifyWebhookSignature(config.apiSecret, req);
      // The server logs refused deliveries (a line a minute at most: anyone can send them).
      if (!ok) log.debug({ remoteAddress: req.remoteAddress }, 'twitter: webhook signature missing or wrong; ignored');
      return ok;
    },

    async parse(req: ChannelRequest): Promise<InboundMessage[]> {
      return parseWebhook(req.rawBody, { brandUserId: config.brandUserId, values, logger: log, now: () => clock.now() });
    },

    async send(item: OutboxItem): Promise<SendResult> {
      return item.visibility === 'public' ? sendPublic(item) : sendPrivate(item);
    },

    async privateReach(customer: Customer): Promise<PrivateReach> {
      // What X told us about this customer (follows the brand? accepts DMs?), kept by this channel:
      // in memory, and in the store so that a restart or another instance does not ask again.
      const fresh = (known: { reach: PrivateReach; at: number } | undefined) => known !== undefined && now() - known.at < REACH_TTL_MS[known.reach];
      const remembered = reachMemory.get(customer.platformId);
      if (fresh(remembered)) return remembered!.reach;
      const key = reachKey(customer.platformId);
      const stored = storedJson(await values.get(key), reachCacheSchema);
      if (fresh(stored)) {
        remember(customer.platformId, stored!);
        return stored!.reach;
      }
      const known = { reach: await lookupReach(customer.platformId), at: now() };
      remember(customer.platformId, known);
      await values.set(key, JSON.stringify(known), { ttlMs: REACH_TTL_MS[known.reach] });
      return known.reach;
    },

    privateLink(_customer: Customer): string {
      return dmComposeLink(config.brandUserId);
    },

    async hideMessage(conversation: Conversation, platformId: string): Promise<void> {
      // X hides only replies inside conversations the brand started; a post that starts its own
      // thread (a plain mention) cannot be hidden by the brand.
      if (conversation.threadId === undefined || conversation.threadId === platformId) {
        log.info({ conversationId: conversation.id }, 'twitter: cannot hide this post: X lets the brand hide only replies to its own posts');
        return;
      }
      try {
        hiddenResponseSchema.parse(await client.v2.put('tweets/:id/hidden', { hidden: true }, { ...v2, params: { id: platformId } }));
        log.info({ conversationId: conversation.id }, 'twitter: reply with private data hidden');
      } catch (error) {
        const mapped = toChannelError(error, 'hide reply', now());
        if (mapped instanceof ChannelApiError && (mapped.details.status === 403 || mapped.details.status === 400)) {
          log.info({ conversationId: conversation.id, status: mapped.details.status }, 'twitter: X refused to hide the post: only replies in threads the brand started can be hidden');
          return;
        }
        throw mapped;
      }
    },

    async start(ctx: ChannelContext): Promise<void> {
      stopped = false;
      context = ctx;
      if (stream) {
        log.info('twitter: listening with the filtered stream');
        await stream.start(ctx).catch((err: unknown) => log.error({ err }, 'twitter: the filtered stream did not start'));
      } else startSearch();
      if (config.pollSeconds <= 0) return;
      await poller.init();
      log.info({ everySeconds: config.pollSeconds }, 'twitter: polling mentions and DMs');
      void pollNow()
        .catch((err: unknown) => log.warn({ err }, 'twitter: polling round failed; trying again next round'))
        .finally(schedule);
    },

    async stop(): Promise<void> {
      stopped = true;
      searchStarted = false;
      await stream?.stop();
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (searchTimer) clearTimeout(searchTimer);
      searchTimer = undefined;
      await searching?.catch((err: unknown) => log.warn({ err }, 'twitter: last search round failed while stopping'));
      await running?.catch((err: unknown) => log.warn({ err }, 'twitter: last polling round failed while stopping'));
      agent.destroy();
    },

    pollNow,
    searchNow,
    streamStatus: () => stream?.status(),
  };
}
