/**
 * @module storage/lowdb/customer-data
 * A customer's data on the embedded store (issue 22): found, gathered, erased. An erasure changes
 * memory in one synchronous step (no turn interleaves) and then rewrites the main file whole and
 * empties the journal (both the current and a rotated-out one), so no earlier copy of the erased
 * texts survives in the store's files.
 */
import type { AuditTrail, CustomerData, CustomerRecords, ErasureResult, RetentionRule } from '../../core/ports.js';
import { ConflictError } from '../../core/errors.js';
import type { Customer } from '../../core/types.js';
import { anonymiseCase, anonymiseConversation, anonymiseHeard, anonymiseMessage, anonymiseOutbox, customerMarks, customerMatches, marked, retentionCutoff } from '../customer-records.js';
import type { LowdbParts } from './parts.js';
import { clone, time } from './records.js';

export function lowdbCustomerData({ mem, file, ensureOpen }: LowdbParts): CustomerData {
  /** The records of one customer, as stored (not copies). */
  function gather(customer: Customer): CustomerRecords {
    const conversations = [...(mem.conversationsByCustomer.get(customer.id) ?? [])].map((id) => mem.conversations.get(id)!).filter(Boolean);
    const caseIds = new Set<string>(mem.casesByCustomer.get(customer.id) ?? []);
    for (const c of conversations) caseIds.add(c.caseId);
    const cases = [...caseIds].map((id) => mem.cases.get(id)).filter((c) => c !== undefined && (c.customerId === customer.id || c.conversationIds.some((id) => conversations.some((v) => v.id === id))));
    const messages = conversations
      .flatMap((c) => [...(mem.messagesByConversation.get(c.id) ?? [])].map((id) => mem.messages.get(id)!))
      .filter(Boolean)
      .sort((a, b) => time(a.at) - time(b.at));
    const outbox = conversations.flatMap((c) => mem.outboxByConversation.get(c.id) ?? []);
    const marks = customerMarks(
      customer,
      messages.filter((m) => m.direction === 'in' && m.platformId).map((m) => m.platformId!),
      conversations.map((c) => c.id),
    );
    const deliveries = [...mem.deliveries.values()].filter((d) => marked(JSON.stringify(d.payload), marks) || marked(d.orderKey, marks));
    const suggestions = [...mem.suggestions.values()].filter((s) => caseIds.has(s.caseId));
    const values = [...mem.values.values()].filter((v) => marked(v.name, marks) || marked(v.value, marks)).map((v) => ({ name: v.name, value: v.value }));
    const f = mem.customerFiles.get(customer.id);
    const heard = [...mem.heard.values()].filter((h) => h.channel === customer.channel && h.author.id === customer.platformId).sort((a, b) => time(a.at) - time(b.at));
    return { customer, ...(f ? { file: f } : {}), conversations, cases: cases as CustomerRecords['cases'], messages, outbox, deliveries, suggestions, values, heard };
  }

  return {
    async find(text, limit) {
      ensureOpen();
      return [...mem.customers.values()]
        .filter((c) => customerMatches(c, text))
        .sort((a, b) => time(b.lastSeenAt) - time(a.lastSeenAt) || (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map(clone);
    },

    async collect(customerId) {
      ensureOpen();
      const customer = mem.customers.get(customerId);
      return customer && clone(gather(customer));
    },

    async erase(customerId, { pseudonym }) {
      ensureOpen();
      const customer = mem.customers.get(customerId);
      if (!customer) return undefined;
      const result = eraseNow(customer, pseudonym);
      // The whole file is written and the journal emptied: no copy of the erased records stays.
      await file.rewrite();
      return result;
    },

    async expired(rule, limit) {
      ensureOpen();
      return expiredNow(rule, limit).map((c) => c.id);
    },

    async expire(rule, { limit, pseudonym }) {
      ensureOpen();
      // One synchronous step (found and erased with nothing in between), then one rewrite for all.
      const done = expiredNow(rule, limit).map((c) => ({ customerId: c.id, result: eraseNow(c, pseudonym()) }));
      if (done.length > 0) await file.rewrite();
      return done;
    },
  };

  /** Whether the rule has expired this record (RetentionRule): seen, changed and written to before its cutoff, nothing open. */
  function isExpired(customer: Customer, rule: RetentionRule): boolean {
    const cutoff = retentionCutoff(customer, rule);
    if (cutoff === undefined) return false;
    const before = time(cutoff);
    if (!(time(customer.lastSeenAt) < before)) return false;
    for (const id of mem.casesByCustomer.get(customer.id) ?? []) if (mem.cases.get(id)?.status === 'open') return false;
    for (const id of mem.conversationsByCustomer.get(customer.id) ?? []) {
      const c = mem.conversations.get(id);
      if (!c) continue;
      if (c.state !== 'resolved' || !(time(c.updatedAt) < before)) return false;
      if (mem.cases.get(c.caseId)?.status === 'open') return false;
      for (const m of mem.messagesByConversation.get(id) ?? []) if (!(time(mem.messages.get(m)?.at ?? c.updatedAt) < before)) return false;
    }
    return true;
  }

  function expiredNow(rule: RetentionRule, limit: number): Customer[] {
    return [...mem.customers.values()]
      .filter((c) => isExpired(c, rule))
      .sort((a, b) => time(a.lastSeenAt) - time(b.lastSeenAt) || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }

  /** Erases one record in memory, in one synchronous step (the caller rewrites the file). */
  function eraseNow(customer: Customer, pseudonym: string): ErasureResult {
    const customerId = customer.id;
    const r = gather(customer);
    const result: ErasureResult = {
      pseudonym,
      removed: { customers: 1, files: r.file ? 1 : 0, deliveries: r.deliveries.length, suggestions: 0, values: r.values.length, inbound: 0 },
      anonymised: { conversations: r.conversations.length, cases: 0, messages: r.messages.length, outbox: r.outbox.length, heard: r.heard.length },
    };
    // One synchronous step: no turn sees half an erasure.
    for (const c of r.conversations) mem.putConversation(anonymiseConversation(c, pseudonym));
    for (const c of r.cases) {
      mem.putCase(anonymiseCase(c, c.customerId === customerId ? pseudonym : c.customerId));
      result.anonymised.cases += 1;
    }
    for (const m of r.messages) mem.putMessage(anonymiseMessage(m));
    for (const o of [...r.outbox]) mem.putOutbox(anonymiseOutbox(o, pseudonym));
    for (const d of r.deliveries) mem.removeDelivery(d.id);
    for (const s of r.suggestions) {
      // Approved FAQ text is redacted by design and stays; the rest came from the customer's words.
      if (s.status === 'approved') continue;
      mem.suggestions.delete(s.id);
      result.removed.suggestions += 1;
    }
    for (const v of r.values) mem.values.delete(v.name);
    // Listening's volumes keep counting their posts, without author or words (the file is rewritten below).
    for (const h of r.heard) mem.heard.set(h.id, anonymiseHeard(h, pseudonym));
    const theirs = new Set(r.messages.filter((m) => m.direction === 'in' && m.platformId).map((m) => m.platformId!));
    for (const [key, record] of mem.inbound) {
      if (record.channel !== customer.channel) continue;
      if (theirs.has(record.id) || record.message?.customer.platformId === customer.platformId || (customer.platformId.length >= 3 && record.id.includes(customer.platformId))) {
        // Their messages' ids go too (a platform delivering one again after the erasure would start afresh).
        mem.inbound.delete(key);
        mem.pendingInboundKeys.delete(key);
        result.removed.inbound += 1;
      }
    }
    if (r.file) {
      for (const other of r.file.links) {
        const f = mem.customerFiles.get(other);
        if (f) mem.putCustomerFile({ ...f, links: f.links.filter((l) => l !== customerId) });
      }
      mem.removeCustomerFile(customerId);
    }
    mem.removeCustomer(customerId);
    return result;
  }
}

/** The audit trail on the embedded store: journal lines like every write, never changed or removed. */
export function lowdbAudit({ mem, file, ensureOpen }: LowdbParts): AuditTrail {
  return {
    async append(entry) {
      ensureOpen();
      if (mem.auditIds.has(entry.id)) throw new ConflictError(`audit entry ${entry.id} already exists`);
      await file.commit([['audit', clone(entry)]]);
    },

    async list({ from, operatorId, limit }) {
      ensureOpen();
      const since = from !== undefined ? time(from) : undefined;
      const found = mem.audit.filter((a) => (since === undefined || time(a.at) >= since) && (operatorId === undefined || a.operatorId === operatorId));
      found.sort((a, b) => time(a.at) - time(b.at));
      return found.slice(0, limit).map(clone);
    },

    // The cursor is an entry's place in the order appended (mem.audit never changes order: the
    // journal replays it, a rewrite and an export keep it); an unknown one gives an empty page.
    async page({ from, to, operatorId, action, limit, newestFirst, after }) {
      ensureOpen();
      const since = from !== undefined ? time(from) : undefined;
      const until = to !== undefined ? time(to) : undefined;
      const sign = newestFirst ? -1 : 1;
      const order = (a: [number, number], b: [number, number]): number => sign * (a[0] - b[0] || a[1] - b[1]);
      let start: [number, number] | undefined;
      if (after !== undefined) {
        const place = /^\d+$/.test(after) ? Number(after) : -1;
        const entry = mem.audit[place];
        if (!entry) return { entries: [] };
        start = [time(entry.at), place];
      }
      const found: Array<[number, number]> = [];
      mem.audit.forEach((a, place) => {
        const at = time(a.at);
        if (since !== undefined && at < since) return;
        if (until !== undefined && at >= until) return;
        if (operatorId !== undefined && a.operatorId !== operatorId) return;
        if (action !== undefined && a.action !== action) return;
        if (start && order([at, place], start) <= 0) return;
        found.push([at, place]);
      });
      found.sort(order);
      const entries = found.slice(0, limit).map(([, place]) => clone(mem.audit[place]!));
      return found.length > limit ? { entries, next: String(found[limit - 1]![1]) } : { entries };
    },
  };
}
