/**
 * @module channels/webchat/webchat-channel
 * A small web chat served by Sportello itself at `/chat`: the page posts messages over HTTP
 * and receives replies (bot and operator) over Server-Sent Events. It makes `npm start` with
 * no credentials a bot you can talk to in a browser. Replies are read from the store's outbox
 * and pushed on `message.sent` events, so a page connected to one instance sees replies sent by
 * any instance, and a reload (or a restart) shows the conversation so far. Its three routes are
 * `ChannelAdapter.routes`, served like every channel's.
 *
 * The page feels alive: a welcome (WEBCHAT_WELCOME_IT / _EN, written into the page), a typing
 * indicator (the pipeline's `typing` hook on a slow turn reaches the visitor's open pages as a
 * `typing` event; each `message.received` of the visitor's conversation becomes a `turn` event
 * naming the turn's replies, so the page knows when to stop waiting), timestamps on every
 * message, and quick replies that go away once used. The page loads nothing from elsewhere: its
 * CSP allows only its own inline script and style (by hash) and requests to this server.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { EventBus } from '../../core/events.js';
import type { ChannelAdapter, ChannelCapabilities, ChannelContext, ChannelRequest, ChannelResponse, ChannelRoute, Clock, Store } from '../../core/ports.js';
import type { InboundMessage, OutboxItem, Reply } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';

/** The page's source, read once when first rendered (not when the module loads: bundles that import the channel need not ship it). */
let pageSource: string | undefined;
const pageTemplate = (): string => (pageSource ??= readFileSync(new URL('./page.html', import.meta.url), 'utf8'));
const SESSION = /^[A-Za-z0-9_-]{8,64}$/;
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

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page with its settings written in, and its CSP: only the page's own inline script and
 * style (by hash: nothing injected runs), requests to this server only.
 */
export function renderPage(welcome: WebchatWelcome): { html: string; csp: string } {
  // `<` escaped: no text can close the data block early.
  const config = JSON.stringify({ welcome }).replace(/</g, '\\u003c');
  const page = pageTemplate();
  if (!page.includes(CONFIG_SLOT)) throw new Error('the web chat page has no settings slot');
  const html = page.replace(CONFIG_SLOT, () => `<script type="application/json" id="config">${config}</script>`);
  const scripts = [...html.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]!));
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => sha256(m[1]!));
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.join(' ')}`,
    `style-src ${styles.join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

/** What the web chat page may post. */
export const webchatMessageSchema = z.object({
  session: z.string().regex(SESSION, 'session must be 8-64 letters, digits, _ or -'),
  text: z.string().max(4000).default(''),
  payload: z.string().max(200).optional(),
  name: z.string().max(80).optional(),
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
});

/** A reply as the page receives it. */
interface WebchatEvent {
  id: string;
  reply: Reply;
  author: OutboxItem['author'];
  /** When it was sent (ISO 8601): the page shows it in the visitor's time. */
  at: string;
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
};

/** Dependencies of the web chat. */
export interface WebchatChannelDeps {
  /** The conversation so far (a reload) and the sent replies. */
  store: Pick<Store, 'conversations' | 'outbox'>;
  /** `message.sent` events of every instance. */
  bus: Pick<EventBus, 'subscribe'>;
  clock: Clock;
  logger: Logger;
  /** How many earlier messages a reconnecting page is shown. */
  historySize?: number;
  /** The welcome the page shows first (default: DEFAULT_WELCOME). */
  welcome?: WebchatWelcome;
}

/** An open page: its event stream, its visitor, and their conversation once known. */
interface OpenPage {
  session: string;
  conversationId?: string;
}

const json = (status: number, body: unknown): ChannelResponse => ({ status, body, contentType: 'application/json; charset=utf-8' });

/** Creates the web chat channel: `/chat`, `POST /chat/api/messages`, `GET /chat/api/events` (SSE). */
export function createWebchatChannel(deps: WebchatChannelDeps): ChannelAdapter {
  const { store, bus, clock, logger } = deps;
  const keep = deps.historySize ?? 100;
  const streams = new Map<Readable, OpenPage>();
  let context: ChannelContext | undefined;
  const page = renderPage(deps.welcome ?? DEFAULT_WELCOME);
  const toEvent = (item: OutboxItem): WebchatEvent => ({ id: item.id, reply: item.reply, author: item.author, at: item.sentAt ?? item.createdAt });
  const key = (session: string) => `webchat:private:${session}`;

  async function post(req: ChannelRequest): Promise<ChannelResponse> {
    if (!context) return json(503, { error: 'starting' });
    let raw: unknown;
    try {
      raw = req.rawBody.length === 0 ? undefined : JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      return json(400, { error: 'the request body is not valid JSON' });
    }
    const parsed = webchatMessageSchema.safeParse(raw);
    if (!parsed.success) {
      return json(400, { error: 'invalid message', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
    const body = parsed.data;
    if (!body.text.trim() && !body.payload) return json(400, { error: 'text or payload is required' });
    const msg: InboundMessage = {
      channel: 'webchat',
      id: body.id ?? randomUUID(),
      visibility: 'private',
      customer: { platformId: body.session, name: body.name },
      text: body.text,
      payload: body.payload,
      sentAt: clock.now().toISOString(),
    };
    await context.receive(msg); // durably accepted before the page is told
    return json(202, { id: msg.id });
  }

  async function events(req: ChannelRequest): Promise<ChannelResponse> {
    const session = req.query.session ?? '';
    if (!SESSION.test(session)) return json(400, { error: 'session is required' });
    const stream = new Readable({ read() {} });
    const open: OpenPage = { session };
    const write = (event: WebchatEvent) => stream.push(`id: ${event.id}\nevent: reply\ndata: ${JSON.stringify(event)}\n\n`);
    const conversation = await store.conversations.findByKey(key(session));
    if (conversation) {
      open.conversationId = conversation.id;
      // The conversation so far, in order: the customer's messages and the replies already sent.
      const sent = new Map((await store.outbox.list({ conversationId: conversation.id, status: 'sent' })).map((i) => [i.id, i]));
      const history = (await store.conversations.listMessages({ conversationId: conversation.id })).slice(-keep);
      for (const m of history) {
        if (m.direction === 'in') stream.push(`event: mine\ndata: ${JSON.stringify({ id: m.platformId ?? m.id, text: m.text, at: m.at })}\n\n`);
        const item = m.direction === 'out' ? sent.get(m.id) : undefined;
        if (item) write(toEvent(item));
      }
    }
    const warn = (what: string) => (err: unknown) => logger.warn({ err }, `web chat: could not read ${what}`);
    const unsubscribe = bus.subscribe((event) => {
      if (event.type === 'message.sent') {
        void store.outbox
          .get(event.outboxId)
          .then((item) => {
            if (item?.channel === 'webchat' && item.recipient === session) write(toEvent(item));
          })
          .catch(warn('a sent reply'));
      } else if (event.type === 'message.received') {
        void turnDone(open, event.conversationId, event.at)
          .then((replies) => {
            if (replies) stream.push(`event: turn\ndata: ${JSON.stringify({ replies })}\n\n`);
          })
          .catch(warn('a turn'));
      }
    });
    const heartbeat = setInterval(() => stream.push(': keep-alive\n\n'), 15000);
    heartbeat.unref();
    streams.set(stream, open);
    // The page went away (the server destroys the stream) or the channel stopped (it ended it).
    stream.once('close', () => {
      streams.delete(stream);
      clearInterval(heartbeat);
      unsubscribe();
    });
    return { status: 200, contentType: 'text/event-stream; charset=utf-8', body: stream };
  }

  /**
   * A turn of this page's visitor was committed: the ids of the bot's replies it made (the page
   * waits for those it has not shown yet, then stops showing the bot typing; none: the bot says
   * nothing this time). Undefined when the conversation is another's.
   */
  async function turnDone(open: OpenPage, conversationId: string, at: string): Promise<string[] | undefined> {
    if (!open.conversationId) {
      // The visitor's first message creates their conversation: learn its id once.
      const conversation = await store.conversations.findByKey(key(open.session));
      if (!conversation) return undefined;
      open.conversationId = conversation.id;
    }
    if (open.conversationId !== conversationId) return undefined;
    // A turn's replies are created at the turn's time, the time of its message.received.
    const items = await store.outbox.list({ conversationId });
    return items.filter((i) => i.createdAt === at && i.author.kind === 'bot' && i.status !== 'dead').map((i) => i.id);
  }

  const routes: ChannelRoute[] = [
    {
      method: 'GET',
      path: '/chat',
      handle: async () => ({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: page.html,
        headers: { 'content-security-policy': page.csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' },
      }),
    },
    { method: 'POST', path: '/chat/api/messages', handle: post },
    { method: 'GET', path: '/chat/api/events', handle: events },
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
      const event = `event: typing\ndata: ${JSON.stringify({ author: { kind: 'bot' } })}\n\n`;
      for (const [stream, open] of streams) if (open.session === msg.customer.platformId) stream.push(event);
    },
    async composing(conversation, author) {
      // An operator writes to this visitor: their open pages (on this instance) show who.
      const session = conversation.key.slice(conversation.key.lastIndexOf(':') + 1);
      const event = `event: typing\ndata: ${JSON.stringify({ author: { kind: 'operator', name: author.name, initials: author.initials } })}\n\n`;
      for (const [stream, open] of streams) if (open.session === session) stream.push(event);
    },
    async start(ctx) {
      context = ctx;
    },
    async stop() {
      context = undefined;
      for (const stream of [...streams.keys()]) stream.push(null);
    },
  };
}
