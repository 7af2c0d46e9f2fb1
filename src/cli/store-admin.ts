/**
 * @module cli/store-admin
 * `sportello migrate | export [FILE] | import FILE`: schema migrations for PostgreSQL, and the
 * whole store as one JSON document (e.g. to move an embedded lowdb install to PostgreSQL:
 * export with SPORTELLO_DATA, import with DATABASE_URL). The store is chosen as at start-up:
 * PostgreSQL when DATABASE_URL is set, otherwise the lowdb file SPORTELLO_DATA.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { createStore, type AnyStore } from '../storage/index.js';
import { LockHeldError } from '../storage/lowdb/file-lock.js';
import { createPostgresStore } from '../storage/postgres/index.js';
import { canTransition } from '../core/state.js';
import { parseStoreSnapshot, type StoreSnapshot } from '../storage/snapshot.js';

/** The streams a command talks to (tests pass their own). */
export interface StoreAdminIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const envSchema = z.object({
  SPORTELLO_DATA: z.string().min(1).default('data/sportello.json'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres://')
    .optional()
    .or(z.literal('').transform(() => undefined)),
});
export type StoreEnv = z.infer<typeof envSchema>;

type AdminStore = AnyStore;

/** The store chosen by the environment (DATABASE_URL, else SPORTELLO_DATA); undefined after printing what is wrong. */
export function readEnv(env: Record<string, string | undefined>, io: StoreAdminIo): StoreEnv | undefined {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) io.stderr.write(`sportello: ${issue.path.join('.')} ${issue.message}\n`);
  return undefined;
}

/** How a summary names the store (never a password). */
export function describeStore(env: StoreEnv): string {
  if (env.DATABASE_URL) {
    const u = new URL(env.DATABASE_URL);
    // Never print the password.
    return `PostgreSQL ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  }
  return `lowdb file ${env.SPORTELLO_DATA}`;
}

async function openStore(env: StoreEnv, command: string): Promise<AdminStore> {
  const store: AdminStore = createStore({ databaseUrl: env.DATABASE_URL, dataFile: env.SPORTELLO_DATA, poolSize: 2 }, { lock: { command, waitMs: 30_000 } });
  try {
    await store.init();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function counts(s: StoreSnapshot): string {
  return [
    `${s.conversations.length} conversations`,
    `${s.customers.length} customers`,
    `${s.cases.length} cases`,
    `${s.messages.length} messages`,
    `${s.outbox.length} outbox items`,
    `${s.operators.length} operators`,
    `${s.suggestions.length} suggestions`,
    `${s.customerFiles?.length ?? 0} customer files`,
    `${s.savedReplies?.length ?? 0} saved replies`,
    `${Object.keys(s.values).length} values`,
  ].join(', ');
}

function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function report(io: StoreAdminIo, command: string, err: unknown): number {
  io.stderr.write(`sportello ${command}: ${(err as Error).message}\n`);
  return 1;
}

/** `sportello migrate`: applies PostgreSQL migrations; the embedded store needs none. */
export async function runMigrate(argv: readonly string[], io: StoreAdminIo, env: Record<string, string | undefined>): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout.write('Usage: sportello migrate\n  Applies pending PostgreSQL schema migrations (DATABASE_URL). Safe to run while instances start.\n');
    return 0;
  }
  if (argv.length) {
    io.stderr.write(`sportello migrate: unexpected argument "${argv[0]}"\n`);
    return 2;
  }
  const storeEnv = readEnv(env, io);
  if (!storeEnv) return 2;
  if (!storeEnv.DATABASE_URL) {
    io.stdout.write(`Nothing to migrate: the embedded store (${storeEnv.SPORTELLO_DATA}) has no schema. Set DATABASE_URL to migrate PostgreSQL.\n`);
    return 0;
  }
  const store = createPostgresStore({ url: storeEnv.DATABASE_URL, poolSize: 1 });
  try {
    const { applied, current } = await store.migrate();
    io.stdout.write(
      applied.length
        ? `Applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')} to ${describeStore(storeEnv)}; schema version ${current}.\n`
        : `${describeStore(storeEnv)} is up to date (schema version ${current}).\n`,
    );
    return 0;
  } catch (err) {
    return report(io, 'migrate', err);
  } finally {
    await store.close();
  }
}

const EXPORT_HELP =
  'Usage: sportello export [FILE]\n  Writes the whole store (conversations, customers, cases, messages, outbox, operators,\n  suggestions, values) as JSON to FILE, or to stdout when FILE is absent or "-".\n  The document holds customers\' messages: keep it private.\n';
const IMPORT_HELP =
  'Usage: sportello import FILE\n  Reads an export (FILE, or stdin with "-") into the store chosen by DATABASE_URL or\n  SPORTELLO_DATA. Records are matched by id, so importing twice changes nothing.\n  With the embedded store, a running server does the import (its admin socket).\n';

/** What export and import need of a store. */
export type SnapshotStore = Pick<AdminStore, 'exportAll' | 'importAll' | 'conversations'>;

/** A store command can't run here: a running server holds the lowdb file (the CLI sends it there). */
function heldByServer(err: unknown): boolean {
  return err instanceof LockHeldError && err.holder.socket !== undefined;
}

/** Checks export's arguments; an exit code when there is nothing more to do. */
function exportArgs(argv: readonly string[], io: StoreAdminIo): number | undefined {
  if (wantsHelp(argv)) {
    io.stdout.write(EXPORT_HELP);
    return 0;
  }
  if (argv.length > 1) {
    io.stderr.write(`sportello export: expected at most one FILE, got ${argv.length} arguments\n`);
    return 2;
  }
  return undefined;
}

/** `export [FILE|-]` against an open store (`where` names it in the summary). Runs in the CLI or in the server holding the store. */
export async function exportFromStore(argv: readonly string[], io: StoreAdminIo, store: SnapshotStore, where: string): Promise<number> {
  const done = exportArgs(argv, io);
  if (done !== undefined) return done;
  const target = argv[0];
  try {
    const snapshot = await store.exportAll();
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    if (target === undefined || target === '-') {
      io.stdout.write(text);
    } else {
      // Written privately (0600) and atomically: a half-written export is never left behind.
      const temp = join(dirname(target), `.${basename(target)}.tmp`);
      await writeFile(temp, text, { encoding: 'utf8', mode: 0o600 });
      await rename(temp, target);
    }
    io.stderr.write(`Exported ${counts(snapshot)} from ${where}${target && target !== '-' ? ` to ${target}` : ''}.\n`);
    return 0;
  } catch (err) {
    return report(io, 'export', err);
  }
}

/** `sportello export [FILE|-]`: writes the whole store as one JSON document (stdout by default). */
export async function runExport(argv: readonly string[], io: StoreAdminIo, env: Record<string, string | undefined>): Promise<number> {
  const done = exportArgs(argv, io);
  if (done !== undefined) return done;
  const storeEnv = readEnv(env, io);
  if (!storeEnv) return 2;
  let store: AdminStore | undefined;
  try {
    store = await openStore(storeEnv, 'sportello export');
  } catch (err) {
    if (heldByServer(err)) throw err;
    return report(io, 'export', err);
  }
  try {
    return await exportFromStore(argv, io, store, describeStore(storeEnv));
  } finally {
    await store.close();
  }
}

/** Checks import's arguments; an exit code when there is nothing more to do. */
function importArgs(argv: readonly string[], io: StoreAdminIo): number | undefined {
  if (wantsHelp(argv)) {
    io.stdout.write(IMPORT_HELP);
    return 0;
  }
  if (argv.length !== 1) {
    io.stderr.write('sportello import: expected one FILE (or "-" for stdin)\n');
    return 2;
  }
  return undefined;
}

/** Reads and checks the document to import (FILE, or stdin for "-"). */
async function readSnapshot(source: string, io: StoreAdminIo): Promise<StoreSnapshot> {
  const text = source === '-' ? await readAll(io.stdin) : await readFile(source, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source === '-' ? 'stdin' : source} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseStoreSnapshot(data);
}

/** `import FILE|-` into an open store. Runs in the CLI or in the server holding the store. */
export async function importIntoStore(argv: readonly string[], io: StoreAdminIo, store: SnapshotStore, where: string): Promise<number> {
  const done = importArgs(argv, io);
  if (done !== undefined) return done;
  let snapshot: StoreSnapshot;
  try {
    snapshot = await readSnapshot(argv[0] ?? '-', io);
  } catch (err) {
    return report(io, 'import', err);
  }
  return applyImport(snapshot, io, store, where);
}

/**
 * An import changes conversations too: a conversation already in the store may only move as the
 * state table allows (an older export must not take a resolved case back to an operator, say).
 * Every move is checked before anything is written.
 */
async function illegalMoves(snapshot: StoreSnapshot, store: SnapshotStore): Promise<string[]> {
  const problems: string[] = [];
  for (const incoming of snapshot.conversations) {
    const stored = await store.conversations.get(incoming.id);
    if (stored && !canTransition(stored.state, incoming.state)) {
      problems.push(`conversation ${incoming.id} would move from ${stored.state} to ${incoming.state}, which the state table forbids`);
    }
  }
  return problems;
}

async function applyImport(snapshot: StoreSnapshot, io: StoreAdminIo, store: SnapshotStore, where: string): Promise<number> {
  try {
    const problems = await illegalMoves(snapshot, store);
    if (problems.length > 0) {
      const shown = problems.slice(0, 10).map((p) => `  ${p}\n`).join('');
      const more = problems.length > 10 ? `  … and ${problems.length - 10} more\n` : '';
      io.stderr.write(`sportello import: nothing was imported:\n${shown}${more}`);
      return 1;
    }
    await store.importAll(snapshot);
    io.stdout.write(`Imported ${counts(snapshot)} into ${where}.\n`);
    return 0;
  } catch (err) {
    return report(io, 'import', err);
  }
}

/** `sportello import FILE|-`: merges an export into the configured store (idempotent). */
export async function runImport(argv: readonly string[], io: StoreAdminIo, env: Record<string, string | undefined>): Promise<number> {
  const done = importArgs(argv, io);
  if (done !== undefined) return done;
  const storeEnv = readEnv(env, io);
  if (!storeEnv) return 2;
  // The document is read and checked before the store is opened (a bad file changes nothing).
  let snapshot: StoreSnapshot;
  try {
    snapshot = await readSnapshot(argv[0] ?? '-', io);
  } catch (err) {
    return report(io, 'import', err);
  }
  let store: AdminStore | undefined;
  try {
    store = await openStore(storeEnv, 'sportello import');
  } catch (err) {
    if (heldByServer(err)) throw err;
    return report(io, 'import', err);
  }
  try {
    return await applyImport(snapshot, io, store, describeStore(storeEnv));
  } finally {
    await store.close();
  }
}
