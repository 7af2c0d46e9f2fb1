/**
 * @module server
 * The restify server: a thin shell around the pipeline. `/healthz`, `/metrics`,
 * `GET|POST /webhooks/:channel` for every configured channel, channels' own routes
 * (`ChannelAdapter.routes`: a platform's endpoint, a page and its event stream), and whatever
 * the composition root registers (operator API and console).
 */
import restify from 'restify';
import type { Server } from 'restify';
import { Registry, collectDefaultMetrics, Counter, Histogram } from 'prom-client';
import type { ChannelAdapter } from '../core/ports.js';
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

/** Creates the HTTP server with health, metrics and channel routes. */
export function createHttpServer(deps: {
  channels: ReadonlyMap<string, ChannelAdapter>;
  pipeline: Pipeline;
  logger: Logger;
  metrics: ServerMetrics;
  isReady(): boolean;
  /** Which proxies' X-Forwarded-For is believed (config TRUST_PROXY). */
  trustProxy: TrustProxy;
}): Server {
  const { logger, metrics } = deps;
  const addressOf = createClientAddress(deps.trustProxy);
  const server = restify.createServer({ name: 'sportello', handleUncaughtExceptions: false });
  server.pre(restify.plugins.pre.dedupeSlashes());
  server.on('restifyError', (req, res, err: Error & { statusCode?: number }, cb: () => void) => {
    if ((err.statusCode ?? 500) >= 500) logger.error({ err, path: req.path() }, 'request failed');
    cb();
  });

  server.get('/healthz', async (_req, res) => {
    if (deps.isReady()) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 503, { status: 'starting' });
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
