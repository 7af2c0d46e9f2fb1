/**
 * @module server/http
 * Small helpers over restify's request/response: raw bodies (signatures are computed over the
 * exact bytes), JSON answers, and the translation to the channel-neutral ChannelRequest.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'restify';
import type { ChannelRequest, ChannelResponse } from '../core/ports.js';
import type { ClientAddress } from '../util/client-address.js';

/** Largest request body accepted (webhooks and API calls are small). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the whole request body as bytes; rejects bodies over MAX_BODY_BYTES. */
export async function readRawBody(req: Request): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as unknown as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('request body too large'), { statusCode: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads and parses a JSON body; undefined for an empty body, an error with status 400 when malformed. */
export async function readJsonBody(req: Request): Promise<unknown> {
  const raw = await readRawBody(req);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw Object.assign(new Error('the request body is not valid JSON'), { statusCode: 400 });
  }
}

/**
 * The channel-neutral view of a request. `addressOf` decides which address the request comes from
 * (util/client-address: the socket's peer, or X-Forwarded-For from trusted proxies), so every limit
 * by address follows TRUST_PROXY.
 */
export function toChannelRequest(req: Request, rawBody: Buffer, addressOf: ClientAddress): ChannelRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const query: Record<string, string | undefined> = {};
  const search = req.url?.indexOf('?') ?? -1;
  if (search >= 0) for (const [k, v] of new URLSearchParams(req.url!.slice(search + 1))) query[k] = v;
  return { method: req.method ?? 'GET', headers, query, rawBody, remoteAddress: addressOf(req.socket?.remoteAddress, req.headers['x-forwarded-for']) };
}

/**
 * Writes a ChannelResponse. A body that is a Readable is streamed (a channel's event stream) and
 * the promise settles when it ends or the client goes away (the stream is then destroyed).
 */
export async function sendChannelResponse(res: Response, answer: ChannelResponse): Promise<void> {
  const headers = { ...answer.headers, 'cache-control': 'no-store' };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  if (answer.body instanceof Readable) {
    res.writeHead(answer.status, { ...headers, 'content-type': answer.contentType ?? 'application/octet-stream', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    await pipeline(answer.body, res).catch(() => undefined); // a client that leaves early is no error
    return;
  }
  if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) {
    res.writeHead(answer.status, { ...headers, 'content-type': answer.contentType ?? 'text/plain; charset=utf-8' });
    res.end(answer.body);
    return;
  }
  res.writeHead(answer.status, { ...headers, 'content-type': answer.contentType ?? 'application/json' });
  res.end(JSON.stringify(answer.body));
}

/** Writes a JSON answer. */
export function sendJson(res: Response, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
