/**
 * @module channels/webchat
 * A small web chat served by Sportello itself at `/chat`: the page posts messages over HTTP
 * and receives replies (bot and operator) over Server-Sent Events. It makes `npm start` with
 * no credentials a bot you can talk to in a browser.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Server, Request, Response } from 'restify';
import { z } from 'zod';
import type { ChannelAdapter, ChannelCapabilities, Clock } from '../../core/ports.js';
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
  seq: number;
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
  register(server: Server, accept: (msg: InboundMessage) => Promise<unknown>): void;
}

/** Creates the web chat channel. */
export function createWebchatChannel(deps: { clock: Clock; logger: Logger; historySize?: number }): WebchatChannel {
  const history = new Map<string, WebchatEvent[]>();
  const listeners = new Map<string, Set<(event: WebchatEvent) => void>>();
  let seq = 0;
  const keep = deps.historySize ?? 100;

  function deliver(session: string, event: WebchatEvent): void {
    const list = history.get(session) ?? [];
    list.push(event);
    if (list.length > keep) list.splice(0, list.length - keep);
    history.set(session, list);
    for (const listener of listeners.get(session) ?? []) listener(event);
  }

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
      deliver(item.recipient, { id: item.id, seq: ++seq, reply: item.reply, author: item.author });
      return { platformId: item.id };
    },
    register(server, accept) {
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
        const since = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('since') ?? '0');
        if (!/^[A-Za-z0-9_-]{8,64}$/.test(session)) {
          sendJson(res, 400, { error: 'session is required' });
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        const write = (event: WebchatEvent) => res.write(`id: ${event.seq}\nevent: reply\ndata: ${JSON.stringify(event)}\n\n`);
        for (const event of history.get(session) ?? []) if (event.seq > since) write(event);
        const set = listeners.get(session) ?? new Set();
        set.add(write);
        listeners.set(session, set);
        const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
        heartbeat.unref();
        await new Promise<void>((resolve) => {
          req.on('close', () => resolve());
          res.on('close', () => resolve());
        });
        clearInterval(heartbeat);
        set.delete(write);
        if (set.size === 0) listeners.delete(session);
      });
    },
  };
}
