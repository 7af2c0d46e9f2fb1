/**
 * @module server/client-address
 * The one place the server decides which address a request comes from (the web chat's limits per
 * address use it through `ChannelRequest.remoteAddress`). Today: the connection's peer address.
 * Behind a reverse proxy that is the proxy's: a trusted-proxy setting (reading X-Forwarded-For
 * only from listed proxies) belongs here, so every limit by address follows it at once.
 */
import type { IncomingMessage } from 'node:http';

/** The client's address as the server sees it. */
export function clientAddress(req: Pick<IncomingMessage, 'socket' | 'headers'>): string | undefined {
  return req.socket?.remoteAddress;
}
