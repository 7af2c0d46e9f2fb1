/**
 * @module storage/lowdb/memory
 * The embedded store's records in memory, with the indexes its reads use. Records are replaced,
 * never changed in place (they are kept frozen), so a read may hand out the stored record itself.
 * `apply(put)` is the only way in: the same code applies a new mutation and replays the journal.
 */
import { PriorityQueue } from '@datastructures-js/priority-queue';
import { TurnConflictError } from '../../core/errors.js';
import type { ConversationState } from '../../core/state.js';
import type { Revisions } from '../../core/ports.js';
import type { AuditEntry, Case, Conversation, Customer, CustomerFile, EventDelivery, FaqSuggestion, HeardRecord, Operator, OutboxItem, SavedReply, StoredMessage } from '../../core/types.js';
import { searchWords } from '../desk-records.js';
import type { InboundRecord, StoreSnapshot } from '../snapshot.js';
import { inboundKey, time, type Put, type ValueRecord } from './records.js';


/** An entry of a channel's queue of due heads (see `dueHeads`). */
export interface DueHead {
  notBefore: number;
  order: number;
  id: string;
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

/** Everything the embedded store holds, indexed (Maps keep insertion order). */
export class Memory {
  readonly customers = new Map<string, Customer>();
  readonly conversations = new Map<string, Conversation>();
  readonly conversationByKey = new Map<string, string>();
  readonly conversationsByState = new Map<ConversationState, Set<string>>();
  readonly conversationsByCustomer = new Map<string, Set<string>>();
  readonly conversationsByCase = new Map<string, Set<string>>();
  readonly cases = new Map<string, Case>();
  readonly casesByCustomer = new Map<string, Set<string>>();
  readonly messages = new Map<string, StoredMessage>();
  readonly messagesByConversation = new Map<string, Set<string>>();
  readonly messagesByCase = new Map<string, Set<string>>();
  readonly outbox = new Map<string, OutboxItem>();
  readonly outboxByConversation = new Map<string, OutboxItem[]>();
  /** Per conversation, its items still pending or sending, in seq order. */
  readonly unsentByConversation = new Map<string, OutboxItem[]>();
  readonly outboxOrder = new Map<string, number>();
  /**
   * Conversations' unsent heads by (notBefore, arrival), so a claim costs O(claimed · log n) even
   * with thousands of replies waiting. Entries are never updated in place: a head that changes
   * (claimed, retried, sent) gets a new entry, and an entry that no longer describes its
   * conversation's head is dropped when it reaches the top. One queue per channel: a claim takes
   * from the channels that have room only, without walking the items of one that has none.
   */
  readonly dueHeads = new Map<string, PriorityQueue<DueHead>>();
  /** The head entry last queued per conversation (`id@notBefore`), to queue each change once. */
  private readonly queuedHead = new Map<string, string>();
  /**
   * The mutation that last wrote each unsent outbox item. Memory changes before the disk does, so
   * a claim hands out only items whose mutation is on disk (`durableSeq`): a reply is never sent
   * for a turn that a crash could still undo (it would be answered again after recovery).
   */
  readonly outboxWrittenBy = new Map<string, number>();
  /** The mutation being applied (0 while loading what is already on disk, or for claims). */
  applyingSeq = 0;
  /** The last mutation known to be on disk. */
  durableSeq = 0;
  private outboxCounter = 0;
  readonly lastSeq = new Map<string, number>();
  /** Outbound event deliveries (webhooks), in insertion order. */
  readonly deliveries = new Map<string, EventDelivery>();
  /** Per order key, its deliveries still pending or sending, in insertion order (the head is next). */
  readonly unsentDeliveries = new Map<string, EventDelivery[]>();
  /** The mutation that last made each unsent delivery due: like the outbox, only those on disk are claimed. */
  readonly deliveryWrittenBy = new Map<string, number>();
  readonly inbound = new Map<string, InboundRecord>();
  readonly pendingInboundKeys = new Set<string>();
  readonly operators = new Map<string, Operator>();
  readonly operatorByName = new Map<string, string>();
  readonly suggestions = new Map<string, FaqSuggestion>();
  /** Posts heard by listening, in the order recorded. */
  readonly heard = new Map<string, HeardRecord>();
  readonly values = new Map<string, ValueRecord>();
  /** The desk's files on customers (tags, notes, links), and the customers by tag. */
  readonly customerFiles = new Map<string, CustomerFile>();
  readonly customersByTag = new Map<string, Set<string>>();
  readonly savedReplies = new Map<string, SavedReply>();
  /** The audit trail, oldest first (append-only), and its ids. */
  readonly audit: AuditEntry[] = [];
  readonly auditIds = new Set<string>();
  /** Each conversation's last message, notes aside (what a search result shows; the "waiting" view). */
  readonly lastMessage = new Map<string, StoredMessage>();
  /**
   * The search's word index (storage/desk-records.ts words): per word, the conversations whose
   * messages hold it (with how many of their messages do), and the customers whose name or
   * handle does. Kept in step by `putMessage` / `putCustomer`, so replaying the journal builds it too.
   * A message's words are indexed when a search next reads the index (`searchIndex()`), not in the
   * turn that stores it: splitting every message into words cost turns about a tenth of their CPU
   * (bench:e2e), and most messages are never searched before the next one arrives.
   */
  private readonly messageWords = new Map<string, Map<string, number>>();
  /** Message word changes not yet in `messageWords`, in order: text, conversation, +1 or -1. */
  private wordsPending: Array<[string, string, 1 | -1]> = [];
  readonly customerWords = new Map<string, Set<string>>();
  /** Revision of each conversation and case, bumped by every write (memory only: one process owns the file). */
  readonly conversationRevs = new Map<string, number>();
  readonly caseRevs = new Map<string, number>();

  /** Applies the puts of mutation number `mutation` (0: loaded from disk, or a claim). */
  applyAll(puts: readonly Put[], mutation: number): void {
    this.applyingSeq = mutation;
    try {
      for (const put of puts) this.apply(put);
    } finally {
      this.applyingSeq = 0;
    }
  }

  apply(put: Put): void {
    switch (put[0]) {
      case 'customer':
        return this.putCustomer(put[1]);
      case 'customer-file':
        return this.putCustomerFile(put[1]);
      case 'saved-reply':
        this.savedReplies.set(put[1].id, put[1]);
        return;
      case 'saved-reply-delete':
        this.savedReplies.delete(put[1].id);
        return;
      case 'conversation':
        return this.putConversation(put[1]);
      case 'case':
        return this.putCase(put[1]);
      case 'message':
        return this.putMessage(put[1]);
      case 'outbox':
        return this.putOutbox(put[1]);
      case 'delivery':
        return this.putDelivery(put[1]);
      case 'inbound':
        return this.putInbound(put[1]);
      case 'operator':
        return this.putOperator(put[1]);
      case 'operator-delete': {
        const old = this.operators.get(put[1].id);
        if (old) this.operatorByName.delete(old.name);
        this.operators.delete(put[1].id);
        return;
      }
      case 'suggestion':
        this.suggestions.set(put[1].id, put[1]);
        return;
      case 'heard':
        if (!this.heard.has(put[1].id)) this.heard.set(put[1].id, put[1]);
        return;
      case 'value':
        this.values.set(put[1].name, put[1]);
        return;
      case 'value-delete':
        this.values.delete(put[1].name);
        return;
      case 'audit':
        return this.putAudit(put[1]);
      case 'sent': {
        const item = this.outbox.get(put[1].id);
        if (item) this.putOutbox({ ...item, status: 'sent', sentAt: put[1].sentAt, platformId: put[1].platformId, attempts: put[1].attempts });
        return;
      }
    }
  }

  /** Loads a snapshot (the main file) into empty memory. */
  load(snapshot: StoreSnapshot): void {
    for (const c of snapshot.customers) this.putCustomer(c);
    for (const c of snapshot.conversations) this.putConversation(c);
    for (const c of snapshot.cases) this.putCase(c);
    for (const m of snapshot.messages) this.putMessage(m);
    for (const o of snapshot.outbox) this.putOutbox(o);
    for (const d of snapshot.deliveries ?? []) this.putDelivery(d);
    for (const r of snapshot.inbound) this.putInbound(r);
    for (const o of snapshot.operators) this.putOperator(o);
    for (const s of snapshot.suggestions) this.suggestions.set(s.id, s);
    for (const h of snapshot.heard ?? []) if (!this.heard.has(h.id)) this.heard.set(h.id, h);
    for (const f of snapshot.customerFiles ?? []) this.putCustomerFile(f);
    for (const r of snapshot.savedReplies ?? []) this.savedReplies.set(r.id, r);
    for (const a of snapshot.audit ?? []) this.putAudit(a);
    const expiry = snapshot.valueExpiresAt ?? {};
    for (const [name, value] of Object.entries(snapshot.values)) {
      const expiresAt = expiry[name] !== undefined ? time(expiry[name]) : undefined;
      this.values.set(name, expiresAt !== undefined ? { name, value, expiresAt } : { name, value });
    }
  }

  /** Everything, as one document (the main file's content), without values expired by `now` (epoch ms). */
  toSnapshot(exportedAt: string, journalSeq: number, now: number): StoreSnapshot {
    const values: Record<string, string> = {};
    const valueExpiresAt: Record<string, string> = {};
    for (const v of this.values.values()) {
      if (v.expiresAt !== undefined && v.expiresAt <= now) continue;
      values[v.name] = v.value;
      if (v.expiresAt !== undefined) valueExpiresAt[v.name] = new Date(v.expiresAt).toISOString();
    }
    return {
      format: 'sportello-store',
      version: 1,
      exportedAt,
      customers: [...this.customers.values()],
      conversations: [...this.conversations.values()],
      cases: [...this.cases.values()],
      messages: [...this.messages.values()],
      outbox: [...this.outbox.values()],
      deliveries: [...this.deliveries.values()],
      inbound: [...this.inbound.values()],
      operators: [...this.operators.values()],
      suggestions: [...this.suggestions.values()],
      heard: [...this.heard.values()],
      customerFiles: [...this.customerFiles.values()],
      savedReplies: [...this.savedReplies.values()],
      audit: [...this.audit],
      values,
      ...(Object.keys(valueExpiresAt).length ? { valueExpiresAt } : {}),
      journalSeq,
    };
  }

  /** Forgets processed inbound ids older than `cutoff` and values expired by `now` (epoch ms). */
  prune(cutoff: number, now: number): void {
    for (const [key, record] of this.inbound) {
      if (record.processedAt && time(record.processedAt) < cutoff) this.inbound.delete(key);
    }
    for (const [name, v] of this.values) if (v.expiresAt !== undefined && v.expiresAt <= now) this.values.delete(name);
  }

  /** The customer's most recent open case (later in insertion order wins a tie, as in PostgreSQL). */
  openCaseOf(customerId: string): Case | undefined {
    let best: Case | undefined;
    for (const id of this.casesByCustomer.get(customerId) ?? []) {
      const c = this.cases.get(id);
      if (c?.status === 'open' && (!best || time(c.openedAt) >= time(best.openedAt))) best = c;
    }
    return best;
  }

  /** Conversations whose key another conversation already has (unique key): the turn raced the one that took it. */
  checkKeys(incoming: readonly Conversation[]): void {
    const seen = new Map<string, string>();
    for (const c of incoming) {
      const owner = seen.get(c.key) ?? this.conversationByKey.get(c.key);
      if (owner !== undefined && owner !== c.id) {
        throw new TurnConflictError(`conversation ${c.id} has key ${c.key}, already used by conversation ${owner}`);
      }
      seen.set(c.key, c.id);
    }
  }

  /**
   * Refuses a turn that writes a stored conversation or case it did not read (not in `expect`)
   * or that changed since it read it.
   */
  checkRevisions(turn: { expect: Revisions; conversations: readonly Conversation[]; case?: Case }): void {
    const { expect } = turn;
    if (!expect) throw new TurnConflictError('a turn must say which revisions it read (expect)');
    for (const c of turn.conversations) {
      const stored = this.conversationRevs.get(c.id);
      if (stored === undefined) continue;
      if (!Object.hasOwn(expect.conversations, c.id)) throw new TurnConflictError(`conversation ${c.id} is written by a turn that did not read it`);
      if (stored !== expect.conversations[c.id]) throw new TurnConflictError(`conversation ${c.id} changed since the turn read it`);
    }
    const c = turn.case;
    const stored = c && this.caseRevs.get(c.id);
    if (c && stored !== undefined) {
      if (!Object.hasOwn(expect.cases, c.id)) throw new TurnConflictError(`case ${c.id} is written by a turn that did not read it`);
      if (stored !== expect.cases[c.id]) throw new TurnConflictError(`case ${c.id} changed since the turn read it`);
    }
  }

  // ── index maintenance ──

  putConversation(conversation: Conversation): void {
    // Index sets keep insertion order: an entry is moved only when its indexed value changes.
    const old = this.conversations.get(conversation.id);
    if (old && old.key !== conversation.key && this.conversationByKey.get(old.key) === old.id) this.conversationByKey.delete(old.key);
    if (old?.state !== conversation.state) {
      if (old) removeFrom(this.conversationsByState, old.state, old.id);
      addTo(this.conversationsByState, conversation.state, conversation.id);
    }
    if (old?.customerId !== conversation.customerId) {
      if (old) removeFrom(this.conversationsByCustomer, old.customerId, old.id);
      addTo(this.conversationsByCustomer, conversation.customerId, conversation.id);
    }
    if (old?.caseId !== conversation.caseId) {
      if (old) removeFrom(this.conversationsByCase, old.caseId, old.id);
      addTo(this.conversationsByCase, conversation.caseId, conversation.id);
    }
    this.conversations.set(conversation.id, conversation);
    this.conversationByKey.set(conversation.key, conversation.id);
    this.conversationRevs.set(conversation.id, (this.conversationRevs.get(conversation.id) ?? 0) + 1);
  }

  putCase(c: Case): void {
    const old = this.cases.get(c.id);
    if (old?.customerId !== c.customerId) {
      if (old) removeFrom(this.casesByCustomer, old.customerId, old.id);
      addTo(this.casesByCustomer, c.customerId, c.id);
    }
    this.cases.set(c.id, c);
    this.caseRevs.set(c.id, (this.caseRevs.get(c.id) ?? 0) + 1);
  }

  putMessage(message: StoredMessage): void {
    const old = this.messages.get(message.id);
    if (old?.conversationId !== message.conversationId) {
      if (old) removeFrom(this.messagesByConversation, old.conversationId, old.id);
      addTo(this.messagesByConversation, message.conversationId, message.id);
    }
    if (old?.caseId !== message.caseId) {
      if (old) removeFrom(this.messagesByCase, old.caseId, old.id);
      addTo(this.messagesByCase, message.caseId, message.id);
    }
    this.messages.set(message.id, message);
    if (old?.text !== message.text || old?.conversationId !== message.conversationId) {
      if (old) this.wordsPending.push([old.text, old.conversationId, -1]);
      this.wordsPending.push([message.text, message.conversationId, 1]);
    }
    if (message.direction !== 'note') {
      const last = this.lastMessage.get(message.conversationId);
      if (!last || last.id === message.id || time(message.at) >= time(last.at)) this.lastMessage.set(message.conversationId, message);
    }
  }

  putCustomer(customer: Customer): void {
    const old = this.customers.get(customer.id);
    this.customers.set(customer.id, customer);
    const words = (c: Customer | undefined) => (c ? `${c.name ?? ''} ${c.handle ?? ''}` : '');
    if (words(old) === words(customer)) return;
    for (const w of searchWords(words(old))) removeFrom(this.customerWords, w, customer.id);
    for (const w of searchWords(words(customer))) addTo(this.customerWords, w, customer.id);
  }

  putCustomerFile(file: CustomerFile): void {
    const old = this.customerFiles.get(file.customerId);
    for (const tag of old?.tags ?? []) removeFrom(this.customersByTag, tag, file.customerId);
    for (const tag of file.tags) addTo(this.customersByTag, tag, file.customerId);
    this.customerFiles.set(file.customerId, file);
  }

  /** Forgets a customer record and its words (erasure: issue 22). */
  removeCustomer(id: string): void {
    const old = this.customers.get(id);
    if (!old) return;
    for (const w of searchWords(`${old.name ?? ''} ${old.handle ?? ''}`)) removeFrom(this.customerWords, w, id);
    this.customers.delete(id);
  }

  /** Forgets a customer's file and its tags (erasure). */
  removeCustomerFile(customerId: string): void {
    const old = this.customerFiles.get(customerId);
    if (!old) return;
    for (const tag of old.tags) removeFrom(this.customersByTag, tag, customerId);
    this.customerFiles.delete(customerId);
  }

  /** Forgets a delivery, unsent or not (erasure). */
  removeDelivery(id: string): void {
    const old = this.deliveries.get(id);
    if (!old) return;
    this.deliveries.delete(id);
    this.deliveryWrittenBy.delete(id);
    const unsent = (this.unsentDeliveries.get(old.orderKey) ?? []).filter((d) => d.id !== id);
    if (unsent.length) this.unsentDeliveries.set(old.orderKey, unsent);
    else this.unsentDeliveries.delete(old.orderKey);
  }

  /** The message word index, with every stored message's words in it. */
  searchIndex(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    const pending = this.wordsPending;
    if (pending.length > 0) {
      this.wordsPending = [];
      for (const [text, conversationId, delta] of pending) this.indexWords(this.messageWords, text, conversationId, delta);
    }
    return this.messageWords;
  }

  /** Adds (`delta` 1) or removes (-1) a message's words for its conversation. */
  private indexWords(index: Map<string, Map<string, number>>, text: string, conversationId: string, delta: 1 | -1): void {
    for (const w of searchWords(text)) {
      let counts = index.get(w);
      if (!counts) index.set(w, (counts = new Map()));
      const n = (counts.get(conversationId) ?? 0) + delta;
      if (n > 0) counts.set(conversationId, n);
      else counts.delete(conversationId);
      if (counts.size === 0) index.delete(w);
    }
  }

  /** Indexes an outbox item (new, or replacing one with the same id and seq). */
  putOutbox(item: OutboxItem): void {
    const old = this.outbox.get(item.id);
    this.outbox.set(item.id, item);
    // Only the mutations that make an item due count (its turn, a retry); a claim needs no disk.
    if (item.status === 'pending') this.outboxWrittenBy.set(item.id, this.applyingSeq);
    else if (item.status !== 'sending') this.outboxWrittenBy.delete(item.id);
    if (!this.outboxOrder.has(item.id)) this.outboxOrder.set(item.id, this.outboxCounter++);
    this.lastSeq.set(item.conversationId, Math.max(this.lastSeq.get(item.conversationId) ?? 0, item.seq));
    const all = this.outboxByConversation.get(item.conversationId) ?? [];
    const unsent = (this.unsentByConversation.get(item.conversationId) ?? []).filter((o) => o.id !== item.id);
    if (old) {
      const i = all.findIndex((o) => o.id === item.id);
      if (i >= 0) all[i] = item;
    } else {
      all.push(item);
      // Items nearly always arrive in seq order: sort only when one does not.
      if (all.length > 1 && all[all.length - 2]!.seq > item.seq) all.sort((a, b) => a.seq - b.seq);
    }
    this.outboxByConversation.set(item.conversationId, all);
    if (item.status === 'pending' || item.status === 'sending') {
      unsent.push(item);
      if (unsent.length > 1 && unsent[unsent.length - 2]!.seq > item.seq) unsent.sort((a, b) => a.seq - b.seq);
    }
    if (unsent.length) this.unsentByConversation.set(item.conversationId, unsent);
    else this.unsentByConversation.delete(item.conversationId);
    const head = unsent[0];
    const headKey = head && `${head.id}@${head.notBefore}`;
    if (head && this.queuedHead.get(item.conversationId) !== headKey) {
      let queue = this.dueHeads.get(head.channel);
      if (!queue) this.dueHeads.set(head.channel, (queue = new PriorityQueue<DueHead>((a, b) => a.notBefore - b.notBefore || a.order - b.order)));
      queue.enqueue({ notBefore: head.notBefore, order: this.outboxOrder.get(head.id) ?? 0, id: head.id });
      this.queuedHead.set(item.conversationId, headKey!);
    } else if (!head) {
      this.queuedHead.delete(item.conversationId);
    }
  }

  /** Stores a delivery (new, or replacing one with the same id and order key). */
  putDelivery(delivery: EventDelivery): void {
    this.deliveries.set(delivery.id, delivery);
    if (delivery.status === 'pending') this.deliveryWrittenBy.set(delivery.id, this.applyingSeq);
    else if (delivery.status !== 'sending') this.deliveryWrittenBy.delete(delivery.id);
    const unsent = this.unsentDeliveries.get(delivery.orderKey) ?? [];
    const i = unsent.findIndex((d) => d.id === delivery.id);
    const waiting = delivery.status === 'pending' || delivery.status === 'sending';
    if (i >= 0 && waiting) unsent[i] = delivery;
    else if (i >= 0) unsent.splice(i, 1);
    else if (waiting) unsent.push(delivery);
    if (unsent.length) this.unsentDeliveries.set(delivery.orderKey, unsent);
    else this.unsentDeliveries.delete(delivery.orderKey);
  }

  putInbound(record: InboundRecord): void {
    const key = inboundKey(record.channel, record.id);
    this.inbound.set(key, record);
    if (record.processedAt || !record.message) this.pendingInboundKeys.delete(key);
    else this.pendingInboundKeys.add(key);
  }

  /** Appends an audit entry (once per id: a replayed or imported one is not added twice). */
  putAudit(entry: AuditEntry): void {
    if (this.auditIds.has(entry.id)) return;
    this.auditIds.add(entry.id);
    this.audit.push(entry);
  }

  putOperator(op: Operator): void {
    const old = this.operators.get(op.id);
    if (old) this.operatorByName.delete(old.name);
    this.operators.set(op.id, op);
    this.operatorByName.set(op.name, op.id);
  }
}
