/**
 * @module storage/postgres/event-bus
 * Domain events across instances with PostgreSQL LISTEN/NOTIFY: `publish` hands an event to this
 * instance's subscribers and sends it on one channel; every other instance LISTENs on a dedicated
 * connection and hands what it hears to its subscribers. NOTIFY is not durable: events published
 * while an instance's listening connection is down are not replayed to it (it reconnects with
 * backoff).
 *
 * Events published close together travel as one notification (a packet: a JSON array of events,
 * under PostgreSQL's 8000-byte limit), so a busy instance costs the database and every listener
 * one notification per batch instead of one per event. An instance does not parse its own packets
 * when they come back: its subscribers had those events once the packet was sent.
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

/** What a packet adds around its events: `{"o":"<8 characters>","s":<up to 16 digits>,"e":[…]}`. */
const PACKET_ENVELOPE_BYTES = 46;
/** Most packets sent by one statement. */
const MAX_PACKETS = 20;
/** One statement notifies its packets, in order (volatile target lists are evaluated after ORDER BY). */
// The payloads as one JSON array of strings: JSON.stringify is native, where a text[] parameter is escaped element by element in JS.
const NOTIFY_BATCH = 'SELECT pg_notify($1, p) FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t(p, i) ORDER BY i';

interface PendingEvent {
  event: DomainEvent;
  /** The event as JSON. */
  json: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

// Events come from other instances (maybe another version): check the envelope, keep the rest.
const eventSchema = z.looseObject({ type: z.string().min(1), at: z.string().optional() });
/** A packet: the publishing bus (`o`), its packet number (`s`: no two packets are identical, which
 * PostgreSQL would fold into one) and the events in publishing order (`e`). */
const packetSchema = z.object({ o: z.string(), s: z.number(), e: z.array(z.unknown()).min(1) });

/** The field of a single-event payload (as earlier versions published) that names its bus. */
const ORIGIN = '_origin';
const LOCAL: EventMeta = { local: true };
const REMOTE: EventMeta = { local: false };

/** Creates the cross-instance event bus; it starts listening at once. */
export function createPostgresEventBus(options: PostgresEventBusOptions): PostgresEventBus {
  const channel = options.channel ?? 'sportello_events';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new StoreError(`invalid NOTIFY channel name: ${channel}`);
  const maxDelay = options.maxReconnectDelayMs ?? 5000;
  const batchWindowMs = Math.max(0, options.batchWindowMs ?? 20);
  const report = options.onError ?? ((err: Error, context: string) => process.emitWarning(`sportello event bus: ${context}: ${err.message}`));
  const listeners = new Set<(event: DomainEvent, meta: EventMeta) => void>();
  /** This bus's name in the payloads it publishes. */
  const origin = randomBytes(6).toString('base64url');
  /** How this bus's own packets start (they are not parsed again when they come back). */
  const ownPrefix = `{"o":"${origin}",`;
  let packets = 0;
  const publisher: Pool = new (pg().Pool)({ connectionString: options.url, max: 2 });
  publisher.on('error', (err) => report(err, 'idle publishing connection'));

  let client: Client | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  let readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  // Events published while a batch is on its way wait here and leave together in the next one:
  // one round trip for many events under load, sent strictly in publishing order.
  const queue: PendingEvent[] = [];
  let sending: Promise<void> | undefined;

  /** The next batch: as many packets (at most MAX_PACKETS) as the queued events fill. */
  function takeBatch(): { events: PendingEvent[]; payloads: string[] } {
    const payloads: string[] = [];
    let n = 0;
    while (n < queue.length && payloads.length < MAX_PACKETS) {
      const head = `${ownPrefix}"s":${++packets},"e":[`;
      let body = queue[n++]!.json;
      let bytes = Buffer.byteLength(head) + Buffer.byteLength(body) + 2;
      while (n < queue.length) {
        const more = Buffer.byteLength(queue[n]!.json) + 1;
        if (bytes + more > MAX_EVENT_BYTES) break;
        body += `,${queue[n++]!.json}`;
        bytes += more;
      }
      payloads.push(`${head}${body}]}`);
    }
    return { events: queue.splice(0, n), payloads };
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
        await publisher.query({ name: 'sportello_notify_batch_json', text: NOTIFY_BATCH, values: [channel, JSON.stringify(batch.payloads)] });
      } catch (err) {
        const failure = new StoreError(`cannot publish ${batch.events.length} event(s): ${(err as Error).message}`, { cause: err });
        for (const e of batch.events) e.reject(failure);
        continue;
      }
      // Sent: this instance's subscribers have them now, in publishing order.
      for (const e of batch.events) hand(e.event, LOCAL);
      for (const e of batch.events) e.resolve();
    }
  }

  function hand(event: DomainEvent, meta: EventMeta): void {
    for (const listener of [...listeners]) {
      try {
        listener(event, meta);
      } catch (err) {
        report(err as Error, `a listener of ${event.type} threw`);
      }
    }
  }

  function deliver(message: Notification): void {
    if (message.channel !== channel || message.payload === undefined) return;
    // Our own packet, back from the database: its events were handed out when it was sent.
    if (message.payload.startsWith(ownPrefix)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.payload);
    } catch (err) {
      report(err as Error, 'ignored a notification that is not JSON');
      return;
    }
    const packet = packetSchema.safeParse(parsed);
    // A single event with its bus's name: as instances of earlier versions publish.
    const events = packet.success ? packet.data.e : [parsed];
    for (const item of events) {
      const event = eventSchema.safeParse(item);
      if (!event.success) {
        report(new Error(event.error.message), 'ignored a notification that is not an event');
        continue;
      }
      const { [ORIGIN]: from, ...rest } = event.data;
      if (from === origin) continue;
      hand(rest as unknown as DomainEvent, REMOTE);
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
      const json = JSON.stringify(event);
      // Alone in its packet, with the packet's envelope.
      const bytes = Buffer.byteLength(json) + PACKET_ENVELOPE_BYTES;
      if (bytes > MAX_EVENT_BYTES) throw new StoreError(`event ${event.type} is ${bytes} bytes; NOTIFY allows ${MAX_EVENT_BYTES}`);
      const sent = new Promise<void>((resolve, reject) => queue.push({ event, json, resolve, reject }));
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
