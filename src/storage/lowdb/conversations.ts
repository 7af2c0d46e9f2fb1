/**
 * @module storage/lowdb/conversations
 * Turns and the reads of conversations, cases and messages. A commit checks everything that can
 * fail before memory changes (all or nothing), then writes the turn as one journal line.
 */
import { emptyRevisions, type Conversations, type TurnRecord } from '../../core/ports.js';
import { AlreadyProcessedError, StoreError } from '../../core/errors.js';
import type { Conversation, OutboxItem, StoredMessage } from '../../core/types.js';
import { createKeyedMutex } from '../../util/keyed-mutex.js';
import type { InboundRecord } from '../snapshot.js';
import type { LowdbParts } from './parts.js';
import { clone, freezeDeep, inboundKey, time, type Put } from './records.js';

export function lowdbConversations({ mem, file, ensureOpen, now }: LowdbParts): Conversations {
  const mutex = createKeyedMutex();

  function processed(channel: string, id: string): InboundRecord {
    const existing = mem.inbound.get(inboundKey(channel, id));
    const at = new Date(now()).toISOString();
    // The message body is dropped once processed: only the id is needed for deduplication.
    return { channel, id, acceptedAt: existing?.acceptedAt ?? at, processedAt: at };
  }

  return {
    withLock(key, fn) {
      return mutex.run(key, fn);
    },

    async loadContext(q) {
      ensureOpen();
      const revisions = emptyRevisions();
      const id = mem.conversationByKey.get(q.key);
      const conversation = id === undefined ? undefined : mem.conversations.get(id);
      const kase = conversation ? mem.cases.get(conversation.caseId) : undefined;
      const openCase = mem.openCaseOf(q.customerId);
      const linkedOpenCase = q.linkedCustomerId !== undefined ? mem.openCaseOf(q.linkedCustomerId) : undefined;
      const requestedCase = q.caseId !== undefined ? mem.cases.get(q.caseId) : undefined;
      const related: Conversation[] = [];
      const relatedIds = new Set([kase, openCase, linkedOpenCase, requestedCase].flatMap((c) => c?.conversationIds ?? []));
      for (const key of q.otherKeys ?? []) {
        const other = mem.conversationByKey.get(key);
        if (other !== undefined) relatedIds.add(other);
      }
      for (const rid of relatedIds) {
        const c = rid === conversation?.id ? undefined : mem.conversations.get(rid);
        if (c) related.push(c);
      }
      for (const c of [conversation, ...related]) if (c) revisions.conversations[c.id] = mem.conversationRevs.get(c.id) ?? 0;
      for (const c of [kase, openCase, linkedOpenCase, requestedCase]) if (c) revisions.cases[c.id] = mem.caseRevs.get(c.id) ?? 0;
      // The records themselves, not copies (see TurnContext): they are replaced on every change, never edited.
      return {
        customer: mem.customers.get(q.customerId),
        conversation,
        case: kase,
        openCase,
        linkedOpenCase,
        related,
        revisions,
        ...(requestedCase ? { requestedCase } : {}),
      };
    },

    async commit(turn: TurnRecord, options) {
      ensureOpen();
      // Everything that can fail is checked before memory changes: all or nothing.
      if (turn.inbound && mem.inbound.get(inboundKey(turn.inbound.channel, turn.inbound.id))?.processedAt) {
        throw new AlreadyProcessedError(turn.inbound.channel, turn.inbound.id);
      }
      mem.checkRevisions(turn);
      mem.checkKeys(turn.conversations);
      const outboxIds = new Set<string>();
      for (const item of turn.outbox) {
        if (mem.outbox.has(item.id) || outboxIds.has(item.id)) throw new StoreError(`outbox item ${item.id} already exists`);
        outboxIds.add(item.id);
      }
      const deliveries = turn.deliveries ?? [];
      const deliveryIds = new Set<string>();
      for (const d of deliveries) {
        if (mem.deliveries.has(d.id) || deliveryIds.has(d.id)) throw new StoreError(`delivery ${d.id} already exists`);
        deliveryIds.add(d.id);
      }
      const puts: Put[] = [];
      if (turn.customer) puts.push(['customer', turn.customer]);
      for (const c of turn.conversations) puts.push(['conversation', c]);
      // A case handed back as it was read (the same record) is not written again.
      if (turn.case && turn.case !== mem.cases.get(turn.case.id)) puts.push(['case', turn.case]);
      for (const m of turn.messages) puts.push(['message', m]);
      const seqs = new Map<string, number>();
      for (const item of turn.outbox) {
        const seq = (seqs.get(item.conversationId) ?? mem.lastSeq.get(item.conversationId) ?? 0) + 1;
        seqs.set(item.conversationId, seq);
        puts.push(['outbox', { ...item, seq }]);
      }
      for (const d of deliveries) puts.push(['delivery', d]);
      if (turn.inbound) puts.push(['inbound', processed(turn.inbound.channel, turn.inbound.id)]);
      await file.commitRecords(puts);
      if (!options?.claim) return [];
      // The turn is on disk: lease to the caller those of its replies a claim would hand out now
      // (due, first unsent of their conversation). Like a claim, in memory only.
      const { now: at, leaseMs } = options.claim;
      const leased: OutboxItem[] = [];
      for (const put of puts) {
        if (put[0] !== 'outbox') continue;
        const item = mem.outbox.get(put[1].id);
        if (!item || item.status !== 'pending' || item.notBefore > at) continue;
        if (mem.unsentByConversation.get(item.conversationId)?.[0]?.id !== item.id) continue;
        if ((mem.outboxWrittenBy.get(item.id) ?? 0) > mem.durableSeq) continue;
        leased.push(freezeDeep({ ...item, status: 'sending', attempts: item.attempts + 1, notBefore: at + leaseMs }));
      }
      if (leased.length) mem.applyAll(leased.map((item): Put => ['outbox', item]), 0);
      return leased;
    },

    async get(id) {
      ensureOpen();
      const c = mem.conversations.get(id);
      return c && clone(c);
    },

    async findByKey(key) {
      ensureOpen();
      const id = mem.conversationByKey.get(key);
      const c = id === undefined ? undefined : mem.conversations.get(id);
      return c && clone(c);
    },

    async list(filter) {
      ensureOpen();
      let ids: Iterable<string>;
      if (filter.caseId !== undefined) ids = mem.conversationsByCase.get(filter.caseId) ?? [];
      else if (filter.customerId !== undefined) ids = mem.conversationsByCustomer.get(filter.customerId) ?? [];
      else if (filter.states) ids = filter.states.flatMap((s) => [...(mem.conversationsByState.get(s) ?? [])]);
      else ids = mem.conversations.keys();
      const found: Conversation[] = [];
      for (const id of ids) {
        const c = mem.conversations.get(id);
        if (!c) continue;
        if (filter.states && !filter.states.includes(c.state)) continue;
        if (filter.caseId !== undefined && c.caseId !== filter.caseId) continue;
        if (filter.customerId !== undefined && c.customerId !== filter.customerId) continue;
        if (filter.assignee !== undefined && c.assignee !== filter.assignee) continue;
        if (filter.updatedBefore !== undefined && !(time(c.updatedAt) < time(filter.updatedBefore))) continue;
        found.push(c);
      }
      found.sort((a, b) => time(b.updatedAt) - time(a.updatedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return (filter.limit !== undefined ? found.slice(0, filter.limit) : found).map(clone);
    },

    async getCase(id) {
      ensureOpen();
      const c = mem.cases.get(id);
      return c && clone(c);
    },

    async findOpenCase(customerId) {
      ensureOpen();
      const best = mem.openCaseOf(customerId);
      return best && clone(best);
    },

    async listCases(customerId) {
      ensureOpen();
      const found = [...(mem.casesByCustomer.get(customerId) ?? [])].flatMap((id) => {
        const c = mem.cases.get(id);
        return c ? [c] : [];
      });
      return found.sort((a, b) => time(a.openedAt) - time(b.openedAt)).map(clone);
    },

    async casesAwaitingSurvey({ resolvedFrom, resolvedTo, limit }) {
      ensureOpen();
      const from = time(resolvedFrom);
      const to = time(resolvedTo);
      const found = [];
      for (const c of mem.cases.values()) {
        if (c.status !== 'resolved' || c.resolvedAt === undefined || (c.survey !== undefined && c.survey.followUpDue === undefined)) continue;
        const at = time(c.resolvedAt);
        if (at >= from && at < to) found.push(c);
      }
      found.sort((a, b) => time(a.resolvedAt!) - time(b.resolvedAt!) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return found.slice(0, Math.max(0, limit)).map(clone);
    },

    async listMessages(filter) {
      ensureOpen();
      let ids: Iterable<string>;
      if (filter.conversationId !== undefined) ids = mem.messagesByConversation.get(filter.conversationId) ?? [];
      else if (filter.caseId !== undefined) ids = mem.messagesByCase.get(filter.caseId) ?? [];
      else ids = mem.messages.keys();
      const found: StoredMessage[] = [];
      for (const id of ids) {
        const m = mem.messages.get(id);
        if (!m) continue;
        if (filter.caseId !== undefined && m.caseId !== filter.caseId) continue;
        found.push(m);
      }
      // Array.prototype.sort is stable: equal times keep insertion order.
      return found.sort((a, b) => time(a.at) - time(b.at)).map(clone);
    },

    async history({ from, to }) {
      ensureOpen();
      const lo = time(from);
      const hi = time(to);
      const within = (at: string) => {
        const t = time(at);
        return t >= lo && t < hi;
      };
      // No index by time: a report scans the cases and messages once (memory, no disk).
      const caseIds = new Set<string>();
      for (const c of mem.cases.values()) if (within(c.openedAt)) caseIds.add(c.id);
      for (const m of mem.messages.values()) if (within(m.at)) caseIds.add(m.caseId);
      const cases = [...caseIds].flatMap((id) => mem.cases.get(id) ?? []).sort((a, b) => time(a.openedAt) - time(b.openedAt));
      const messages: StoredMessage[] = [];
      // A conversation's case changes when a new case opens: its messages keep theirs.
      const conversationIds = new Set<string>();
      for (const c of cases) {
        for (const id of c.conversationIds) conversationIds.add(id);
        for (const id of mem.messagesByCase.get(c.id) ?? []) {
          const m = mem.messages.get(id);
          if (!m) continue;
          messages.push(m);
          conversationIds.add(m.conversationId);
        }
      }
      const conversations = [...conversationIds].flatMap((id) => mem.conversations.get(id) ?? []);
      const replies = conversations.flatMap((c) => mem.outboxByConversation.get(c.id) ?? []);
      messages.sort((a, b) => time(a.at) - time(b.at));
      return { cases: cases.map(clone), conversations: conversations.map(clone), messages: messages.map(clone), replies: replies.map(clone) };
    },
  };
}
