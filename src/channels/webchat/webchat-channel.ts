/**
 * @module channels/webchat/webchat-channel
 * A small web chat served by Sportello itself at `/chat`: the page posts messages over HTTP
 * and receives replies (bot and operator) over Server-Sent Events. It makes `npm start` with
 * no credentials a bot you can talk to in a browser. Replies are read from the store's outbox
 * and pushed on `message.sent` events, so a page connected to one instance sees replies sent by
 * any instance, and a reload (or a restart) shows the conversation so far. Its routes are
 * `ChannelAdapter.routes`, served like every channel's.
 *
 * A visitor holds a secret token (sessions.ts: signed, stored only from their first message) and
 * is known to everyone else by a public visitor id; anonymous clients are kept from flooding it by rate limits and caps (limits.ts): messages
 * per session and per address, new sessions per address, open streams per address, message size.
 *
 * The page feels alive: a welcome (WEBCHAT_WELCOME_IT / _EN, written into the page), a typing
 * indicator (the pipeline's `typing` hook on a slow turn reaches the visitor's open pages as a
 * `typing` event; each `message.received` of the visitor's conversation becomes a `turn` event
 * naming the turn's replies, so the page knows when to stop waiting), timestamps on every
 * message, and quick replies that go away once used. The page loads nothing from elsewhere: its
 * CSP allows only its own inline script and style (by hash) and requests to this server, and
 * only WEBCHAT_EMBED_ORIGINS may frame it or call its API (CORS).
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { EventBus } from '../../core/events.js';
import type { ChannelAdapter, ChannelCapabilities, ChannelContext, ChannelRequest, ChannelResponse, ChannelRoute, Clock, Store } from '../../core/ports.js';
import type { InboundMessage, OutboxItem, Reply } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { channelValues } from '../values.js';
import { addressGroup, createOpenCounter, createRateLimiter, type Refusal } from './limits.js';
import { createSessions, TOKEN } from './sessions.js';

/** The page's source, read once when first rendered (not when the module loads: bundles that import the channel need not ship it). */
let pageSource: string | undefined;
const pageTemplate = (): string => (pageSource ??= readFileSync(new URL('./page.html', import.meta.url), 'utf8'));
/** The longest message a visitor may send, in characters (WEBCHAT_MAX_MESSAGE_CHARS caps it lower). */
const MAX_MESSAGE_CHARS = 4000;
/** The largest request body the web chat reads: a message of MAX_MESSAGE_CHARS, escaped, fits. */
const MAX_BODY_BYTES = 32 * 1024;
/** Where the page's settings go: a JSON data block (not a script the browser runs). */
const CONFIG_SLOT = '<script type="application/json" id="config">{}</script>';

/** The welcome the page shows first, per language (an empty text: none). */
export interface WebchatWelcome {
  it: string;
  en: string;
}

/** The default welcome (WEBCHAT_WELCOME_IT / WEBCHAT_WELCOME_EN). */
export const DEFAULT_WELCOME: WebchatWelcome = {
  it: 'Ciao! Come posso aiutarti? Scrivi pure la tua domanda.',
  en: 'Hi! How can I help you? Just type your question.',
};

const DAY_MS = 24 * 60 * 60 * 1000;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page with its settings written in, and its CSP: only the page's own inline script and
 * style (by hash: nothing injected runs), requests to this server only, framed by no one but
 * `embedOrigins` (WEBCHAT_EMBED_ORIGINS).
 */
export function renderPage(welcome: WebchatWelcome, options: { embedOrigins?: readonly string[]; maxMessageChars?: number } = {}): { html: string; csp: string } {
  // `<` escaped: no text can close the data block early.
  const config = JSON.stringify({ welcome, maxChars: options.maxMessageChars ?? MAX_MESSAGE_CHARS }).replace(/</g, '\\u003c');
  const page = pageTemplate();
  if (!page.includes(CONFIG_SLOT)) throw new Error('the web chat page has no settings slot');
  const html = page.replace(CONFIG_SLOT, () => `<script type="application/json" id="config">${config}</script>`);
  const scripts = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]!));
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => sha256(m[1]!));
  const embed = options.embedOrigins ?? [];
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.join(' ')}`,
    `style-src ${styles.join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${embed.length > 0 ? embed.join(' ') : "'none'"}`,
  ].join('; ');
  return { html, csp };
}

/** A reply as the page receives it. */
interface WebchatEvent {
  id: string;
  reply: Reply;
  author: OutboxItem['author'];
  /** When it was sent (ISO 8601): the page shows it in the visitor's time. */
  at: string;
}

/** A reply as the page shows it: a survey is its text with the scores as quick replies. */
function shown(reply: Reply): Reply {
  return reply.kind === 'survey' ? { kind: 'quick_replies', text: reply.text, options: reply.options } : reply;
}

/** The web chat's capabilities: private only, quick replies as buttons. */
export const webchatCapabilities: ChannelCapabilities = {
  publicReplies: false,
  privateMessages: true,
  maxLength: { public: 4000, private: 4000 },
  measure: (text) => [...text].length,
  quickReplies: 10,
  signsPublicReplies: false,
  maxThread: 1,
  // Shown at once on an open page, else with the conversation at the visitor's next visit.
  surveys: {},
};


/** The web chat page's limits (WEBCHAT_* variables; docs/webchat.md). */
export interface WebchatLimits {
  /** Anonymous sessions are kept this many days after their last use. */
  retentionDays: number;
  /** A longer message is refused with 413. */
  maxMessageChars: number;
  /** Messages one session may send per minute (bursts up to the same number). */
  sessionMessagesPerMinute: number;
  /** Requests (messages and event-stream openings) one address may make per minute. */
  addressMessagesPerMinute: number;
  /** New sessions one address may start per hour. */
  addressSessionsPerHour: number;
  /** Event streams one address may hold open at once. */
  addressStreams: number;
}

export const DEFAULT_LIMITS: WebchatLimits = {
  retentionDays: 30,
  maxMessageChars: MAX_MESSAGE_CHARS,
  sessionMessagesPerMinute: 20,
  addressMessagesPerMinute: 120,
  addressSessionsPerHour: 60,
  addressStreams: 20,
};

/** The channel's settings (from its variables, see index.ts). */
export interface WebchatSettings {
  welcome: WebchatWelcome;
  /** Origins that may frame the page and call its API (WEBCHAT_EMBED_ORIGINS). */
  embedOrigins: string[];
  limits: WebchatLimits;
}

/** Dependencies of the web chat. */
export interface WebchatChannelDeps extends Partial<WebchatSettings> {
  /** The conversation so far (a reload), the sent replies, and sessions (values). */
  store: Pick<Store, 'conversations' | 'outbox' | 'values'>;
  /** `message.sent` events of every instance. */
  bus: Pick<EventBus, 'subscribe'>;
  clock: Clock;
  logger: Logger;
  /** How many earlier messages a reconnecting page is shown. */
  historySize?: number;
}

/** What the web chat page may post: `session` is the token from `POST /chat/api/sessions`. */
export const webchatMessageSchema = z.object({
  session: z.string().regex(TOKEN, 'session must be the token POST /chat/api/sessions gave'),
  text: z.string().default(''),
  payload: z.string().max(200).optional(),
  name: z.string().max(80).optional(),
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
});

/** What `POST /chat/api/sessions` takes: the page's stored token, if any, to resume it. */
const sessionRequestSchema = z.object({ session: z.string().max(200).optional() }).optional();

/** An open page: its event stream, its visitor, and where it connects from. */
interface OpenPage {
  stream: Readable;
  visitor: string;
  address: string;
}

/** Headers of every API answer. */
const API_HEADERS: Record<string, string> = { 'x-content-type-options': 'nosniff', 'cross-origin-resource-policy': 'same-origin' };

const json = (status: number, body: unknown, headers?: Record<string, string>): ChannelResponse => ({
  status,
  body,
  contentType: 'application/json; charset=utf-8',
  headers: { ...API_HEADERS, ...headers },
});
const tooMany = (refusal: Refusal, what: string): ChannelResponse =>
  json(429, { error: `too many ${what}: try again in ${refusal.retryAfterSeconds} s`, retryAfter: refusal.retryAfterSeconds }, { 'retry-after': String(refusal.retryAfterSeconds) });
const UNKNOWN_SESSION = json(401, { error: 'unknown or expired session: start one with POST /chat/api/sessions' });

/** Reads a JSON body: undefined when empty, an error answer when it is not JSON. */
function readJson(req: ChannelRequest): { value: unknown } | { error: ChannelResponse } {
  if (req.rawBody.length > MAX_BODY_BYTES) return { error: json(413, { error: `the request body is larger than ${MAX_BODY_BYTES} bytes` }) };
  if (req.rawBody.length === 0) return { value: undefined };
  try {
    return { value: JSON.parse(req.rawBody.toString('utf8')) as unknown };
  } catch {
    return { error: json(400, { error: 'the request body is not valid JSON' }) };
  }
}

/** Creates the web chat channel: `/chat`, its sessions, messages and event stream (SSE). */
export function createWebchatChannel(deps: WebchatChannelDeps): ChannelAdapter {
  const { store, bus, clock, logger } = deps;
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const embedOrigins = deps.embedOrigins ?? [];
  const keep = deps.historySize ?? 100;
  const now = () => clock.now().getTime();
  const sessions = createSessions({ values: channelValues(store, 'webchat'), clock, retentionMs: limits.retentionDays * DAY_MS });
  const sessionMessages = createRateLimiter({ perWindow: limits.sessionMessagesPerMinute, windowMs: 60_000, now });
  const addressRequests = createRateLimiter({ perWindow: limits.addressMessagesPerMinute, windowMs: 60_000, now });
  const addressSessions = createRateLimiter({ perWindow: limits.addressSessionsPerHour, windowMs: 3_600_000, now });
  const addressStreams = createOpenCounter(limits.addressStreams);
  /** Open pages by visitor id. */
  const pages = new Map<string, Set<OpenPage>>();
  let openPages = 0;
  let context: ChannelContext | undefined;
  const page = renderPage(deps.welcome ?? DEFAULT_WELCOME, { embedOrigins, maxMessageChars: limits.maxMessageChars });
  const toEvent = (item: OutboxItem): WebchatEvent => ({ id: item.id, reply: shown(item.reply), author: item.author, at: item.sentAt ?? item.createdAt });
  const key = (visitor: string) => `webchat:private:${visitor}`;
  const push = (visitor: string, text: string) => {
    for (const open of pages.get(visitor) ?? []) open.stream.push(text);
  };

  /** CORS for the embedding origins: the request's origin echoed when it is one of them. */
  function cors(req: ChannelRequest): Record<string, string> {
    if (embedOrigins.length === 0) return {};
    const origin = req.headers.origin;
    return origin !== undefined && embedOrigins.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  }
  const withCors = (req: ChannelRequest, answer: ChannelResponse): ChannelResponse => ({ ...answer, headers: { ...answer.headers, ...cors(req) } });

  async function startSession(req: ChannelRequest): Promise<ChannelResponse> {
    const body = readJson(req);
    if ('error' in body) return body.error;
    const parsed = sessionRequestSchema.safeParse(body.value);
    if (!parsed.success) return json(400, { error: 'invalid session request', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    const address = addressGroup(req.remoteAddress);
    const stored = parsed.data?.session;
    if (stored !== undefined) {
      const refused = addressRequests.take(address);
      if (refused) return tooMany(refused, 'requests from this address');
      const found = await sessions.find(stored);
      if (found) return json(200, { session: stored, visitor: found.visitor });
    }
    const refused = addressSessions.take(address);
    if (refused) return tooMany(refused, 'new sessions from this address');
    const created = await sessions.create();
    return json(201, { session: created.token, visitor: created.visitor });
  }

  async function post(req: ChannelRequest): Promise<ChannelResponse> {
    if (!context) return json(503, { error: 'starting' });
    const refused = addressRequests.take(addressGroup(req.remoteAddress));
    if (refused) return tooMany(refused, 'messages from this address');
    const body = readJson(req);
    if ('error' in body) return body.error;
    const parsed = webchatMessageSchema.safeParse(body.value);
    if (!parsed.success) {
      return json(400, { error: 'invalid message', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
    const message = parsed.data;
    const chars = [...message.text].length;
    if (chars > limits.maxMessageChars) {
      return json(413, { error: `the message is ${chars} characters long; at most ${limits.maxMessageChars} are accepted`, limit: limits.maxMessageChars });
    }
    if (!message.text.trim() && !message.payload) return json(400, { error: 'text or payload is required' });
    const session = await sessions.find(message.session);
    if (!session) return UNKNOWN_SESSION;
    const tooFast = sessionMessages.take(session.visitor);
    if (tooFast) return tooMany(tooFast, 'messages in this session');
    // A session is written to the store with its first message, not before (sessions.ts).
    await sessions.keep(message.session, session);
    const pageId = message.id ?? randomUUID();
    const msg: InboundMessage = {
      channel: 'webchat',
      // The page's id within its visitor's, so one visitor's id can never drop another's message.
      id: `${messagePrefix(session.visitor)}${pageId}`,
      visibility: 'private',
      customer: { platformId: session.visitor, name: message.name },
      text: message.text,
      payload: message.payload,
      sentAt: clock.now().toISOString(),
    };
    await context.receive(msg); // durably accepted before the page is told
    return json(202, { id: pageId });
  }

  async function events(req: ChannelRequest): Promise<ChannelResponse> {
    const address = addressGroup(req.remoteAddress);
    const refused = addressRequests.take(address);
    if (refused) return tooMany(refused, 'requests from this address');
    const token = req.query.session ?? '';
    if (!TOKEN.test(token)) return json(400, { error: 'session is required: the token POST /chat/api/sessions gave' });
    const session = await sessions.find(token);
    if (!session) return UNKNOWN_SESSION;
    if (!addressStreams.open(address)) return tooMany({ retryAfterSeconds: 30 }, `open event streams from this address (at most ${limits.addressStreams})`);
    const { visitor } = session;
    const stream = new Readable({ read() {} });
    const open: OpenPage = { stream, visitor, address };
    let set = pages.get(visitor);
    if (!set) pages.set(visitor, (set = new Set()));
    set.add(open);
    openPages += 1;
    const heartbeat = setInterval(() => stream.push(': keep-alive\n\n'), 15000);
    heartbeat.unref();
    // The page went away (the server destroys the stream) or the channel stopped (it ended it).
    stream.once('close', () => {
      clearInterval(heartbeat);
      addressStreams.close(address);
      openPages -= 1;
      const mine = pages.get(visitor);
      mine?.delete(open);
      if (mine?.size === 0) pages.delete(visitor);
    });
    try {
      const conversation = await store.conversations.findByKey(key(visitor));
      if (conversation) {
        // The conversation so far, in order: the visitor's messages and the replies already sent.
        const sent = new Map((await store.outbox.list({ conversationId: conversation.id, status: 'sent' })).map((i) => [i.id, i]));
        const history = (await store.conversations.listMessages({ conversationId: conversation.id })).slice(-keep);
        // (Messages kept before ids were hashed start with the visitor id itself.)
        const prefixes = [messagePrefix(visitor), `${visitor}.`];
        for (const m of history) {
          const prefix = prefixes.find((p) => m.platformId?.startsWith(p));
          const id = prefix ? m.platformId!.slice(prefix.length) : (m.platformId ?? m.id);
          if (m.direction === 'in') stream.push(`event: mine\ndata: ${JSON.stringify({ id, text: m.text, at: m.at })}\n\n`);
          const item = m.direction === 'out' ? sent.get(m.id) : undefined;
          if (item) stream.push(replyEvent(item));
        }
      }
    } catch (err) {
      stream.destroy();
      throw err;
    }
    return { status: 200, contentType: 'text/event-stream; charset=utf-8', body: stream, headers: API_HEADERS };
  }

  /**
   * What a visitor's message ids start with: a hash of the visitor id, not the id itself (a message
   * id goes into logs, "duplicate delivery ignored"; a visitor id, the customer's, must not).
   */
  function messagePrefix(visitor: string): string {
    return `${createHash('sha256').update(visitor).digest('base64url').slice(0, 16)}.`;
  }

  const replyEvent = (item: OutboxItem) => {
    const event = toEvent(item);
    return `id: ${event.id}\nevent: reply\ndata: ${JSON.stringify(event)}\n\n`;
  };

  // One subscription for every open page: each event costs one read, whatever the number of pages.
  const warn = (what: string) => (err: unknown) => logger.warn({ err }, `web chat: could not read ${what}`);
  let unsubscribe: (() => void) | undefined;
  const listen = () =>
    bus.subscribe((event) => {
      if (openPages === 0) return;
      if (event.type === 'message.sent') {
        void store.outbox
          .get(event.outboxId)
          .then((item) => {
            if (item?.channel === 'webchat' && pages.has(item.recipient)) push(item.recipient, replyEvent(item));
          })
          .catch(warn('a sent reply'));
      } else if (event.type === 'message.received') {
        void turnDone(event.conversationId, event.at).catch(warn('a turn'));
      }
    });

  /**
   * A turn was committed: when it is a visitor's with open pages, they are told the ids of the
   * bot's replies it made (the page waits for those it has not shown yet, then stops showing the
   * bot typing; none: the bot says nothing this time).
   */
  async function turnDone(conversationId: string, at: string): Promise<void> {
    const conversation = await store.conversations.get(conversationId);
    if (conversation?.channel !== 'webchat') return;
    const visitor = conversation.key.slice(key('').length);
    if (!pages.has(visitor)) return;
    // A turn's replies are created at the turn's time, the time of its message.received.
    const items = await store.outbox.list({ conversationId });
    const replies = items.filter((i) => i.createdAt === at && i.author.kind === 'bot' && i.status !== 'dead').map((i) => i.id);
    push(visitor, `event: turn\ndata: ${JSON.stringify({ replies })}\n\n`);
  }

  const preflight = async (req: ChannelRequest): Promise<ChannelResponse> => {
    const allowed = cors(req);
    if (!allowed['access-control-allow-origin']) return { status: 403, headers: allowed };
    return {
      status: 204,
      headers: { ...allowed, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' },
    };
  };

  const pageHeaders: Record<string, string> = {
    'content-security-policy': page.csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'cross-origin-opener-policy': 'same-origin',
    // X-Frame-Options names no list of origins: sent only when no one may frame the page (older browsers).
    ...(embedOrigins.length === 0 ? { 'x-frame-options': 'DENY' } : {}),
  };

  const api = (handle: (req: ChannelRequest) => Promise<ChannelResponse>) => async (req: ChannelRequest) => withCors(req, await handle(req));
  const routes: ChannelRoute[] = [
    { method: 'GET', path: '/chat', page: 'Web chat', handle: async () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: page.html, headers: pageHeaders }) },
    { method: 'POST', path: '/chat/api/sessions', handle: api(startSession) },
    { method: 'POST', path: '/chat/api/messages', handle: api(post) },
    { method: 'GET', path: '/chat/api/events', handle: api(events) },
    ...(embedOrigins.length > 0
      ? (['/chat/api/sessions', '/chat/api/messages', '/chat/api/events'] as const).map((path): ChannelRoute => ({ method: 'OPTIONS', path, handle: preflight }))
      : []),
  ];

  return {
    name: 'webchat',
    capabilities: webchatCapabilities,
    routes,
    async verify() {
      return true; // nothing to verify: messages come through its own route; /webhooks/webchat parses none
    },
    async parse() {
      return [];
    },
    async send(item) {
      // Delivery is the outbox record itself: open pages are told through `message.sent`.
      return { platformId: item.id };
    },
    async typing(msg) {
      // The pipeline's turn for this visitor is slow: their open pages (on this instance) show it.
      push(msg.customer.platformId, `event: typing\ndata: ${JSON.stringify({ author: { kind: 'bot' } })}\n\n`);
    },
    async composing(conversation, author) {
      // An operator writes to this visitor: their open pages (on this instance) show who.
      const visitor = conversation.key.slice(conversation.key.lastIndexOf(':') + 1);
      push(visitor, `event: typing\ndata: ${JSON.stringify({ author: { kind: 'operator', name: author.name, initials: author.initials } })}\n\n`);
    },
    async start(ctx) {
      context = ctx;
      unsubscribe ??= listen();
    },
    async stop() {
      context = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      for (const set of [...pages.values()]) for (const open of [...set]) open.stream.push(null);
    },
  };
}
