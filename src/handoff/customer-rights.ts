/**
 * @module handoff/customer-rights
 * A customer's data rights (issue 22, GDPR articles 15 and 17), over the store's CustomerData
 * port: one person is a customer record plus the records the desk linked to it (customer files'
 * links, followed transitively), so an export or an erasure covers their conversations on every
 * linked channel. Used by `sportello customer` and the operator API alike. The export's format
 * is documented in docs/formats.md ("Customer data export").
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock, CustomerRecords, ErasureResult, Store } from '../core/ports.js';
import type { DomainEvent } from '../core/events.js';
import { transition } from '../core/state.js';
import type { Conversation } from '../core/types.js';
import type { ConversationWriter, Planned } from '../pipeline/conversation-writer.js';
import { personOf } from './people.js';
import { newId } from '../util/ids.js';

/** The export document's format name and version. */
export const CUSTOMER_EXPORT_FORMAT = 'sportello-customer-export';

/** What an erasure keeps, and why: said in every export, so the person knows before asking. */
export const KEPT_AFTER_ERASURE = [
  'That each case and conversation existed, with its channel, states, times (opened, resolved, first response), escalation reasons, assignee and satisfaction score, under a random pseudonym instead of your id: the team\'s reports (response times, volumes, satisfaction) are computed from them.',
  'Each message\'s time, direction and author kind (you, the bot or an operator), without its text: reports count replies and response times.',
  'FAQ entries approved from your cases: their text was written by the team, with private data removed, before approval.',
];

export interface CustomerExport {
  format: typeof CUSTOMER_EXPORT_FORMAT;
  version: 1;
  exportedAt: string;
  /** The id asked for. */
  customerId: string;
  /** Every customer record of the person: the one asked for, then those linked to it. */
  records: CustomerRecords[];
  /** What an erasure would keep, and why. */
  keptAfterErasure: string[];
}

/** The ids of one person (handoff/people.ts: the record and those linked to it); empty when there is no such customer. */
async function idsOf(store: Store, customerId: string): Promise<string[]> {
  if (!(await store.directory.getCustomer(customerId))) return [];
  return (await personOf(store, customerId)).ids;
}

/** Everything held about the person, or undefined when there is no such customer. */
export async function exportCustomer(store: Store, customerId: string, clock: Clock): Promise<CustomerExport | undefined> {
  const ids = await idsOf(store, customerId);
  if (ids.length === 0) return undefined;
  const records: CustomerRecords[] = [];
  for (const id of ids) {
    const r = await store.customerData.collect(id);
    if (r) records.push(r);
  }
  return { format: CUSTOMER_EXPORT_FORMAT, version: 1, exportedAt: clock.now().toISOString(), customerId, records, keptAfterErasure: KEPT_AFTER_ERASURE };
}

/** A random pseudonym for the records an erasure keeps (nothing links it back to the person). */
export const newPseudonym = (): string => `${PSEUDONYM_PREFIX}${randomBytes(9).toString('base64url')}`;
/** How every pseudonym starts: an author or customer id that starts so was erased. */
export const PSEUDONYM_PREFIX = 'erased:';

/** Who resolved a case an erasure closed (Case.resolvedBy): no operator, so reports credit no one. */
export const RESOLVED_BY_ERASURE = 'erased';

/**
 * Erases the person (every linked record, each with its own pseudonym); undefined when there is no
 * such customer. Their conversations still open (with the bot, in the queue, held by an operator)
 * are then resolved through the one write path (`writer.change`: the state table, revisions,
 * `conversation.resolved` for the console), so nothing of theirs stays in the queue. They are
 * closed after the erasure, under their pseudonyms: a message of theirs arriving meanwhile starts
 * a new conversation instead of reopening one of these.
 */
export async function eraseCustomer(
  store: Store,
  customerId: string,
  clock: Clock,
  writer: ConversationWriter,
): Promise<{ erased: string[]; results: ErasureResult[]; closed: number } | undefined> {
  const ids = await idsOf(store, customerId);
  if (ids.length === 0) return undefined;
  const results: ErasureResult[] = [];
  const erased: string[] = [];
  for (const id of ids) {
    const r = await store.customerData.erase(id, { pseudonym: newPseudonym(), at: clock.now().toISOString() });
    if (r) {
      results.push(r);
      erased.push(id);
    }
  }
  let closed = 0;
  for (const r of results) closed += await closeOpenConversations(store, writer, r.pseudonym, clock);
  return { erased, results, closed };
}

const OPEN_STATES = ['bot', 'awaiting_private', 'queued', 'assigned'] as const;

/** Resolves the open conversations of an erased record (its pseudonym), and their cases; returns how many. */
async function closeOpenConversations(store: Store, writer: ConversationWriter, pseudonym: string, clock: Clock): Promise<number> {
  let closed = 0;
  for (const found of await store.conversations.list({ customerId: pseudonym, states: [...OPEN_STATES], limit: 1000 })) {
    closed += await writer.change({ key: found.key, customerId: pseudonym }, (context): Planned<number> => {
      const conversation = context.conversation;
      if (!conversation || conversation.state === 'resolved') return { result: 0 };
      const at = clock.now().toISOString();
      const siblings = context.related.filter((c) => c.id !== conversation.id && c.caseId === conversation.caseId && c.state !== 'resolved');
      const conversations = [conversation, ...siblings].map(
        (c): Conversation => ({ ...c, state: transition(c.state, 'resolved'), assignee: undefined, dataRequest: undefined, updatedAt: at }),
      );
      const kase = context.case && context.case.status === 'open' ? { ...context.case, status: 'resolved' as const, resolvedAt: at, resolvedBy: RESOLVED_BY_ERASURE } : undefined;
      const events: DomainEvent[] = conversations.map((c) => ({ type: 'conversation.resolved', conversationId: c.id, caseId: c.caseId, at }));
      return { write: { conversations, ...(kase ? { case: kase } : {}), messages: [], outbox: [], events }, result: conversations.length };
    });
  }
  return closed;
}

/**
 * How the audit trail names a customer: a digest of the id, not the id, so that the record of an
 * erasure does not keep the identifier it erased, while the team can still answer "was X erased,
 * when, by whom?" by computing the digest of X.
 */
export const customerRef = (customerId: string): string => `customer#${createHash('sha256').update(customerId).digest('hex').slice(0, 20)}`;

/** Records an export or an erasure in the audit trail. */
export async function auditCustomerAction(
  store: Store,
  clock: Clock,
  entry: { action: 'customer.export' | 'customer.erase'; customerId: string; operatorId: string; from?: string },
): Promise<void> {
  await store.audit.append({
    id: newId('aud'),
    at: clock.now().toISOString(),
    operatorId: entry.operatorId,
    action: entry.action,
    target: customerRef(entry.customerId),
    ...(entry.from !== undefined ? { from: entry.from } : {}),
  });
}
