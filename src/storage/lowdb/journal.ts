/**
 * @module storage/lowdb/journal
 * An append-only, fsync'ed log of changes beside the lowdb file, so that a write costs the size
 * of the change rather than the size of the store. One line is one group of changes (one turn)
 * and is applied whole or not at all: a torn last line (the process died while appending it)
 * was never acknowledged and is ignored. The store compacts the journal into the main file now
 * and then (see lowdb-store.ts). To compact without stopping writes, the journal is rotated:
 * the current file becomes `<path>.prev` (everything the coming snapshot holds) and appends go
 * to a new file; once the snapshot is on disk, `.prev` is deleted. Reading returns `.prev`'s
 * lines, then the current file's.
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from './durable-json-file.js';

/** What was found in an existing journal. */
export interface JournalContents {
  /** Complete lines, in order. */
  lines: string[];
  /** True when the file ended in an incomplete line (dropped). */
  tornTail: boolean;
}

/** An append-only journal file. */
export interface Journal {
  /** Reads what is there, the rotated-out file first (call before `open`). */
  read(): Promise<JournalContents>;
  /** Opens the file for appending (creates it). */
  open(): Promise<void>;
  /** Appends text (whole lines) and waits until it is on disk. */
  append(text: string): Promise<void>;
  /** Empties the journal durably, the rotated-out file too (after their content reached the main file). */
  reset(): Promise<void>;
  /** Moves the current content aside (`.prev`) and continues in an empty file. */
  rotate(): Promise<void>;
  /** Deletes the rotated-out file (after the snapshot that holds it is on disk). */
  dropPrevious(): Promise<void>;
  /** Bytes in the journal now. */
  bytes(): number;
  close(): Promise<void>;
}

/** Creates the journal kept at `path`. */
export function createJournal(path: string): Journal {
  const previous = `${path}.prev`;
  let handle: FileHandle | undefined;
  let size = 0;
  let hasPrevious = false;

  function opened(): FileHandle {
    if (!handle) throw new Error(`journal ${path} is not open`);
    return handle;
  }

  async function readLines(file: string): Promise<JournalContents & { exists: boolean }> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], tornTail: false, exists: false };
      throw err;
    }
    const parts = text.split('\n');
    const tail = parts.pop() ?? '';
    return { lines: parts.filter((l) => l.length > 0), tornTail: tail.length > 0, exists: true };
  }

  async function dropPrevious(): Promise<void> {
    if (!hasPrevious) return;
    await rm(previous, { force: true });
    await syncDirectory(dirname(path));
    hasPrevious = false;
  }

  return {
    async read() {
      const before = await readLines(previous);
      const current = await readLines(path);
      hasPrevious = before.exists;
      return { lines: [...before.lines, ...current.lines], tornTail: before.tornTail || current.tornTail };
    },

    async open() {
      handle = await open(path, 'a');
      size = (await handle.stat()).size;
      // The file may be new: make its directory entry durable too.
      await syncDirectory(dirname(path));
    },

    async append(text) {
      const h = opened();
      await h.appendFile(text, 'utf8');
      await h.datasync();
      size += Buffer.byteLength(text);
    },

    async reset() {
      const h = opened();
      await h.truncate(0);
      await h.datasync();
      size = 0;
      await dropPrevious();
    },

    async rotate() {
      const h = opened();
      if (hasPrevious) throw new Error(`journal ${path}: the previous rotation is not finished`);
      handle = undefined;
      await h.close();
      await rename(path, previous);
      hasPrevious = true;
      handle = await open(path, 'a');
      size = 0;
      // Both names must survive a crash: the rename and the new file.
      await syncDirectory(dirname(path));
    },

    dropPrevious,

    bytes: () => size,

    async close() {
      const h = handle;
      handle = undefined;
      await h?.close();
    },
  };
}
