/**
 * @module channels/twitter/stream
 * Listening on X through the filtered stream (`X_LISTEN_MODE=stream`), where the access level has it:
 *
 * - **Rules.** At start, the app's rules (`GET /2/tweets/search/stream/rules`) are brought to the one
 *   rule this brand needs: the same query recent search would use (the listening file's terms, or
 *   `X_SEARCH_QUERY`), tagged `sportello:<brand user id>`. A missing rule is added, stale rules with
 *   our tag are deleted; rules without our tag (another tool, another brand) are never touched. X
 *   refuses a rule value the app already has (`DuplicateRule`), so two instances starting at once
 *   end with one rule; a second sync changes nothing.
 * - **The connection.** One `GET /2/tweets/search/stream` (X allows one per app): newline-delimited
 *   JSON, a post a line (`data`, `includes.users`, `matching_rules`), and a `\r\n` keep-alive about
 *   every 20 s. A connection silent (no post, no heartbeat) for `heartbeatTimeoutMs` (60 s) is
 *   dropped and opened again.
 * - **Reconnects, as X asks.** An established connection that drops is opened again at once; after
 *   that, network failures back off linearly (+250 ms a try, up to 16 s), HTTP errors exponentially
 *   (5 s doubling, up to 320 s), and 429 (`TooManyConnections`: another connection of the app is
 *   open, e.g. a second instance) from 1 minute doubling (up to 16 min), logged once until a
 *   connection holds; a 429 that spent the connection rate limit (`x-rate-limit-remaining: 0`)
 *   waits at least until `x-rate-limit-reset`. Only the first of a row of drops is reopened at
 *   once: a connection that drops again less than `stableMs` (30 s) after it opened (X answering
 *   200 and closing at once, an `operational-disconnect` on every connection) waits as HTTP errors
 *   do (5 s doubling, up to 320 s), so a flapping stream is never a tight loop.
 * - **No stream access** (403 `client-forbidden`, reason `client-not-enrolled`): logged with what to
 *   do, and `onUnavailable` is called: the channel falls back to recent search.
 * - **A refusal a retry does not change** (X refuses the rule: invalid, too long, over the app's
 *   rules cap; or another 4xx that is not a rate limit): logged once as an error (again only if the
 *   reason changes), shown in `status().refused`, and tried again from 5 minutes doubling up to an
 *   hour (someone may free a rule slot), not every 320 s for ever; once X accepts, that is logged.
 *
 * Posts go to listening exactly as search hands them (search.ts `heardMessage`: author, followers,
 * addressed to the brand or heard), one at a time in arrival order, each id once (`seen`).
 * The stream speaks HTTP directly (node:https on the outbound agent: its connect timeout; a total
 * timeout does not fit a connection meant to stay open); the rules calls go through twitter-api-v2
 * with the app-only bearer token (the endpoints take no user context) and the usual time limit.
 */
import { request, type Agent } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { TwitterApi } from 'twitter-api-v2';
import { z } from 'zod';
import { ChannelApiError } from '../../core/errors.js';
import type { ChannelContext, Clock } from '../../core/ports.js';
import type { Logger } from '../../util/logger.js';
import { toChannelError } from './api-errors.js';
import { v2IncludesSchema, v2PostSchema } from './posts.js';
import { heardMessage, TWEET_FIELDS, USER_FIELDS, type SearchPost, type SeenPosts } from './search.js';

/** How the stream waits and reconnects (X's guidance; tests make them short). */
export interface StreamTimings {
  /** No data and no heartbeat for this long: the connection is dead, open another. */
  heartbeatTimeoutMs: number;
  /** Network failures: linear, this much more each try… */
  networkStepMs: number;
  /** …up to this. */
  networkMaxMs: number;
  /** HTTP errors: exponential from this… */
  httpStartMs: number;
  /** …up to this. */
  httpMaxMs: number;
  /** 429 (too many connections, rate limit): exponential from this… */
  rateLimitStartMs: number;
  /** …up to this. */
  rateLimitMaxMs: number;
  /** A connection that lasted less than this before dropping is a quick drop: only the first of a row reconnects at once. */
  stableMs: number;
  /** X refused the rule (or another 4xx a retry does not change): exponential from this… */
  refusedStartMs: number;
  /** …up to this. */
  refusedMaxMs: number;
}

export const STREAM_TIMINGS: StreamTimings = {
  heartbeatTimeoutMs: 60_000,
  networkStepMs: 250,
  networkMaxMs: 16_000,
  httpStartMs: 5_000,
  httpMaxMs: 320_000,
  rateLimitStartMs: 60_000,
  rateLimitMaxMs: 960_000,
  stableMs: 30_000,
  refusedStartMs: 5 * 60_000,
  refusedMaxMs: 60 * 60_000,
};

/**
 * The longest line the listener holds while waiting for its end: a post with its expansions is a
 * few kilobytes; a stream that sends more without a newline is broken, and is dropped and opened
 * again rather than buffered without end.
 */
export const MAX_LINE_CHARS = 1_000_000;

/**
 * Posts read from the stream and waiting to be heard (one at a time, in order) before reading
 * pauses: a burst faster than listening can store (a term gone viral) waits in the connection's
 * buffers and X's, not in an unbounded queue here. Reading resumes once half of them are heard.
 */
export const MAX_QUEUED_POSTS = 1000;

/** The longest wait for `x-rate-limit-reset` (X's windows are 15 minutes; a reset further away is a wrong clock). */
const RESET_WAIT_CAP_MS = 16 * 60_000;

/** The tag prefix of the rules Sportello owns. */
export const RULE_TAG_PREFIX = 'sportello:';

/** Dependencies of the stream listener. */
export interface StreamDeps {
  origin: string;
  agent: Agent;
  /** Time limit of the rules calls and the token request. */
  timeout: number;
  apiKey: string;
  apiSecret: string;
  /** The app-only bearer token; absent: asked from X with the API key and secret (`POST /oauth2/token`). */
  bearerToken?: string;
  /** The rule's value: the recent-search query. */
  query: string;
  brandUserId: string;
  brandHandle?: string;
  seen: SeenPosts;
  clock: Clock;
  logger: Logger;
  timings?: Partial<StreamTimings>;
  /** X says the app has no filtered stream access: the channel listens with recent search instead. */
  onUnavailable(): void;
}

/** What the listener did so far (tests, logs). */
export interface StreamStatus {
  /** A connection is open and answered 200. */
  connected: boolean;
  /** Connections that answered 200. */
  connections: number;
  /** Connection attempts. */
  attempts: number;
  /** Posts handed to listening. */
  heard: number;
  /** Keep-alive heartbeats received. */
  keepAlives: number;
  /** Posts read and waiting to be heard now, and the most that ever waited (at most MAX_QUEUED_POSTS and a chunk's worth). */
  queued: number;
  maxQueued: number;
  /** Times reading paused because MAX_QUEUED_POSTS posts were waiting. */
  pauses: number;
  /** The waits before each reconnect, in order, with why (`drop`, `stall`, `network`, `http`, `rate_limit`). */
  waits: Array<{ reason: string; ms: number }>;
  /** X refused the stream for lack of access: the channel fell back to search. */
  unavailable: boolean;
  /** X keeps refusing what the stream needs (its rule, mostly): why, since when, how many tries; gone once accepted. */
  refused?: { reason: string; since: string; tries: number };
}

/** What the rule sync did. */
export interface RuleSync {
  added: number;
  deleted: number;
  kept: number;
}

/** The filtered-stream listener. */
export interface StreamListener {
  /** Syncs the rules (before the first connection, retried until it succeeds), then holds the connection until `stop`. */
  start(ctx: ChannelContext): Promise<void>;
  /** Brings the app's rules to the one this brand needs (idempotent). */
  syncRules(): Promise<RuleSync>;
  status(): StreamStatus;
  /** Closes the connection, clears every timer, waits for the post being heard. */
  stop(): Promise<void>;
}

const ruleSchema = z.looseObject({ id: z.string(), value: z.string(), tag: z.string().optional() });
const rulesPageSchema = z.looseObject({
  data: z.array(ruleSchema).optional(),
  meta: z.looseObject({ next_token: z.string().optional() }).optional(),
});
const ruleErrorSchema = z.looseObject({
  title: z.string().optional(),
  type: z.string().optional(),
  value: z.string().optional(),
  id: z.string().optional(),
  detail: z.string().optional(),
  details: z.array(z.string()).optional(),
});
const rulesChangeSchema = z.looseObject({ data: z.array(ruleSchema).optional(), errors: z.array(ruleErrorSchema).optional() });
const tokenSchema = z.looseObject({ token_type: z.string(), access_token: z.string().min(1) });
const streamLineSchema = z.looseObject({
  data: v2PostSchema.extend({ entities: z.looseObject({ mentions: z.array(z.looseObject({ username: z.string().optional(), id: z.string().optional() })).optional() }).optional() }).optional(),
  includes: v2IncludesSchema,
  matching_rules: z.array(z.looseObject({ id: z.string().optional(), tag: z.string().optional() })).optional(),
  errors: z.array(z.looseObject({ title: z.string().optional(), detail: z.string().optional(), type: z.string().optional(), disconnect_type: z.string().optional() })).optional(),
});
const problemSchema = z.looseObject({
  title: z.string().optional(),
  detail: z.string().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
  connection_issue: z.string().optional(),
});

/** The tag of this brand's rule: one brand's rules are never another's (one app may serve several). */
export function ruleTag(brandUserId: string): string {
  return `${RULE_TAG_PREFIX}${brandUserId}`;
}

/** Whether a stream refusal means the app has no filtered stream access (X's `client-forbidden`). */
function notEnrolled(status: number, problem: z.infer<typeof problemSchema> | undefined): boolean {
  if (status !== 403 || !problem) return false;
  return problem.reason === 'client-not-enrolled' || /client-forbidden/.test(problem.type ?? '') || /client forbidden/i.test(problem.title ?? '');
}

/** Creates the listener. */
export function createStreamListener(deps: StreamDeps): StreamListener {
  const { logger: log, clock } = deps;
  const timings: StreamTimings = { ...STREAM_TIMINGS, ...deps.timings };
  const prefix = `${deps.origin}/2/`;
  const tag = ruleTag(deps.brandUserId);
  const status: StreamStatus = { connected: false, connections: 0, attempts: 0, heard: 0, keepAlives: 0, queued: 0, maxQueued: 0, pauses: 0, waits: [], unavailable: false };
  let bearer = deps.bearerToken;
  let stopped = true;
  let context: ChannelContext | undefined;
  let req: ClientRequest | undefined;
  let res: IncomingMessage | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  /** Consecutive failures of each kind since the last connection that held. */
  const failures = { network: 0, http: 0, rate_limit: 0, refused: 0 };
  /** Quick drops in a row (connections that closed less than `stableMs` after opening). */
  let quickDrops = 0;
  /** When the open connection answered 200 (monotonic ms). */
  let openedAt = 0;
  let tooManyLogged = false;
  /** The rules were synced since start. */
  let synced = false;
  /** The open connection brought something (a heartbeat or a post). */
  let received = false;
  /** Posts are heard one at a time, in the order the stream brought them. */
  let hearing: Promise<void> = Promise.resolve();
  /** Reading is paused (too many posts waiting to be heard): the response it paused. */
  let paused: IncomingMessage | undefined;

  async function token(): Promise<string> {
    if (bearer) return bearer;
    const basic = new TwitterApi({ username: deps.apiKey, password: deps.apiSecret }, { httpAgent: deps.agent });
    try {
      const body = tokenSchema.parse(await basic.post('oauth2/token', { grant_type: 'client_credentials' }, { prefix: `${deps.origin}/`, timeout: deps.timeout }));
      bearer = body.access_token;
      return bearer;
    } catch (error) {
      throw toChannelError(error, 'app-only token (filtered stream)', clock.now().getTime());
    }
  }

  async function appClient(): Promise<TwitterApi> {
    return new TwitterApi(await token(), { httpAgent: deps.agent });
  }

  async function syncRules(): Promise<RuleSync> {
    const client = await appClient();
    const rules: Array<z.infer<typeof ruleSchema>> = [];
    let next: string | undefined;
    try {
      do {
        const page = rulesPageSchema.parse(
          await client.v2.get('tweets/search/stream/rules', { max_results: 1000, ...(next ? { pagination_token: next } : {}) }, { prefix, timeout: deps.timeout }),
        );
        rules.push(...(page.data ?? []));
        next = page.meta?.next_token;
      } while (next);
    } catch (error) {
      throw toChannelError(error, 'filtered stream rules', clock.now().getTime());
    }
    const ours = rules.filter((r) => r.tag === tag);
    const kept = ours.filter((r) => r.value === deps.query);
    // Ours but stale (terms changed), or the same rule twice: deleted; others' rules untouched.
    const stale = ours.filter((r) => r !== kept[0]);
    const result: RuleSync = { added: 0, deleted: 0, kept: kept.length > 0 ? 1 : 0 };
    try {
      if (stale.length > 0) {
        await client.v2.post('tweets/search/stream/rules', { delete: { ids: stale.map((r) => r.id) } }, { prefix, timeout: deps.timeout });
        result.deleted = stale.length;
      }
      if (kept.length === 0) {
        const changed = rulesChangeSchema.parse(await client.v2.post('tweets/search/stream/rules', { add: [{ value: deps.query, tag }] }, { prefix, timeout: deps.timeout }));
        const refused = (changed.errors ?? []).filter((e) => e.title !== 'DuplicateRule');
        if (refused.length > 0) {
          throw new ChannelApiError(`X filtered stream: the rule was refused (${refused.map((e) => [e.title ?? e.type, ...(e.details ?? []), ...(e.detail ? [e.detail] : [])].join(': ')).join('; ')}): ${deps.query}`, {
            channel: 'twitter',
            status: 400,
            code: 'rule_refused',
            retryable: false,
          });
        }
        // DuplicateRule: another instance added it meanwhile, which is what we want.
        result.added = (changed.data ?? []).length;
      }
    } catch (error) {
      throw toChannelError(error, 'filtered stream rules', clock.now().getTime());
    }
    log.info({ rule: deps.query, tag, ...result }, 'twitter: filtered stream rules synced');
    return result;
  }

  function clearTimers(): void {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    if (watchdog) clearTimeout(watchdog);
    watchdog = undefined;
  }

  /** The next wait of a failure kind (X's backoff for it). */
  function backoff(kind: 'network' | 'http' | 'rate_limit' | 'refused'): number {
    failures[kind] += 1;
    const n = failures[kind];
    if (kind === 'network') return Math.min(timings.networkMaxMs, timings.networkStepMs * n);
    if (kind === 'refused') return Math.min(timings.refusedMaxMs, timings.refusedStartMs * 2 ** (n - 1));
    if (kind === 'http') return Math.min(timings.httpMaxMs, timings.httpStartMs * 2 ** (n - 1));
    return Math.min(timings.rateLimitMaxMs, timings.rateLimitStartMs * 2 ** (n - 1));
  }

  function reconnect(reason: string, ms: number): void {
    if (stopped || retryTimer) return;
    status.waits.push({ reason, ms });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, ms);
  }

  function armWatchdog(): void {
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      watchdog = undefined;
      log.warn({ seconds: timings.heartbeatTimeoutMs / 1000 }, 'twitter: filtered stream silent (no post, no heartbeat); reconnecting');
      lost('stall');
    }, timings.heartbeatTimeoutMs);
  }

  /**
   * The connection is gone (closed, failed, or silent): open another, at once when it had brought
   * data (X: reconnect immediately after a drop), else after the network backoff.
   */
  function lost(reason: 'drop' | 'stall' | 'network'): void {
    const held = status.connected && received;
    const lasted = performance.now() - openedAt;
    closeConnection();
    if (stopped || retryTimer) return;
    if (!held) {
      reconnect('network', backoff('network'));
      return;
    }
    if (lasted >= timings.stableMs) quickDrops = 0;
    const n = quickDrops;
    quickDrops += 1;
    const ms = n === 0 ? 0 : Math.min(timings.httpMaxMs, timings.httpStartMs * 2 ** (n - 1));
    if (n === 1) log.warn({ retryInSeconds: ms / 1000 }, 'twitter: filtered stream dropped again soon after connecting; waiting longer between tries');
    reconnect(reason === 'network' ? 'drop' : reason, ms);
  }

  function closeConnection(): void {
    status.connected = false;
    paused = undefined;
    if (watchdog) clearTimeout(watchdog);
    watchdog = undefined;
    const r = req;
    req = undefined;
    res = undefined;
    r?.destroy();
  }

  function handleLine(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      log.warn({ length: line.length }, 'twitter: filtered stream sent a line that is not JSON; skipped'); // its text may be a post's: not logged
      return;
    }
    const parsed = streamLineSchema.safeParse(json);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'twitter: filtered stream sent an object of an unknown shape; skipped');
      return;
    }
    const { data, includes, matching_rules: matching, errors } = parsed.data;
    if (errors?.length) {
      log.warn(
        { errors: errors.map((e) => ({ title: e.title, type: e.type, disconnectType: e.disconnect_type, detail: e.detail })) },
        'twitter: filtered stream reported an error (X closes the connection after an operational disconnect)',
      );
    }
    if (!data) return;
    // One app's stream carries every rule of the app: only ours is this brand's.
    if (matching && matching.length > 0 && !matching.some((m) => m.tag === tag)) return;
    const msg = heardMessage(data as SearchPost, includes, deps.brandUserId, deps.brandHandle, clock.now());
    if (!msg || deps.seen.has(msg.id)) return;
    deps.seen.add(msg.id); // at once: the same post arriving again while this one waits its turn is not queued twice
    const ctx = context!;
    status.queued += 1;
    status.maxQueued = Math.max(status.maxQueued, status.queued);
    if (status.queued >= MAX_QUEUED_POSTS && res && !paused) {
      // Listening is behind: stop reading until it catches up (no heartbeat is expected meanwhile).
      paused = res;
      res.pause();
      status.pauses += 1;
      if (watchdog) clearTimeout(watchdog);
      watchdog = undefined;
      if (status.pauses === 1) log.warn({ queued: status.queued }, 'twitter: the filtered stream brings posts faster than listening stores them; reading pauses until it catches up');
    }
    hearing = hearing.then(async () => {
      try {
        await (ctx.hear ? ctx.hear(msg) : ctx.receive(msg));
        status.heard += 1;
      } catch (err) {
        deps.seen.forget(msg.id);
        log.error({ err, postId: msg.id }, 'twitter: a post from the filtered stream could not be heard');
      } finally {
        status.queued -= 1;
        if (paused && status.queued <= MAX_QUEUED_POSTS / 2) {
          const r = paused;
          paused = undefined;
          if (r === res && !stopped) {
            armWatchdog();
            r.resume();
          }
        }
      }
    });
  }

  function onResponse(response: IncomingMessage): void {
    if (stopped) {
      response.destroy();
      return;
    }
    res = response;
    const code = response.statusCode ?? 0;
    if (code !== 200) {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('error', () => undefined);
      response.on('end', () => {
        if (res !== response) return; // given up meanwhile (the watchdog)
        let problem: z.infer<typeof problemSchema> | undefined;
        try {
          const parsed = problemSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          problem = parsed.success ? parsed.data : undefined;
        } catch {
          problem = undefined;
        }
        refused(code, problem, response.headers);
      });
      return;
    }
    status.connected = true;
    status.connections += 1;
    openedAt = performance.now();
    log.info({ connection: status.connections }, 'twitter: filtered stream connected');
    let buffer = '';
    received = false;
    armWatchdog();
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      armWatchdog();
      if (!received) {
        // The connection holds: the backoffs start again from zero.
        received = true;
        failures.network = 0;
        failures.http = 0;
        failures.rate_limit = 0;
        tooManyLogged = false;
      }
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) handleLine(line);
        else status.keepAlives += 1; // an empty line is the keep-alive heartbeat
      }
      if (buffer.length > MAX_LINE_CHARS && res === response) {
        log.warn({ chars: buffer.length }, 'twitter: filtered stream sent a line longer than any post without ending it; reconnecting');
        buffer = '';
        lost('drop');
      }
    });
    response.on('error', () => undefined);
    response.on('close', () => {
      if (res !== response) return;
      if (!stopped) log.warn('twitter: filtered stream closed by X or the network; reconnecting');
      lost('drop');
    });
  }

  /** How long until X's rate-limit window resets, when a 429 says this window's calls are spent. */
  function untilReset(headers: IncomingMessage['headers']): number | undefined {
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    if (one(headers['x-rate-limit-remaining'])?.trim() !== '0') return undefined; // e.g. TooManyConnections: the window is not what refused
    const reset = Number(one(headers['x-rate-limit-reset']));
    if (!Number.isFinite(reset) || reset <= 0) return undefined;
    return Math.min(RESET_WAIT_CAP_MS, Math.max(0, reset * 1000 - clock.now().getTime()));
  }

  function refused(code: number, problem: z.infer<typeof problemSchema> | undefined, headers: IncomingMessage['headers']): void {
    closeConnection();
    if (stopped) return;
    if (notEnrolled(code, problem)) {
      unavailable(code, problem?.detail, problem?.reason);
      return;
    }
    if (code === 429) {
      const ms = Math.max(backoff('rate_limit'), untilReset(headers) ?? 0);
      if (!tooManyLogged) {
        tooManyLogged = true;
        log.warn(
          { connectionIssue: problem?.connection_issue, detail: problem?.detail, retryInSeconds: ms / 1000 },
          problem?.connection_issue === 'TooManyConnections'
            ? 'twitter: X allows one filtered stream connection per app and one is open (another instance, another tool); waiting longer between tries'
            : 'twitter: filtered stream rate-limited; waiting longer between tries',
        );
      }
      reconnect('rate_limit', ms);
      return;
    }
    if (code === 401 && !deps.bearerToken) bearer = undefined; // an app token revoked: ask for a new one
    const ms = backoff('http');
    log.warn({ status: code, title: problem?.title, detail: problem?.detail, retryInSeconds: ms / 1000 }, 'twitter: filtered stream refused; trying again');
    reconnect('http', ms);
  }

  /** The token, and the rules synced once (before the first connection, again after a failed sync). */
  async function prepare(): Promise<string> {
    const t = await token();
    if (!synced) {
      await syncRules();
      synced = true;
      if (status.refused) {
        log.info({ refusedSince: status.refused.since, tries: status.refused.tries }, 'twitter: X accepts the filtered stream rule now; connecting');
        status.refused = undefined;
        failures.refused = 0;
      }
    }
    return t;
  }

  /** X says the app has no stream access: say so, stop, and let the channel listen with search. */
  function unavailable(code: number, detail: string | undefined, reason = 'client-not-enrolled'): void {
    status.unavailable = true;
    stopped = true;
    clearTimers();
    log.error(
      { status: code, reason, detail },
      'twitter: this X app has no filtered stream access (403 client-not-enrolled: the stream needs an access level that has it); listening with recent search instead (X_LISTEN_MODE=search to say so)',
    );
    deps.onUnavailable();
  }

  function connect(): void {
    if (stopped) return;
    status.attempts += 1;
    void prepare().then(
      (t) => {
        if (stopped) return;
        const url = new URL(`${prefix}tweets/search/stream`);
        url.searchParams.set('tweet.fields', TWEET_FIELDS);
        url.searchParams.set('expansions', 'author_id,referenced_tweets.id');
        url.searchParams.set('user.fields', USER_FIELDS);
        const r = request(url, { method: 'GET', agent: deps.agent, headers: { authorization: `Bearer ${t}`, 'user-agent': 'sportello' } }, onResponse);
        req = r;
        armWatchdog(); // an answer that never comes is a silent connection too
        r.on('error', (err) => {
          if (req !== r || stopped) return; // ours, closed on purpose
          log.warn({ err: err.message }, 'twitter: filtered stream connection failed');
          lost('network');
        });
        r.end();
      },
      (err: unknown) => {
        if (stopped) return;
        const mapped = err instanceof ChannelApiError ? err : undefined;
        // No stream access shows on the rules endpoint too.
        if (mapped && mapped.details.status === 403 && /client-forbidden|client-not-enrolled|client forbidden/i.test(`${mapped.details.code ?? ''} ${mapped.message}`)) {
          unavailable(403, mapped.message);
          return;
        }
        // Refused, and asking again the same way will not change it (the rule is invalid, too long,
        // over the app's cap; the keys are wrong): said once, shown in the status, tried less often.
        if (mapped && !mapped.details.retryable && mapped.details.status >= 400 && mapped.details.status < 500) {
          const ms = backoff('refused');
          const before = status.refused;
          status.refused = { reason: mapped.message, since: before?.since ?? clock.now().toISOString(), tries: (before?.tries ?? 0) + 1 };
          if (before?.reason !== mapped.message) {
            log.error(
              { err: mapped.message, retryInMinutes: Math.round(ms / 6000) / 10 },
              'twitter: X refuses what the filtered stream needs, so nothing is heard; fix the query (X_SEARCH_QUERY or the listening file\'s terms) or free a rule of the app; trying again less and less often (up to hourly), logged again only if the reason changes',
            );
          }
          reconnect('refused', ms);
          return;
        }
        const kind = mapped ? (mapped.details.status === 429 ? 'rate_limit' : 'http') : 'network';
        log.warn({ err }, synced ? 'twitter: no app-only token for the filtered stream; trying again' : 'twitter: filtered stream rules could not be synced; trying again before connecting');
        // A rules call or token request rate-limited waits for its window's reset too.
        const reset = kind === 'rate_limit' && mapped?.details.retryAt !== undefined ? Math.min(RESET_WAIT_CAP_MS, mapped.details.retryAt - clock.now().getTime()) : 0;
        reconnect(kind, Math.max(backoff(kind), reset));
      },
    );
  }

  return {
    async start(ctx) {
      context = ctx;
      stopped = false;
      synced = false;
      connect();
    },
    syncRules,
    status: () => ({ ...status, waits: [...status.waits] }),
    async stop() {
      stopped = true;
      clearTimers();
      closeConnection();
      await hearing;
    },
  };
}
