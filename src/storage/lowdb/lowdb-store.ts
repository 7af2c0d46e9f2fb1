/**
 * @module storage/lowdb/lowdb-store
 * The embedded store: everything in memory (with indexes), persisted to one JSON file through
 * lowdb plus an append-only journal beside it. Each mutation is a group of "puts" (whole records
 * to store); it changes memory at once and resolves when a journal append that started after it
 * is on disk, so writes arriving together share one append. When the journal grows past twice
 * the main file, the whole store is written to the main file (atomically) in the background:
 * the journal is rotated, the records as they are at that moment (records are replaced, never
 * changed in place) are serialised slice by slice while writes go on into the new journal, and
 * the old journal is deleted once the file is on disk. A write costs the size of the change,
 * amortised, and never waits for a compaction. See docs/storage.md.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PriorityQueue } from '@datastructures-js/priority-queue';
import { Low } from 'lowdb';
import { emptyRevisions, type ConversationFilter, type Store, type TurnContext, type TurnRecord } from '../../core/ports.js';
import type {
  Case,
  Conversation,
  Customer,
  FaqSuggestion,
  InboundMessage,
  Operator,
  OutboxItem,
  StoredMessage,
} from '../../core/types.js';
import type { ConversationState } from '../../core/state.js';
import { AlreadyProcessedError, ConflictError, StoreError, TurnConflictError } from '../../core/errors.js';
import { createKeyedMutex } from '../../util/keyed-mutex.js';
import { z } from 'zod';
import {
  caseSchema,
  conversationSchema,
  customerSchema,
  emptySnapshot,
  faqSuggestionSchema,
  inboundRecordSchema,
  operatorSchema,
  outboxItemSchema,
  parseStoreSnapshot,
  storedMessageSchema,
  type InboundRecord,
  type StoreSnapshot,
} from '../snapshot.js';
import { DurableJsonFile } from './durable-json-file.js';
import { acquireFileLock, type FileLock } from './file-lock.js';
import { checkJournal, createJournal } from './journal.js';

/** Options of the embedded store. */
export interface LowdbStoreOptions {
  /** The JSON file (parent folders are created); usually data/sportello.json. */
  file: string;
  /** Processed inbound ids older than this many days are forgotten (default 30). */
  retainProcessedInboundDays?: number;
  /** Epoch ms now; only pruning and acceptance times use it (tests pass a fake). */
  now?: () => number;
  /**
   * While the main file is smaller than this, each write rewrites it whole (one self-contained
   * file, cheap at this size); beyond it, writes are appended to the journal (default 64 KiB).
   */
  wholeFileBelowBytes?: number;
  /** The journal is folded into the main file once it is larger than this and than twice the file (default 8 MiB). */
  compactAfterBytes?: number;
  /** The inter-process lock taken at `init()` (`file-lock.ts`): what holds it, how long to wait for a short-lived holder. */
  lock?: { command?: string; waitMs?: number };
  /** Told about what start-up repaired (a stale lock taken over, a torn last journal line cut off). Default: stderr. */
  onWarning?: (message: string) => void;
}

/** The embedded store, plus what `sportello export/import` needs. */
export interface LowdbStore extends Store {
  /** The whole store as one document. */
  exportAll(): Promise<StoreSnapshot>;
  /** Merges a snapshot in (upsert by id; idempotent). */
  importAll(snapshot: StoreSnapshot): Promise<void>;
  /** Resolves once everything changed so far is on disk. */
  flush(): Promise<void>;
  /** How many times the file was written since init (writes arriving together share one). */
  fileWrites(): number;
  /** The inter-process lock held while open (a server adds its admin socket to it). */
  lock(): FileLock | undefined;
}

/** Records serialised per slice while compacting: a slice takes about a millisecond. */
const SLICE = 500;

/** The snapshot as JSON text, in parts: the small fields first, then each list slice by slice. */
function* snapshotParts(snapshot: StoreSnapshot): Generator<string> {
  const { customers, conversations, cases, messages, outbox, inbound, operators, suggestions, ...fields } = snapshot;
  const head = JSON.stringify(fields);
  yield head.slice(0, -1);
  const lists: Record<string, readonly unknown[]> = { customers, conversations, cases, messages, outbox, inbound, operators, suggestions };
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

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;
const DEFAULT_WHOLE_FILE_BYTES = 64 * 1024;

/** One record to store whole (upsert by id); a journal line is an array of these. */
type Put =
  | ['customer', Customer]
  | ['conversation', Conversation]
  | ['case', Case]
  | ['message', StoredMessage]
  | ['outbox', OutboxItem]
  | ['inbound', InboundRecord]
  | ['operator', Operator]
  | ['suggestion', FaqSuggestion]
  | ['value', { name: string; value: string }]
  /** An outbox item sent: the item as stored, with status sent (a completion's line stays small). */
  | ['sent', { id: string; sentAt: string; platformId?: string; attempts: number }];

const putSchema = z.union([
  z.tuple([z.literal('customer'), customerSchema]),
  z.tuple([z.literal('conversation'), conversationSchema]),
  z.tuple([z.literal('case'), caseSchema]),
  z.tuple([z.literal('message'), storedMessageSchema]),
  z.tuple([z.literal('outbox'), outboxItemSchema]),
  z.tuple([z.literal('inbound'), inboundRecordSchema]),
  z.tuple([z.literal('operator'), operatorSchema]),
  z.tuple([z.literal('suggestion'), faqSuggestionSchema]),
  z.tuple([z.literal('value'), z.object({ name: z.string(), value: z.string() })]),
  z.tuple([z.literal('sent'), z.object({ id: z.string(), sentAt: z.string(), platformId: z.string().optional(), attempts: z.number().int().nonnegative() })]),
]);
/** A journal line: the mutation's number and its puts. */
const journalLineSchema = z.tuple([z.number().int().positive(), z.array(putSchema)]);
const PRUNE_EVERY_MS = 60 * 60 * 1000;

const inboundKey = (channel: string, id: string): string => `${channel}\u0000${id}`;
const clone = <T>(value: T): T => structuredClone(value);
const time = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/** Freezes an object and everything it holds (records are plain JSON data). */
function freezeDeep<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) freezeDeep(item);
  else for (const key in value) freezeDeep((value as Record<string, unknown>)[key]);
  return value;
}

/** Adds `value` to the set stored under `key` in `index`. */
function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

/** Removes `value` from the set stored under `key`, dropping empty sets. */
function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** Applies `change` to `target`: keys whose value is undefined are removed. */
function merge<T extends object>(target: T, change: Partial<T>): T {
  const result: Record<string, unknown> = { ...(target as Record<string, unknown>) };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete result[k];
    else result[k] = v;
  }
  return result as T;
}

/** Creates the embedded lowdb store over `options.file`; call `init()` before use. */
export function createLowdbStore(options: LowdbStoreOptions): LowdbStore {
  const now = options.now ?? Date.now;
  const retainMs = (options.retainProcessedInboundDays ?? 30) * DAY_MS;
  const compactAfter = options.compactAfterBytes ?? DEFAULT_COMPACT_BYTES;
  const wholeFileBelow = options.wholeFileBelowBytes ?? DEFAULT_WHOLE_FILE_BYTES;
  const mainFile = new DurableJsonFile(options.file, parseStoreSnapshot);
  const db = new Low<StoreSnapshot>(mainFile, emptySnapshot(new Date(0).toISOString()));
  const journalFile = `${options.file}.journal`;
  const journal = createJournal(journalFile);
  const mutex = createKeyedMutex();

  // ── in-memory state and indexes (Maps keep insertion order) ──
  const customers = new Map<string, Customer>();
  const conversations = new Map<string, Conversation>();
  const conversationByKey = new Map<string, string>();
  const conversationsByState = new Map<ConversationState, Set<string>>();
  const conversationsByCustomer = new Map<string, Set<string>>();
  const conversationsByCase = new Map<string, Set<string>>();
  const cases = new Map<string, Case>();
  const casesByCustomer = new Map<string, Set<string>>();
  const messages = new Map<string, StoredMessage>();
  const messagesByConversation = new Map<string, Set<string>>();
  const messagesByCase = new Map<string, Set<string>>();
  const outbox = new Map<string, OutboxItem>();
  const outboxByConversation = new Map<string, OutboxItem[]>();
  /** Per conversation, its items still pending or sending, in seq order. */
  const unsentByConversation = new Map<string, OutboxItem[]>();
  const outboxOrder = new Map<string, number>();
  /**
   * Conversations' unsent heads by (notBefore, arrival), so a claim costs O(claimed · log n) even
   * with thousands of replies waiting. Entries are never updated in place: a head that changes
   * (claimed, retried, sent) gets a new entry, and an entry that no longer describes its
   * conversation's head is dropped when it reaches the top.
   */
  const dueHeads = new PriorityQueue<{ notBefore: number; order: number; id: string }>((a, b) => a.notBefore - b.notBefore || a.order - b.order);
  /** The head entry last queued per conversation (`id@notBefore`), to queue each change once. */
  const queuedHead = new Map<string, string>();
  /**
   * The mutation that last wrote each unsent outbox item. Memory changes before the disk does, so
   * a claim hands out only items whose mutation is on disk (`durableSeq`): a reply is never sent
   * for a turn that a crash could still undo (it would be answered again after recovery).
   */
  const outboxWrittenBy = new Map<string, number>();
  /** The mutation being applied (0 while loading what is already on disk). */
  let applyingSeq = 0;
  /** The last mutation known to be on disk. */
  let durableSeq = 0;
  let outboxCounter = 0;
  const lastSeq = new Map<string, number>();
  const inbound = new Map<string, InboundRecord>();
  const pendingInboundKeys = new Set<string>();
  const operators = new Map<string, Operator>();
  const operatorByName = new Map<string, string>();
  const suggestions = new Map<string, FaqSuggestion>();
  const values = new Map<string, string>();
  /** Revision of each conversation and case, bumped by every write (memory only: one process owns the file). */
  const conversationRevs = new Map<string, number>();
  const caseRevs = new Map<string, number>();

  let state: 'new' | 'open' | 'closed' = 'new';
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`sportello: ${message}\n`));
  let lock: FileLock | undefined;
  let lastPrune = 0;
  let writes = 0;

  function ensureOpen(): void {
    if (state !== 'open') throw new StoreError(state === 'new' ? 'lowdb store used before init()' : 'lowdb store used after close()');
  }

  // ── persistence: coalesced, durable journal appends; compaction into the main file ──
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

  function pruneInbound(): void {
    const cutoff = now() - retainMs;
    for (const [key, record] of inbound) {
      if (record.processedAt && time(record.processedAt) < cutoff) inbound.delete(key);
    }
    lastPrune = now();
  }

  function toSnapshot(): StoreSnapshot {
    return {
      format: 'sportello-store',
      version: 1,
      exportedAt: new Date(now()).toISOString(),
      customers: [...customers.values()],
      conversations: [...conversations.values()],
      cases: [...cases.values()],
      messages: [...messages.values()],
      outbox: [...outbox.values()],
      inbound: [...inbound.values()],
      operators: [...operators.values()],
      suggestions: [...suggestions.values()],
      values: Object.fromEntries(values),
      journalSeq: seq,
    };
  }

  /** Writes the whole store to the main file, then empties the journal. */
  async function compact(): Promise<void> {
    compactNext = true;
    // The snapshot is serialised synchronously inside write(), so it holds exactly the
    // mutations made before this point (their journal lines are dropped just below).
    db.data = toSnapshot();
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

  /** The background compaction under way, if any. */
  let compacting: Promise<void> | undefined;

  /**
   * Starts writing the whole store to the main file without holding up writes: the journal is
   * rotated now (its lines are all in the snapshot taken here), the snapshot is serialised and
   * written in slices, then the rotated journal is deleted. If that fails, the next write
   * compacts in the foreground (both journals are still there, so nothing is lost meanwhile).
   */
  async function startCompaction(): Promise<void> {
    const snapshot = toSnapshot();
    try {
      await journal.rotate();
    } catch (err) {
      compactNext = true;
      throw new StoreError(`could not rotate ${journalFile}: ${(err as Error).message}`, { cause: err });
    }
    compacting = (async () => {
      try {
        await mainFile.writeParts(snapshotParts(snapshot));
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
    if (now() - lastPrune > PRUNE_EVERY_MS) pruneInbound();
    const upTo = seq;
    await writeQueued();
    durableSeq = Math.max(durableSeq, upTo);
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

  /** Applies puts to memory and queues them as one journal line; resolves once on disk. */
  function commit(puts: Put[]): Promise<void> {
    journalLater(puts);
    return persist();
  }

  /** Applies puts to memory and queues their journal line without starting a write (no durability needed). */
  function journalLater(puts: Put[]): void {
    seq += 1;
    applyAll(puts, seq);
    unwritten.push(`${JSON.stringify([seq, puts])}\n`);
  }

  function applyAll(puts: readonly Put[], mutation: number): void {
    applyingSeq = mutation;
    try {
      for (const put of puts) apply(put);
    } finally {
      applyingSeq = 0;
    }
  }

  /**
   * Like `commit`, for records the caller built: the store keeps them as they are, frozen (deep),
   * instead of a copy per write — records are replaced, never changed in place, and a caller
   * that tried to change one afterwards would get a TypeError rather than a store whose memory
   * differs from its disk.
   */
  function commitRecords(puts: Put[]): Promise<void> {
    for (const put of puts) freezeDeep(put[1]);
    return commit(puts);
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

  // ── index maintenance ──
  function putCustomer(customer: Customer): void {
    customers.set(customer.id, customer);
  }

  function putConversation(conversation: Conversation): void {
    // Index sets keep insertion order: an entry is moved only when its indexed value changes.
    const old = conversations.get(conversation.id);
    if (old && old.key !== conversation.key && conversationByKey.get(old.key) === old.id) conversationByKey.delete(old.key);
    if (old?.state !== conversation.state) {
      if (old) removeFrom(conversationsByState, old.state, old.id);
      addTo(conversationsByState, conversation.state, conversation.id);
    }
    if (old?.customerId !== conversation.customerId) {
      if (old) removeFrom(conversationsByCustomer, old.customerId, old.id);
      addTo(conversationsByCustomer, conversation.customerId, conversation.id);
    }
    if (old?.caseId !== conversation.caseId) {
      if (old) removeFrom(conversationsByCase, old.caseId, old.id);
      addTo(conversationsByCase, conversation.caseId, conversation.id);
    }
    conversations.set(conversation.id, conversation);
    conversationByKey.set(conversation.key, conversation.id);
    conversationRevs.set(conversation.id, (conversationRevs.get(conversation.id) ?? 0) + 1);
  }

  function putCase(c: Case): void {
    const old = cases.get(c.id);
    if (old?.customerId !== c.customerId) {
      if (old) removeFrom(casesByCustomer, old.customerId, old.id);
      addTo(casesByCustomer, c.customerId, c.id);
    }
    cases.set(c.id, c);
    caseRevs.set(c.id, (caseRevs.get(c.id) ?? 0) + 1);
  }

  function putMessage(message: StoredMessage): void {
    const old = messages.get(message.id);
    if (old?.conversationId !== message.conversationId) {
      if (old) removeFrom(messagesByConversation, old.conversationId, old.id);
      addTo(messagesByConversation, message.conversationId, message.id);
    }
    if (old?.caseId !== message.caseId) {
      if (old) removeFrom(messagesByCase, old.caseId, old.id);
      addTo(messagesByCase, message.caseId, message.id);
    }
    messages.set(message.id, message);
  }

  /** Indexes an outbox item (new, or replacing one with the same id and seq). */
  function putOutbox(item: OutboxItem): void {
    const old = outbox.get(item.id);
    outbox.set(item.id, item);
    // Only the mutations that make an item due count (its turn, a retry); a claim needs no disk.
    if (item.status === 'pending') outboxWrittenBy.set(item.id, applyingSeq);
    else if (item.status !== 'sending') outboxWrittenBy.delete(item.id);
    if (!outboxOrder.has(item.id)) outboxOrder.set(item.id, outboxCounter++);
    lastSeq.set(item.conversationId, Math.max(lastSeq.get(item.conversationId) ?? 0, item.seq));
    const all = outboxByConversation.get(item.conversationId) ?? [];
    const unsent = (unsentByConversation.get(item.conversationId) ?? []).filter((o) => o.id !== item.id);
    if (old) {
      const i = all.findIndex((o) => o.id === item.id);
      if (i >= 0) all[i] = item;
    } else {
      all.push(item);
      // Items nearly always arrive in seq order: sort only when one does not.
      if (all.length > 1 && all[all.length - 2]!.seq > item.seq) all.sort((a, b) => a.seq - b.seq);
    }
    outboxByConversation.set(item.conversationId, all);
    if (item.status === 'pending' || item.status === 'sending') {
      unsent.push(item);
      if (unsent.length > 1 && unsent[unsent.length - 2]!.seq > item.seq) unsent.sort((a, b) => a.seq - b.seq);
    }
    if (unsent.length) unsentByConversation.set(item.conversationId, unsent);
    else unsentByConversation.delete(item.conversationId);
    const head = unsent[0];
    const headKey = head && `${head.id}@${head.notBefore}`;
    if (head && queuedHead.get(item.conversationId) !== headKey) {
      dueHeads.enqueue({ notBefore: head.notBefore, order: outboxOrder.get(head.id) ?? 0, id: head.id });
      queuedHead.set(item.conversationId, headKey!);
    } else if (!head) {
      queuedHead.delete(item.conversationId);
    }
  }

  function putInbound(record: InboundRecord): void {
    const key = inboundKey(record.channel, record.id);
    inbound.set(key, record);
    if (record.processedAt || !record.message) pendingInboundKeys.delete(key);
    else pendingInboundKeys.add(key);
  }

  function processed(channel: string, id: string): InboundRecord {
    const existing = inbound.get(inboundKey(channel, id));
    const at = new Date(now()).toISOString();
    // The message body is dropped once processed: only the id is needed for deduplication.
    return { channel, id, acceptedAt: existing?.acceptedAt ?? at, processedAt: at };
  }

  function putOperator(op: Operator): void {
    const old = operators.get(op.id);
    if (old) operatorByName.delete(old.name);
    operators.set(op.id, op);
    operatorByName.set(op.name, op.id);
  }

  function apply(put: Put): void {
    switch (put[0]) {
      case 'customer':
        return putCustomer(put[1]);
      case 'conversation':
        return putConversation(put[1]);
      case 'case':
        return putCase(put[1]);
      case 'message':
        return putMessage(put[1]);
      case 'outbox':
        return putOutbox(put[1]);
      case 'inbound':
        return putInbound(put[1]);
      case 'operator':
        return putOperator(put[1]);
      case 'suggestion':
        suggestions.set(put[1].id, put[1]);
        return;
      case 'value':
        values.set(put[1].name, put[1].value);
        return;
      case 'sent': {
        const item = outbox.get(put[1].id);
        if (item) putOutbox({ ...item, status: 'sent', sentAt: put[1].sentAt, platformId: put[1].platformId, attempts: put[1].attempts });
        return;
      }
    }
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
      for (const put of entry.value) apply(put);
      seq = entry.seq;
    }
    return contents.present;
  }

  function load(snapshot: StoreSnapshot): void {
    seq = snapshot.journalSeq ?? 0;
    for (const c of snapshot.customers) putCustomer(c);
    for (const c of snapshot.conversations) putConversation(c);
    for (const c of snapshot.cases) putCase(c);
    for (const m of snapshot.messages) putMessage(m);
    for (const o of snapshot.outbox) putOutbox(o);
    for (const r of snapshot.inbound) putInbound(r);
    for (const o of snapshot.operators) putOperator(o);
    for (const s of snapshot.suggestions) suggestions.set(s.id, s);
    for (const [k, v] of Object.entries(snapshot.values)) values.set(k, v);
  }

  /** Conversations whose key another conversation already has (unique key): the turn raced the one that took it. */
  function checkKeys(incoming: readonly Conversation[]): void {
    const seen = new Map<string, string>();
    for (const c of incoming) {
      const owner = seen.get(c.key) ?? conversationByKey.get(c.key);
      if (owner !== undefined && owner !== c.id) {
        throw new TurnConflictError(`conversation ${c.id} has key ${c.key}, already used by conversation ${owner}`);
      }
      seen.set(c.key, c.id);
    }
  }

  /** A conversation or case the turn writes that changed since the revision the turn expects. */
  function checkRevisions(turn: TurnRecord): void {
    const expect = turn.expect;
    if (!expect) return;
    for (const c of turn.conversations) {
      if (Object.hasOwn(expect.conversations, c.id) && conversationRevs.get(c.id) !== expect.conversations[c.id]) {
        throw new TurnConflictError(`conversation ${c.id} changed since the turn read it`);
      }
    }
    const c = turn.case;
    if (c && Object.hasOwn(expect.cases, c.id) && caseRevs.get(c.id) !== expect.cases[c.id]) {
      throw new TurnConflictError(`case ${c.id} changed since the turn read it`);
    }
  }

  /** The customer's most recent open case (later in insertion order wins a tie, as in PostgreSQL). */
  function openCaseOf(customerId: string): Case | undefined {
    let best: Case | undefined;
    for (const id of casesByCustomer.get(customerId) ?? []) {
      const c = cases.get(id);
      if (c?.status === 'open' && (!best || time(c.openedAt) >= time(best.openedAt))) best = c;
    }
    return best;
  }

  /** Reads the main file and the journal (checked), under the lock. */
  async function openFiles(): Promise<void> {
    try {
      await db.read();
    } catch (err) {
      throw new StoreError(`cannot open ${options.file}: ${(err as Error).message}`, { cause: err });
    }
    load(db.data);
    let replayed: boolean;
    try {
      replayed = await replayJournal();
      await journal.open();
    } catch (err) {
      await journal.close();
      throw err instanceof StoreError ? err : new StoreError(`cannot open ${journalFile}: ${(err as Error).message}`, { cause: err });
    }
    pruneInbound();
    // One process owns the file: replies a previous run had claimed but not finished are due now.
    for (const item of outbox.values()) if (item.status === 'sending') putOutbox({ ...item, notBefore: 0 });
    // Fold what the last run left in the journal into the main file; a new store gets its main
    // file before any journal line, so a journal without its main file is always damage.
    if (replayed || mainFile.bytes === 0) await compact();
  }

  const store: LowdbStore = {
    async init() {
      if (state === 'open') return;
      if (state === 'closed') throw new StoreError('lowdb store cannot be reopened after close(); create a new one');
      mkdirSync(dirname(options.file), { recursive: true });
      lock = await acquireFileLock(options.file, { ...options.lock, onStale: warn, onWait: warn });
      try {
        await openFiles();
      } catch (err) {
        await journal.close();
        await lock.release();
        throw err;
      }
      state = 'open';
    },

    async close() {
      if (state !== 'open') {
        state = 'closed';
        return;
      }
      await store.flush();
      state = 'closed';
      if (compacting) await compacting;
      // Leave one self-contained file behind.
      if (journal.bytes() > 0 || compactNext) await compact();
      await journal.close();
      await lock?.release();
    },

    lock: () => lock,

    async flush() {
      // Lines queued without a write of their own (claims) go out now too.
      if (unwritten.length > 0) await persist();
      else if (scheduled) await scheduled;
      else if (running) await running;
    },

    fileWrites: () => writes,

    acceptInboundNow(msg) {
      ensureOpen();
      const key = inboundKey(msg.channel, msg.id);
      if (inbound.has(key)) return { fresh: false, durable: Promise.resolve() };
      const durable = commitRecords([['inbound', { channel: msg.channel, id: msg.id, acceptedAt: new Date(now()).toISOString(), message: msg }]]);
      return { fresh: true, durable };
    },

    async acceptInbound(msg) {
      const { fresh, durable } = store.acceptInboundNow!(msg);
      await durable;
      return fresh;
    },

    async pendingInbound(limit) {
      ensureOpen();
      const result: InboundMessage[] = [];
      for (const key of pendingInboundKeys) {
        if (result.length >= limit) break;
        const message = inbound.get(key)?.message;
        if (message) result.push(clone(message) as InboundMessage);
      }
      return result;
    },

    withConversationLock(key, fn) {
      return mutex.run(key, fn);
    },

    async commitTurn(turn: TurnRecord) {
      ensureOpen();
      // Everything that can fail is checked before memory changes: all or nothing.
      if (turn.inbound && inbound.get(inboundKey(turn.inbound.channel, turn.inbound.id))?.processedAt) {
        throw new AlreadyProcessedError(turn.inbound.channel, turn.inbound.id);
      }
      checkRevisions(turn);
      checkKeys(turn.conversations);
      const outboxIds = new Set<string>();
      for (const item of turn.outbox) {
        if (outbox.has(item.id) || outboxIds.has(item.id)) throw new StoreError(`outbox item ${item.id} already exists`);
        outboxIds.add(item.id);
      }
      const puts: Put[] = [];
      if (turn.customer) puts.push(['customer', turn.customer]);
      for (const c of turn.conversations) puts.push(['conversation', c]);
      // A case handed back as it was read (the same record) is not written again.
      if (turn.case && turn.case !== cases.get(turn.case.id)) puts.push(['case', turn.case]);
      for (const m of turn.messages) puts.push(['message', m]);
      const seqs = new Map<string, number>();
      for (const item of turn.outbox) {
        const seq = (seqs.get(item.conversationId) ?? lastSeq.get(item.conversationId) ?? 0) + 1;
        seqs.set(item.conversationId, seq);
        puts.push(['outbox', { ...item, seq }]);
      }
      if (turn.inbound) puts.push(['inbound', processed(turn.inbound.channel, turn.inbound.id)]);
      await commitRecords(puts);
    },

    async getCustomer(id) {
      ensureOpen();
      const c = customers.get(id);
      return c && clone(c);
    },

    async getConversation(id) {
      ensureOpen();
      const c = conversations.get(id);
      return c && clone(c);
    },

    async findConversationByKey(key) {
      ensureOpen();
      const id = conversationByKey.get(key);
      const c = id === undefined ? undefined : conversations.get(id);
      return c && clone(c);
    },

    async listConversations(filter: ConversationFilter) {
      ensureOpen();
      let ids: Iterable<string>;
      if (filter.caseId !== undefined) ids = conversationsByCase.get(filter.caseId) ?? [];
      else if (filter.customerId !== undefined) ids = conversationsByCustomer.get(filter.customerId) ?? [];
      else if (filter.states) ids = filter.states.flatMap((s) => [...(conversationsByState.get(s) ?? [])]);
      else ids = conversations.keys();
      const found: Conversation[] = [];
      for (const id of ids) {
        const c = conversations.get(id);
        if (!c) continue;
        if (filter.states && !filter.states.includes(c.state)) continue;
        if (filter.caseId !== undefined && c.caseId !== filter.caseId) continue;
        if (filter.customerId !== undefined && c.customerId !== filter.customerId) continue;
        if (filter.assignee !== undefined && c.assignee !== filter.assignee) continue;
        found.push(c);
      }
      found.sort((a, b) => time(b.updatedAt) - time(a.updatedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return (filter.limit !== undefined ? found.slice(0, filter.limit) : found).map(clone);
    },

    async getCase(id) {
      ensureOpen();
      const c = cases.get(id);
      return c && clone(c);
    },

    async findOpenCase(customerId) {
      ensureOpen();
      const best = openCaseOf(customerId);
      return best && clone(best);
    },

    async loadTurnContext(q) {
      ensureOpen();
      const revisions = emptyRevisions();
      const id = conversationByKey.get(q.key);
      const conversation = id === undefined ? undefined : conversations.get(id);
      const kase = conversation ? cases.get(conversation.caseId) : undefined;
      const openCase = openCaseOf(q.customerId);
      const linkedValue = q.linkedCustomerIdFrom ? values.get(q.linkedCustomerIdFrom.value) : undefined;
      const linkedCustomerId = q.linkedCustomerId ?? (linkedValue !== undefined ? `${q.linkedCustomerIdFrom!.prefix}${linkedValue}` : undefined);
      const linkedOpenCase = linkedCustomerId !== undefined ? openCaseOf(linkedCustomerId) : undefined;
      const related: Conversation[] = [];
      const relatedIds = new Set([kase, openCase, linkedOpenCase].flatMap((c) => c?.conversationIds ?? []));
      for (const rid of relatedIds) {
        const c = rid === conversation?.id ? undefined : conversations.get(rid);
        if (c) related.push(c);
      }
      for (const c of [conversation, ...related]) if (c) revisions.conversations[c.id] = conversationRevs.get(c.id) ?? 0;
      for (const c of [kase, openCase, linkedOpenCase]) if (c) revisions.cases[c.id] = caseRevs.get(c.id) ?? 0;
      // The records themselves, not copies (see TurnContext): they are replaced on every change, never edited.
      return { customer: customers.get(q.customerId), conversation, case: kase, openCase, linkedOpenCase, related, revisions };
    },

    async listCases(customerId) {
      ensureOpen();
      const found = [...(casesByCustomer.get(customerId) ?? [])].flatMap((id) => {
        const c = cases.get(id);
        return c ? [c] : [];
      });
      return found.sort((a, b) => time(a.openedAt) - time(b.openedAt)).map(clone);
    },

    async listMessages(filter) {
      ensureOpen();
      let ids: Iterable<string>;
      if (filter.conversationId !== undefined) ids = messagesByConversation.get(filter.conversationId) ?? [];
      else if (filter.caseId !== undefined) ids = messagesByCase.get(filter.caseId) ?? [];
      else ids = messages.keys();
      const found: StoredMessage[] = [];
      for (const id of ids) {
        const m = messages.get(id);
        if (!m) continue;
        if (filter.caseId !== undefined && m.caseId !== filter.caseId) continue;
        found.push(m);
      }
      // Array.prototype.sort is stable: equal times keep insertion order.
      return found.sort((a, b) => time(a.at) - time(b.at)).map(clone);
    },

    async compareAndSetConversation(id, expected, change) {
      ensureOpen();
      const current = conversations.get(id);
      if (!current) return undefined;
      if (!expected.states.includes(current.state)) return undefined;
      if (expected.assignee === null && current.assignee !== undefined) return undefined;
      if (typeof expected.assignee === 'string' && current.assignee !== expected.assignee) return undefined;
      const { id: _ignoredId, ...rest } = change;
      const updated = merge(current, rest);
      checkKeys([updated]);
      await commit([['conversation', clone(updated)]]);
      return clone(updated);
    },

    async claimOutbox(at, limit, leaseMs) {
      ensureOpen();
      const heads: OutboxItem[] = [];
      const taken = new Set<string>();
      const notYetOnDisk: Array<{ notBefore: number; order: number; id: string }> = [];
      while (heads.length < limit && !dueHeads.isEmpty() && dueHeads.front()!.notBefore <= at) {
        const entry = dueHeads.dequeue()!;
        const item = outbox.get(entry.id);
        // Only a current head counts: the entry may describe a head that was since claimed, sent or retried.
        if (!item || item.notBefore !== entry.notBefore || taken.has(item.id)) continue;
        if (item.status !== 'pending' && item.status !== 'sending') continue;
        if (unsentByConversation.get(item.conversationId)?.[0]?.id !== item.id) continue;
        if ((outboxWrittenBy.get(item.id) ?? 0) > durableSeq) {
          // Not on disk yet: neither are the ones queued after it, almost always (the newest).
          // Stop here rather than walk them all on every claim; the next write's claim gets them.
          notYetOnDisk.push(entry);
          break;
        }
        taken.add(item.id);
        heads.push(item);
      }
      for (const entry of notYetOnDisk) dueHeads.enqueue(entry);
      const claimed = heads.map((head): OutboxItem => ({ ...head, status: 'sending', attempts: head.attempts + 1, notBefore: at + leaseMs }));
      // One process owns the file and `init()` frees every lease, so a claim need not reach the
      // disk: it changes memory only. After a crash the item is pending on disk, as a lease
      // would be freed anyway; only its attempt count is one lower. The send's completion
      // (or retry) writes the whole item, attempts included.
      if (claimed.length) applyAll(claimed.map((item): Put => ['outbox', freezeDeep(item)]), 0);
      // Frozen, like every record the store keeps: handed out as they are.
      return claimed;
    },

    async completeOutbox(id, outcome) {
      ensureOpen();
      const item = outbox.get(id);
      if (!item) throw new StoreError(`outbox item ${id} does not exist`);
      if (outcome.status === 'sent') {
        await commit([['sent', { id, sentAt: outcome.at, platformId: outcome.platformId, attempts: item.attempts }]]);
      } else {
        const updated: OutboxItem =
          outcome.status === 'retry'
            ? { ...item, status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error }
            : { ...item, status: 'dead', lastError: outcome.error };
        await commit([['outbox', updated]]);
      }
      return { more: (unsentByConversation.get(item.conversationId) ?? []).some((other) => other.seq > item.seq) };
    },

    async getOutboxItem(id) {
      ensureOpen();
      const item = outbox.get(id);
      return item && clone(item);
    },

    async listOutbox(filter) {
      ensureOpen();
      const source = filter.conversationId !== undefined ? (outboxByConversation.get(filter.conversationId) ?? []) : outbox.values();
      const found: OutboxItem[] = [];
      for (const item of source) if (filter.status === undefined || item.status === filter.status) found.push(item);
      found.sort((a, b) => (outboxOrder.get(a.id) ?? 0) - (outboxOrder.get(b.id) ?? 0));
      return found.map(clone);
    },

    async addOperator(op) {
      ensureOpen();
      if (operators.has(op.id)) throw new ConflictError(`operator ${op.id} already exists`);
      if (operatorByName.has(op.name)) throw new ConflictError(`an operator named ${op.name} already exists`);
      await commit([['operator', clone(op)]]);
    },

    async getOperator(id) {
      ensureOpen();
      const op = operators.get(id);
      return op && clone(op);
    },

    async findOperatorByName(name) {
      ensureOpen();
      const id = operatorByName.get(name);
      const op = id === undefined ? undefined : operators.get(id);
      return op && clone(op);
    },

    async listOperators() {
      ensureOpen();
      return [...operators.values()].map(clone);
    },

    async addSuggestion(s) {
      ensureOpen();
      if (suggestions.has(s.id)) throw new ConflictError(`suggestion ${s.id} already exists`);
      await commit([['suggestion', clone(s)]]);
    },

    async updateSuggestion(id, change) {
      ensureOpen();
      const current = suggestions.get(id);
      if (!current) return undefined;
      const { id: _ignoredId, ...rest } = change;
      const updated = merge(current, rest);
      await commit([['suggestion', clone(updated)]]);
      return clone(updated);
    },

    async listSuggestions(filter) {
      ensureOpen();
      const found = [...suggestions.values()].filter((s) => filter?.status === undefined || s.status === filter.status);
      return found.map(clone);
    },

    async getValue(name) {
      ensureOpen();
      return values.get(name);
    },

    async setValue(name, value) {
      ensureOpen();
      await commit([['value', { name, value }]]);
    },

    async exportAll() {
      ensureOpen();
      // journalSeq describes this file's journal only: an export does not carry it.
      const { journalSeq: _journalSeq, ...snapshot } = toSnapshot();
      return clone(snapshot);
    },

    async importAll(snapshot) {
      ensureOpen();
      const data = clone(parseStoreSnapshot(snapshot));
      // Check before changing anything: keys and operator names stay unique.
      checkKeys(data.conversations);
      const names = new Map<string, string>();
      for (const op of data.operators) {
        const owner = names.get(op.name) ?? operatorByName.get(op.name);
        if (owner !== undefined && owner !== op.id) throw new ConflictError(`an operator named ${op.name} already exists (${owner})`);
        names.set(op.name, op.id);
      }
      for (const item of data.outbox) {
        const existing = outbox.get(item.id);
        if (!existing) {
          const clash = (outboxByConversation.get(item.conversationId) ?? []).find((o) => o.seq === item.seq);
          if (clash) throw new StoreError(`outbox item ${item.id} has seq ${item.seq} of conversation ${item.conversationId}, already used by ${clash.id}`);
        }
      }
      for (const c of data.customers) putCustomer(c);
      for (const c of data.conversations) putConversation(c);
      for (const c of data.cases) putCase(c);
      for (const m of data.messages) putMessage(m);
      for (const o of data.outbox) putOutbox(o);
      for (const r of data.inbound) {
        const existing = inbound.get(inboundKey(r.channel, r.id));
        // Never turn a processed message back into a pending one.
        if (!existing?.processedAt) putInbound(r);
      }
      for (const o of data.operators) putOperator(o);
      for (const s of data.suggestions) suggestions.set(s.id, s);
      for (const [k, v] of Object.entries(data.values)) values.set(k, v);
      // Imports can be large: they go straight into the main file rather than the journal.
      seq += 1;
      compactNext = true;
      await persist();
    },
  };
  return store;
}
