/**
 * @module storage/lowdb/file-lock
 * One process at a time on a lowdb file. The embedded store keeps everything in memory and
 * writes it back whole now and then, so two processes on one file would erase each other's
 * writes. The process that opens the store takes `<file>.lock`, created exclusively (`O_EXCL`),
 * holding its pid, its start time (Linux: from /proc, so a pid reused by another program is not
 * mistaken for the holder), and, once a server listens for commands, the path of its admin
 * socket (`src/cli/admin-socket.ts`). A lock whose process is gone is stale: it is taken over,
 * and the caller is told (a log line). A live holder without a socket (a CLI command, or a
 * server still starting) is waited for, up to `waitMs`; a live server is refused at once:
 * `LockHeldError` names it, and the CLI then sends its command to that server instead.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { StoreError } from '../../core/errors.js';

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  started?: number;
  /** ISO time the lock was taken. */
  since: string;
  /** Random, to tell two locks of one process apart. */
  token?: string;
  /** What holds it: `sportello start`, `sportello operator add`, a test… */
  command?: string;
  /** Set by a server once it accepts commands on this Unix socket. */
  socket?: string;
}

const holderSchema = z.object({
  pid: z.number().int().positive(),
  started: z.number().int().nonnegative().optional(),
  since: z.string(),
  token: z.string().optional(),
  command: z.string().optional(),
  socket: z.string().min(1).optional(),
});

/** The lock could not be taken: another live process holds it. */
export class LockHeldError extends StoreError {
  constructor(
    message: string,
    readonly lockFile: string,
    readonly holder: LockHolder,
  ) {
    super(message);
  }
}

/** A lock this process holds. */
export interface FileLock {
  readonly path: string;
  /** Rewrites the lock's content (e.g. to add the admin socket once it listens). */
  update(change: Partial<Pick<LockHolder, 'socket' | 'command'>>): Promise<void>;
  /** Deletes the lock file (if it is still ours). */
  release(): Promise<void>;
}

/** Options of `acquireFileLock`. */
export interface AcquireOptions {
  /** What holds the lock (shown to whoever finds it taken). Default: this process's argv. */
  command?: string;
  /** How long to wait for a live holder that is not a server (default 10 s). */
  waitMs?: number;
  /** Told when a stale lock of a dead process is taken over. */
  onStale?: (message: string) => void;
  /** Told once when a live holder is waited for. */
  onWait?: (message: string) => void;
}

/** The lock file of a lowdb file. */
export function lockFileOf(file: string): string {
  return `${file}.lock`;
}

/** Locks held by this process, with their token (a second store on the same file in one process is refused too). */
const heldHere = new Map<string, string>();
/** Tokens of locks this process is taking right now. */
const takingHere = new Set<string>();

/** Start time of process `pid` in clock ticks since boot, where /proc tells it (Linux). */
export function processStartTime(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) may hold spaces and parentheses: count from the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const started = Number(fields[19]);
    return Number.isFinite(started) ? started : undefined;
  } catch {
    // No /proc (macOS, Windows) or no such process: the pid check alone decides.
    return undefined;
  }
}

/** True while the process that wrote `holder` is running. */
export function isAlive(holder: LockHolder): boolean {
  // A lock naming this very pid is ours only if this process took it (a container restarts with the same pid).
  if (holder.pid === process.pid) return holder.token !== undefined && (takingHere.has(holder.token) || [...heldHere.values()].includes(holder.token));
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists and belongs to another user.
  }
  if (holder.started === undefined) return true;
  const started = processStartTime(holder.pid);
  return started === undefined || started === holder.started;
}

/** The holder named by the lock file, or undefined when there is none (or it cannot be read). */
export async function readLockHolder(lockFile: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`cannot read ${lockFile}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const parsed = holderSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // Not JSON: damaged, or (without hard links) still being written; `take` tells them apart by age.
  }
  return { pid: 0, since: '' };
}

/** The live holder of `file`'s lock, if any. */
export async function liveLockHolder(file: string): Promise<LockHolder | undefined> {
  const holder = await readLockHolder(lockFileOf(file));
  return holder && holder.pid > 0 && isAlive(holder) ? holder : undefined;
}

function describeHolder(holder: LockHolder): string {
  // (No date: log redaction takes digit runs for phone numbers.)
  return `pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes the lock of lowdb file `file`, waiting for a short-lived holder; throws `LockHeldError` if it stays taken. */
export async function acquireFileLock(file: string, options: AcquireOptions = {}): Promise<FileLock> {
  const lockFile = lockFileOf(file);
  if (heldHere.has(lockFile)) {
    throw new LockHeldError(`${file} is already open in this process (pid ${process.pid}): one store per file`, lockFile, { pid: process.pid, since: '' });
  }
  const mine: LockHolder = {
    pid: process.pid,
    ...(processStartTime(process.pid) !== undefined ? { started: processStartTime(process.pid) } : {}),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
    command: options.command ?? (process.argv.slice(2).join(' ') || 'node'),
  };
  const token = mine.token!;
  takingHere.add(token);
  try {
    await take(file, lockFile, mine, options);
  } finally {
    takingHere.delete(token);
  }
  heldHere.set(lockFile, token);
  let current = mine;
  let released = false;
  return {
    path: lockFile,
    async update(change) {
      if (released) return;
      current = { ...current, ...change };
      // Written aside and renamed over: a reader sees the old or the new content, never half.
      const temp = `${lockFile}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(current), { mode: 0o600 });
      await rename(temp, lockFile);
    },
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(lockFile);
      const holder = await readLockHolder(lockFile).catch(() => undefined);
      if (holder?.pid === process.pid && holder.token === token) await rm(lockFile, { force: true });
    },
  };
}

async function take(file: string, lockFile: string, mine: LockHolder, options: AcquireOptions): Promise<void> {
  const waitMs = options.waitMs ?? 10_000;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    if (await tryCreate(lockFile, mine)) break;
    const holder = await readLockHolder(lockFile);
    if (!holder) continue; // released meanwhile: try again at once
    if (holder.pid === 0 && (await stat(lockFile).then((st) => Date.now() - st.mtimeMs < 2000, () => false))) {
      // Unreadable and new: maybe being written (file systems without hard links); look again.
      await sleep(50);
      continue;
    }
    if (holder.pid === 0 || !isAlive(holder)) {
      if (await takeOver(lockFile, holder, mine)) {
        options.onStale?.(
          holder.pid === 0
            ? `${lockFile} was unreadable (its process died while writing it); taken over by pid ${process.pid}`
            : `${lockFile} was left by ${describeHolder(holder)}, which is no longer running; taken over by pid ${process.pid}`,
        );
        break;
      }
      continue;
    }
    if (holder.socket) {
      throw new LockHeldError(
        `${file} is in use by a running Sportello server (${describeHolder(holder)}, admin socket ${holder.socket}). ` +
          'Two processes on one embedded store would overwrite each other\'s writes: stop it first, or use PostgreSQL (DATABASE_URL) to run several instances.',
        lockFile,
        holder,
      );
    }
    if (Date.now() >= deadline) {
      throw new LockHeldError(`${file} is in use by ${describeHolder(holder)}; gave up waiting for it (${lockFile})`, lockFile, holder);
    }
    if (!told && waitMs > 0) {
      told = true;
      options.onWait?.(`${file} is in use by ${describeHolder(holder)}: waiting up to ${Math.round(waitMs / 1000)} s for it to finish`);
    }
    await sleep(50);
  }
}

/**
 * Creates the lock file with `holder` in it, only if it does not exist: the content is written
 * to a file of our own, then hard-linked to the lock's name (atomic, and fails if the name is
 * taken), so nobody ever reads a lock file that exists but is not written yet. False when taken.
 */
async function tryCreate(lockFile: string, holder: LockHolder): Promise<boolean> {
  const temp = `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, JSON.stringify(holder), { mode: 0o600 });
  try {
    await link(temp, lockFile);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: create the name exclusively, then write it.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createExclusive(lockFile, holder);
    throw new StoreError(`cannot create ${lockFile}: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(temp, { force: true });
  }
}

async function createExclusive(lockFile: string, holder: LockHolder): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockFile, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create ${lockFile}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await handle.writeFile(JSON.stringify(holder));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Replaces a stale lock with ours. Two processes may find the same stale lock at once: a guard
 * file (`.takeover`, created exclusively) lets one of them do it; the other sees a live lock next.
 */
async function takeOver(lockFile: string, stale: LockHolder, mine: LockHolder): Promise<boolean> {
  const guard = `${lockFile}.takeover`;
  if (!(await tryCreate(guard, mine))) {
    // Someone is taking it over now, or died doing so (then its guard is stale too).
    const other = await readLockHolder(guard);
    const old = await stat(guard).then((s) => Date.now() - s.mtimeMs > 5000, () => false);
    if (other && (other.pid === 0 ? old : !isAlive(other))) await rm(guard, { force: true });
    else await sleep(20);
    return false;
  }
  try {
    const now = await readLockHolder(lockFile);
    if (now && (now.pid !== stale.pid || now.since !== stale.since || now.token !== stale.token)) return false;
    await rm(lockFile, { force: true });
    return await tryCreate(lockFile, mine);
  } finally {
    await rm(guard, { force: true });
  }
}
