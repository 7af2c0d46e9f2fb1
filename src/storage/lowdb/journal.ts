/**
 * @module storage/lowdb/journal
 * An append-only, fsync'ed log of changes beside the lowdb file, so that a write costs the size
 * of the change rather than the size of the store. One line is one group of changes (one turn)
 * and is applied whole or not at all. Each line starts with the mutation's number; the numbers
 * follow each other without gaps, and `checkJournal` refuses a journal whose numbers do not, whose
 * lines are damaged, or whose main file is missing. A torn last line (the process died while
 * appending it) was never acknowledged: it is cut off. The store compacts the journal into the main file now
 * and then (see lowdb-store.ts). To compact without stopping writes, the journal is rotated:
 * the current file becomes `<path>.prev` (everything the coming snapshot holds) and appends go
 * to a new file; once the snapshot is on disk, `.prev` is deleted. Reading returns `.prev`'s
 * lines, then the current file's. The journal is readable by its owner only (0600), as the main file.
 */
import { readFile, rename, rm, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from '../../core/errors.js';
import { openPrivate, syncDirectory } from './durable-json-file.js';

/** One complete line of an existing journal, with where it is (for messages). */
export interface JournalLine {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  text: string;
}

/** What was found in an existing journal. */
export interface JournalContents {
  /** Complete lines, in order: the rotated-out file's, then the current file's. */
  lines: JournalLine[];
  /** An incomplete last line (the process died while appending it), if any. */
  torn?: { file: string; line: number; bytes: number };
  /** An incomplete line in `.prev` followed by more lines: damage, not a crash mid-append. */
  tornInside?: { file: string; line: number };
  /** True when either file exists and is not empty. */
  present: boolean;
}

/** The journal cannot be replayed safely: the store must not start. */
export class JournalError extends StoreError {}

/** A line that was checked and is to be applied: its mutation number and what it holds. */
export interface CheckedEntry<T> {
  seq: number;
  value: T;
}

/**
 * Checks a journal before anything of it is applied, and returns the entries the main file does
 * not hold yet. Refused (JournalError naming the file and line): a journal without its main
 * file (replaying it onto an empty store would start on a partial store), a line that is not
 * JSON or not an entry, a number not one more than the line before (a gap, or going
 * backwards), a first entry past the one after the main file's last (`fileSeq`), an incomplete
 * line that is not the very last. Tolerated: an incomplete last line, the one write a crash can
 * cut short; it was never acknowledged (its fsync had not returned) and is reported in `torn`.
 */
export function checkJournal<T>(
  contents: JournalContents,
  options: { mainFile: string; mainFileExists: boolean; fileSeq: number; parse: (value: unknown) => { seq: number; value: T } | { error: string } },
): { entries: CheckedEntry<T>[]; torn?: JournalContents['torn'] } {
  if (!options.mainFileExists && contents.present) {
    const where = contents.lines[0]?.file ?? contents.torn?.file ?? 'the journal';
    throw new JournalError(
      `${where} exists but ${options.mainFile} does not: the journal holds only the changes since the last full write, ` +
        `so replaying it onto an empty store would start on a partial store (operators, cases and history missing). ` +
        `Restore ${options.mainFile} (from a backup), or move the journal away to start an empty store on purpose.`,
    );
  }
  if (contents.tornInside) {
    throw new JournalError(`${contents.tornInside.file}:${contents.tornInside.line}: incomplete line followed by more entries; the journal is damaged`);
  }
  const entries: CheckedEntry<T>[] = [];
  let previous: number | undefined;
  for (const { file, line, text } of contents.lines) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new JournalError(`${file}:${line}: not valid JSON (${(err as Error).message}); the journal is damaged`, { cause: err });
    }
    const parsed = options.parse(value);
    if ('error' in parsed) throw new JournalError(`${file}:${line}: not a journal entry (${parsed.error}); the journal is damaged`);
    const { seq } = parsed;
    if (previous !== undefined && seq !== previous + 1) {
      throw new JournalError(
        seq <= previous
          ? `${file}:${line}: entry ${seq} comes after entry ${previous} (the numbers go backwards); the journal is damaged`
          : `${file}:${line}: entry ${seq} follows entry ${previous}: entr${seq - previous === 2 ? `y ${previous + 1} is` : `ies ${previous + 1}–${seq - 1} are`} missing; the journal is damaged`,
      );
    }
    if (previous === undefined && seq > options.fileSeq + 1) {
      throw new JournalError(
        `${file}:${line}: the journal starts at entry ${seq} but ${options.mainFile} holds entries up to ${options.fileSeq}: ` +
          `entr${seq - options.fileSeq === 2 ? `y ${options.fileSeq + 1} is` : `ies ${options.fileSeq + 1}–${seq - 1} are`} missing; the journal is damaged`,
      );
    }
    previous = seq;
    // Entries the main file already holds (a crash between writing it and emptying the journal).
    if (seq > options.fileSeq) entries.push({ seq, value: parsed.value });
  }
  return { entries, ...(contents.torn ? { torn: contents.torn } : {}) };
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

  interface FileLines {
    lines: JournalLine[];
    /** The incomplete last line, if the file does not end with a newline. */
    tail?: { line: number; bytes: number; keep: number };
    present: boolean;
    exists: boolean;
  }

  async function readLines(file: string): Promise<FileLines> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], present: false, exists: false };
      throw err;
    }
    const parts = text.split('\n');
    const tail = parts.pop() ?? '';
    const lines: JournalLine[] = [];
    parts.forEach((t, i) => {
      if (t.length > 0) lines.push({ file, line: i + 1, text: t });
    });
    const result: FileLines = { lines, present: text.length > 0, exists: true };
    if (tail.length > 0) result.tail = { line: parts.length + 1, bytes: Buffer.byteLength(tail), keep: Buffer.byteLength(text) - Buffer.byteLength(tail) };
    return result;
  }

  /** Set by `read()`: bytes of the current file up to its last newline, when it ends in a torn line. */
  let cutAt: number | undefined;

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
      const contents: JournalContents = { lines: [...before.lines, ...current.lines], present: before.present || current.present };
      if (before.tail && current.lines.length > 0) contents.tornInside = { file: previous, line: before.tail.line };
      const torn = current.tail ? { file: path, ...current.tail } : before.tail ? { file: previous, ...before.tail } : undefined;
      if (torn) contents.torn = { file: torn.file, line: torn.line, bytes: torn.bytes };
      cutAt = current.tail?.keep;
      return contents;
    },

    async open() {
      // A torn last line was never acknowledged: cut it off, so nothing is ever appended after it.
      if (cutAt !== undefined) {
        await truncate(path, cutAt);
        cutAt = undefined;
      }
      handle = await openPrivate(path, 'a');
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
      handle = await openPrivate(path, 'a');
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
