/**
 * @module storage/lowdb/durable-json-file
 * A lowdb adapter that writes a JSON file so that a completed write survives a crash of the
 * process or of the machine: the text goes to a temporary file, is fsync'ed, renamed over the
 * real file (atomic on POSIX), and the directory is fsync'ed so the rename itself is durable.
 * lowdb's own JSONFile (steno) is atomic too but never fsyncs, so a power cut could lose
 * writes it had already acknowledged. The file is readable by its owner only (0600): it holds
 * customers' messages and, without SESSION_SECRET, the secret that signs operator sessions.
 */
import { chmod, open, readFile, rename, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

/** Reads and writes one JSON document durably; `parse` checks what was read. */
export class DurableJsonFile<T> implements Adapter<T> {
  readonly #file: string;
  readonly #temp: string;
  readonly #parse: (data: unknown) => T;
  #bytes = 0;

  constructor(file: string, parse: (data: unknown) => T) {
    this.#file = file;
    this.#temp = join(dirname(file), `.${basename(file)}.tmp`);
    this.#parse = parse;
  }

  /** Size in bytes of the file as last read or written. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The document, or null when the file does not exist yet. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    this.#bytes = Buffer.byteLength(text);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.#file} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    return this.#parse(data);
  }

  /** Replaces the file with `data`; resolves once the new content is on disk. */
  async write(data: T): Promise<void> {
    const text = JSON.stringify(data);
    const handle = await openPrivate(this.#temp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.#temp, this.#file);
    await syncDirectory(dirname(this.#file));
    this.#bytes = Buffer.byteLength(text);
  }


  /**
   * Replaces the file with the concatenation of `parts` (which must make one JSON document of
   * what `parse` accepts). Parts are produced and written one after the other, so a large store
   * is serialised in slices without holding the event loop for the whole of it.
   */
  async writeParts(parts: Iterable<string>): Promise<void> {
    const handle = await openPrivate(this.#temp, 'w');
    let bytes = 0;
    try {
      let pending: string[] = [];
      let pendingLength = 0;
      for (const part of parts) {
        pending.push(part);
        pendingLength += part.length;
        if (pendingLength >= WRITE_CHUNK) {
          const chunk = pending.join('');
          pending = [];
          pendingLength = 0;
          bytes += Buffer.byteLength(chunk);
          await handle.write(chunk, null, 'utf8');
        }
      }
      const rest = pending.join('');
      bytes += Buffer.byteLength(rest);
      await handle.write(rest, null, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.#temp, this.#file);
    await syncDirectory(dirname(this.#file));
    this.#bytes = bytes;
  }
}

/** Characters gathered before one write call while writing in parts. */
const WRITE_CHUNK = 256 * 1024;

/** Makes a rename or a new file in `dir` durable. Windows cannot open a directory for fsync; there it is skipped. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** File mode of the store's files: read and write for the owner, nothing for anyone else. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Opens (creating) a file readable by its owner only; an existing file keeps its content but
 * loses any access other users had (a temporary file a crash left behind, an older journal).
 */
export async function openPrivate(path: string, flags: 'w' | 'a'): Promise<FileHandle> {
  const handle = await open(path, flags, PRIVATE_FILE_MODE);
  try {
    if (process.platform !== 'win32' && ((await handle.stat()).mode & 0o077) !== 0) await handle.chmod(PRIVATE_FILE_MODE);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/**
 * Takes other users' access away from an existing file (one an older version created 0644);
 * returns the mode it had when it changed it, undefined when there was nothing to do.
 */
export async function makePrivate(path: string): Promise<number | undefined> {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((mode & 0o077) === 0) return undefined;
  await chmod(path, PRIVATE_FILE_MODE);
  return mode;
}
