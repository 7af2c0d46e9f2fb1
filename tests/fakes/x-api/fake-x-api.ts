/**
 * @module tests/fakes/x-api/fake-x-api
 * A fake X API v2 on https://127.0.0.1 speaking the endpoints the X channel uses, with X's payload
 * shapes, error bodies and rate-limit headers (x-rate-limit-limit/remaining/reset):
 * POST /2/tweets, GET /2/users/:id/mentions, GET /2/tweets/search/recent (a subset of X's query
 * language: words, "phrases", OR, parentheses, -negation, #hashtags, @mentions, from:, is:retweet,
 * is:reply, lang:), GET /2/dm_events, GET /2/dm_conversations/with/:id/dm_events,
 * POST /2/dm_conversations/with/:id/messages, GET /2/users/:id, PUT /2/tweets/:id/hidden, and the
 * filtered stream: POST /oauth2/token (the app-only bearer token, Basic auth with the API key and
 * secret), GET and POST /2/tweets/search/stream/rules (add, delete, dry_run, DuplicateRule), and
 * GET /2/tweets/search/stream (bearer only; one connection per app, a second gets 429
 * TooManyConnections; NDJSON posts with `data`, `includes.users`, `matching_rules`, `\r\n`
 * heartbeats; the stream can be dropped, silenced, or a post delivered twice).
 * Since February 2026 X lets an app reply only to posts that mention or quote the brand (or reply
 * to it): the fake refuses other replies with X's 403. Calls can be made to fail, drop the connection, or hang (no answer, before or after doing the call).
 * Also a webhook caller that runs the CRC check and signs POSTs like X does.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../src/core/ports.js';
import { testCertificate } from './tls.js';

/** A user the fake knows, and how they relate to the brand. */
export interface FakeUser {
  id: string;
  username: string;
  name: string;
  followers: number;
  /** They follow the brand (so the brand may DM them). */
  followsBrand: boolean;
  /** They accept DMs from anyone. */
  receivesAnyDm: boolean;
}

/** A post as the v2 API returns it (tweet.fields we ask for). */
export interface FakePost {
  id: string;
  text: string;
  author_id: string;
  conversation_id: string;
  created_at: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: Array<{ type: 'replied_to' | 'quoted' | 'retweeted'; id: string }>;
  /** Not an API field: the deep link the brand attached (POST /2/tweets direct_message_deep_link). */
  direct_message_deep_link?: string;
  hidden?: boolean;
  /** Not an API field: the post mentions the brand (set by `mention`; `post` looks for @brand in the text). */
  mentions_brand?: boolean;
  /** Not an API field unless asked: the post's language. */
  lang?: string;
}

/** A v2 DM event. */
export interface FakeDmEvent {
  id: string;
  event_type: 'MessageCreate';
  text: string;
  sender_id: string;
  dm_conversation_id: string;
  created_at: string;
  participant_ids: string[];
}

/** One request the fake received. */
export interface RecordedCall {
  method: string;
  path: string;
  /** Route key, e.g. `POST /2/tweets`. */
  route: string;
  query: Record<string, string>;
  body: unknown;
  authorization?: string;
}

/** An injected failure for the next call of a route. */
export interface InjectedFailure {
  /** Let this call through untouched (to fail a later one). */
  pass?: boolean;
  status?: number;
  body?: unknown;
  /** Drop the connection without answering (a network failure). */
  destroy?: boolean;
  /** Never answer: `before` doing the call, or `after` it (the post or DM is made, the answer lost). */
  hang?: 'before' | 'after';
  /** The filtered stream only: answer 200, send this object as a line (X's `operational-disconnect`), and close. */
  disconnect?: unknown;
  /** The filtered stream only: answer 200 with its headers, then nothing at all (no heartbeat), the connection left open. */
  headersOnly?: boolean;
}

/** Options of the fake. */
export interface FakeXApiOptions {
  clock: Clock;
  brand: { id: string; username: string };
  apiKey: string;
  accessToken: string;
  /** The API secret the token endpoint checks (absent: any). */
  apiSecret?: string;
  /** The stream's keep-alive interval (X: 20 s; tests: short). */
  streamHeartbeatMs?: number;
}

/** A post's text as X's API returns it: `&`, `<` and `>` as HTML entities (v2 and v1.1 alike). */
export function escapedText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A filtered stream rule. */
export interface FakeRule {
  id: string;
  value: string;
  tag?: string;
}

export const ROUTES = {
  postTweet: 'POST /2/tweets',
  mentions: 'GET /2/users/:id/mentions',
  timeline: 'GET /2/users/:id/tweets',
  search: 'GET /2/tweets/search/recent',
  dmEvents: 'GET /2/dm_events',
  dmConversationEvents: 'GET /2/dm_conversations/with/:id/dm_events',
  sendDm: 'POST /2/dm_conversations/with/:id/messages',
  user: 'GET /2/users/:id',
  hide: 'PUT /2/tweets/:id/hidden',
  token: 'POST /oauth2/token',
  streamRules: 'GET /2/tweets/search/stream/rules',
  streamRulesChange: 'POST /2/tweets/search/stream/rules',
  stream: 'GET /2/tweets/search/stream',
} as const;
export type RouteKey = (typeof ROUTES)[keyof typeof ROUTES];
const STREAM_ROUTES = new Set<RouteKey>([ROUTES.streamRules, ROUTES.streamRulesChange, ROUTES.stream]);

/** The running fake. */
export interface FakeXApi {
  origin: string;
  /** The certificate to trust (pass as `tls.ca`). */
  ca: string;
  calls: RecordedCall[];
  posts: Map<string, FakePost>;
  dmEvents: FakeDmEvent[];
  users: Map<string, FakeUser>;
  addUser(user: Partial<FakeUser> & { id: string; username: string }): FakeUser;
  /** A customer's post mentioning the brand (a reply when `inReplyTo` is set). */
  mention(authorId: string, text: string, options?: { inReplyTo?: string; quoteOf?: string; retweetOf?: string }): FakePost;
  /** A post that does not address the brand (heard only by search), unless its text has @brand; on the open streams at once unless `streamed: false` (then `streamAgain` sends it, e.g. in pieces). */
  post(authorId: string, text: string, options?: { quoteOf?: string; retweetOf?: string; lang?: string; streamed?: boolean }): FakePost;
  /** A post by the brand (e.g. a campaign post customers reply to). */
  brandPost(text: string): FakePost;
  /** A DM from a user to the brand. */
  dm(senderId: string, text: string): FakeDmEvent;
  /** Posts the brand published (replies), oldest first. */
  brandReplies(): FakePost[];
  /** DMs the brand sent, oldest first. */
  brandDms(): FakeDmEvent[];
  /** Limits a route to `limit` calls per window of `windowSeconds` (then 429 until reset). */
  setRateLimit(route: RouteKey, limit: number, windowSeconds?: number): void;
  failNext(route: RouteKey, failure: InjectedFailure): void;
  /** The account's access token is revoked (`true`: every user-context call gets 401) or valid again. */
  revokeAccessToken(revoked: boolean): void;
  /** The app's filtered stream rules, by id. */
  rules: Map<string, FakeRule>;
  /** Filtered stream connections open now. */
  streamConnections(): number;
  /** Filtered stream connections that answered 200 so far. */
  streamConnects(): number;
  /** Drops every open stream connection (the socket closes, as on a network failure or an X restart). */
  dropStreams(): void;
  /** Open stream connections stop sending anything (no posts, no heartbeats), staying open. */
  silenceStreams(): void;
  /** Sends a post (again) on the open streams, as X may after a reconnect; `chunkBytes` writes its line in pieces of that many bytes, each flushed before the next (a line split across TCP reads, a character across pieces). */
  streamAgain(post: FakePost, options?: { chunkBytes?: number }): Promise<void>;
  /** Writes raw text on the open streams (a malformed line, an error object X sends inside the stream). */
  streamRaw(text: string): void;
  /** Sends an error object on the open streams (X's `operational-disconnect`) and closes them. */
  disconnectStreams(error: unknown): void;
  /** HTTP requests held open without an answer (`hang`) right now. */
  openRequests(): number;
  close(): Promise<void>;
}

interface StreamConnection {
  res: ServerResponse;
  fields: string[];
  expansions: string[];
  /** Hung: sends nothing any more. */
  silent: boolean;
  /** A line is being written in pieces: no heartbeat in its middle. */
  writing: boolean;
  heartbeat: NodeJS.Timeout;
}

interface Limit {
  limit: number;
  windowSeconds: number;
  used: number;
  reset: number;
}

const DEFAULT_LIMITS: Record<RouteKey, number> = {
  [ROUTES.postTweet]: 100,
  [ROUTES.mentions]: 300,
  [ROUTES.timeline]: 900,
  [ROUTES.search]: 450,
  [ROUTES.dmEvents]: 300,
  [ROUTES.dmConversationEvents]: 300,
  [ROUTES.sendDm]: 200,
  [ROUTES.user]: 900,
  [ROUTES.hide]: 50,
  [ROUTES.token]: 450,
  [ROUTES.streamRules]: 450,
  [ROUTES.streamRulesChange]: 450,
  [ROUTES.stream]: 50,
};

/** v2 problem bodies as X sends them. */
export const X_ERRORS = {
  tooManyRequests: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
  duplicate: { detail: 'You are not allowed to create a Tweet with duplicate content.', type: 'about:blank', title: 'Forbidden', status: 403 },
  replyNotVisible: { detail: 'You attempted to reply to a Tweet that is deleted or not visible to you.', type: 'about:blank', title: 'Forbidden', status: 403 },
  unauthorized: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
  dmNotAllowed: { detail: 'You are not permitted to send a Direct Message to this user.', type: 'about:blank', title: 'Forbidden', status: 403 },
  cannotHide: { detail: 'You cannot hide or unhide this reply.', type: 'about:blank', title: 'Forbidden', status: 403 },
  serviceUnavailable: { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 },
  /** What X writes inside a filtered stream before closing it for operational reasons (its docs, "Handling disconnections"). */
  operationalDisconnect: {
    errors: [
      {
        title: 'operational-disconnect',
        disconnect_type: 'UpstreamOperationalDisconnect',
        detail: 'This stream has been disconnected upstream for operational reasons.',
        type: 'https://api.twitter.com/2/problems/operational-disconnect',
      },
    ],
  },
  replyNotAllowed: {
    detail: 'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
  },
  tooManyConnections: {
    title: 'ConnectionException',
    detail: 'This stream is currently at the maximum allowed connection limit.',
    connection_issue: 'TooManyConnections',
    type: 'https://api.twitter.com/2/problems/streaming-connection',
  },
  clientNotEnrolled: {
    client_id: '28173627',
    detail:
      'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
    registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
    title: 'Client Forbidden',
    required_enrollment: 'Appropriate Level of API Access',
    reason: 'client-not-enrolled',
    type: 'https://api.twitter.com/2/problems/client-forbidden',
  },
  unsupportedAuthentication: {
    title: 'Unsupported Authentication',
    detail: 'Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 Application-Only].',
    type: 'https://api.twitter.com/2/problems/unsupported-authentication',
    status: 403,
  },
  notFound: { title: 'Not Found Error', detail: 'Not Found', type: 'https://api.twitter.com/2/problems/resource-not-found', status: 404 },
} as const;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the fake on https://127.0.0.1:<free port>. */
export async function createFakeXApi(options: FakeXApiOptions): Promise<FakeXApi> {
  const { clock, brand } = options;
  const { key, cert } = testCertificate();
  let seq = 1_860_000_000_000_000_000n;
  const nextId = () => {
    seq += 1n + BigInt(Math.floor(Math.random() * 1000));
    return seq.toString();
  };
  const calls: RecordedCall[] = [];
  const posts = new Map<string, FakePost>();
  const dmEvents: FakeDmEvent[] = [];
  const users = new Map<string, FakeUser>();
  const limits = new Map<RouteKey, Limit>();
  const failures = new Map<RouteKey, InjectedFailure[]>();
  const nowSeconds = () => Math.floor(clock.now().getTime() / 1000);
  const rules = new Map<string, FakeRule>();
  const bearer = `AAAAAAAAAAAAAAAAAAAAA${randomBytes(24).toString('base64url')}`;
  const streams = new Set<StreamConnection>();
  let connects = 0;
  /** The account's access token was revoked (the user removed the app, the token was regenerated). */
  let accessRevoked = false;

  /** Writes a post on every open stream whose rules it matches (with the rules it matched). */
  function streamPost(p: FakePost, evenIfSilent = false, chunkBytes = 0): Promise<void> {
    const matched = [...rules.values()].filter((r) => {
      try {
        return compileQuery(r.value, (id) => users.get(id))(p);
      } catch {
        return false;
      }
    });
    if (matched.length === 0) return Promise.resolve();
    const writes: Array<Promise<void>> = [];
    for (const conn of streams) {
      if (conn.silent && !evenIfSilent) continue;
      const author = conn.expansions.includes('author_id') ? userJson(users.get(p.author_id)) : undefined;
      const referenced = conn.expansions.includes('referenced_tweets.id')
        ? (p.referenced_tweets ?? []).map((r) => posts.get(r.id)).filter((x): x is FakePost => x !== undefined).map((x) => postJson(x, conn.fields))
        : [];
      const includes = { ...(author ? { users: [author] } : {}), ...(referenced.length ? { tweets: referenced } : {}) };
      const line = { data: postJson(p, conn.fields), ...(Object.keys(includes).length ? { includes } : {}), matching_rules: matched.map((r) => ({ id: r.id, ...(r.tag ? { tag: r.tag } : {}) })) };
      const bytes = Buffer.from(`${JSON.stringify(line)}\r\n`, 'utf8');
      if (chunkBytes <= 0) {
        conn.res.write(bytes);
        continue;
      }
      conn.writing = true;
      writes.push(
        (async () => {
          for (let at = 0; at < bytes.length && !conn.res.destroyed; at += chunkBytes) {
            // Each piece flushed, and a turn of the event loop, before the next: the client reads them apart.
            await new Promise<void>((resolve) => conn.res.write(bytes.subarray(at, at + chunkBytes), () => setTimeout(resolve, 2)));
          }
          conn.writing = false;
        })(),
      );
    }
    return Promise.all(writes).then(() => undefined);
  }

  const addUser: FakeXApi['addUser'] = (u) => {
    const user: FakeUser = { name: u.username, followers: 10, followsBrand: false, receivesAnyDm: false, ...u };
    users.set(user.id, user);
    return user;
  };
  addUser({ id: brand.id, username: brand.username, name: brand.username, followers: 50_000 });

  function limitOf(route: RouteKey): Limit {
    let l = limits.get(route);
    if (!l || nowSeconds() >= l.reset) {
      const windowSeconds = l?.windowSeconds ?? 900;
      l = { limit: l?.limit ?? DEFAULT_LIMITS[route], windowSeconds, used: 0, reset: nowSeconds() + windowSeconds };
      limits.set(route, l);
    }
    return l;
  }

  /** Responses deliberately never answered (`hang`). */
  const held = new Set<ServerResponse>();
  const hold = (res: ServerResponse) => {
    held.add(res);
    res.on('close', () => held.delete(res));
  };

  function send(res: ServerResponse, status: number, body: unknown, l?: Limit): void {
    if (held.has(res)) return;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (l) {
      headers['x-rate-limit-limit'] = String(l.limit);
      headers['x-rate-limit-remaining'] = String(Math.max(0, l.limit - l.used));
      headers['x-rate-limit-reset'] = String(l.reset);
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  }

  function route(method: string, path: string): { key: RouteKey; params: string[] } | undefined {
    const table: Array<[string, RegExp, RouteKey]> = [
      ['POST', /^\/2\/tweets$/, ROUTES.postTweet],
      ['GET', /^\/2\/users\/(\d+)\/mentions$/, ROUTES.mentions],
      ['GET', /^\/2\/users\/(\d+)\/tweets$/, ROUTES.timeline],
      ['GET', /^\/2\/tweets\/search\/recent$/, ROUTES.search],
      ['GET', /^\/2\/dm_events$/, ROUTES.dmEvents],
      ['GET', /^\/2\/dm_conversations\/with\/(\d+)\/dm_events$/, ROUTES.dmConversationEvents],
      ['POST', /^\/2\/dm_conversations\/with\/(\d+)\/messages$/, ROUTES.sendDm],
      ['GET', /^\/2\/users\/(\d+)$/, ROUTES.user],
      ['PUT', /^\/2\/tweets\/(\d+)\/hidden$/, ROUTES.hide],
      ['POST', /^\/oauth2\/token$/, ROUTES.token],
      ['GET', /^\/2\/tweets\/search\/stream\/rules$/, ROUTES.streamRules],
      ['POST', /^\/2\/tweets\/search\/stream\/rules$/, ROUTES.streamRulesChange],
      ['GET', /^\/2\/tweets\/search\/stream$/, ROUTES.stream],
    ];
    for (const [m, re, key] of table) {
      const match = method === m ? re.exec(path) : null;
      if (match) return { key, params: match.slice(1) };
    }
    return undefined;
  }

  const userJson = (u: FakeUser | undefined) =>
    u ? { id: u.id, name: u.name, username: u.username, public_metrics: { followers_count: u.followers } } : undefined;
  const postJson = (p: FakePost, fields: string[] = []) => {
    const { direct_message_deep_link: _link, hidden: _hidden, mentions_brand: _m, lang, text, ...rest } = p;
    const mentions = [...p.text.matchAll(/@(\w{1,15})/g)].map((m) => {
      const user = [...users.values()].find((u) => u.username.toLowerCase() === m[1]!.toLowerCase());
      return { start: m.index!, end: m.index! + m[0].length, username: m[1]!, ...(user ? { id: user.id } : {}) };
    });
    return { ...rest, text: escapedText(text), ...(fields.includes('lang') && lang ? { lang } : {}), ...(fields.includes('entities') && mentions.length ? { entities: { mentions } } : {}) };
  };
  /** Whether the brand may reply to `p` through the API (X since February 2026). */
  const engaged = (p: FakePost): boolean =>
    p.author_id === brand.id ||
    p.mentions_brand === true ||
    p.in_reply_to_user_id === brand.id ||
    (p.referenced_tweets ?? []).some((r) => r.type === 'quoted' && posts.get(r.id)?.author_id === brand.id);
  const dmConversationId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? `${a}-${b}` : `${b}-${a}`);

  /** Pages newest-first lists with opaque tokens, like X. */
  function page<T>(items: T[], query: Record<string, string>): { data: T[]; next_token?: string } {
    const max = Math.min(100, Math.max(1, Number(query['max_results'] ?? 100)));
    const offset = query['pagination_token'] ? Number(Buffer.from(query['pagination_token'], 'base64url').toString()) : 0;
    const data = items.slice(offset, offset + max);
    const more = offset + max < items.length;
    return { data, ...(more ? { next_token: Buffer.from(String(offset + max)).toString('base64url') } : {}) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const query = Object.fromEntries(url.searchParams.entries());
    let body: unknown;
    try {
      // The token endpoint takes a form (grant_type=client_credentials); the rest JSON.
      body = raw && !(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded') ? JSON.parse(raw) : undefined;
    } catch {
      send(res, 400, { title: 'Invalid Request', detail: 'The request body is not valid JSON.', type: 'https://api.twitter.com/2/problems/invalid-request' });
      return;
    }
    const found = route(method, url.pathname);
    calls.push({ method, path: url.pathname, route: found?.key ?? `${method} ${url.pathname}`, query, body, authorization: req.headers.authorization });
    if (!found) {
      send(res, 404, { errors: [{ message: 'Sorry, that page does not exist', code: 34 }] });
      return;
    }
    const auth = req.headers.authorization ?? '';
    if (found.key === ROUTES.token) {
      const basic = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
      const [key, secret] = basic.split(':').map((x) => decodeURIComponent(x));
      if (key !== options.apiKey || (options.apiSecret !== undefined && secret !== options.apiSecret) || !/grant_type=client_credentials/.test(raw)) {
        send(res, 403, { errors: [{ code: 99, message: 'Unable to verify your credentials', label: 'authenticity_token_error' }] });
        return;
      }
    } else if (STREAM_ROUTES.has(found.key)) {
      if (auth !== `Bearer ${bearer}`) {
        send(res, auth.startsWith('Bearer ') ? 401 : 403, auth.startsWith('Bearer ') ? X_ERRORS.unauthorized : X_ERRORS.unsupportedAuthentication);
        return;
      }
    } else if (accessRevoked || !auth.startsWith('OAuth ') || !auth.includes(`oauth_consumer_key="${options.apiKey}"`) || !auth.includes(`oauth_token="${encodeURIComponent(options.accessToken)}"`)) {
      send(res, 401, X_ERRORS.unauthorized);
      return;
    }
    const l = limitOf(found.key);
    const failure = failures.get(found.key)?.shift();
    if (failure?.destroy) {
      req.socket.destroy();
      return;
    }
    if (failure?.hang) {
      hold(res);
      if (failure.hang === 'before') return;
    }
    if (found.key === ROUTES.stream && (failure?.disconnect !== undefined || failure?.headersOnly)) {
      l.used += 1;
      connects += 1;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-rate-limit-limit': String(l.limit), 'x-rate-limit-remaining': String(Math.max(0, l.limit - l.used)), 'x-rate-limit-reset': String(l.reset) });
      if (failure.headersOnly) {
        hold(res);
        res.flushHeaders();
        return;
      }
      res.end(`${JSON.stringify(failure.disconnect)}\r\n`);
      return;
    }
    if (failure && !failure.pass && !failure.hang) {
      send(res, failure.status ?? 500, failure.body ?? {}, l);
      return;
    }
    if (l.used >= l.limit) {
      send(res, 429, X_ERRORS.tooManyRequests, l);
      return;
    }
    if (found.key === ROUTES.stream && streams.size > 0) {
      // One connection per app.
      l.used += 1;
      send(res, 429, X_ERRORS.tooManyConnections, l);
      return;
    }
    l.used += 1;
    const [param] = found.params;

    switch (found.key) {
      case ROUTES.postTweet: {
        const b = body as { text?: string; reply?: { in_reply_to_tweet_id?: string }; direct_message_deep_link?: string };
        if (!b?.text) return send(res, 400, { errors: [{ message: 'text is required', parameters: {} }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' }, l);
        if ([...posts.values()].some((p) => p.author_id === brand.id && p.text === b.text)) return send(res, 403, X_ERRORS.duplicate, l);
        const parentId = b.reply?.in_reply_to_tweet_id;
        const parent = parentId ? posts.get(parentId) : undefined;
        if (parentId && !parent) return send(res, 403, X_ERRORS.replyNotVisible, l);
        if (parent && !engaged(parent)) return send(res, 403, X_ERRORS.replyNotAllowed, l);
        const id = nextId();
        const post: FakePost = {
          id,
          text: b.text,
          author_id: brand.id,
          conversation_id: parent?.conversation_id ?? id,
          created_at: clock.now().toISOString(),
          ...(parent ? { in_reply_to_user_id: parent.author_id, referenced_tweets: [{ type: 'replied_to' as const, id: parent.id }] } : {}),
          ...(b.direct_message_deep_link ? { direct_message_deep_link: b.direct_message_deep_link } : {}),
        };
        posts.set(id, post);
        return send(res, 201, { data: { id, text: b.text, edit_history_tweet_ids: [id] } }, l);
      }
      case ROUTES.mentions: {
        if (param !== brand.id) return send(res, 403, { title: 'Forbidden', detail: 'Only the authenticated user’s mentions here.', type: 'about:blank', status: 403 }, l);
        const since = query['since_id'];
        const start = query['start_time'] ? Date.parse(query['start_time']) : undefined;
        const all = [...posts.values()]
          .filter((p) => p.author_id !== brand.id || p.in_reply_to_user_id === brand.id)
          .filter((p) => p.author_id !== brand.id)
          .filter((p) => p.mentions_brand !== false || p.in_reply_to_user_id === brand.id)
          .filter((p) => (since ? BigInt(p.id) > BigInt(since) : true))
          .filter((p) => (start !== undefined ? Date.parse(p.created_at) >= start : true))
          .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
        // The 800 most recent only.
        const { data, next_token } = page(all.slice(0, 800), query);
        if (data.length === 0) return send(res, 200, { meta: { result_count: 0 } }, l);
        const authors = [...new Set(data.map((p) => p.author_id))].map((id) => userJson(users.get(id))).filter(Boolean);
        return send(res, 200, {
          data: data.map((p) => postJson(p)),
          includes: { users: authors },
          meta: { result_count: data.length, newest_id: data[0]!.id, oldest_id: data.at(-1)!.id, ...(next_token ? { next_token } : {}) },
        }, l);
      }
      case ROUTES.timeline: {
        // A user's own posts (replies included unless exclude=replies), newest first; 3,200 at most.
        const max = Number(query['max_results'] ?? 10);
        if (!Number.isInteger(max) || max < 5 || max > 100) {
          return send(res, 400, { errors: [{ parameters: { max_results: [String(query['max_results'])] }, message: `The \`max_results\` query parameter value [${query['max_results']}] is not between 5 and 100` }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' }, l);
        }
        const excluded = (query['exclude'] ?? '').split(',');
        const all = [...posts.values()]
          .filter((p) => p.author_id === param)
          .filter((p) => !(excluded.includes('replies') && p.referenced_tweets?.some((r) => r.type === 'replied_to')))
          .filter((p) => !(excluded.includes('retweets') && p.referenced_tweets?.some((r) => r.type === 'retweeted')))
          .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
          .slice(0, 3200);
        const { data, next_token } = page(all, query);
        if (data.length === 0) return send(res, 200, { meta: { result_count: 0 } }, l);
        return send(res, 200, { data: data.map((p) => postJson(p)), meta: { result_count: data.length, newest_id: data[0]!.id, oldest_id: data.at(-1)!.id, ...(next_token ? { next_token } : {}) } }, l);
      }
      case ROUTES.search: {
        const invalid = (detail: string) =>
          send(res, 400, { errors: [{ parameters: {}, message: detail }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' }, l);
        const q = query['query'];
        if (!q) return invalid('The `query` query parameter can not be empty');
        if (q.length > 512) return invalid(`There were errors processing your request: Rule length exceeds the max allowed of 512 characters`);
        const max = Number(query['max_results'] ?? 10);
        if (!Number.isInteger(max) || max < 10 || max > 100) return invalid(`The \`max_results\` query parameter value [${query['max_results']}] is not between 10 and 100`);
        const weekAgo = clock.now().getTime() - 7 * 86_400_000;
        const start = query['start_time'] ? Date.parse(query['start_time']) : weekAgo;
        if (start < weekAgo) return invalid('Invalid \'start_time\': must be a minimum of 10 seconds prior to the request time and within the last 7 days');
        let matches: (p: FakePost) => boolean;
        try {
          matches = compileQuery(q, (id) => users.get(id));
        } catch (err) {
          return invalid(`There were errors processing your request: ${(err as Error).message}`);
        }
        const since = query['since_id'];
        const until = query['until_id'];
        const all = [...posts.values()]
          // Since 2026-05-04 keyword search returns no retweets.
          .filter((p) => !(p.referenced_tweets ?? []).some((r) => r.type === 'retweeted'))
          .filter((p) => Date.parse(p.created_at) >= start)
          .filter((p) => (since ? BigInt(p.id) > BigInt(since) : true))
          .filter((p) => (until ? BigInt(p.id) < BigInt(until) : true))
          .filter(matches)
          .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
        const tokenQuery = { ...query, ...(query['next_token'] ? { pagination_token: query['next_token'] } : {}) };
        const { data, next_token } = page(all, tokenQuery);
        if (data.length === 0) return send(res, 200, { meta: { result_count: 0 } }, l);
        const fields = (query['tweet.fields'] ?? '').split(',');
        const expansions = (query['expansions'] ?? '').split(',');
        const authors = expansions.includes('author_id') ? [...new Set(data.map((p) => p.author_id))].map((id) => userJson(users.get(id))).filter(Boolean) : [];
        const referenced = expansions.includes('referenced_tweets.id')
          ? data.flatMap((p) => (p.referenced_tweets ?? []).map((r) => posts.get(r.id))).filter((p): p is FakePost => p !== undefined).map((p) => postJson(p, fields))
          : [];
        return send(res, 200, {
          data: data.map((p) => postJson(p, fields)),
          includes: { ...(authors.length ? { users: authors } : {}), ...(referenced.length ? { tweets: referenced } : {}) },
          meta: { newest_id: data[0]!.id, oldest_id: data.at(-1)!.id, result_count: data.length, ...(next_token ? { next_token } : {}) },
        }, l);
      }
      case ROUTES.dmEvents: {
        const all = [...dmEvents].sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
        const { data, next_token } = page(all, query);
        if (data.length === 0) return send(res, 200, { meta: { result_count: 0 } }, l);
        const senders = [...new Set(data.map((e) => e.sender_id))].map((id) => userJson(users.get(id))).filter(Boolean);
        return send(res, 200, { data, includes: { users: senders }, meta: { result_count: data.length, ...(next_token ? { next_token } : {}) } }, l);
      }
      case ROUTES.dmConversationEvents: {
        // The 1:1 conversation of the brand and `param`, newest first.
        const all = dmEvents
          .filter((e) => e.participant_ids.includes(param!) && e.participant_ids.includes(brand.id))
          .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
        const { data, next_token } = page(all, query);
        if (data.length === 0) return send(res, 200, { meta: { result_count: 0 } }, l);
        return send(res, 200, { data, meta: { result_count: data.length, ...(next_token ? { next_token } : {}) } }, l);
      }
      case ROUTES.sendDm: {
        const b = body as { text?: string };
        const to = users.get(param!);
        if (!b?.text) return send(res, 400, { title: 'Invalid Request', detail: 'text or attachments is required', type: 'https://api.twitter.com/2/problems/invalid-request' }, l);
        const theyWrote = dmEvents.some((e) => e.sender_id === param);
        if (!to || !(to.followsBrand || to.receivesAnyDm || theyWrote)) return send(res, 403, X_ERRORS.dmNotAllowed, l);
        const event: FakeDmEvent = {
          id: nextId(),
          event_type: 'MessageCreate',
          text: b.text,
          sender_id: brand.id,
          dm_conversation_id: dmConversationId(brand.id, to.id),
          created_at: clock.now().toISOString(),
          participant_ids: [brand.id, to.id],
        };
        dmEvents.push(event);
        return send(res, 201, { data: { dm_conversation_id: event.dm_conversation_id, dm_event_id: event.id } }, l);
      }
      case ROUTES.user: {
        const u = users.get(param!);
        if (!u) {
          return send(res, 200, { errors: [{ value: param, detail: `Could not find user with id: [${param}].`, title: 'Not Found Error', resource_type: 'user', parameter: 'id', resource_id: param, type: 'https://api.twitter.com/2/problems/resource-not-found' }] }, l);
        }
        const fields = (query['user.fields'] ?? '').split(',');
        const status = u.followsBrand ? ['followed_by'] : [];
        return send(res, 200, {
          data: {
            ...userJson(u),
            ...(fields.includes('connection_status') ? { connection_status: status } : {}),
            ...(fields.includes('receives_your_dm') ? { receives_your_dm: u.receivesAnyDm || u.followsBrand } : {}),
          },
        }, l);
      }
      case ROUTES.token:
        return send(res, 200, { token_type: 'bearer', access_token: bearer }, l);
      case ROUTES.streamRules: {
        const all = [...rules.values()].filter((r) => !query['ids'] || query['ids'].split(',').includes(r.id));
        const sent = clock.now().toISOString();
        return send(res, 200, all.length ? { data: all, meta: { sent, result_count: all.length } } : { meta: { sent, result_count: 0 } }, l);
      }
      case ROUTES.streamRulesChange: {
        const b = body as { add?: Array<{ value?: string; tag?: string }>; delete?: { ids?: string[]; values?: string[] } } | undefined;
        const dryRun = query['dry_run'] === 'true';
        const sent = clock.now().toISOString();
        if (b?.add && !b.delete) {
          const data: FakeRule[] = [];
          const errors: unknown[] = [];
          let invalid = 0;
          for (const a of b.add) {
            const value = a.value ?? '';
            try {
              if (value.length > 512) throw new Error('Rule length exceeds the max allowed of 512 characters');
              compileQuery(value, (id) => users.get(id));
            } catch (err) {
              invalid += 1;
              errors.push({ value, details: [(err as Error).message], title: 'UnprocessableEntity', type: 'https://api.twitter.com/2/problems/invalid-rules' });
              continue;
            }
            const existing = [...rules.values()].find((r) => r.value === value);
            if (existing) {
              errors.push({ value, id: existing.id, title: 'DuplicateRule', type: 'https://api.twitter.com/2/problems/duplicate-rules' });
              continue;
            }
            const rule: FakeRule = { id: nextId(), value, ...(a.tag ? { tag: a.tag } : {}) };
            if (!dryRun) rules.set(rule.id, rule);
            data.push(rule);
          }
          const summary = { created: data.length, not_created: b.add.length - data.length, valid: b.add.length - invalid, invalid };
          return send(res, 200, { ...(data.length ? { data } : {}), meta: { sent, summary }, ...(errors.length ? { errors } : {}) }, l);
        }
        if (b?.delete && !b.add) {
          const ids = b.delete.ids ?? [];
          const found = ids.filter((id) => rules.has(id));
          if (!dryRun) for (const id of found) rules.delete(id);
          const errors = ids.filter((id) => !found.includes(id)).map((id) => ({ errors: [{ parameters: { ids: [id] }, message: 'Rule does not exist' }], title: 'Invalid Request', type: 'https://api.twitter.com/2/problems/invalid-request' }));
          return send(res, 200, { meta: { sent, summary: { deleted: found.length, not_deleted: ids.length - found.length } }, ...(errors.length ? { errors } : {}) }, l);
        }
        return send(res, 400, { errors: [{ message: 'One of add or delete is required', parameters: {} }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' }, l);
      }
      case ROUTES.stream: {
        const conn: StreamConnection = {
          res,
          fields: (query['tweet.fields'] ?? '').split(','),
          expansions: (query['expansions'] ?? '').split(','),
          silent: false,
          writing: false,
          heartbeat: setInterval(() => {
            if (!conn.silent && !conn.writing) res.write('\r\n');
          }, options.streamHeartbeatMs ?? 20_000),
        };
        streams.add(conn);
        connects += 1;
        res.on('close', () => {
          clearInterval(conn.heartbeat);
          streams.delete(conn);
        });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-rate-limit-limit': String(l.limit), 'x-rate-limit-remaining': String(Math.max(0, l.limit - l.used)), 'x-rate-limit-reset': String(l.reset) });
        res.flushHeaders();
        return;
      }
      case ROUTES.hide: {
        const p = posts.get(param!);
        if (!p) return send(res, 404, X_ERRORS.notFound, l);
        const root = posts.get(p.conversation_id);
        if (p.id === p.conversation_id || root?.author_id !== brand.id) return send(res, 403, X_ERRORS.cannotHide, l);
        p.hidden = Boolean((body as { hidden?: boolean })?.hidden);
        return send(res, 200, { data: { hidden: p.hidden } }, l);
      }
    }
  }

  const server: Server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ title: 'Internal Error', detail: String(err), type: 'about:blank', status: 500 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://127.0.0.1:${port}`,
    ca: cert,
    calls,
    posts,
    dmEvents,
    users,
    addUser,
    mention(authorId, text, opts = {}) {
      const id = nextId();
      const parent = opts.inReplyTo ? posts.get(opts.inReplyTo) : undefined;
      const refs: FakePost['referenced_tweets'] = [];
      if (parent) refs.push({ type: 'replied_to', id: parent.id });
      if (opts.quoteOf) refs.push({ type: 'quoted', id: opts.quoteOf });
      if (opts.retweetOf) refs.push({ type: 'retweeted', id: opts.retweetOf });
      const post: FakePost = {
        id,
        text,
        author_id: authorId,
        conversation_id: parent?.conversation_id ?? id,
        created_at: clock.now().toISOString(),
        mentions_brand: true,
        ...(parent ? { in_reply_to_user_id: parent.author_id } : {}),
        ...(refs.length ? { referenced_tweets: refs } : {}),
      };
      posts.set(id, post);
      void streamPost(post);
      return post;
    },
    post(authorId, text, opts = {}) {
      const id = nextId();
      const refs: FakePost['referenced_tweets'] = [];
      if (opts.quoteOf) refs.push({ type: 'quoted', id: opts.quoteOf });
      if (opts.retweetOf) refs.push({ type: 'retweeted', id: opts.retweetOf });
      const post: FakePost = {
        id,
        text,
        author_id: authorId,
        conversation_id: id,
        created_at: clock.now().toISOString(),
        mentions_brand: new RegExp(`@${brand.username}(?!\\w)`, 'i').test(text),
        ...(opts.lang ? { lang: opts.lang } : {}),
        ...(refs.length ? { referenced_tweets: refs } : {}),
      };
      posts.set(id, post);
      if (opts.streamed !== false) void streamPost(post);
      return post;
    },
    brandPost(text) {
      const id = nextId();
      const post: FakePost = { id, text, author_id: brand.id, conversation_id: id, created_at: clock.now().toISOString() };
      posts.set(id, post);
      void streamPost(post);
      return post;
    },
    dm(senderId, text) {
      const event: FakeDmEvent = {
        id: nextId(),
        event_type: 'MessageCreate',
        text,
        sender_id: senderId,
        dm_conversation_id: dmConversationId(brand.id, senderId),
        created_at: clock.now().toISOString(),
        participant_ids: [brand.id, senderId],
      };
      dmEvents.push(event);
      return event;
    },
    brandReplies: () => [...posts.values()].filter((p) => p.author_id === brand.id && p.referenced_tweets?.some((r) => r.type === 'replied_to')).sort((a, b) => (BigInt(a.id) > BigInt(b.id) ? 1 : -1)),
    brandDms: () => dmEvents.filter((e) => e.sender_id === brand.id),
    setRateLimit(routeKey, limit, windowSeconds = 900) {
      limits.set(routeKey, { limit, windowSeconds, used: 0, reset: nowSeconds() + windowSeconds });
    },
    revokeAccessToken(revoked) {
      accessRevoked = revoked;
    },
    failNext(routeKey, failure) {
      failures.set(routeKey, [...(failures.get(routeKey) ?? []), failure]);
    },
    openRequests: () => held.size,
    rules,
    streamConnections: () => streams.size,
    streamConnects: () => connects,
    dropStreams() {
      for (const conn of [...streams]) conn.res.destroy();
    },
    silenceStreams() {
      for (const conn of streams) conn.silent = true;
    },
    streamAgain(post, opts) {
      return streamPost(post, false, opts?.chunkBytes ?? 0);
    },
    streamRaw(text) {
      for (const conn of streams) if (!conn.silent) conn.res.write(text);
    },
    disconnectStreams(error) {
      for (const conn of [...streams]) conn.res.end(`${JSON.stringify(error)}\r\n`);
    },
    async close() {
      for (const conn of [...streams]) {
        clearInterval(conn.heartbeat);
        conn.res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ───────────────────────────── webhooks, the way X calls them ─────────────────────────────

/** `sha256=<base64 HMAC-SHA256(consumer secret, data)>`, computed independently of the adapter. */
export function xHmac(consumerSecret: string, data: string | Buffer): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(data).digest('base64')}`;
}

/** X's side of a webhook: the CRC check and signed deliveries. */
export interface XWebhookCaller {
  /** GET ?crc_token=… and check the response token; resolves true when X would accept the webhook. */
  crc(): Promise<{ ok: boolean; status: number; body: unknown }>;
  /** POSTs `body` as X does: JSON bytes signed with `x-twitter-webhooks-signature`. */
  deliver(body: unknown, options?: { signature?: string | null }): Promise<{ status: number; body: unknown }>;
}

/** Creates a webhook caller for `url` (our /webhooks/twitter). */
export function createXWebhookCaller(url: string, consumerSecret: string): XWebhookCaller {
  return {
    async crc() {
      const token = randomBytes(24).toString('base64url');
      const res = await fetch(`${url}?crc_token=${encodeURIComponent(token)}`);
      const body: unknown = await res.json();
      const ok = res.status === 200 && (res.headers.get('content-type') ?? '').includes('application/json') && (body as { response_token?: string }).response_token === xHmac(consumerSecret, token);
      return { ok, status: res.status, body };
    },
    async deliver(body, opts = {}) {
      const raw = JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      const signature = opts.signature === undefined ? xHmac(consumerSecret, raw) : opts.signature;
      if (signature !== null) headers['x-twitter-webhooks-signature'] = signature;
      const res = await fetch(url, { method: 'POST', headers, body: raw });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text; // not JSON: keep the text for the assertion message
      }
      return { status: res.status, body: parsed };
    },
  };
}

// ───────────────────────────── recent search's query language (a subset) ─────────────────────────────

type Node = { kind: 'or' | 'and'; parts: Node[] } | { kind: 'not'; part: Node } | { kind: 'term'; test: (p: FakePost) => boolean };

/**
 * Compiles a recent-search query into a matcher: terms side by side are AND, `OR` between them,
 * parentheses group, `-` negates; a term is a word (whole word, any case, accents as written), a
 * "quoted phrase", #hashtag, @handle (a mention), from:handle, is:retweet, is:reply, is:quote,
 * lang:xx. Like X, a query of negations only is refused.
 */
export function compileQuery(query: string, userOf: (id: string) => { username: string } | undefined): (p: FakePost) => boolean {
  const tokens = query.match(/-?"[^"]*"|\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const words = (text: string) => ` ${text.toLowerCase().replace(/[^\p{L}\p{N}#@_]+/gu, ' ')} `;
  function term(raw: string): Node {
    const t = raw.toLowerCase();
    const test = (f: (p: FakePost) => boolean): Node => ({ kind: 'term', test: f });
    if (t.startsWith('"')) {
      const phrase = words(t.slice(1, -1)).trim();
      return test((p) => words(p.text).includes(` ${phrase} `));
    }
    if (t === 'is:retweet') return test((p) => (p.referenced_tweets ?? []).some((r) => r.type === 'retweeted'));
    if (t === 'is:reply') return test((p) => (p.referenced_tweets ?? []).some((r) => r.type === 'replied_to'));
    if (t === 'is:quote') return test((p) => (p.referenced_tweets ?? []).some((r) => r.type === 'quoted'));
    if (t.startsWith('lang:')) return test((p) => (p.lang ?? 'und') === t.slice(5));
    if (t.startsWith('from:')) return test((p) => userOf(p.author_id)?.username.toLowerCase() === t.slice(5).replace(/^@/, ''));
    if (/^[a-z]+:/.test(t)) throw new Error(`Reference to invalid operator '${t.split(':')[0]}'`);
    return test((p) => words(p.text).includes(` ${t} `));
  }
  function primary(): Node {
    const t = tokens[i++];
    if (t === undefined) throw new Error('Unexpected end of query');
    if (t === '(') {
      const inner = or();
      if (tokens[i++] !== ')') throw new Error('Missing closing parenthesis');
      return inner;
    }
    if (t === ')' || t === 'OR') throw new Error(`Unexpected '${t}'`);
    if (t.startsWith('-') && t.length > 1) {
      const rest = t.slice(1);
      if (rest === '(') {
        const inner = or();
        if (tokens[i++] !== ')') throw new Error('Missing closing parenthesis');
        return { kind: 'not', part: inner };
      }
      return { kind: 'not', part: term(rest) };
    }
    return term(t);
  }
  function and(): Node {
    const parts: Node[] = [primary()];
    while (i < tokens.length && tokens[i] !== ')' && tokens[i] !== 'OR') parts.push(primary());
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  }
  function or(): Node {
    const parts: Node[] = [and()];
    while (tokens[i] === 'OR') {
      i += 1;
      parts.push(and());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  }
  const tree = or();
  if (i < tokens.length) throw new Error(`Unexpected '${tokens[i]}'`);
  const positive = (n: Node): boolean => (n.kind === 'term' ? true : n.kind === 'not' ? false : n.parts.some(positive));
  if (!positive(tree)) throw new Error('Rules must contain a non-negation term');
  const run = (n: Node, p: FakePost): boolean =>
    n.kind === 'term' ? n.test(p) : n.kind === 'not' ? !run(n.part, p) : n.kind === 'and' ? n.parts.every((x) => run(x, p)) : n.parts.some((x) => run(x, p));
  return (p) => run(tree, p);
}
