/**
 * @module storage/lowdb/lowdb-store
 * The embedded store: everything in memory (memory.ts), persisted to one JSON file plus an
 * append-only journal (persistence.ts), one process per file. Each port is a module of its own
 * (inbox, conversations, outbox, directory, suggestions, values); this one opens, closes, exports
 * and imports. See docs/storage.md.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../../core/ports.js';
import { ConflictError, StoreError } from '../../core/errors.js';
import { parseStoreSnapshot, type StoreSnapshot } from '../snapshot.js';
import { lowdbConversations } from './conversations.js';
import { lowdbDeliveries } from './deliveries.js';
import { lowdbDirectory } from './directory.js';
import { lowdbInbox } from './inbox.js';
import { Memory } from './memory.js';
import { lowdbOutbox } from './outbox.js';
import type { LowdbParts } from './parts.js';
import { acquireFileLock, type FileLock } from './file-lock.js';
import { openLowdbFile } from './persistence.js';
import { clone, inboundKey, time } from './records.js';
import { lowdbSuggestions } from './suggestions.js';
import { lowdbHeard } from './heard.js';
import { lowdbValues } from './values.js';
import { lowdbCustomerFiles, lowdbSavedReplies, lowdbSearch } from './desk.js';
import { lowdbAudit, lowdbCustomerData } from './customer-data.js';

/** Options of the embedded store. */
export interface LowdbStoreOptions {
  /** The JSON file (parent folders are created); usually data/sportello.json. */
  file: string;
  /** Processed inbound ids older than this many days are forgotten (default 30). */
  retainProcessedInboundDays?: number;
  /** Epoch ms now; pruning, acceptance times and value expiry use it (tests pass a fake). */
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

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;
const DEFAULT_WHOLE_FILE_BYTES = 64 * 1024;

/** Creates the embedded lowdb store over `options.file`; call `init()` before use. */
export function createLowdbStore(options: LowdbStoreOptions): LowdbStore {
  const now = options.now ?? Date.now;
  const retainMs = (options.retainProcessedInboundDays ?? 30) * DAY_MS;
  const mem = new Memory();
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`sportello: ${message}\n`));
  let lock: FileLock | undefined;
  const file = openLowdbFile(
    {
      file: options.file,
      now,
      warn,
      wholeFileBelow: options.wholeFileBelowBytes ?? DEFAULT_WHOLE_FILE_BYTES,
      compactAfter: options.compactAfterBytes ?? DEFAULT_COMPACT_BYTES,
    },
    mem,
  );
  file.onPrune(() => mem.prune(now() - retainMs, now()));
  let state: 'new' | 'open' | 'closed' = 'new';
  const ensureOpen = (): void => {
    if (state !== 'open') throw new StoreError(state === 'new' ? 'lowdb store used before init()' : 'lowdb store used after close()');
  };
  const parts: LowdbParts = { mem, file, ensureOpen, now };

  return {
    inbox: lowdbInbox(parts),
    conversations: lowdbConversations(parts),
    outbox: lowdbOutbox(parts),
    deliveries: lowdbDeliveries(parts),
    directory: lowdbDirectory(parts),
    suggestions: lowdbSuggestions(parts),
    values: lowdbValues(parts),
    heard: lowdbHeard(parts),
    search: lowdbSearch(parts),
    customerFiles: lowdbCustomerFiles(parts),
    savedReplies: lowdbSavedReplies(parts),
    customerData: lowdbCustomerData(parts),
    audit: lowdbAudit(parts),

    async init() {
      if (state === 'open') return;
      if (state === 'closed') throw new StoreError('lowdb store cannot be reopened after close(); create a new one');
      mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
      // One process per file: a second one waits for a short-lived holder (a CLI command) or is refused.
      lock = await acquireFileLock(options.file, { ...options.lock, onStale: warn, onWait: warn });
      try {
        await file.open();
      } catch (err) {
        await lock.release();
        throw err;
      }
      // One process owns the file: replies a previous run had claimed but not finished are due now.
      for (const item of mem.outbox.values()) if (item.status === 'sending') mem.putOutbox({ ...item, notBefore: 0 });
      for (const d of mem.deliveries.values()) if (d.status === 'sending') mem.putDelivery({ ...d, notBefore: 0 });
      state = 'open';
    },

    async close() {
      if (state !== 'open') {
        state = 'closed';
        return;
      }
      state = 'closed';
      try {
        await file.close();
      } finally {
        await lock?.release();
      }
    },

    lock: () => lock,

    flush: () => file.flush(),
    fileWrites: () => file.writes(),

    async exportAll() {
      ensureOpen();
      // journalSeq describes this file's journal only: an export does not carry it.
      const { journalSeq: _journalSeq, ...snapshot } = mem.toSnapshot(new Date(now()).toISOString(), 0, now());
      return clone(snapshot);
    },

    async importAll(snapshot) {
      ensureOpen();
      const data = clone(parseStoreSnapshot(snapshot));
      // Check before changing anything: keys and operator names stay unique.
      mem.checkKeys(data.conversations);
      const names = new Map<string, string>();
      for (const op of data.operators) {
        const owner = names.get(op.name) ?? mem.operatorByName.get(op.name);
        if (owner !== undefined && owner !== op.id) throw new ConflictError(`an operator named ${op.name} already exists (${owner})`);
        names.set(op.name, op.id);
      }
      for (const item of data.outbox) {
        if (!mem.outbox.has(item.id)) {
          const clash = (mem.outboxByConversation.get(item.conversationId) ?? []).find((o) => o.seq === item.seq);
          if (clash) throw new StoreError(`outbox item ${item.id} has seq ${item.seq} of conversation ${item.conversationId}, already used by ${clash.id}`);
        }
      }
      for (const c of data.customers) mem.putCustomer(c);
      for (const c of data.conversations) mem.putConversation(c);
      for (const c of data.cases) mem.putCase(c);
      for (const m of data.messages) mem.putMessage(m);
      for (const o of data.outbox) mem.putOutbox(o);
      for (const d of data.deliveries ?? []) mem.putDelivery(d);
      for (const r of data.inbound) {
        // Never turn a processed message back into a pending one.
        if (!mem.inbound.get(inboundKey(r.channel, r.id))?.processedAt) mem.putInbound(r);
      }
      for (const o of data.operators) mem.putOperator(o);
      for (const s of data.suggestions) mem.suggestions.set(s.id, s);
      for (const h of data.heard ?? []) if (!mem.heard.has(h.id)) mem.heard.set(h.id, h);
      for (const f of data.customerFiles ?? []) mem.putCustomerFile(f);
      for (const r of data.savedReplies ?? []) mem.savedReplies.set(r.id, r);
      for (const a of data.audit ?? []) mem.putAudit(a);
      const expiry = data.valueExpiresAt ?? {};
      for (const [name, value] of Object.entries(data.values)) {
        mem.values.set(name, expiry[name] !== undefined ? { name, value, expiresAt: time(expiry[name]) } : { name, value });
      }
      await file.rewrite();
    },
  };
}
