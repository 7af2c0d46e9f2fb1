/**
 * @module tests/fakes/bot-connector
 * A fake Bot Framework Connector on 127.0.0.1: it records what the bot posts to
 * `{serviceUrl}v3/conversations/{conversationId}/activities[/{replyToId}]` and answers with a
 * ResourceResponse `{ id }`, or with the Connector's ErrorResponse `{ error: { code, message } }`
 * when told to fail. It also plays the channel side: posting Activities to the bot's endpoint.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One activity the bot sent to the Connector. */
export interface ConnectorCall {
  conversationId: string;
  replyToId?: string;
  authorization?: string;
  activity: Record<string, unknown>;
}

/** An error the next call answers with. */
export interface ConnectorError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** The fake Connector. */
export interface FakeBotConnector {
  /** `http://127.0.0.1:<port>/`, the value to put in activities' `serviceUrl`. */
  serviceUrl: string;
  calls: ConnectorCall[];
  failNext(error: ConnectorError): void;
  /** The next call is taken (recorded, as delivered) but answered 200 with this text, not its JSON (a body cut short). */
  garbleNext(text: string): void;
  /** Resolves when `count` calls have arrived (or rejects after `timeoutMs`). */
  waitForCalls(count: number, timeoutMs?: number): Promise<ConnectorCall[]>;
  close(): Promise<void>;
}

/** A user's message Activity as a channel (Web Chat via Direct Line) posts it to the bot. */
export function userMessage(options: {
  serviceUrl: string;
  text: string;
  userId?: string;
  userName?: string;
  conversationId?: string;
  id?: string;
  channelId?: string;
  value?: unknown;
}): Record<string, unknown> {
  return {
    type: 'message',
    id: options.id ?? `act-${randomBytes(6).toString('hex')}`,
    timestamp: new Date().toISOString(),
    localTimestamp: new Date().toISOString(),
    serviceUrl: options.serviceUrl,
    channelId: options.channelId ?? 'webchat',
    from: { id: options.userId ?? 'dl_user_1', name: options.userName ?? 'Luca', role: 'user' },
    conversation: { id: options.conversationId ?? 'conv-1' },
    recipient: { id: 'sportello-bot', name: 'Sportello', role: 'bot' },
    textFormat: 'plain',
    locale: 'it-IT',
    text: options.text,
    ...(options.value !== undefined ? { value: options.value } : {}),
  };
}

/** Starts the fake Connector. */
export async function createFakeBotConnector(): Promise<FakeBotConnector> {
  const calls: ConnectorCall[] = [];
  const errors: ConnectorError[] = [];
  const garbled: string[] = [];
  const waiters: Array<() => void> = [];
  let counter = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(url.pathname);
      if (req.method !== 'POST' || !m) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } }));
        return;
      }
      const error = errors.shift();
      if (error) {
        res.writeHead(error.status, { 'content-type': 'application/json', ...(error.headers ?? {}) });
        res.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
        return;
      }
      let activity: Record<string, unknown>;
      try {
        activity = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'BadSyntax', message: 'body is not JSON' } }));
        return;
      }
      calls.push({
        conversationId: decodeURIComponent(m[1]!),
        ...(m[2] ? { replyToId: decodeURIComponent(m[2]) } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        activity,
      });
      for (const wake of waiters.splice(0)) wake();
      res.writeHead(200, { 'content-type': 'application/json' });
      const garble = garbled.shift();
      res.end(garble ?? JSON.stringify({ id: `bot-act-${++counter}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    serviceUrl: `http://127.0.0.1:${port}/`,
    calls,
    failNext: (error) => errors.push(error),
    garbleNext: (text) => garbled.push(text),
    async waitForCalls(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (calls.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} connector calls, got ${calls.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return calls;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
