/**
 * The admin socket a server on the embedded store listens on: requests are checked with zod,
 * the command's output and exit code come back as they were written, stdin reaches the command
 * and is never logged, and the socket is private to its user (0600).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { adminSocketPath, sendAdminCommand, startAdminSocket, type AdminSocket } from '../../src/cli/admin-socket.js';
import { createLogger } from '../../src/util/logger.js';
import { capture } from '../helpers/capture.js';

let dir: string;
let socket: AdminSocket | undefined;
let logged = '';
const logger = createLogger({
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _e, cb) {
      logged += chunk.toString();
      cb();
    },
  }),
});

afterEach(async () => {
  await socket?.close();
  socket = undefined;
  logged = '';
  rmSync(dir, { recursive: true, force: true });
});

/** Sends raw bytes and collects the answer lines. */
function raw(path: string, text: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path, () => conn.end(text));
    let answer = '';
    conn.on('data', (c: Buffer) => (answer += c.toString()));
    conn.once('error', reject);
    conn.once('close', () => resolve(answer.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)));
  });
}


describe('the admin socket', () => {
  it('runs a command with the stdin sent, relays stdout, stderr and the exit code, and logs neither stdin nor output', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-admin-'));
    const path = adminSocketPath(join(dir, 'sportello.json'));
    expect(path).toBe(join(dir, '.sportello.json.sock'));
    socket = await startAdminSocket({
      path,
      logger,
      run: async (argv, io) => {
        let input = '';
        for await (const chunk of io.stdin) input += String(chunk);
        io.stdout.write(`argv=${argv.join(',')}\n`);
        io.stderr.write(`read ${input.length} characters\n`);
        return 3;
      },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const t = capture();
    const code = await sendAdminCommand({ pid: process.pid, since: '', socket: path }, { v: 1, argv: ['operator', 'add', '--name', 'X'], stdin: 'segreto-lungo-42\n' }, t.io);
    expect(code).toBe(3);
    expect(t.out()).toBe('argv=operator,add,--name,X\n');
    expect(t.err()).toBe('read 17 characters\n');
    expect(logged).toMatch(/"command":"operator add","exit":3/);
    expect(logged).not.toContain('segreto');
  });

  it('refuses a request that is not JSON or not a command, with exit 2, running nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-admin-'));
    const path = adminSocketPath(join(dir, 'sportello.json'));
    let ran = 0;
    socket = await startAdminSocket({
      path,
      logger,
      run: async () => {
        ran += 1;
        return 0;
      },
    });
    expect(await raw(path, 'not json\n')).toEqual([{ err: expect.stringMatching(/bad admin request: not JSON/) }, { exit: 2 }]);
    expect(await raw(path, '{"v":1,"argv":[]}\n')).toEqual([{ err: expect.stringMatching(/bad admin request: argv: .*/) }, { exit: 2 }]);
    expect(await raw(path, '{"v":2,"argv":["operator","list"]}\n')).toEqual([{ err: expect.stringMatching(/bad admin request: v: /) }, { exit: 2 }]);
    expect(await raw(path, '{"v":1,"argv":["operator","list"],"stdin":42}\n')).toEqual([{ err: expect.stringMatching(/bad admin request: stdin: /) }, { exit: 2 }]);
    expect(ran).toBe(0);
    // A well-formed request still works afterwards.
    expect(await raw(path, '{"v":1,"argv":["operator","list"]}\n')).toEqual([{ exit: 0 }]);
    expect(ran).toBe(1);
  });

  it('reports a command that threw as exit 1 with its message', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-admin-'));
    const path = adminSocketPath(join(dir, 'sportello.json'));
    socket = await startAdminSocket({
      path,
      logger,
      run: async () => {
        throw new Error('disk full');
      },
    });
    const t = capture();
    expect(await sendAdminCommand({ pid: process.pid, since: '', socket: path }, { v: 1, argv: ['export'] }, t.io)).toBe(1);
    expect(t.err()).toBe('sportello: disk full\n');
  });

  it('puts the socket in the temp folder when the path beside a deeply nested file would be too long', () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-admin-'));
    const deep = join(dir, 'a'.repeat(60), 'b'.repeat(60), 'sportello.json');
    const path = adminSocketPath(deep);
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(100);
    expect(path).toMatch(/sportello-[0-9a-f]{16}\.sock$/);
    expect(adminSocketPath(deep)).toBe(path);
  });

  it('says nothing was changed when nobody listens', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-admin-'));
    const t = capture();
    await expect(sendAdminCommand({ pid: 4321, since: '', socket: join(dir, 'none.sock') }, { v: 1, argv: ['operator', 'list'] }, t.io, { connectWithinMs: 200 })).rejects.toThrow(
      /server \(pid 4321\) holds the store, but its admin socket .*none\.sock cannot be reached \(ENOENT\); nothing was changed/,
    );
    expect(t.out()).toBe('');
  });
});
