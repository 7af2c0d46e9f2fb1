/**
 * @module channels/webchat/webchat-channel
 * A small web chat served by Sportello itself at `/chat`: the page posts messages over HTTP
 * and receives replies (bot and operator) over Server-Sent Events. It makes `npm start` with
 * no credentials a bot you can talk to in a browser. Replies are read from the store's outbox
 * and pushed on `message.sent` events, so a page connected to one instance sees replies sent by
 * any instance, and a reload (or a restart) shows the conversation so far. Its three routes are
 * `ChannelAdapter.routes`, served like every channel's.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { EventBus } from '../../core/events.js';
import type { ChannelAdapter, ChannelCapabilities, ChannelContext, ChannelRequest, ChannelResponse, ChannelRoute, Clock, Store } from '../../core/ports.js';
import type { InboundMessage, OutboxItem, Reply } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';

const PAGE = readFileSync(new URL('./page.html', import.meta.url), 'utf8');
const SESSION = /^[A-Za-z0-9_-]{8,64}$/;

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
}

const json = (status: number, body: unknown): ChannelResponse => ({ status, body, contentType: 'application/json; charset=utf-8' });

/** Creates the web chat channel: `/chat`, `POST /chat/api/messages`, `GET /chat/api/events` (SSE). */
export function createWebchatChannel(deps: WebchatChannelDeps): ChannelAdapter {
  const { store, bus, clock, logger } = deps;
  const keep = deps.historySize ?? 100;
  const streams = new Set<Readable>();
  let context: ChannelContext | undefined;
  const toEvent = (item: OutboxItem): WebchatEvent => ({ id: item.id, reply: item.reply, author: item.author });

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
    const write = (event: WebchatEvent) => stream.push(`id: ${event.id}\nevent: reply\ndata: ${JSON.stringify(event)}\n\n`);
    const conversation = await store.conversations.findByKey(`webchat:private:${session}`);
    if (conversation) {
      // The conversation so far, in order: the customer's messages and the replies already sent.
      const sent = new Map((await store.outbox.list({ conversationId: conversation.id, status: 'sent' })).map((i) => [i.id, i]));
      const history = (await store.conversations.listMessages({ conversationId: conversation.id })).slice(-keep);
      for (const m of history) {
        if (m.direction === 'in') stream.push(`event: mine\ndata: ${JSON.stringify({ id: m.platformId ?? m.id, text: m.text })}\n\n`);
        const item = m.direction === 'out' ? sent.get(m.id) : undefined;
        if (item) write(toEvent(item));
      }
    }
    const unsubscribe = bus.subscribe((event) => {
      if (event.type !== 'message.sent') return;
      void store.outbox
        .get(event.outboxId)
        .then((item) => {
          if (item?.channel === 'webchat' && item.recipient === session) write(toEvent(item));
        })
        .catch((err: unknown) => logger.warn({ err }, 'web chat: could not read a sent reply'));
    });
    const heartbeat = setInterval(() => stream.push(': keep-alive\n\n'), 15000);
    heartbeat.unref();
    streams.add(stream);
    // The page went away (the server destroys the stream) or the channel stopped (it ended it).
    stream.once('close', () => {
      streams.delete(stream);
      clearInterval(heartbeat);
      unsubscribe();
    });
    return { status: 200, contentType: 'text/event-stream; charset=utf-8', body: stream };
  }

  const routes: ChannelRoute[] = [
    { method: 'GET', path: '/chat', handle: async () => ({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }) },
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
    async start(ctx) {
      context = ctx;
    },
    async stop() {
      context = undefined;
      for (const stream of [...streams]) stream.push(null);
    },
  };
}
