/**
 * @module storage/customer-records
 * What both stores share for a customer's data rights (issue 22, CustomerData port): how a kept
 * record is anonymised, and which texts name a customer. The PostgreSQL store does the same in
 * SQL (postgres/customer-data.ts); the store contract checks both alike.
 */
import type { RetentionRule } from '../core/ports.js';
import type { Case, Conversation, Customer, HeardRecord, OutboxItem, StoredMessage } from '../core/types.js';

/** Why an unsent reply was dropped by an erasure (its `lastError`). */
export const ERASED = 'erased: the customer asked for their data to be erased';

/**
 * The texts whose presence in a key-value entry's name or value, or in a webhook delivery, ties it
 * to the customer: the customer id, the platform id, and the platform ids of their messages
 * (thread and comment caches are keyed by them). Ids shorter than 3 characters are left out: they
 * would match unrelated entries.
 */
export function customerMarks(customer: Customer, messagePlatformIds: Iterable<string>, conversationIds: Iterable<string> = []): string[] {
  const marks = new Set<string>([customer.id]);
  for (const id of [customer.platformId, ...messagePlatformIds, ...conversationIds]) if (id.length >= 3) marks.add(id);
  return [...marks];
}

/** Whether `text` holds one of the marks. */
export const marked = (text: string, marks: readonly string[]): boolean => marks.some((m) => text.includes(m));

/** The key an erased conversation keeps (unique, naming no one). */
export const erasedKey = (conversationId: string): string => `erased:${conversationId}`;

export function anonymiseConversation(c: Conversation, pseudonym: string): Conversation {
  const { threadId: _t, ref: _r, lastInboundId: _l, dataRequest: _d, ...rest } = c;
  return { ...rest, customerId: pseudonym, key: erasedKey(c.id) };
}

export function anonymiseCase(c: Case, pseudonym: string): Case {
  const kept: Case = { ...c, customerId: pseudonym };
  if (c.survey?.comment !== undefined) {
    const { comment: _c, ...survey } = c.survey;
    kept.survey = survey;
  }
  return kept;
}

export function anonymiseMessage(m: StoredMessage): StoredMessage {
  const { platformId: _p, ...rest } = m;
  return { ...rest, text: '' };
}

export function anonymiseOutbox(o: OutboxItem, pseudonym: string): OutboxItem {
  const { inReplyTo: _i, ref: _r, platformId: _p, ...rest } = o;
  const unsent = o.status === 'pending' || o.status === 'sending';
  return { ...rest, recipient: pseudonym, reply: { kind: 'text', text: '' }, ...(unsent ? { status: 'dead', lastError: ERASED } : {}) };
}

/** Whether a customer matches a `customer find` text (name, handle, id or platform id, ignoring case). */
export function customerMatches(c: Customer, text: string): boolean {
  const t = text.toLowerCase();
  return [c.name, c.handle, c.id, c.platformId].some((v) => v !== undefined && v.toLowerCase().includes(t));
}

/**
 * A heard post kept for listening's volumes without its author or words: the author becomes the
 * pseudonym (no handle, no reach), the text goes; time, class, sentiment, topic and language stay.
 */
export function anonymiseHeard(h: HeardRecord, pseudonym: string): HeardRecord {
  const { author: _author, text: _text, ...rest } = h;
  return { ...rest, author: { id: pseudonym }, text: '' };
}

/** A visitor who never gave a name or a handle (RetentionRule.anonymous). */
export const anonymousVisitor = (c: Customer): boolean => !c.name && !c.handle;

/**
 * The cutoff (ISO) a retention rule sets for a customer record, or undefined when its channel is
 * kept. The PostgreSQL store computes the same in SQL (postgres/customer-data.ts).
 */
export function retentionCutoff(c: Customer, rule: RetentionRule): string | undefined {
  if (rule.anonymous && rule.anonymous.channels.includes(c.channel) && anonymousVisitor(c)) return rule.anonymous.before;
  return Object.prototype.hasOwnProperty.call(rule.channels, c.channel) ? (rule.channels[c.channel] ?? undefined) : rule.others;
}
