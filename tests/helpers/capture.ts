/** Test helper: standard streams for a command run in-process, keeping what it wrote. */
import { PassThrough, Readable } from 'node:stream';

/** `input`: what the command reads from standard input (empty by default). */
export function capture(input = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdin: Readable.from([input]), stdout, stderr }, out: () => out, err: () => err };
}
