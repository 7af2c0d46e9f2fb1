/**
 * @module server
 * The restify server: a thin shell around the pipeline. `/healthz`, `/metrics`,
 * `GET|POST /webhooks/:channel` for every configured channel, channels' own routes
 * (`ChannelAdapter.routes`: a platform's endpoint, a page and its event stream), and whatever
 * the composition root registers (operator API and console).
 */
import restify from 'restify';
import type { Server } from 'restify';
import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';
import type { ChannelAdapter } from '../core/ports.js';
import type { ChannelSendHealth, OutboxSender } from '../pipeline/outbox-sender.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Logger } from '../util/logger.js';
import { createClientAddress, type TrustProxy } from '../util/client-address.js';
import { readRawBody, sendChannelResponse, sendJson, toChannelRequest } from './http.js';

/** Metrics the server and pipeline report on `/metrics`. */
export interface ServerMetrics {
  registry: Registry;
  webhooks: Counter<'channel' | 'outcome'>;
  turns: Counter<'channel' | 'action'>;
  turnSeconds: Histogram<'channel'>;
}

/** Creates the metrics registry. */
export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
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

/** Creates the HTTP server with health, metrics and channel routes. */
export function createHttpServer(deps: {
  channels: ReadonlyMap<string, ChannelAdapter>;
  pipeline: Pipeline;
  logger: Logger;
  metrics: ServerMetrics;
  isReady(): boolean;
  /** Which proxies' X-Forwarded-For is believed (config TRUST_PROXY). */
  trustProxy: TrustProxy;
  /** Each channel's sending (circuit, slots), shown by `/healthz`. */
  sending?(): Record<string, ChannelSendHealth>;
}): Server {
  const { logger, metrics } = deps;
  const addressOf = createClientAddress(deps.trustProxy);
  const server = restify.createServer({ name: 'sportello', handleUncaughtExceptions: false });
  server.pre(restify.plugins.pre.dedupeSlashes());
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
  server.get('/metrics', async (_req, res) => {
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
        logger.warn({ channel: name, remote: request.remoteAddress }, 'webhook refused: bad or missing signature');
        sendJson(res, 401, { error: 'invalid signature' });
        return;
      }
      const messages = await adapter.parse(request);
      // Accept (durably record) every message before answering 200; process after answering.
      try {
        for (const msg of messages) {
          const started = process.hrtime.bigint();
          const { done } = await deps.pipeline.accept(msg);
          void done
            .then((outcome) => {
              metrics.turns.inc({ channel: name, action: outcome.action });
              metrics.turnSeconds.observe({ channel: name }, Number(process.hrtime.bigint() - started) / 1e9);
            })
            .catch(() => undefined);
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
      const status = (err as { statusCode?: number }).statusCode ?? 400;
      logger.warn({ err, channel: name }, 'webhook refused');
      sendJson(res, status, { error: (err as Error).message });
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
          logger.warn({ err, channel: adapter.name, path: route.path }, 'channel route failed');
          sendJson(res, (err as { statusCode?: number }).statusCode ?? 500, { error: (err as Error).message });
        }
      };
      if (route.method === 'GET') server.get(route.path, handler);
      else if (route.method === 'OPTIONS') server.opts(route.path, handler);
      else server.post(route.path, handler);
    }
  }
  return server;
}
