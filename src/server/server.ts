/**
 * @module server
 * The restify server: a thin shell around the pipeline. `/healthz`, `/metrics`,
 * `GET|POST /webhooks/:channel` for every configured channel, channels' own routes
 * (`ChannelAdapter.routes`: a platform's endpoint, a page and its event stream), and whatever
 * the composition root registers (operator API and console).
 */
import { createRequire } from 'node:module';
import type * as restify from 'restify';
import type { Server } from 'restify';
import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';
import type { ChannelAdapter, Clock, Store } from '../core/ports.js';
import { timingSafeEqual } from 'node:crypto';
import { PipelineError, StoreError, WebhookBodyError } from '../core/errors.js';
import type { InboundMessage } from '../core/types.js';
import type { ChannelSendHealth, OutboxSender, SendMetrics } from '../pipeline/outbox-sender.js';
import type { Pipeline, TurnOutcome } from '../pipeline/pipeline.js';
import type { Logger } from '../util/logger.js';
import { createClientAddress, isInternalAddress, type TrustProxy } from '../util/client-address.js';
import { createLogThrottle } from '../util/log-throttle.js';
import { readRawBody, sendChannelResponse, sendJson, toChannelRequest } from './http.js';

/**
 * A restify server, made as `restify.createServer` makes it (its lib/index.js: a router, a pino
 * logger of restify's own, the server) from its modules required directly: `import 'restify'`
 * also loads every plugin restify has (some 220 files: about 60 ms of CPU at each start), and
 * Sportello uses none of them.
 */
function createRestifyServer(name: string): Server {
  const fromRestify = createRequire(createRequire(import.meta.url).resolve('restify'));
  const RestifyServer = fromRestify('./server') as new (options: object) => Server;
  const Router = fromRestify('./router') as new (options: object) => unknown;
  const pino = fromRestify('pino') as (options: { name: string }) => unknown;
  const options: Record<string, unknown> = { name, log: pino({ name }), handleUncaughtExceptions: false };
  options.router = new Router(options);
  return new RestifyServer(options);
}

/** How long a whole request (headers and body) may take to arrive. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Metrics the server and pipeline report on `/metrics`. */
export interface ServerMetrics {
  registry: Registry;
  webhooks: Counter<'channel' | 'outcome'>;
  turns: Counter<'channel' | 'action'>;
  turnSeconds: Histogram<'channel'>;
  escalations: Counter<'channel' | 'reason'>;
  /** What the outbox sender reports (replies sent, failed, retried; platform call times). */
  sends: SendMetrics;
  /** Satisfaction surveys sent and answered, per channel (the survey jobs count them). */
  surveys: Counter<'channel' | 'event'>;
  /** Posts heard by listening, by channel and class (care, praise, noise, spam). */
  listening: Counter<'channel' | 'class'>;
  /** Spike alerts raised by listening: new ones and updates (the spike grew). */
  alerts: Counter<'kind'>;
}

/**
 * Creates the metrics registry. `store` and `clock` feed what is read at each scrape: the queue's
 * depth by priority and the conversations waiting past their first-response due time (the store's
 * truth, so every instance reports the same, across restarts).
 */
export function createMetrics(deps: { store: Pick<Store, 'conversations'>; clock: Clock; channels: Iterable<string> }): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const replies = new Counter({ name: 'sportello_replies_total', help: 'Replies handed to a platform, by outcome: sent, failed (given up), retried', labelNames: ['channel', 'outcome'], registers: [registry] });
  const sendSeconds = new Histogram({
    name: 'sportello_send_seconds',
    help: "Time of one platform call sending a reply, by outcome",
    labelNames: ['channel', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const replyDelay = new Histogram({
    name: 'sportello_reply_delay_seconds',
    help: 'From a reply written to it sent (queueing, rate limits and retries included)',
    labelNames: ['channel'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800],
    registers: [registry],
  });
  /** The waiting conversations (queued, or held without a first response yet), read once per scrape. */
  let waiting: Promise<Array<{ priority: number; breached: boolean; queued: boolean }>> | undefined;
  const readWaiting = () =>
    (waiting ??= (async () => {
      try {
        const now = deps.clock.now().getTime();
        const list = await deps.store.conversations.list({ states: ['queued', 'assigned'] });
        return list.flatMap((c) =>
          c.queue
            ? [{ priority: c.queue.priority, queued: c.state === 'queued', breached: !c.queue.firstResponseAt && c.queue.slaDueAt !== undefined && Date.parse(c.queue.slaDueAt) < now }]
            : [],
        );
      } finally {
        setImmediate(() => (waiting = undefined));
      }
    })());
  new Gauge({
    name: 'sportello_queue_depth',
    help: 'Conversations waiting in the queue, by priority (1 = most urgent)',
    labelNames: ['priority'],
    registers: [registry],
    async collect() {
      const rows = await readWaiting();
      this.reset();
      for (const p of ['1', '2', '3']) this.set({ priority: p }, 0);
      for (const r of rows) if (r.queued) this.inc({ priority: String(r.priority) });
    },
  });
  new Gauge({
    name: 'sportello_sla_breached',
    help: 'Conversations waiting past their first-response due time (business time), by priority',
    labelNames: ['priority'],
    registers: [registry],
    async collect() {
      const rows = await readWaiting();
      this.reset();
      for (const p of ['1', '2', '3']) this.set({ priority: p }, 0);
      for (const r of rows) if (r.breached) this.inc({ priority: String(r.priority) });
    },
  });
  const surveys = new Counter({ name: 'sportello_surveys_total', help: 'Satisfaction surveys, by event: sent, answered', labelNames: ['channel', 'event'], registers: [registry] });
  for (const channel of deps.channels) for (const event of ['sent', 'answered']) surveys.inc({ channel, event }, 0);
  const listening = new Counter({ name: 'sportello_listening_items_total', help: 'Posts heard by listening, by class: care, praise, noise, spam', labelNames: ['channel', 'class'], registers: [registry] });
  const alerts = new Counter({ name: 'sportello_listening_alerts_total', help: 'Spike alerts raised by listening, by kind: new, update (the spike grew)', labelNames: ['kind'], registers: [registry] });
  for (const kind of ['new', 'update']) alerts.inc({ kind }, 0);
  return {
    registry,
    escalations: new Counter({ name: 'sportello_escalations_total', help: 'Conversations handed to the queue, by reason', labelNames: ['channel', 'reason'], registers: [registry] }),
    surveys,
    listening,
    alerts,
    sends: {
      observe(item, outcome, seconds, at) {
        replies.inc({ channel: item.channel, outcome });
        sendSeconds.observe({ channel: item.channel, outcome }, seconds);
        if (outcome === 'sent') replyDelay.observe({ channel: item.channel }, Math.max(0, (Date.parse(at) - Date.parse(item.createdAt)) / 1000));
      },
    },
    webhooks: new Counter({ name: 'sportello_webhooks_total', help: 'Webhook deliveries by outcome', labelNames: ['channel', 'outcome'], registers: [registry] }),
    turns: new Counter({ name: 'sportello_turns_total', help: 'Customer messages handled, by action', labelNames: ['channel', 'action'], registers: [registry] }),
    turnSeconds: new Histogram({
      name: 'sportello_turn_seconds',
      help: 'Time to handle one customer message',
      labelNames: ['channel'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

/** The outbox sender's per-channel counters and circuits on `/metrics` (read when scraped). */
export function registerSenderMetrics(registry: Registry, sender: Pick<OutboxSender, 'stats' | 'health'>): void {
  const counter = (name: string, help: string, read: (s: ReturnType<OutboxSender['stats']>[string]) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['channel'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [channel, stats] of Object.entries(sender.stats())) this.inc({ channel }, read(stats));
      },
    });
  counter('sportello_outbound_sent_total', 'Replies sent, by channel', (s) => s.sent);
  counter('sportello_outbound_in_doubt_total', 'Sends whose outcome is unknown: the platform took the request and did not answer in time', (s) => s.inDoubt);
  counter('sportello_outbound_possible_duplicates_total', 'Replies in doubt then sent again without a way to check: each may have reached the customer twice', (s) => s.possibleDuplicates);
  counter('sportello_outbound_duplicates_avoided_total', 'Replies in doubt that the late check found delivered: not sent again', (s) => s.duplicatesAvoided);
  counter('sportello_outbound_given_up_in_doubt_total', 'Replies given up after repeated unknown outcomes (reported to operators)', (s) => s.givenUpInDoubt);
  counter('sportello_outbound_circuit_opened_total', 'Times a channel was paused because its platform stopped answering', (s) => s.circuitOpened);
  new Counter({
    name: 'sportello_outbound_failures_total',
    help: 'Failed sends by channel and kind (timeout, network, server, rate_limited, refused, internal)',
    labelNames: ['channel', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, stats] of Object.entries(sender.stats())) {
        for (const [kind, n] of Object.entries(stats.failures)) this.inc({ channel, kind }, n);
      }
    },
  });
  const gauge = (name: string, help: string, read: (h: ChannelSendHealth) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['channel'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [channel, health] of Object.entries(sender.health())) this.set({ channel }, read(health));
      },
    });
  gauge('sportello_outbound_circuit_open', 'A channel is paused (1: open or probing, 0: sending)', (h) => (h.circuit === 'closed' ? 0 : 1));
  gauge('sportello_outbound_in_flight', 'Sends in flight, by channel', (h) => h.inFlight);
  gauge('sportello_outbound_slots', 'Send slots, by channel', (h) => h.slots);
}

/**
 * Counts a customer message's turn once it is done: by channel and action, its time, and an
 * escalation by reason. Every way a message comes in uses it (webhooks here; channels' routes and
 * polling through the receive the composition root hands them).
 */
export function observeTurn(metrics: ServerMetrics, channel: string, done: Promise<TurnOutcome>, started = process.hrtime.bigint()): void {
  void done
    .then((outcome) => {
      metrics.turns.inc({ channel, action: outcome.action });
      metrics.turnSeconds.observe({ channel }, Number(process.hrtime.bigint() - started) / 1e9);
      if (outcome.reason) metrics.escalations.inc({ channel, reason: outcome.reason });
    })
    .catch(() => undefined);
}

/** Creates the HTTP server with health, metrics and channel routes. */
export function createHttpServer(deps: {
  channels: ReadonlyMap<string, ChannelAdapter>;
  pipeline: Pipeline;
  logger: Logger;
  metrics: ServerMetrics;
  isReady(): boolean;
  /** Which proxies' X-Forwarded-For is believed (config TRUST_PROXY). */
  trustProxy: TrustProxy;
  /** METRICS_TOKEN: `/metrics` asks for it as a bearer token; without one, only internal addresses may read it. */
  metricsToken?: string;
  /** Each channel's sending (circuit, slots), shown by `/healthz`. */
  sending?(): Record<string, ChannelSendHealth>;
  /** Listening: webhook messages marked `listening` (a Page's feed, its tags) go here first; absent: to the pipeline. */
  hear?(msg: InboundMessage): Promise<void>;
}): Server {
  const { logger, metrics } = deps;
  const addressOf = createClientAddress(deps.trustProxy);
  // Anyone can send a delivery without a valid signature: one line a minute per channel, not one each.
  const quiet = createLogThrottle();
  const server = createRestifyServer('sportello');
  // A request must arrive whole within REQUEST_TIMEOUT_MS (Node's default is 5 minutes): a client
  // trickling a body a byte at a time held its connection that long, and a few thousand of them
  // (one machine) took every file descriptor. Bodies are at most 1 MiB; event streams are GETs,
  // complete at once, and are not cut. Node checks every 30 s, so such a connection ends 30-60 s in.
  server.server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.server.headersTimeout = Math.min(server.server.headersTimeout, REQUEST_TIMEOUT_MS);
  // A proxy in front without TRUST_PROXY: every client has the proxy's address, so the limits by
  // address (web chat, operator logins) are shared by all customers and refuse them together.
  // Said once, the first time a forwarded request arrives (anyone may send one: once is harmless).
  let toldProxy = Boolean(deps.trustProxy);
  // restify's dedupeSlashes: /webhooks//x is /webhooks/x.
  server.pre((req, _res, next) => {
    req.url = req.url!.replace(/(\/)\/+/g, '$1');
    if (!toldProxy && (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined)) {
      toldProxy = true;
      logger.warn(
        { remote: req.socket?.remoteAddress },
        'requests come through a proxy (X-Forwarded-For) but TRUST_PROXY is not set: every client counts as the proxy\'s address, so the web chat and login limits by address are shared by all of them; set TRUST_PROXY (docs/operators.md)',
      );
    }
    return next();
  });
  server.on('restifyError', (req, res, err: Error & { statusCode?: number }, cb: () => void) => {
    if ((err.statusCode ?? 500) >= 500) logger.error({ err, path: req.path() }, 'request failed');
    cb();
  });

  // Liveness: 200 once ready, whatever the platforms do. A channel whose platform stopped
  // answering is shown (`degraded`, its circuit) without failing the check: restarting would not help.
  server.get('/healthz', async (_req, res) => {
    if (!deps.isReady()) return sendJson(res, 503, { status: 'starting' });
    const channels = deps.sending?.() ?? {};
    const degraded = Object.keys(channels).filter((name) => channels[name]!.circuit !== 'closed');
    sendJson(res, 200, degraded.length > 0 ? { status: 'ok', degraded, channels } : { status: 'ok' });
  });
  // The metrics tell the queue's depth, escalations and crises: not for everyone. With
  // METRICS_TOKEN, a bearer token; without, only a client inside the network (loopback, private,
  // link-local), and not one a proxy forwarded unless TRUST_PROXY says who the client was.
  const metricsToken = deps.metricsToken ? Buffer.from(deps.metricsToken) : undefined;
  server.get('/metrics', async (req, res) => {
    if (metricsToken) {
      const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '');
      if (given.length !== metricsToken.length || !timingSafeEqual(given, metricsToken)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        return sendJson(res, 401, { error: 'metrics need Authorization: Bearer <METRICS_TOKEN>' });
      }
    } else {
      const forwarded = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
      const client = addressOf(req.socket?.remoteAddress, req.headers['x-forwarded-for']);
      if (!isInternalAddress(client) || (forwarded && !deps.trustProxy)) {
        return sendJson(res, 403, { error: 'metrics are read from inside the network only; set METRICS_TOKEN to read them from elsewhere' });
      }
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
  });

  const webhook = async (req: restify.Request, res: restify.Response) => {
    const name = String(req.params.channel ?? '');
    const adapter = deps.channels.get(name);
    if (!adapter) {
      sendJson(res, 404, { error: `no channel named ${name} is configured` });
      return;
    }
    let raw: Buffer;
    try {
      raw = await readRawBody(req);
    } catch (err) {
      sendJson(res, (err as { statusCode?: number }).statusCode ?? 400, { error: (err as Error).message });
      return;
    }
    const request = toChannelRequest(req, raw, addressOf);
    try {
      const handshake = await adapter.handshake?.(request);
      if (handshake) {
        await sendChannelResponse(res, handshake);
        return;
      }
      if (request.method !== 'POST') {
        sendJson(res, 405, { error: 'POST webhooks only' });
        return;
      }
      if (!(await adapter.verify(request))) {
        metrics.webhooks.inc({ channel: name, outcome: 'bad_signature' });
        const told = quiet.take(`bad-signature:${name}`);
        if (told.log) {
          const more = told.suppressed > 0 ? { refusedSinceLastLine: told.suppressed } : {};
          logger.warn({ channel: name, remote: request.remoteAddress, ...more }, 'webhook refused: bad or missing signature (more within a minute are counted on /metrics, not logged)');
        }
        sendJson(res, 401, { error: 'invalid signature' });
        return;
      }
      const messages = await adapter.parse(request);
      // Accept (durably record) every message before answering 200; process after answering.
      try {
        for (const msg of messages) {
          if (msg.listening && deps.hear) {
            await deps.hear(msg);
            continue;
          }
          const started = process.hrtime.bigint();
          const { done } = await deps.pipeline.accept(msg);
          observeTurn(metrics, name, done, started);
        }
      } catch (err) {
        // Not the platform's fault (the store is down or refused): 503, so the platform delivers
        // again later (a 4xx could be taken as "drop it"). Messages already accepted are
        // recognised as duplicates on the next delivery.
        metrics.webhooks.inc({ channel: name, outcome: 'unavailable' });
        logger.error({ err, channel: name }, 'webhook not accepted: could not record its messages');
        res.setHeader('retry-after', '5');
        sendJson(res, 503, { error: 'temporarily unavailable, deliver again later' });
        return;
      }
      metrics.webhooks.inc({ channel: name, outcome: 'accepted' });
      sendJson(res, 200, { ok: true, accepted: messages.length });
    } catch (err) {
      metrics.webhooks.inc({ channel: name, outcome: 'error' });
      // The sender's mistake (a body that is not the platform's, a 4xx a channel chose) is told as
      // it is. Anything else is ours: the store could not be read (503, so the platform delivers
      // again later: a 400 could be taken as "drop it") or a bug (500), saying nothing of the inside.
      const status = (err as { statusCode?: number }).statusCode;
      if (err instanceof WebhookBodyError || (status !== undefined && status >= 400 && status < 500)) {
        logger.warn({ err, channel: name }, 'webhook refused');
        sendJson(res, status ?? 400, { error: (err as Error).message });
      } else if (err instanceof StoreError || err instanceof PipelineError) {
        logger.error({ err, channel: name }, 'webhook not read: the store could not be reached');
        res.setHeader('retry-after', '5');
        sendJson(res, 503, { error: 'temporarily unavailable, deliver again later' });
      } else {
        logger.error({ err, channel: name }, 'webhook failed');
        sendJson(res, 500, { error: 'internal error' });
      }
    }
  };
  server.get('/webhooks/:channel', webhook);
  server.post('/webhooks/:channel', webhook);

  for (const adapter of deps.channels.values()) {
    for (const route of adapter.routes ?? []) {
      const handler = async (req: restify.Request, res: restify.Response) => {
        try {
          const raw = await readRawBody(req);
          await sendChannelResponse(res, await route.handle(toChannelRequest(req, raw, addressOf)));
        } catch (err) {
          // A client's mistake (4xx) is told as it is; anything else says nothing of the inside (a
          // store that could not record the message: 503, try again; a bug: 500).
          const status = (err as { statusCode?: number }).statusCode;
          if (status !== undefined && status >= 400 && status < 500) {
            logger.warn({ err, channel: adapter.name, path: route.path }, 'channel route refused a request');
            sendJson(res, status, { error: (err as Error).message });
          } else if (err instanceof StoreError || err instanceof PipelineError) {
            logger.error({ err, channel: adapter.name, path: route.path }, 'channel route failed: could not record');
            res.setHeader('retry-after', '5');
            sendJson(res, 503, { error: 'temporarily unavailable, try again shortly' });
          } else {
            logger.error({ err, channel: adapter.name, path: route.path }, 'channel route failed');
            sendJson(res, 500, { error: 'internal error' });
          }
        }
      };
      if (route.method === 'GET') server.get(route.path, handler);
      else if (route.method === 'OPTIONS') server.opts(route.path, handler);
      else server.post(route.path, handler);
    }
  }
  return server;
}
