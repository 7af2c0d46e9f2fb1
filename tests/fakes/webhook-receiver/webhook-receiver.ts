/**
 * A subscriber's endpoint on 127.0.0.1, as a brand's CRM would run it: it verifies every request
 * with the `standardwebhooks` library (the one the specification publishes) and records what
 * arrived. Its answers are scripted: a status (500, 429 with Retry-After, 204), or a hang (no
 * answer until the test ends it).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request as the receiver saw it. */
export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  /** True when `Webhook(secret).verify` accepted it with the receiver's secret. */
  verified: boolean;
  body: string;
  payload: { type: string; version: number; timestamp: string; data: Record<string, any> };
  /** The status it was answered with (undefined: it was left hanging). */
  answered?: number;
}

/** How to answer one request. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order (verified or not). */
  received: Received[];
  /** Verified requests accepted with a 2xx, in arrival order. */
  accepted(): Received[];
  /** Answers the next requests with these, in order; then with `fallback`. */
  script(...answers: Answer[]): void;
  /** What to answer when the script is empty (default 204). */
  fallback: Answer;
  /** The secret it verifies with (change it to play a rotation). */
  secret: string;
  /** Resolves when `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Answers every hanging request with this status now. */
  release(status?: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const hanging = new Set<ServerResponse>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const queue: Answer[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    accepted: () => receiver.received.filter((r) => r.verified && r.answered !== undefined && r.answered < 300),
    script: (...answers) => void queue.push(...answers),
    fallback: { status: 204 },
    secret,
    waitFor(n, timeoutMs = 20_000) {
      if (receiver.received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the receiver got ${receiver.received.length} requests, not ${n}, within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    release(status = 204) {
      for (const res of hanging) {
        res.writeHead(status);
        res.end();
      }
      hanging.clear();
    },
    async close() {
      receiver.release(503);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      let verified = false;
      try {
        new Webhook(receiver.secret).verify(body, headers);
        verified = true;
      } catch {
        verified = false;
      }
      const record: Received = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], verified, body, payload: JSON.parse(body) };
      receiver.received.push(record);
      const answer = verified ? (queue.shift() ?? receiver.fallback) : { status: 401 };
      if (answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
      } else {
        record.answered = answer.status;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.status >= 300 ? 'receiver says no' : '');
      }
      for (const w of [...waiters]) {
        if (receiver.received.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sportello`;
  return receiver;
}

/** A new Standard Webhooks secret (`whsec_` + 32 random bytes in base64). */
export function newSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return `whsec_${Buffer.from(bytes).toString('base64')}`;
}
