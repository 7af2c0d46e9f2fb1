/**
 * @module storage/lowdb/journal
 * An append-only, fsync'ed log of changes beside the lowdb file, so that a write costs the size
 * of the change rather than the size of the store. One line is one group of changes (one turn)
 * and is applied whole or not at all: a torn last line (the process died while appending it)
 * was never acknowledged and is ignored. The store compacts the journal into the main file now
 * and then (see lowdb-store.ts).
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
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
  /** Reads what is there (call before `open`). */
  read(): Promise<JournalContents>;
  /** Opens the file for appending (creates it). */
  open(): Promise<void>;
  /** Appends text (whole lines) and waits until it is on disk. */
  append(text: string): Promise<void>;
  /** Empties the journal durably (after its content reached the main file). */
  reset(): Promise<void>;
  /** Bytes in the journal now. */
  bytes(): number;
  close(): Promise<void>;
}

/** Creates the journal kept at `path`. */
export function createJournal(path: string): Journal {
  let handle: FileHandle | undefined;
  let size = 0;

  function opened(): FileHandle {
    if (!handle) throw new Error(`journal ${path} is not open`);
    return handle;
  }

  return {
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], tornTail: false };
        throw err;
      }
      const parts = text.split('\n');
      const tail = parts.pop() ?? '';
      return { lines: parts.filter((l) => l.length > 0), tornTail: tail.length > 0 };
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
    },

    bytes: () => size,

    async close() {
      const h = handle;
      handle = undefined;
      await h?.close();
    },
  };
}
