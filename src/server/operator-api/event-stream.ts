/**
 * @module server/operator-api/event-stream
 * The live feed of domain events (server-sent events) for the console; events carry ids only.
 */
import type { Request, Response, Server } from 'restify';
import type { DomainEvent } from '../../core/events.js';
import type { Sessions } from '../../handoff/auth.js';
import type { OperatorApiDeps } from './index.js';
import type { Router } from './routing.js';

/** Registers `/api/operator/events`; the returned set holds the open streams (ended at close). */
export function registerEventStream(server: Server, router: Router, deps: OperatorApiDeps, sessions: Sessions): Set<Response> {
  const { clock, logger } = deps;
  const { authenticate, fail } = router;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  /** Open event streams: ended by `close()`, or the HTTP server would wait for them forever. */
  const streams = new Set<Response>();

  // ── live events ──

  server.get('/api/operator/events', async (req: Request, res: Response) => {
    let operatorId: string;
    try {
      operatorId = (await authenticate(req)).operator.id;
    } catch (err) {
      fail(res, err);
      return;
    }
    // An open stream is the operator's console being there: it keeps an online operator online.
    const touch = () => deps.assignment.touch(operatorId).catch((err: unknown) => logger.warn({ err }, 'could not record an operator as present'));
    void touch();
    streams.add(res);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const write = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    write('ready', { at: clock.now().toISOString(), corpusProblems: deps.knowledge.lastError?.() });
    // Events carry ids only (no message text): the console fetches what it is allowed to see.
    const unsubscribe = deps.bus.subscribe((event: DomainEvent) => write(event.type, event));
    const heartbeat = setInterval(() => {
      // A session that expired or logged out elsewhere stops receiving.
      void sessions.read(req.headers.cookie).then(
        (still) => {
          if (!still) return res.end();
          void touch();
          return res.write(': heartbeat\n\n');
        },
        (err: unknown) => logger.warn({ err }, 'could not check an operator session'),
      );
    }, heartbeatMs);
    heartbeat.unref();
    await new Promise<void>((resolve) => {
      req.on('close', resolve);
      res.on('close', resolve);
      res.on('finish', resolve);
    });
    clearInterval(heartbeat);
    unsubscribe();
    streams.delete(res);
  });

  return streams;
}
