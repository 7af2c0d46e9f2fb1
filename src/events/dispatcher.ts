/**
 * @module events/dispatcher
 * Sends stored event deliveries to their subscribers' endpoints, by the Standard Webhooks
 * specification: `webhook-id` (the delivery's id, the same on every attempt), `webhook-timestamp`
 * (seconds), `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per
 * secret during a rotation, space-separated), signed with the `standardwebhooks` library that
 * receivers verify with.
 *
 * Its own queue (store.deliveries) and its own send slots, apart from the replies' outbox sender:
 * a receiver that fails or hangs delays only its own events, never a customer's reply. Each order
 * key (subscription + conversation) is sent in order, one at a time (the store's claim hands out
 * only its first undelivered delivery). Failures are retried with exponential backoff and jitter,
 * or at the receiver's `Retry-After` when later; after `max_attempts` a delivery is dead (kept in
 * the delivery log). Every attempt has a connect timeout and a total timeout.
 */
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { Clock, DeliveryOutcome, Store } from '../core/ports.js';
import type { EventDelivery } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import { createPump } from '../util/pump.js';
import type { Subscription, Subscriptions } from './subscriptions.js';

/** How failed attempts are retried. */
export interface DeliveryBackoff {
  /** Delay after the first failed attempt; doubles with each attempt (plus up to 20 % jitter). */
  baseMs: number;
  maxMs: number;
  /** The longest `Retry-After` honoured (a longer one is cut to this). */
  maxRetryAfterMs: number;
}

const DEFAULT_BACKOFF: DeliveryBackoff = { baseMs: 5_000, maxMs: 60 * 60_000, maxRetryAfterMs: 6 * 60 * 60_000 };

/** The webhook dispatcher. */
export interface WebhookDispatcher {
  start(): void;
  /** Claims what is due now (called when deliveries were stored). */
  kick(): void;
  /** Sends until nothing is due (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** The answer of one attempt. */
interface Attempt {
  status?: number;
  retryAfter?: string;
  error?: string;
}

/** Reads `Retry-After` (seconds, or an HTTP date) as epoch ms; undefined when absent or unreadable. */
export function retryAfterAt(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return now + Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

/** Signs a body for a subscription: one `v1,…` signature per secret. */
export function signatureHeaders(secrets: readonly string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}

/** Creates the dispatcher over the store's deliveries. */
export function createWebhookDispatcher(deps: {
  store: Store;
  subscriptions: Subscriptions;
  clock: Clock;
  logger: Logger;
  /** How often to look for due deliveries (retries, other instances' deliveries). */
  pollMs?: number;
  backoff?: Partial<DeliveryBackoff>;
}): WebhookDispatcher {
  const { store, clock, logger } = deps;
  const backoff = { ...DEFAULT_BACKOFF, ...deps.backoff };
  const byName = new Map(deps.subscriptions.list.map((s) => [s.name, s]));
  const maxInFlight = deps.subscriptions.concurrency;
  // A lease outlasts any attempt: a crashed instance's deliveries are tried again soon after.
  const leaseMs = Math.max(0, ...deps.subscriptions.list.map((s) => s.timeoutMs)) + 30_000;
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: maxInFlight }), https: new https.Agent({ keepAlive: true, maxSockets: maxInFlight }) };
  const sending = new Set<Promise<void>>();
  /** Requests on the wire, ended at stop (their deliveries are tried again later). */
  const requests = new Set<http.ClientRequest>();

  /** One POST, ended by its answer, an error, or a timeout (connect or total). */
  function post(s: Subscription, delivery: EventDelivery, body: string): Promise<Attempt> {
    const url = new URL(s.url);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Sportello-Webhooks/1',
      // The wall-clock time of this attempt: receivers check it against their own clocks (the
      // injected clock schedules retries; in tests it is a fake one).
      ...signatureHeaders(s.secrets, delivery.id, new Date(), body),
    };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (a: Attempt) => {
        if (settled) return;
        settled = true;
        requests.delete(req);
        clearTimeout(total);
        clearTimeout(connect);
        resolve(a);
      };
      const req = client.request(url, { method: 'POST', headers, agent: url.protocol === 'https:' ? agents.https : agents.http }, (res) => {
        // The answer's body is not needed (beyond a short reason for the log): read and dropped.
        let reason = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (reason.length < 200) reason += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          finish({ status, retryAfter: res.headers['retry-after'], ...(ok ? {} : { error: `HTTP ${status}${reason ? `: ${reason.slice(0, 200).replace(/\s+/g, ' ')}` : ''}` }) });
        });
        res.on('error', (err) => finish({ status: res.statusCode, error: err.message }));
      });
      const total = setTimeout(() => {
        req.destroy(new Error(`no answer within ${s.timeoutMs} ms`));
      }, s.timeoutMs);
      let connect: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connect = setTimeout(() => req.destroy(new Error(`could not connect within ${s.connectTimeoutMs} ms`)), s.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connect));
      });
      req.on('error', (err) => finish({ error: err.message }));
      requests.add(req);
      req.end(body);
    });
  }

  /** Sends one claimed delivery and records the outcome. */
  async function deliver(delivery: EventDelivery): Promise<void> {
    const s = byName.get(delivery.subscription);
    let outcome: DeliveryOutcome;
    if (!s) {
      outcome = { status: 'dead', error: `subscription ${delivery.subscription} is no longer in the webhooks file` };
    } else {
      const attempt = await post(s, delivery, JSON.stringify(delivery.payload));
      const httpStatus = attempt.status !== undefined && attempt.status > 0 ? { httpStatus: attempt.status } : {};
      if (!attempt.error) {
        outcome = { status: 'delivered', at: clock.now().toISOString(), httpStatus: attempt.status! };
      } else if (delivery.attempts >= s.maxAttempts) {
        outcome = { status: 'dead', error: attempt.error, ...httpStatus };
      } else {
        const now = clock.now().getTime();
        const wait = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, delivery.attempts - 1));
        const asked = retryAfterAt(attempt.retryAfter, now);
        const notBefore = Math.max(now + wait + Math.round(wait * 0.2 * Math.random()), Math.min(asked ?? 0, now + backoff.maxRetryAfterMs));
        outcome = { status: 'retry', notBefore, error: attempt.error, ...httpStatus };
      }
    }
    // Never the payload: it may hold customers' messages.
    const fields = { subscription: delivery.subscription, deliveryId: delivery.id, type: delivery.type, attempts: delivery.attempts };
    if (outcome.status === 'retry') logger.warn({ ...fields, notBefore: outcome.notBefore, error: outcome.error }, 'webhook delivery failed; will retry');
    else if (outcome.status === 'dead') logger.error({ ...fields, error: outcome.error }, 'webhook delivery failed; giving up');
    await store.deliveries.complete(delivery.id, outcome);
  }

  const free = (): number => maxInFlight - sending.size;

  function startSend(delivery: EventDelivery): void {
    const p: Promise<void> = deliver(delivery)
      .catch((err: unknown) => logger.error({ err, deliveryId: delivery.id }, 'webhook delivery bookkeeping failed'))
      .finally(() => {
        sending.delete(p);
        // The key's next delivery is now first in line (or a slot is free for a waiting one).
        kick();
      });
    sending.add(p);
  }

  // Claims due deliveries while there are free slots; woken by kicks, the poll and finished sends.
  const pump = createPump({
    stopped: true,
    pollMs: deps.pollMs ?? 1000,
    inFlight: sending,
    onError: (err) => logger.error({ err }, 'webhook dispatch cycle failed'),
    async cycle() {
      while (!pump.stopped && free() > 0) {
        const batch = await store.deliveries.claim(clock.now().getTime(), free(), leaseMs);
        if (batch.length === 0) break;
        for (const d of batch) startSend(d);
      }
    },
  });
  const kick = pump.kick;

  return {
    start() {
      if (deps.subscriptions.list.length === 0 || !pump.stopped) return;
      pump.start();
    },
    kick,
    drain: pump.drain,
    async stop() {
      await pump.stop();
      // A hanging receiver must not hold up a shutdown: its attempt ends now and is retried later.
      for (const req of requests) req.destroy(new Error('Sportello is shutting down'));
      await Promise.allSettled([...sending]);
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
