/**
 * @module cli/store-commands
 * The CLI commands that read or change the store — `operator add/role/remove/list`, `faq review
 * list/show/edit/approve/reject`, `export`, `import` — and where they run. With PostgreSQL every
 * process shares the database, so they run in the CLI. With the embedded store only one process
 * may have the file open: when a server holds it, the command is sent to that server (its admin
 * socket, `admin-socket.ts`), which runs this module's `runStoreCommand` — the same functions —
 * against its own store; otherwise the CLI runs it here, holding the file's lock meanwhile, so
 * a server starting at that moment waits for it (docs/storage.md, "More than one process").
 */
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Clock, Store } from '../core/ports.js';
import type { Language } from '../core/types.js';
import type { BusinessHours } from '../handoff/business-hours.js';
import { LockHeldError, liveLockHolder, type LockHolder } from '../storage/lowdb/file-lock.js';
import type { LowdbStore } from '../storage/lowdb/index.js';
import type { EventRecorder } from '../events/recorder.js';
import type { Logger } from '../util/logger.js';
import { AdminUnreachableError, adminSocketPath, sendAdminCommand, startAdminSocket, type AdminRequest, type AdminSocket } from './admin-socket.js';
import { runFaqReview } from './faq.js';
import { parseAddArgs, readNewPassword, runOperator } from './operator.js';
import { runReport } from './report.js';
import { confirmErase, runCustomer } from './customer.js';
import { runAudit } from './audit.js';
import { runRetention } from './retention.js';
import type { RetentionSettings } from '../handoff/retention.js';
import type { EventBus } from '../core/events.js';
import { exportFromStore, importIntoStore, type SnapshotStore } from './store-admin.js';
import type { Io } from './run.js';

/** What the store commands need. */
export interface StoreCommandDeps {
  store: Store & SnapshotStore;
  faqDir: string;
  intentsDir: string;
  clock: Clock;
  /** Makes an approval's outbound event deliveries (faq.approved), written with it. */
  recorder: EventRecorder;
  /** How export/import summaries name the store ("lowdb file data/sportello.json"). */
  where: string;
  /** The team's hours (reports count business time in them) and the language of HTML reports. */
  hours: BusinessHours;
  locale: Language;
  /** The retention periods (config.retention), for `retention run`. */
  retention?: RetentionSettings;
  /** The server's event bus when it runs the command (an erasure's resolutions reach its console). */
  bus?: EventBus;
}

/** True for the commands that use the store (and so go to a running server on the embedded store). */
export function isStoreCommand(argv: readonly string[]): boolean {
  const [command, sub] = argv;
  return command === 'operator' || command === 'customer' || command === 'audit' || command === 'retention' || (command === 'faq' && sub === 'review') || command === 'export' || command === 'import' || command === 'report';
}

/** Runs a store command against `deps.store`: in the CLI, or in the server on a CLI's behalf. */
export async function runStoreCommand(argv: string[], io: Io, deps: StoreCommandDeps): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'operator') return runOperator(rest, io, deps);
  if (command === 'faq' && rest[0] === 'review') return runFaqReview(rest.slice(1), io, deps);
  if (command === 'export') return exportFromStore(rest, io, deps.store, deps.where);
  if (command === 'import') return importIntoStore(rest, io, deps.store, deps.where);
  if (command === 'report') return runReport(rest, io, deps);
  if (command === 'customer') return runCustomer(rest, io, deps);
  if (command === 'audit') return runAudit(rest, io, deps);
  if (command === 'retention') return runRetention(rest, io, deps);
  io.stderr.write(`sportello: "${argv.slice(0, 2).join(' ')}" is not a store command\n`);
  return 2;
}

/**
 * What the CLI sends the server for `argv`: what the command reads from stdin, read here (a new
 * operator's password, prompted for on a terminal; an import document), and file paths made
 * absolute (the server's working folder may differ). An exit code instead when the command
 * already failed here (nothing was sent or changed).
 */
async function prepareRequest(argv: string[], io: Io): Promise<AdminRequest | number> {
  const [command, sub, ...rest] = argv;
  if (command === 'operator' && sub === 'add') {
    let parsed: ReturnType<typeof parseAddArgs>;
    try {
      parsed = parseAddArgs(rest);
    } catch (err) {
      io.stderr.write(`sportello operator: ${(err as Error).message}\n`);
      return 2;
    }
    // Wrong options: the server says so (same messages), without asking for a password first.
    if (!parsed.ok) return { v: 1, argv };
    const read = await readNewPassword(io, parsed.data.name);
    if ('error' in read) {
      io.stderr.write(`sportello operator add: ${read.error}\n`);
      return 1;
    }
    return { v: 1, argv, stdin: `${read.password}\n` };
  }
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (command === 'customer' && sub === 'erase' && !wantsHelp && !argv.includes('--yes')) {
    // Confirmed here, on the CLI's terminal: the server has none.
    const id = rest.find((a) => !a.startsWith('-'));
    if (id === undefined) return { v: 1, argv };
    return (await confirmErase(id, false, io)) ? { v: 1, argv: [...argv, '--yes'] } : 1;
  }
  if ((command === 'export' || command === 'import') && sub !== undefined && sub !== '-' && !wantsHelp) {
    return { v: 1, argv: [command, resolve(sub), ...rest] };
  }
  if (command === 'report' || command === 'customer') {
    // The server writes --out: the path as the CLI's working folder means it.
    return { v: 1, argv: argv.map((a, i) => (argv[i - 1] === '--out' ? resolve(a) : a.startsWith('--out=') ? `--out=${resolve(a.slice(6))}` : a)) };
  }
  if (command === 'import' && sub === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return { v: 1, argv, stdin: Buffer.concat(chunks).toString('utf8') };
  }
  return { v: 1, argv };
}

/**
 * How long the CLI keeps trying a server that holds the file and names its socket but does not
 * answer (it may be shutting down, its lock not yet released). A server still starting has no
 * socket in its lock yet: opening the store waits for it instead (30 s).
 */
const SERVER_ANSWER_WITHIN_MS = 10_000;

/**
 * Runs a store command from the CLI. `dataFile` is the embedded store's file (undefined with
 * PostgreSQL: then `local` runs it). When a live server holds the file's lock, the command goes
 * to it; otherwise `local` runs it here, opening the store (which takes the lock, waiting for a
 * short-lived holder). A server that took the lock meanwhile is asked instead.
 */
export async function runStoreCommandFromCli(
  argv: string[],
  io: Io,
  dataFile: string | undefined,
  local: (io: Io) => Promise<number>,
  options: { answerWithinMs?: number } = {},
): Promise<number> {
  if (dataFile === undefined) return local(io);
  const deadline = Date.now() + (options.answerWithinMs ?? SERVER_ANSWER_WITHIN_MS);
  let request: AdminRequest | undefined;
  let localIo = io;
  for (;;) {
    const holder = await liveLockHolder(dataFile);
    if (holder?.socket) {
      if (!request) {
        const prepared = await prepareRequest(argv, io);
        if (typeof prepared === 'number') return prepared;
        request = prepared;
        // Stdin was read for the server: should the command end up running here, it reads the same.
        localIo = { ...io, stdin: Readable.from(request.stdin !== undefined ? [request.stdin] : []) };
      }
      try {
        return await sendAdminCommand(holder as LockHolder & { socket: string }, request, io, { connectWithinMs: 1000 });
      } catch (err) {
        if (!(err instanceof AdminUnreachableError) || !err.beforeSending) throw err;
        // Not listening (yet, or any more): look at the lock again, unless time is up.
        if (Date.now() >= deadline) throw err;
        continue;
      }
    }
    try {
      return await local(localIo);
    } catch (err) {
      if (err instanceof LockHeldError && err.holder.socket && Date.now() < deadline) continue;
      throw err;
    }
  }
}

/**
 * Serves store commands on the admin socket of the server's lowdb file, and records the socket
 * in the file's lock, so that CLI commands come here instead of opening the file.
 */
export async function serveStoreCommands(options: {
  store: Store;
  dataFile: string;
  faqDir: string;
  intentsDir: string;
  clock: Clock;
  recorder: EventRecorder;
  logger: Logger;
  hours: BusinessHours;
  locale: Language;
  retention?: RetentionSettings;
  bus?: EventBus;
}): Promise<AdminSocket> {
  const store = options.store as LowdbStore;
  const lock = typeof store.lock === 'function' ? store.lock() : undefined;
  if (!lock) throw new Error(`the store of ${options.dataFile} holds no file lock: cannot serve CLI commands`);
  const deps: StoreCommandDeps = {
    store,
    faqDir: options.faqDir,
    intentsDir: options.intentsDir,
    clock: options.clock,
    recorder: options.recorder,
    where: `lowdb file ${options.dataFile}`,
    hours: options.hours,
    locale: options.locale,
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
  };
  const socket = await startAdminSocket({
    path: adminSocketPath(options.dataFile),
    logger: options.logger,
    run: (argv, io) => runStoreCommand(argv, io, deps),
  });
  await lock.update({ socket: socket.path, command: 'sportello start' });
  return socket;
}
