/**
 * @module channels/webchat
 * A small web chat served by Sportello itself at `/chat`: the page posts messages over HTTP
 * and receives replies (bot and operator) over Server-Sent Events. It makes `npm start` with
 * no credentials a bot you can talk to in a browser. Replies are read from the store's outbox
 * and pushed on `message.sent` events, so a page connected to one instance sees replies sent by
 * any instance, and a reload (or a restart) shows the conversation so far.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Server, Request, Response } from 'restify';
import { z } from 'zod';
import type { ChannelAdapter, ChannelCapabilities, Clock, Store } from '../../core/ports.js';
import type { EventBus } from '../../core/events.js';
import type { InboundMessage, OutboxItem, Reply } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { readJsonBody, sendJson } from '../../server/http.js';

const PAGE = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

/** What the web chat page may post. */
export const webchatMessageSchema = z.object({
  session: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'session must be 8-64 letters, digits, _ or -'),
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

/** The web chat channel plus its HTTP routes. */
export interface WebchatChannel extends ChannelAdapter {
  /** Registers `/chat` and its API on the server; `accept` feeds the pipeline. */
  register(server: Server, accept: (msg: InboundMessage) => Promise<unknown>, deps: { store: Store; bus: EventBus }): void;
  /** Ends every open event stream (shutdown). */
  close(): void;
}

/** Creates the web chat channel. */
export function createWebchatChannel(deps: { clock: Clock; logger: Logger; historySize?: number }): WebchatChannel {
  const keep = deps.historySize ?? 100;
  const streams = new Set<() => void>();
  const toEvent = (item: OutboxItem): WebchatEvent => ({ id: item.id, reply: item.reply, author: item.author });

  return {
    name: 'webchat',
    capabilities: webchatCapabilities,
    async verify() {
      return true;
    },
    async parse() {
      return [];
    },
    async send(item) {
      // Delivery is the outbox record itself: open pages are told through `message.sent`.
      return { platformId: item.id };
    },
    close() {
      for (const end of [...streams]) end();
    },
    register(server, accept, { store, bus }) {
      server.get('/chat', async (_req: Request, res: Response) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(PAGE);
      });
      server.post('/chat/api/messages', async (req: Request, res: Response) => {
        let body: z.infer<typeof webchatMessageSchema>;
        try {
          const parsed = webchatMessageSchema.safeParse(await readJsonBody(req));
          if (!parsed.success) {
            sendJson(res, 400, { error: 'invalid message', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
            return;
          }
          body = parsed.data;
        } catch (err) {
          sendJson(res, (err as { statusCode?: number }).statusCode ?? 400, { error: (err as Error).message });
          return;
        }
        if (!body.text.trim() && !body.payload) {
          sendJson(res, 400, { error: 'text or payload is required' });
          return;
        }
        const msg: InboundMessage = {
          channel: 'webchat',
          id: body.id ?? randomUUID(),
          visibility: 'private',
          customer: { platformId: body.session, name: body.name },
          text: body.text,
          payload: body.payload,
          sentAt: deps.clock.now().toISOString(),
        };
        await accept(msg);
        sendJson(res, 202, { id: msg.id });
      });
      server.get('/chat/api/events', async (req: Request, res: Response) => {
        const session = new URL(req.url ?? '/', 'http://x').searchParams.get('session') ?? '';
        if (!/^[A-Za-z0-9_-]{8,64}$/.test(session)) {
          sendJson(res, 400, { error: 'session is required' });
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        const write = (event: WebchatEvent) => res.write(`id: ${event.id}\nevent: reply\ndata: ${JSON.stringify(event)}\n\n`);
        const conversation = await store.conversations.findByKey(`webchat:private:${session}`);
        if (conversation) {
          // The conversation so far, in order: the customer's messages and the replies already sent.
          const sent = new Map((await store.outbox.list({ conversationId: conversation.id, status: 'sent' })).map((i) => [i.id, i]));
          const history = (await store.conversations.listMessages({ conversationId: conversation.id })).slice(-keep);
          for (const m of history) {
            if (m.direction === 'in') res.write(`event: mine\ndata: ${JSON.stringify({ id: m.platformId ?? m.id, text: m.text })}\n\n`);
            const item = m.direction === 'out' ? sent.get(m.id) : undefined;
            if (item) write(toEvent(item));
          }
        }
        const unsubscribe = bus.subscribe((event) => {
          if (event.type !== 'message.sent') return;
          void store
            .outbox.get(event.outboxId)
            .then((item) => {
              if (item?.channel === 'webchat' && item.recipient === session) write(toEvent(item));
            })
            .catch((err: unknown) => deps.logger.warn({ err }, 'web chat: could not read a sent reply'));
        });
        const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
        heartbeat.unref();
        await new Promise<void>((resolve) => {
          const end = () => {
            streams.delete(end);
            resolve();
          };
          streams.add(end);
          req.on('close', end);
          res.on('close', end);
        });
        clearInterval(heartbeat);
        unsubscribe();
        res.end();
      });
    },
  };
}
