/**
 * @module cli/admin-socket
 * How a CLI command reaches a running server's embedded store. Only one process may have a lowdb
 * file open (`storage/lowdb/file-lock.ts`); a server holding it listens on a Unix socket beside
 * the file (mode 0600) and records the socket's path in the lock. A command such as
 * `sportello operator add` then sends its arguments (and what it read from stdin: a password,
 * an import document) to the server, which runs the very same command function against its own
 * store and streams back stdout, stderr and the exit code.
 *
 * Protocol: one connection per command. The client sends one JSON line
 * `{"v":1,"argv":[…],"stdin":"…"}`; the server answers with JSON lines `{"out":"…"}`,
 * `{"err":"…"}` and finally `{"exit":N}`, then closes. Requests are checked with zod; stdin is
 * never logged.
 */
import { createHash } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { StoreError } from '../core/errors.js';
import type { Logger } from '../util/logger.js';
import type { LockHolder } from '../storage/lowdb/file-lock.js';

/** Largest request accepted (an import document travels in it). */
export const MAX_REQUEST_BYTES = 512 * 1024 * 1024;

/** Unix socket paths are limited to ~107 bytes; longer ones go to the temp folder. */
const MAX_SOCKET_PATH = 100;

/** A command sent to the server. */
export const adminRequestSchema = z.object({
  v: z.literal(1),
  argv: z.array(z.string().max(100_000)).min(1).max(200),
  stdin: z.string().optional(),
});
export type AdminRequest = z.infer<typeof adminRequestSchema>;

const frameSchema = z.union([z.object({ out: z.string() }), z.object({ err: z.string() }), z.object({ exit: z.number().int() })]);

/** The streams a command gets on the server side (as the CLI's `Io`). */
export interface AdminIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Runs one command on the server; resolves with its exit code. */
export type AdminRunner = (argv: string[], io: AdminIo) => Promise<number>;

/** Where the server of lowdb file `dataFile` listens: beside the file, or in the temp folder if that path is too long. */
export function adminSocketPath(dataFile: string): string {
  const file = resolve(dataFile);
  const beside = join(dirname(file), `.${basename(file)}.sock`);
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH) return beside;
  return join(tmpdir(), `sportello-${createHash('sha1').update(file).digest('hex').slice(0, 16)}.sock`);
}

/** A listening admin socket. */
export interface AdminSocket {
  path: string;
  /** Stops accepting commands and waits for those under way. */
  close(): Promise<void>;
}

/** Listens on `path` (mode 0600) and runs each command received with `run`. */
export async function startAdminSocket(options: { path: string; run: AdminRunner; logger: Logger }): Promise<AdminSocket> {
  const { path, run, logger } = options;
  // The caller holds the file's lock, so a socket file left there is a dead server's.
  await rm(path, { force: true });
  const running = new Set<Promise<void>>();
  const server: Server = createServer((socket) => {
    const done = serve(socket, run, logger).catch((err: unknown) => logger.error({ err }, 'admin command failed'));
    running.add(done);
    void done.finally(() => running.delete(done));
  });
  await new Promise<void>((resolveListen, reject) => {
    const fail = (err: Error) => reject(new StoreError(`cannot listen for CLI commands on ${path}: ${err.message}`, { cause: err }));
    server.once('error', fail);
    // connect() needs write permission on the socket: it is created 0600 (this user and root
    // only; the bind happens inside listen(), synchronously, under this umask), so no other user
    // can connect in the moment before the chmod below would have closed it.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', fail);
        resolveListen();
      });
    } finally {
      process.umask(umask);
    }
  });
  await chmod(path, 0o600);
  return {
    path,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(running);
      await rm(path, { force: true });
    },
  };
}

async function serve(socket: Socket, run: AdminRunner, logger: Logger): Promise<void> {
  const send = (frame: z.infer<typeof frameSchema>) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
  };
  let request: AdminRequest;
  try {
    request = await readRequest(socket);
  } catch (err) {
    send({ err: `sportello: bad admin request: ${(err as Error).message}\n` });
    send({ exit: 2 });
    socket.end();
    return;
  }
  const stdout = frameWriter((text) => send({ out: text }));
  const stderr = frameWriter((text) => send({ err: text }));
  const stdin = Readable.from(request.stdin ? [request.stdin] : []);
  // The command as logged: its first two words (never stdin: it may hold a password).
  const command = request.argv.slice(0, 2).join(' ');
  let code: number;
  try {
    code = await run(request.argv, { stdin, stdout, stderr });
  } catch (err) {
    logger.error({ err, command }, 'admin command failed');
    stderr.write(`sportello: ${(err as Error).message}\n`);
    code = 1;
  }
  logger.info({ command, exit: code }, 'admin command');
  send({ exit: code });
  socket.end();
}

function frameWriter(send: (text: string) => void): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      send(chunk.toString());
      callback();
    },
  });
}

/** Reads the request line (up to MAX_REQUEST_BYTES) and checks it. */
function readRequest(socket: Socket): Promise<AdminRequest> {
  return new Promise((resolveRequest, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      const end = chunk.indexOf(10);
      chunks.push(end >= 0 ? chunk.subarray(0, end) : chunk);
      size += chunk.length;
      if (end >= 0) {
        cleanup();
        try {
          const parsed = adminRequestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          if (parsed.success) resolveRequest(parsed.data);
          else reject(new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')));
        } catch (err) {
          reject(new Error(`not JSON (${(err as Error).message})`));
        }
      } else if (size > MAX_REQUEST_BYTES) {
        cleanup();
        reject(new Error(`larger than ${MAX_REQUEST_BYTES} bytes`));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('the connection closed before a whole request arrived'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}

/** The server could not be asked (`beforeSending`: nothing was sent, so nothing was done), or its answer was cut off. */
export class AdminUnreachableError extends Error {
  constructor(
    message: string,
    readonly beforeSending: boolean,
  ) {
    super(message);
  }
}

/**
 * Sends `request` to the server holding the lock and relays what it prints; resolves with its
 * exit code. Retries the connection for up to `connectWithinMs` (a server that just took the
 * lock may not listen yet); throws AdminUnreachableError if it never answers.
 */
export async function sendAdminCommand(holder: LockHolder & { socket: string }, request: AdminRequest, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, options: { connectWithinMs?: number } = {}): Promise<number> {
  const deadline = Date.now() + (options.connectWithinMs ?? 5000);
  let socket: Socket;
  for (;;) {
    try {
      socket = await connect(holder.socket);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (Date.now() >= deadline) {
        throw new AdminUnreachableError(
          `the Sportello server (pid ${holder.pid}) holds the store, but its admin socket ${holder.socket} cannot be reached (${code}); nothing was changed. ` +
            'If that server is stuck, stop it and run the command again.',
          true,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return new Promise<number>((resolveExit, reject) => {
    let buffer = '';
    let exit: number | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        let frame: z.infer<typeof frameSchema>;
        try {
          frame = frameSchema.parse(JSON.parse(line));
        } catch {
          socket.destroy();
          reject(new AdminUnreachableError(`the server at ${holder.socket} answered something that is not an admin reply; the command may or may not have been applied`, false));
          return;
        }
        if ('out' in frame) io.stdout.write(frame.out);
        else if ('err' in frame) io.stderr.write(frame.err);
        else exit = frame.exit;
      }
    });
    socket.once('error', () => undefined);
    socket.once('close', () => {
      if (exit !== undefined) resolveExit(exit);
      else reject(new AdminUnreachableError(`the connection to the Sportello server (pid ${holder.pid}) closed before it answered; the command may or may not have been applied: check before running it again`, false));
    });
    socket.write(`${JSON.stringify(request)}\n`);
  });
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolveSocket, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolveSocket(socket);
    });
    socket.once('error', reject);
  });
}
