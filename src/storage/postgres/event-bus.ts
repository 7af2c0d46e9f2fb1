/**
 * @module storage/postgres/event-bus
 * Domain events across instances with PostgreSQL LISTEN/NOTIFY: `publish` sends a NOTIFY on one
 * channel; every instance (this one included) LISTENs on a dedicated connection and hands each
 * event to its subscribers. NOTIFY is not durable: events published while an instance's
 * listening connection is down are not replayed to it (it reconnects with backoff).
 */
import { randomBytes } from 'node:crypto';
import { pg } from './pg.js';
import type { Client, Notification, Pool } from 'pg';
import { z } from 'zod';
import type { DomainEvent, EventBus, EventMeta } from '../../core/events.js';
import { StoreError } from '../../core/errors.js';

/** Options of the PostgreSQL event bus. */
export interface PostgresEventBusOptions {
  url: string;
  /** The NOTIFY channel (default `sportello_events`); instances sharing it share events. */
  channel?: string;
  /** Longest wait between reconnection attempts (default 5000 ms). */
  maxReconnectDelayMs?: number;
  /** How long `publish` waits for the listening connection before sending anyway (default 2000 ms). */
  readyTimeoutMs?: number;
  /** Told about connection trouble and listeners that throw (default: process warnings). */
  onError?: (err: Error, context: string) => void;
  /**
   * How long an event waits for others to leave with it (default 20 ms): one NOTIFY statement per
   * 20 ms at most instead of one per turn or two under load, at no cost to replies (turns do
   * not wait for their events) and well within what an operator's screen needs.
   */
  batchWindowMs?: number;
}

/** The bus, plus `ready()`: resolves once this instance is listening. */
export interface PostgresEventBus extends EventBus {
  ready(): Promise<void>;
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_EVENT_BYTES = 7999;

/** Most events sent by one statement. */
const MAX_BATCH = 100;
/** One statement notifies a batch, in order (volatile target lists are evaluated after ORDER BY). */
// The payloads as one JSON array of strings: JSON.stringify is native, where a text[] parameter is escaped element by element in JS.
const NOTIFY_BATCH = 'SELECT pg_notify($1, p) FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t(p, i) ORDER BY i';

interface PendingEvent {
  payload: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

// Events come from other instances (maybe another version): check the envelope, keep the rest.
const eventSchema = z.looseObject({ type: z.string().min(1), at: z.string().optional() });

/** The payload field that names the publishing instance (removed before listeners see the event). */
const ORIGIN = '_origin';
const LOCAL: EventMeta = { local: true };
const REMOTE: EventMeta = { local: false };

/** Creates the cross-instance event bus; it starts listening at once. */
export function createPostgresEventBus(options: PostgresEventBusOptions): PostgresEventBus {
  const channel = options.channel ?? 'sportello_events';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new StoreError(`invalid NOTIFY channel name: ${channel}`);
  const maxDelay = options.maxReconnectDelayMs ?? 5000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 2000;
  const batchWindowMs = Math.max(0, options.batchWindowMs ?? 20);
  const report = options.onError ?? ((err: Error, context: string) => process.emitWarning(`sportello event bus: ${context}: ${err.message}`));
  const listeners = new Set<(event: DomainEvent, meta: EventMeta) => void>();
  /** This bus's name in the payloads it publishes. */
  const origin = randomBytes(6).toString('base64url');
  const publisher: Pool = new (pg().Pool)({ connectionString: options.url, max: 2 });
  publisher.on('error', (err) => report(err, 'idle publishing connection'));

  let client: Client | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  let readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  /** True while the listening connection is up (then `publish` need not wait for it). */
  let listening = false;
  // Events published while a batch is on its way wait here and leave together in the next one:
  // one round trip for many events under load, sent strictly in publishing order.
  const queue: PendingEvent[] = [];
  let sending: Promise<void> | undefined;

  /** The next batch: at most MAX_BATCH events, and no payload twice (PostgreSQL would fold
   * identical notifications of one transaction into one). */
  function takeBatch(): PendingEvent[] {
    const seen = new Set<string>();
    let n = 0;
    while (n < queue.length && n < MAX_BATCH && !seen.has(queue[n]!.payload)) seen.add(queue[n++]!.payload);
    return queue.splice(0, n);
  }

  /** Starts sending unless a sender runs; a sender that ends re-checks for late arrivals. */
  function kick(): void {
    if (sending || !queue.length) return;
    // Wait a moment first, so the events of the turns and sends around this one leave together.
    sending = new Promise<void>((resolve) => (batchWindowMs > 0 ? setTimeout(resolve, batchWindowMs) : setImmediate(resolve))).then(sendQueued).finally(() => {
      sending = undefined;
      kick();
    });
  }

  async function sendQueued(): Promise<void> {
    while (queue.length) {
      const batch = takeBatch();
      try {
        await publisher.query({ name: 'sportello_notify_batch_json', text: NOTIFY_BATCH, values: [channel, JSON.stringify(batch.map((e) => e.payload))] });
        for (const e of batch) e.resolve();
      } catch (err) {
        const failure = new StoreError(`cannot publish ${batch.length} event(s): ${(err as Error).message}`, { cause: err });
        for (const e of batch) e.reject(failure);
      }
    }
  }

  function deliver(message: Notification): void {
    if (message.channel !== channel || message.payload === undefined) return;
    let event: DomainEvent;
    let meta: EventMeta;
    try {
      const parsed = eventSchema.safeParse(JSON.parse(message.payload));
      if (!parsed.success) {
        report(new Error(parsed.error.message), 'ignored a notification that is not an event');
        return;
      }
      const { [ORIGIN]: from, ...rest } = parsed.data;
      event = rest as unknown as DomainEvent;
      meta = from === origin ? LOCAL : REMOTE;
    } catch (err) {
      report(err as Error, 'ignored a notification that is not JSON');
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(event, meta);
      } catch (err) {
        report(err as Error, `a listener of ${event.type} threw`);
      }
    }
  }

  function scheduleReconnect(): void {
    if (closed || timer) return;
    const delay = Math.min(maxDelay, 100 * 2 ** Math.min(attempt, 10));
    attempt += 1;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
  }

  function dropped(which: Client, err?: Error): void {
    if (client !== which) return;
    client = undefined;
    if (closed) return;
    if (err) report(err, 'listening connection lost; reconnecting');
    // Not listening any more: publishers wait until the connection is back.
    listening = false;
    readyPromise = new Promise<void>((resolve) => (markReady = resolve));
    scheduleReconnect();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new (pg().Client)({ connectionString: options.url });
    next.on('notification', deliver);
    next.on('error', (err) => dropped(next, err));
    next.on('end', () => dropped(next));
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      if (closed) {
        await next.end();
        return;
      }
      attempt = 0;
      listening = true;
      markReady();
    } catch (err) {
      if (client === next) {
        client = undefined;
        report(err as Error, 'cannot listen for events; retrying');
        scheduleReconnect();
      }
      next.end().catch((endErr: Error) => report(endErr, 'closing a failed listening connection'));
    }
  }

  void connect();

  return {
    ready: () => readyPromise,

    async publish(event) {
      if (closed) throw new StoreError('event bus used after close()');
      const payload = JSON.stringify({ ...event, [ORIGIN]: origin });
      if (Buffer.byteLength(payload) > MAX_EVENT_BYTES) {
        throw new StoreError(`event ${event.type} is ${Buffer.byteLength(payload)} bytes; NOTIFY allows ${MAX_EVENT_BYTES}`);
      }
      // Publish once this instance listens, so its own subscribers see the event too; but never
      // hold the caller up for long when the listening connection is down.
      if (!listening) {
        let wait: NodeJS.Timeout | undefined;
        await Promise.race([readyPromise, new Promise<void>((resolve) => (wait = setTimeout(resolve, readyTimeoutMs)))]);
        clearTimeout(wait);
      }
      const sent = new Promise<void>((resolve, reject) => queue.push({ payload, resolve, reject }));
      kick();
      await sent;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      listeners.clear();
      markReady();
      const current = client;
      client = undefined;
      // Events already published are still sent.
      await sending;
      await Promise.all([current?.end().catch((err: Error) => report(err, 'closing the listening connection')), publisher.end()]);
    },
  };
}
