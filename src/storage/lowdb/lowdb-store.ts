/**
 * @module storage/lowdb/lowdb-store
 * The embedded store: everything in memory (with indexes), persisted to one JSON file through
 * lowdb. Mutations change memory at once and resolve when a file write that started after them
 * has completed, so writes arriving together share one file write. See docs/storage.md.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import type { ConversationFilter, Store, TurnRecord } from '../../core/ports.js';
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
import { ConflictError, StoreError } from '../../core/errors.js';
import { createKeyedMutex } from '../../util/keyed-mutex.js';
import { emptySnapshot, parseStoreSnapshot, type InboundRecord, type StoreSnapshot } from '../snapshot.js';
import { DurableJsonFile } from './durable-json-file.js';

/** Options of the embedded store. */
export interface LowdbStoreOptions {
  /** The JSON file (parent folders are created); usually data/sportello.json. */
  file: string;
  /** Processed inbound ids older than this many days are forgotten (default 30). */
  retainProcessedInboundDays?: number;
  /** Epoch ms now; only pruning and acceptance times use it (tests pass a fake). */
  now?: () => number;
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
}

const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

const inboundKey = (channel: string, id: string): string => `${channel}\u0000${id}`;
const clone = <T>(value: T): T => structuredClone(value);
const time = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

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
  const db = new Low<StoreSnapshot>(new DurableJsonFile(options.file, parseStoreSnapshot), emptySnapshot(new Date(0).toISOString()));
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
  let outboxCounter = 0;
  const lastSeq = new Map<string, number>();
  const inbound = new Map<string, InboundRecord>();
  const pendingInboundKeys = new Set<string>();
  const operators = new Map<string, Operator>();
  const operatorByName = new Map<string, string>();
  const suggestions = new Map<string, FaqSuggestion>();
  const values = new Map<string, string>();

  let state: 'new' | 'open' | 'closed' = 'new';
  let lastPrune = 0;
  let writes = 0;

  function ensureOpen(): void {
    if (state !== 'open') throw new StoreError(state === 'new' ? 'lowdb store used before init()' : 'lowdb store used after close()');
  }

  // ── persistence: coalesced, durable file writes ──
  let scheduled: Promise<void> | undefined;
  let running: Promise<void> | undefined;

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
    };
  }

  async function writeNow(): Promise<void> {
    if (now() - lastPrune > PRUNE_EVERY_MS) pruneInbound();
    // The snapshot is serialised synchronously inside write(), so it holds exactly the
    // mutations made before this point.
    db.data = toSnapshot();
    try {
      await db.write();
      writes += 1;
    } catch (err) {
      throw new StoreError(`could not write ${options.file}: ${(err as Error).message}`, { cause: err });
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
  }

  function putCase(c: Case): void {
    const old = cases.get(c.id);
    if (old?.customerId !== c.customerId) {
      if (old) removeFrom(casesByCustomer, old.customerId, old.id);
      addTo(casesByCustomer, c.customerId, c.id);
    }
    cases.set(c.id, c);
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
    if (!outboxOrder.has(item.id)) outboxOrder.set(item.id, outboxCounter++);
    lastSeq.set(item.conversationId, Math.max(lastSeq.get(item.conversationId) ?? 0, item.seq));
    const all = outboxByConversation.get(item.conversationId) ?? [];
    const unsent = (unsentByConversation.get(item.conversationId) ?? []).filter((o) => o.id !== item.id);
    if (old) {
      const i = all.findIndex((o) => o.id === item.id);
      if (i >= 0) all[i] = item;
    } else {
      all.push(item);
      all.sort((a, b) => a.seq - b.seq);
    }
    outboxByConversation.set(item.conversationId, all);
    if (item.status === 'pending' || item.status === 'sending') {
      unsent.push(item);
      unsent.sort((a, b) => a.seq - b.seq);
    }
    if (unsent.length) unsentByConversation.set(item.conversationId, unsent);
    else unsentByConversation.delete(item.conversationId);
  }

  function putInbound(record: InboundRecord): void {
    const key = inboundKey(record.channel, record.id);
    inbound.set(key, record);
    if (record.processedAt || !record.message) pendingInboundKeys.delete(key);
    else pendingInboundKeys.add(key);
  }

  function markProcessed(channel: string, id: string): void {
    const key = inboundKey(channel, id);
    const existing = inbound.get(key);
    const at = new Date(now()).toISOString();
    // The message body is dropped once processed: only the id is needed for deduplication.
    putInbound({ channel, id, acceptedAt: existing?.acceptedAt ?? at, processedAt: at });
  }

  function putOperator(op: Operator): void {
    const old = operators.get(op.id);
    if (old) operatorByName.delete(old.name);
    operators.set(op.id, op);
    operatorByName.set(op.name, op.id);
  }

  function load(snapshot: StoreSnapshot): void {
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

  /** Conversations whose key another conversation already has (unique key). */
  function checkKeys(incoming: readonly Conversation[]): void {
    const seen = new Map<string, string>();
    for (const c of incoming) {
      const owner = seen.get(c.key) ?? conversationByKey.get(c.key);
      if (owner !== undefined && owner !== c.id) {
        throw new StoreError(`conversation ${c.id} has key ${c.key}, already used by conversation ${owner}`);
      }
      seen.set(c.key, c.id);
    }
  }

  const store: LowdbStore = {
    async init() {
      if (state === 'open') return;
      if (state === 'closed') throw new StoreError('lowdb store cannot be reopened after close(); create a new one');
      mkdirSync(dirname(options.file), { recursive: true });
      try {
        await db.read();
      } catch (err) {
        throw new StoreError(`cannot open ${options.file}: ${(err as Error).message}`, { cause: err });
      }
      load(db.data);
      pruneInbound();
      state = 'open';
    },

    async close() {
      if (state !== 'open') {
        state = 'closed';
        return;
      }
      await store.flush();
      state = 'closed';
    },

    async flush() {
      if (scheduled) await scheduled;
      else if (running) await running;
    },

    fileWrites: () => writes,

    async acceptInbound(msg) {
      ensureOpen();
      const key = inboundKey(msg.channel, msg.id);
      if (inbound.has(key)) return false;
      putInbound({ channel: msg.channel, id: msg.id, acceptedAt: new Date(now()).toISOString(), message: clone(msg) });
      await persist();
      return true;
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
      checkKeys(turn.conversations);
      const outboxIds = new Set<string>();
      for (const item of turn.outbox) {
        if (outbox.has(item.id) || outboxIds.has(item.id)) throw new StoreError(`outbox item ${item.id} already exists`);
        outboxIds.add(item.id);
      }
      const copy = clone(turn);
      if (copy.customer) putCustomer(copy.customer);
      for (const c of copy.conversations) putConversation(c);
      if (copy.case) putCase(copy.case);
      for (const m of copy.messages) putMessage(m);
      for (const item of copy.outbox) {
        const seq = (lastSeq.get(item.conversationId) ?? 0) + 1;
        putOutbox({ ...item, seq });
      }
      if (copy.inbound) markProcessed(copy.inbound.channel, copy.inbound.id);
      await persist();
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
      let best: Case | undefined;
      for (const id of casesByCustomer.get(customerId) ?? []) {
        const c = cases.get(id);
        // Later in insertion order wins a tie, as in PostgreSQL.
        if (c?.status === 'open' && (!best || time(c.openedAt) >= time(best.openedAt))) best = c;
      }
      return best && clone(best);
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
      putConversation(clone(updated));
      await persist();
      return clone(updated);
    },

    async claimOutbox(at, limit, leaseMs) {
      ensureOpen();
      const heads: OutboxItem[] = [];
      for (const unsent of unsentByConversation.values()) {
        const head = unsent[0];
        if (head && head.notBefore <= at) heads.push(head);
      }
      heads.sort((a, b) => a.notBefore - b.notBefore || (outboxOrder.get(a.id) ?? 0) - (outboxOrder.get(b.id) ?? 0));
      const claimed = heads.slice(0, Math.max(0, limit)).map((head) => {
        const item: OutboxItem = { ...head, status: 'sending', attempts: head.attempts + 1, notBefore: at + leaseMs };
        putOutbox(item);
        return clone(item);
      });
      if (claimed.length) await persist();
      return claimed;
    },

    async completeOutbox(id, outcome) {
      ensureOpen();
      const item = outbox.get(id);
      if (!item) throw new StoreError(`outbox item ${id} does not exist`);
      let updated: OutboxItem;
      if (outcome.status === 'sent') {
        updated = { ...item, status: 'sent', sentAt: outcome.at, platformId: outcome.platformId };
      } else if (outcome.status === 'retry') {
        updated = { ...item, status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error };
      } else {
        updated = { ...item, status: 'dead', lastError: outcome.error };
      }
      putOutbox(updated);
      await persist();
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
      putOperator(clone(op));
      await persist();
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
      suggestions.set(s.id, clone(s));
      await persist();
    },

    async updateSuggestion(id, change) {
      ensureOpen();
      const current = suggestions.get(id);
      if (!current) return undefined;
      const { id: _ignoredId, ...rest } = change;
      const updated = merge(current, rest);
      suggestions.set(id, clone(updated));
      await persist();
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
      values.set(name, value);
      await persist();
    },

    async exportAll() {
      ensureOpen();
      return clone(toSnapshot());
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
      await persist();
    },
  };
  return store;
}
