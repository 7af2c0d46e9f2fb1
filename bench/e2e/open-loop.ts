/**
 * The fixed-rate load of `bench:e2e`: requests leave at evenly spaced moments (open loop), whatever
 * the answers do, over keep-alive HTTP/1.1 connections, and each latency counts from the moment
 * the request was due, so a server (or generator) that falls behind shows it.
 *
 * The generator shares the machine's two cores with the servers it measures, so it is kept lean:
 * each request's bytes are built before the pass, written to an idle connection as one buffer,
 * and only the status line and framing of each response are read (Content-Length or chunked).
 * Node's `http.request` cost about 0.35–0.4 ms of CPU per request here, a fifth of a core at
 * 500 msg/s taken from the systems under test.
 */
import net from 'node:net';

/**
 * A connection idle this long is closed by the generator, well before a server's keep-alive
 * timeout (Node's default is 5 s) could close it just as a request is written to it.
 */
const IDLE_CLOSE_MS = 1000;

/** One request ready to write: its bytes, and when it was sent (set by the caller). */
export interface RawRequest {
  bytes: Buffer;
}

/** Builds the bytes of a POST with a body. */
export function rawPost(url: URL, path: string, headers: Record<string, string>, body: string): RawRequest {
  const payload = Buffer.from(body);
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${url.host}`, 'Connection: keep-alive'];
  for (const [name, value] of Object.entries(headers)) {
    if (/^(host|connection|content-length)$/i.test(name)) continue;
    lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${payload.length}`);
  return { bytes: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]) };
}

/** What one response reports. */
export type Outcome = { status: number } | { error: Error };

/**
 * Parses HTTP/1.1 responses from a byte stream, one at a time: status line, headers, then a body
 * framed by Content-Length or chunked transfer coding (1xx responses are skipped).
 */
export class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);
  private status = 0;
  /** Body bytes still to skip, or 'chunked' while reading chunks, or -1 while reading headers. */
  private remaining: number | 'chunked' = -1;

  constructor(private readonly onResponse: (status: number) => void) {}

  push(data: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    for (;;) {
      if (this.remaining === -1) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 4);
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        if (!match) throw new Error(`not an HTTP response: ${JSON.stringify(head.slice(0, 40))}`);
        this.status = Number(match[1]);
        if (this.status >= 100 && this.status < 200) continue;
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) this.remaining = 'chunked';
        else this.remaining = length ? Number(length[1]) : 0;
      }
      if (this.remaining === 'chunked') {
        const lineEnd = this.buffer.indexOf('\r\n');
        if (lineEnd < 0) return;
        const size = parseInt(this.buffer.subarray(0, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        if (size === 0) {
          // Last chunk: no trailers expected, just the closing CRLF.
          if (this.buffer.length < lineEnd + 4) return;
          this.buffer = this.buffer.subarray(lineEnd + 4);
          this.done();
          continue;
        }
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
        continue;
      }
      if (this.buffer.length < this.remaining) return;
      this.buffer = this.buffer.subarray(this.remaining);
      this.done();
    }
  }

  private done(): void {
    this.remaining = -1;
    this.onResponse(this.status);
  }
}

/** Keep-alive connections to one server; each request goes to an idle one (opened when none is). */
export class ConnectionPool {
  private idle: Connection[] = [];
  private all = new Set<Connection>();
  /** Requests waiting for a connection (only once `maxConnections` are busy). */
  private waiting: Array<{ request: RawRequest; done: (outcome: Outcome) => void }> = [];

  constructor(
    private readonly url: URL,
    private readonly maxConnections: number,
  ) {}

  send(request: RawRequest, done: (outcome: Outcome) => void): void {
    const connection = this.idle.pop() ?? (this.all.size < this.maxConnections ? this.open() : undefined);
    if (connection) connection.send(request, done);
    else this.waiting.push({ request, done });
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle = [];
  }

  private open(): Connection {
    const connection = new Connection(
      this.url,
      () => this.release(connection),
      () => {
        this.all.delete(connection);
        this.idle = this.idle.filter((c) => c !== connection);
        // A request waiting for a connection gets a new one in place of the closed one.
        const next = this.waiting.shift();
        if (next) this.open().send(next.request, next.done);
      },
    );
    this.all.add(connection);
    return connection;
  }

  private release(connection: Connection): void {
    const next = this.waiting.shift();
    if (next) connection.send(next.request, next.done);
    else this.idle.push(connection);
  }
}

class Connection {
  readonly socket: net.Socket;
  private current?: (outcome: Outcome) => void;
  private reader: ResponseReader;

  constructor(url: URL, onIdle: () => void, onClosed: () => void) {
    this.socket = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    this.socket.setTimeout(IDLE_CLOSE_MS, () => {
      if (!this.current) this.socket.destroy();
    });
    this.reader = new ResponseReader((status) => {
      const done = this.current;
      this.current = undefined;
      done?.({ status });
      onIdle();
    });
    this.socket.on('data', (data) => {
      try {
        this.reader.push(data);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      this.fail(new Error('connection closed'));
      onClosed();
    });
  }

  send(request: RawRequest, done: (outcome: Outcome) => void): void {
    this.current = done;
    this.socket.write(request.bytes);
  }

  private fail(error: Error): void {
    const done = this.current;
    this.current = undefined;
    done?.({ error });
    this.socket.destroy();
  }
}
