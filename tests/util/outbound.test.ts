/**
 * The shared outbound limits: a connection that never opens is dropped after the connect timeout
 * and counts as not sent (retrying cannot duplicate), a call that connected and got no answer is
 * of unknown outcome; Retry-After is read in both of its forms.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NetworkError } from '../../src/core/errors.js';
import { CONNECT_TIMEOUT_CODE, deliveryOf, outboundHttpAgent, outboundHttpsAgent, retryAfterAt } from '../../src/util/outbound.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TCP server that accepts connections and never says a word (no TLS handshake, no HTTP answer). */
async function silentServer(): Promise<number> {
  const server = createNetServer((socket) => void sockets.push(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function failure(send: (done: (err: Error) => void) => void): Promise<Error> {
  return new Promise((resolve) => send(resolve));
}

describe('outbound agents', () => {
  it('drops a connection whose TLS handshake never completes after the connect timeout: nothing was sent', async () => {
    const port = await silentServer();
    const agent = outboundHttpsAgent({ connectTimeoutMs: 200, timeoutMs: 60_000 });
    const err = await failure((done) => httpsRequest({ host: '127.0.0.1', port, path: '/', agent, rejectUnauthorized: false }, () => undefined).on('error', done).end());
    agent.destroy();
    expect((err as Error & { code?: string }).code).toBe(CONNECT_TIMEOUT_CODE);
    expect(deliveryOf(err)).toBe('not_sent');
    expect(new NetworkError('no answer', { cause: err }).delivery).toBe('not_sent');
  });

  it('leaves a call that connected and got no answer to the total timeout: its outcome is unknown', async () => {
    const port = await silentServer();
    const agent = outboundHttpAgent({ connectTimeoutMs: 200, timeoutMs: 60_000 });
    const err = await failure((done) =>
      httpRequest({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, signal: AbortSignal.timeout(400) }, () => undefined).on('error', done).end('{}'),
    );
    agent.destroy();
    // Connected in time (the connect timer did not fire); the answer never came.
    expect((err as Error & { code?: string }).code).not.toBe(CONNECT_TIMEOUT_CODE);
    expect(deliveryOf(err)).toBe('unknown');
    expect(new NetworkError('no answer', { cause: err }).delivery).toBe('unknown');
  });

  it('counts a refused connection as not sent', async () => {
    const port = await silentServer();
    await new Promise((r) => servers.pop()!.close(r));
    const agent = outboundHttpAgent({ connectTimeoutMs: 1000, timeoutMs: 5000 });
    const err = await failure((done) => httpRequest({ host: '127.0.0.1', port, agent }, () => undefined).on('error', done).end());
    agent.destroy();
    expect(deliveryOf(err)).toBe('not_sent');
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-24T09:00:00Z');
  it('reads seconds and HTTP dates; a past date means now; garbage means nothing', () => {
    expect(retryAfterAt('20', now)).toBe(now + 20_000);
    expect(retryAfterAt(['7'], now)).toBe(now + 7000);
    expect(retryAfterAt('Tue, 24 Nov 2026 09:01:30 GMT', now)).toBe(now + 90_000);
    expect(retryAfterAt('Tue, 24 Nov 2026 08:00:00 GMT', now)).toBe(now);
    expect(retryAfterAt('soon', now)).toBeUndefined();
    expect(retryAfterAt(undefined, now)).toBeUndefined();
    expect(retryAfterAt('-5', now)).toBeUndefined();
  });
});
