/**
 * A mail server on 127.0.0.1 for the alert e-mails' tests, made with the `smtp-server` package (the
 * server side of the Nodemailer project): it checks the login when given one, records each message
 * that arrives (envelope, headers and text decoded), and answers as scripted: accept, refuse for
 * now (451) or for good (550), or hang (the message's data is read and never answered). `stop()`
 * closes the port (connections refused), `start()` opens it again. `createSilentServer()` is a
 * port that accepts connections and never greets (a server that hangs from the start).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message as the server received it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** Header names lower-cased, values unfolded and decoded (RFC 2047). */
  headers: Record<string, string>;
  subject: string;
  /** The text part, decoded (quoted-printable or base64). */
  text: string;
  raw: string;
}

/** How to answer one message. */
export type MailAnswer = 'accept' | 'refuse-for-now' | 'refuse-for-good' | 'hang';

export interface FakeSmtp {
  readonly port: number;
  readonly url: string;
  received: ReceivedMail[];
  /** Every message's data the server was handed, answered or not. */
  attempts: number;
  /** Every connection a client opened (a try that timed out before its data counts here only). */
  connections: number;
  /** Answers the next messages with these, in order, then `fallback`. */
  script(...answers: MailAnswer[]): void;
  fallback: MailAnswer;
  /** Resolves when `n` messages have been accepted. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Closes the port: connections are refused (until `start()`). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Decodes RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=). */
export function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=(\s+(?==\?))?/g, (_, _charset: string, enc: string, data: string) => {
    if (enc.toUpperCase() === 'B') return Buffer.from(data, 'base64').toString('utf8');
    const bytes = data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  });
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Headers and text of a single-part text message as nodemailer writes it. */
export function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const body = raw.slice(split + 4);
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body;
  return { headers, text: text.replace(/\r\n/g, '\n') };
}

/** Starts the server; `login` makes it require that user and password. */
export async function createFakeSmtp(options: { login?: { user: string; pass: string } } = {}): Promise<FakeSmtp> {
  const received: ReceivedMail[] = [];
  const answers: MailAnswer[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const hanging: Array<() => void> = [];
  let attempts = 0;
  let connections = 0;

  const serverOptions: SMTPServerOptions = {
    secure: false,
    disabledCommands: options.login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.login,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 200,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (options.login && auth.username === options.login.user && auth.password === options.login.pass) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        attempts += 1;
        const answer = answers.shift() ?? fake.fallback;
        if (answer === 'hang') {
          // Never answered; the test's end (close) lets it go.
          hanging.push(() => callback(Object.assign(new Error('closing'), { responseCode: 421 })));
          return;
        }
        if (answer === 'refuse-for-now') return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        if (answer === 'refuse-for-good') return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, text } = parseMail(raw);
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          headers,
          subject: headers.subject ?? '',
          text,
          raw,
        });
        for (const w of [...waiters]) {
          if (received.length >= w.n) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
        callback();
      });
    },
  };

  let port = 0;
  let smtp: SMTPServer | undefined;
  const open = async () => {
    smtp = new SMTPServer(serverOptions);
    smtp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      smtp!.server.once('error', reject);
      smtp!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (smtp.server.address() as AddressInfo).port;
  };
  const shut = async () => {
    if (!smtp) return;
    const s = smtp;
    smtp = undefined;
    for (const h of hanging.splice(0)) h();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await open();

  const fake: FakeSmtp = {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    received,
    get attempts() {
      return attempts;
    },
    get connections() {
      return connections;
    },
    script: (...a) => void answers.push(...a),
    fallback: 'accept',
    waitFor(n, timeoutMs = 20_000) {
      if (received.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fake SMTP: ${received.length} of ${n} messages after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    stop: shut,
    start: open,
    close: shut,
  };
  return fake;
}

/** A port that accepts connections and never says a word (an SMTP server hanging before its greeting). */
export async function createSilentServer(): Promise<{ url: string; connections: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
