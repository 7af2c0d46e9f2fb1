/**
 * A fault-injecting HTTP(S) proxy in front of one fake platform, for the soak test. Modes:
 * `ok` forwards; `500` answers a server error in the platform's shape; `429` answers Too Many
 * Requests with the rate-limit headers; `hang` forwards the request (the platform acts on it) and
 * never answers, until the mode ends and the held connections are dropped: the sender then
 * cannot know the reply was delivered, which is how duplicates are born.
 */
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type FaultMode = 'ok' | '500' | '429' | 'hang';

export interface FaultProxy {
  origin: string;
  mode: FaultMode;
  setMode(mode: FaultMode): void;
  /** Requests answered per mode (a hung one counts when dropped). */
  counts: Record<FaultMode, number>;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (an origin); `tls` serves HTTPS with that key/certificate and trusts `ca` upstream. */
export async function startFaultProxy(options: {
  target: string;
  tls?: { key: string; cert: string; ca: string };
  /** The platform's error body for 500 and 429. */
  errorBody: (status: number) => unknown;
  /** Rate-limit headers for a 429 (e.g. X's x-rate-limit-reset). */
  rateLimitHeaders: () => Record<string, string>;
}): Promise<FaultProxy> {
  const target = new URL(options.target);
  const held = new Set<{ res: ServerResponse; socket: Socket }>();
  const counts: Record<FaultMode, number> = { ok: 0, '500': 0, '429': 0, hang: 0 };
  let mode: FaultMode = 'ok';

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (mode === '500' || mode === '429') {
        counts[mode] += 1;
        const status = Number(mode);
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? options.rateLimitHeaders() : {}) });
        res.end(JSON.stringify(options.errorBody(status)));
        return;
      }
      const hang = mode === 'hang';
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const upstream = send(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
          ...(options.tls ? { ca: options.tls.ca } : {}),
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            if (hang) {
              // Delivered, never answered: held until the hang ends, then dropped.
              held.add({ res, socket: req.socket });
              return;
            }
            counts.ok += 1;
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(parts));
          });
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  };
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    setMode(next) {
      if (mode === 'hang' && next !== 'hang') {
        for (const h of held) {
          counts.hang += 1;
          h.socket.destroy();
        }
        held.clear();
      }
      mode = next;
    },
    counts,
    async close() {
      for (const h of held) h.socket.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
