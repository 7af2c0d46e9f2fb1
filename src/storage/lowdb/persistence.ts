/**
 * @module storage/lowdb/persistence
 * How the embedded store reaches the disk: one JSON file through lowdb plus an append-only journal
 * beside it. Each mutation (a group of puts) changes memory at once and resolves when a journal
 * append that started after it is on disk, so writes arriving together share one append. When the
 * journal grows past twice the main file, the whole store is written to the main file
 * (atomically) in the background: the journal is rotated, the records as they are at that moment
 * (records are replaced, never changed in place) are serialised slice by slice while writes go on
 * into the new journal, and the old journal is deleted once the file is on disk. A write costs the
 * size of the change, amortised, and never waits for a compaction. See docs/storage.md.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { StoreError } from '../../core/errors.js';
import { emptySnapshot, parseStoreSnapshot, type StoreSnapshot } from '../snapshot.js';
import { DurableJsonFile, makePrivate } from './durable-json-file.js';
import { checkJournal, createJournal } from './journal.js';
import type { Memory } from './memory.js';
import { freezeDeep, journalLineSchema, type Put } from './records.js';

/** Records serialised per slice while compacting: a slice takes about a millisecond. */
const SLICE = 500;

/** The snapshot as JSON text, in parts: the small fields first, then each list slice by slice. */
function* snapshotParts(snapshot: StoreSnapshot): Generator<string> {
  const { customers, conversations, cases, messages, outbox, deliveries = [], inbound, operators, suggestions, customerFiles = [], savedReplies = [], heard = [], audit = [], ...fields } = snapshot;
  const head = JSON.stringify(fields);
  yield head.slice(0, -1);
  const lists: Record<string, readonly unknown[]> = { customers, conversations, cases, messages, outbox, deliveries, inbound, operators, suggestions, customerFiles, savedReplies, heard, audit };
  for (const [name, list] of Object.entries(lists)) {
    yield `,${JSON.stringify(name)}:[`;
    for (let i = 0; i < list.length; i += SLICE) {
      // One native call per slice: the array's brackets dropped, its records comma-separated.
      yield (i > 0 ? ',' : '') + JSON.stringify(list.slice(i, i + SLICE)).slice(1, -1);
    }
    yield ']';
  }
  yield '}';
}

/** The embedded store's file and journal. */
export interface LowdbFile {
  /** Reads the main file and replays the journal into `mem`, then folds the journal into the file. */
  open(): Promise<void>;
  /** Writes what is left and leaves one self-contained file behind. */
  close(): Promise<void>;
  /** Applies puts to memory and queues them as one journal line; resolves once on disk. */
  commit(puts: Put[]): Promise<void>;
  /**
   * Like `commit`, for records the caller built: the store keeps them as they are, frozen (deep),
   * instead of a copy per write — records are replaced, never changed in place, and a caller
   * that tried to change one afterwards would get a TypeError rather than a store whose memory
   * differs from its disk.
   */
  commitRecords(puts: Put[]): Promise<void>;
  /** Writes the whole store to the main file (after an import changed memory directly). */
  rewrite(): Promise<void>;
  /** Resolves once everything changed so far is on disk. */
  flush(): Promise<void>;
  /** How many times the file was written since open (writes arriving together share one). */
  writes(): number;
  /** Before each write: forget what is too old (called at most once an hour). */
  onPrune(fn: () => void): void;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function openLowdbFile(
  options: { file: string; now: () => number; wholeFileBelow: number; compactAfter: number; warn: (message: string) => void },
  mem: Memory,
): LowdbFile {
  const { now, wholeFileBelow, compactAfter, warn } = options;
  const mainFile = new DurableJsonFile(options.file, parseStoreSnapshot);
  const db = new Low<StoreSnapshot>(mainFile, emptySnapshot(new Date(0).toISOString()));
  const journalFile = `${options.file}.journal`;
  const journal = createJournal(journalFile);
  let prune: () => void = () => undefined;
  let lastPrune = 0;
  let writes = 0;
  let scheduled: Promise<void> | undefined;
  let running: Promise<void> | undefined;
  /** Journal lines of mutations not yet written. */
  let unwritten: string[] = [];
  /** Set when the journal may hold a partial line or imports bypassed it: write the whole store next. */
  let compactNext = false;
  /**
   * Number of the last mutation applied to memory. Journal lines carry it and the main file
   * records the last one it holds, so lines the file already contains are never replayed over
   * newer states (a crash between writing the file and emptying the journal).
   */
  let seq = 0;
  /** The background compaction under way, if any. */
  let compacting: Promise<void> | undefined;

  const snapshot = (): StoreSnapshot => mem.toSnapshot(new Date(now()).toISOString(), seq, now());

  /** Writes the whole store to the main file, then empties the journal. */
  async function compact(): Promise<void> {
    compactNext = true;
    // The snapshot is serialised synchronously inside write(), so it holds exactly the
    // mutations made before this point (their journal lines are dropped just below).
    db.data = snapshot();
    unwritten = [];
    try {
      await db.write();
      // A crash here leaves journal lines the file already holds: their numbers are not above
      // the file's journalSeq, so they are skipped on replay.
      await journal.reset();
    } catch (err) {
      throw new StoreError(`could not write ${options.file}: ${(err as Error).message}`, { cause: err });
    }
    compactNext = false;
  }

  /**
   * Starts writing the whole store to the main file without holding up writes: the journal is
   * rotated now (its lines are all in the snapshot taken here), the snapshot is serialised and
   * written in slices, then the rotated journal is deleted. If that fails, the next write
   * compacts in the foreground (both journals are still there, so nothing is lost meanwhile).
   */
  async function startCompaction(): Promise<void> {
    const taken = snapshot();
    try {
      await journal.rotate();
    } catch (err) {
      compactNext = true;
      throw new StoreError(`could not rotate ${journalFile}: ${(err as Error).message}`, { cause: err });
    }
    compacting = (async () => {
      try {
        await mainFile.writeParts(snapshotParts(taken));
        await journal.dropPrevious();
      } catch {
        compactNext = true;
      } finally {
        compacting = undefined;
      }
    })();
  }

  /** Writes what is queued; afterwards every mutation applied before the call is on disk. */
  async function writeNow(): Promise<void> {
    if (now() - lastPrune > PRUNE_EVERY_MS) {
      prune();
      lastPrune = now();
    }
    const upTo = seq;
    await writeQueued();
    mem.durableSeq = Math.max(mem.durableSeq, upTo);
    writes += 1;
  }

  async function writeQueued(): Promise<void> {
    const text = unwritten.join('');
    const small = mainFile.bytes + text.length < wholeFileBelow;
    if (compactNext || small) {
      if (compacting) await compacting;
      await compact();
    } else {
      unwritten = [];
      if (text) {
        try {
          await journal.append(text);
        } catch (err) {
          // The journal may now end in a partial line: never append after it.
          compactNext = true;
          throw new StoreError(`could not write ${journalFile}: ${(err as Error).message}`, { cause: err });
        }
      }
      if (!compacting && journal.bytes() > Math.max(compactAfter, 2 * mainFile.bytes)) await startCompaction();
    }
  }

  /** Resolves after a file write that started after this call has completed. */
  function persist(): Promise<void> {
    if (scheduled) return scheduled;
    const next = (async () => {
      // Let the mutations of this turn of the event loop join the same write.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // The previous write's failure was reported to its own waiters; this one tries again.
      if (running) await running.catch(() => undefined);
      scheduled = undefined;
      const write = writeNow();
      running = write;
      try {
        await write;
      } finally {
        if (running === write) running = undefined;
      }
    })();
    scheduled = next;
    return next;
  }

  function commit(puts: Put[]): Promise<void> {
    seq += 1;
    mem.applyAll(puts, seq);
    unwritten.push(`${JSON.stringify([seq, puts])}\n`);
    return persist();
  }

  /** Replays the journal left by the last run, once it is checked whole (`checkJournal`). */
  async function replayJournal(): Promise<boolean> {
    const contents = await journal.read();
    const { entries, torn } = checkJournal<Put[]>(contents, {
      mainFile: options.file,
      mainFileExists: mainFile.bytes > 0,
      fileSeq: seq,
      parse: (value) => {
        const parsed = journalLineSchema.safeParse(value);
        if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)[0] ?? 'invalid' };
        return { seq: parsed.data[0], value: parsed.data[1] as Put[] };
      },
    });
    if (torn) warn(`${torn.file}:${torn.line}: incomplete last line (${torn.bytes} bytes), a write cut short by a crash and never acknowledged; dropped`);
    for (const entry of entries) {
      for (const put of entry.value) mem.apply(put);
      seq = entry.seq;
    }
    return contents.present;
  }

  return {
    async open() {
      // A new data folder is the owner's alone; an existing one is left as the administrator made it.
      mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
      try {
        const was = await makePrivate(options.file);
        if (was !== undefined) warn(`${options.file} was readable by other users (mode ${was.toString(8).padStart(4, '0')}); it is now 0600 (owner only): it holds customers' messages and may hold the session secret`);
        await db.read();
      } catch (err) {
        throw new StoreError(`cannot open ${options.file}: ${(err as Error).message}`, { cause: err });
      }
      seq = db.data.journalSeq ?? 0;
      mem.load(db.data);
      let replayed: boolean;
      try {
        replayed = await replayJournal();
        await journal.open();
      } catch (err) {
        await journal.close();
        throw err instanceof StoreError ? err : new StoreError(`cannot open ${journalFile}: ${(err as Error).message}`, { cause: err });
      }
      prune();
      lastPrune = now();
      // Fold what the last run left in the journal into the main file; a new store gets its main
      // file before any journal line, so a journal without its main file is always damage.
      if (replayed || mainFile.bytes === 0) await compact();
    },

    async close() {
      await this.flush();
      if (compacting) await compacting;
      // Leave one self-contained file behind.
      if (journal.bytes() > 0 || compactNext) await compact();
      await journal.close();
    },

    commit,

    commitRecords(puts) {
      for (const put of puts) freezeDeep(put[1]);
      return commit(puts);
    },

    rewrite() {
      // Imports can be large: they go straight into the main file rather than the journal.
      seq += 1;
      compactNext = true;
      return persist();
    },

    async flush() {
      if (unwritten.length > 0) await persist();
      else if (scheduled) await scheduled;
      else if (running) await running;
    },

    writes: () => writes,

    onPrune(fn) {
      prune = fn;
    },
  };
}
