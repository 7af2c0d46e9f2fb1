/**
 * The fixed-rate load generator of bench:e2e reads responses itself (status line and framing):
 * checked against Node's own HTTP server, which answers with Content-Length or chunked bodies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionPool, rawPost, ResponseReader, type Outcome } from '../../bench/e2e/open-loop.js';

describe('bench open-loop generator', () => {
  let server: http.Server;
  let url: URL;
  const connections = new Set<string>();
  const bodies: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      connections.add(`${req.socket.remotePort}`);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        const path = req.url ?? '/';
        if (path === '/chunked') {
          res.writeHead(202, { 'content-type': 'text/plain' });
          res.write('first part, ');
          setTimeout(() => res.end('second part'), 5);
        } else if (path === '/close') {
          req.socket.destroy();
        } else {
          res.writeHead(path === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ echoed: body.length }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (pool: ConnectionPool, path: string, body = '{"a":1}') =>
    new Promise<Outcome>((resolve) => pool.send(rawPost(url, path, { 'content-type': 'application/json' }, body), resolve));

  it('reads sized and chunked responses in turn over one kept-alive connection', async () => {
    const pool = new ConnectionPool(url, 4);
    connections.clear();
    bodies.length = 0;
    expect(await send(pool, '/ok', '{"ciao":"è"}')).toEqual({ status: 200 });
    expect(await send(pool, '/chunked')).toEqual({ status: 202 });
    expect(await send(pool, '/missing')).toEqual({ status: 404 });
    expect(await send(pool, '/ok')).toEqual({ status: 200 });
    expect(connections.size).toBe(1);
    // Bodies arrive whole (Content-Length counts bytes, not characters).
    expect(bodies[0]).toBe('{"ciao":"è"}');
    pool.close();
  });

  it('opens more connections only while all are busy, up to the limit, and queues beyond it', async () => {
    const pool = new ConnectionPool(url, 2);
    connections.clear();
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => send(pool, '/chunked')));
    expect(outcomes).toEqual(Array(6).fill({ status: 202 }));
    expect(connections.size).toBe(2);
    pool.close();
  });

  it('reports a connection the server closes mid-request as an error, and carries on with a new one', async () => {
    const pool = new ConnectionPool(url, 1);
    // The second request waits for the only connection, which the server then closes.
    const [failed, next] = await Promise.all([send(pool, '/close'), send(pool, '/ok')]);
    expect('error' in failed).toBe(true);
    expect(next).toEqual({ status: 200 });
    expect(await send(pool, '/ok')).toEqual({ status: 200 });
    pool.close();
  });

  it('closes a connection left idle for a second itself, before a server could close it under a request', async () => {
    const pool = new ConnectionPool(url, 4);
    connections.clear();
    expect(await send(pool, '/ok')).toEqual({ status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await send(pool, '/ok')).toEqual({ status: 200 });
    expect(connections.size).toBe(2);
    pool.close();
  });

  it('parses responses split at any byte', () => {
    const statuses: number[] = [];
    const reader = new ResponseReader((status) => statuses.push(status));
    const stream = Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' +
        'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\n\r\n',
    );
    for (const byte of stream) reader.push(Buffer.from([byte]));
    expect(statuses).toEqual([200, 201, 204]);
    expect(() => new ResponseReader(() => undefined).push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/not an HTTP response/);
  });
});
