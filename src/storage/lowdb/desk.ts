/**
 * @module storage/lowdb/desk
 * The desk's ports on the embedded store (issue 21): conversation search over the in-memory word
 * index Memory keeps in step with every put (a query walks the index's words once per query word:
 * proportionate to a one-process install), the customer files and the saved replies.
 */
import { ConflictError } from '../../core/errors.js';
import type { ConversationHit, ConversationSearch, CustomerFiles, SavedReplies } from '../../core/ports.js';
import type { Conversation, CustomerFile } from '../../core/types.js';
import { checkLink, emptyCustomerFile, matchingMessage, normaliseTags, queryWords } from '../desk-records.js';
import type { LowdbParts } from './parts.js';
import { clone, time, type Put } from './records.js';

/** By code point, as PostgreSQL's "C" collation sorts. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function lowdbSearch({ mem, ensureOpen }: LowdbParts): ConversationSearch {
  /** The conversations where `word` starts a word of a message or of the customer's name or handle. */
  function matching(word: string): Set<string> {
    const found = new Set<string>();
    for (const [w, counts] of mem.searchIndex()) if (w.startsWith(word)) for (const id of counts.keys()) found.add(id);
    for (const [w, customers] of mem.customerWords) {
      if (!w.startsWith(word)) continue;
      for (const customerId of customers) for (const id of mem.conversationsByCustomer.get(customerId) ?? []) found.add(id);
    }
    return found;
  }

  function* messagesOf(conversationId: string) {
    for (const id of mem.messagesByConversation.get(conversationId) ?? []) {
      const m = mem.messages.get(id);
      if (m) yield m;
    }
  }

  return {
    async find(q) {
      ensureOpen();
      let ids: Iterable<string>;
      const words = queryWords(q.text);
      if (words.length) {
        let set: Set<string> | undefined;
        for (const w of words) {
          const m = matching(w);
          set = set ? new Set([...set].filter((id) => m.has(id))) : m;
          if (set.size === 0) break;
        }
        ids = set ?? [];
      } else if (q.customerIds) {
        ids = q.customerIds.flatMap((c) => [...(mem.conversationsByCustomer.get(c) ?? [])]);
      } else if (q.states) {
        ids = q.states.flatMap((s) => [...(mem.conversationsByState.get(s) ?? [])]);
      } else {
        ids = mem.conversations.keys();
      }
      const customers = q.customerIds ? new Set(q.customerIds) : undefined;
      const from = q.from !== undefined ? time(q.from) : undefined;
      const to = q.to !== undefined ? time(q.to) : undefined;
      const found: Conversation[] = [];
      for (const id of new Set(ids)) {
        const c = mem.conversations.get(id);
        if (!c) continue;
        if (q.states && !q.states.includes(c.state)) continue;
        if (q.channels && !q.channels.includes(c.channel)) continue;
        if (q.languages && (c.language === undefined || !q.languages.includes(c.language))) continue;
        if (q.assignee !== undefined && c.assignee !== q.assignee) continue;
        if (q.priority !== undefined && c.queue?.priority !== q.priority) continue;
        if (q.reason !== undefined && c.queue?.reason !== q.reason) continue;
        if (customers && !customers.has(c.customerId)) continue;
        if (from !== undefined && time(c.updatedAt) < from) continue;
        if (to !== undefined && time(c.createdAt) >= to) continue;
        if (q.waitingOnCustomer !== undefined && (mem.lastMessage.get(c.id)?.author.kind === 'operator') !== q.waitingOnCustomer) continue;
        found.push(c);
      }
      found.sort((a, b) => time(b.updatedAt) - time(a.updatedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const hits = found.slice(q.offset, q.offset + q.limit).map((c): ConversationHit => {
        const customer = mem.customers.get(c.customerId);
        const lastMessage = mem.lastMessage.get(c.id);
        const match = words.length ? matchingMessage(messagesOf(c.id), words) : undefined;
        return {
          conversation: clone(c),
          ...(customer ? { customer: clone(customer) } : {}),
          ...(lastMessage ? { lastMessage: clone(lastMessage) } : {}),
          ...(match ? { match: clone(match) } : {}),
        };
      });
      return { hits, total: found.length };
    },
  };
}

export function lowdbCustomerFiles({ mem, file, ensureOpen }: LowdbParts): CustomerFiles {
  const current = (id: string): CustomerFile => mem.customerFiles.get(id) ?? emptyCustomerFile(id);
  return {
    async get(customerId) {
      ensureOpen();
      return clone(current(customerId));
    },

    async addNote(customerId, note) {
      ensureOpen();
      const old = current(customerId);
      const updated: CustomerFile = { ...clone(old), notes: [...clone(old.notes), clone(note)], updatedAt: note.at };
      await file.commit([['customer-file', updated]]);
      return clone(updated);
    },

    async setTags(customerId, tags, at) {
      ensureOpen();
      const updated: CustomerFile = { ...clone(current(customerId)), tags: normaliseTags(tags), updatedAt: at };
      await file.commit([['customer-file', updated]]);
      return clone(updated);
    },

    async link(a, b, at) {
      ensureOpen();
      checkLink(a, b);
      const fa = current(a);
      const fb = current(b);
      // Both sides in one journal line: a link is never half written. A side holding it already is left as it is.
      const puts: Put[] = [];
      if (!fa.links.includes(b)) puts.push(['customer-file', { ...clone(fa), links: [...fa.links, b].sort(cmp), updatedAt: at }]);
      if (!fb.links.includes(a)) puts.push(['customer-file', { ...clone(fb), links: [...fb.links, a].sort(cmp), updatedAt: at }]);
      if (puts.length) await file.commit(puts);
    },

    async unlink(a, b, at) {
      ensureOpen();
      const puts: Put[] = [];
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const f = mem.customerFiles.get(x);
        if (f?.links.includes(y)) puts.push(['customer-file', { ...clone(f), links: f.links.filter((l) => l !== y), updatedAt: at }]);
      }
      if (puts.length) await file.commit(puts);
    },

    async withTag(tag) {
      ensureOpen();
      const [normal] = normaliseTags([tag]);
      return normal === undefined ? [] : [...(mem.customersByTag.get(normal) ?? [])].sort(cmp);
    },
  };
}

export function lowdbSavedReplies({ mem, file, ensureOpen }: LowdbParts): SavedReplies {
  return {
    async list(filter) {
      ensureOpen();
      return [...mem.savedReplies.values()]
        .filter((r) => filter?.language === undefined || r.language === filter.language)
        .sort((a, b) => cmp(a.language, b.language) || cmp(a.shortcut, b.shortcut) || cmp(a.id, b.id))
        .map(clone);
    },

    async get(id) {
      ensureOpen();
      const r = mem.savedReplies.get(id);
      return r && clone(r);
    },

    async put(reply) {
      ensureOpen();
      for (const other of mem.savedReplies.values()) {
        if (other.id !== reply.id && other.language === reply.language && other.shortcut === reply.shortcut) {
          throw new ConflictError(`the ${reply.language} saved reply ${other.id} already has the shortcut "${reply.shortcut}"`);
        }
      }
      await file.commit([['saved-reply', clone(reply)]]);
    },

    async delete(id) {
      ensureOpen();
      if (!mem.savedReplies.has(id)) return false;
      await file.commit([['saved-reply-delete', { id }]]);
      return true;
    },
  };
}
