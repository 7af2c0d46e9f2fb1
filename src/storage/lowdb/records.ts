/**
 * @module storage/lowdb/records
 * What the embedded store writes: a mutation is a list of "puts" (whole records to store, upsert
 * by id), and a journal line is a mutation's number and its puts. Plus small helpers on records.
 */
import { z } from 'zod';
import type { AuditEntry, Case, Conversation, Customer, CustomerFile, EventDelivery, FaqSuggestion, HeardRecord, Operator, OutboxItem, SavedReply, StoredMessage } from '../../core/types.js';
import {
  auditEntrySchema,
  caseSchema,
  conversationSchema,
  customerFileSchema,
  customerSchema,
  savedReplySchema,
  eventDeliverySchema,
  faqSuggestionSchema,
  heardRecordSchema,
  inboundRecordSchema,
  operatorSchema,
  outboxItemSchema,
  storedMessageSchema,
  type InboundRecord,
} from '../snapshot.js';

/** A named value (`namespace:key`), with its expiry time (epoch ms) when it has one. */
export interface ValueRecord {
  name: string;
  value: string;
  expiresAt?: number;
}

/** One record to store whole (upsert by id); a journal line is an array of these. */
export type Put =
  | ['customer', Customer]
  | ['customer-file', CustomerFile]
  | ['saved-reply', SavedReply]
  | ['saved-reply-delete', { id: string }]
  | ['conversation', Conversation]
  | ['case', Case]
  | ['message', StoredMessage]
  | ['outbox', OutboxItem]
  | ['delivery', EventDelivery]
  | ['inbound', InboundRecord]
  | ['operator', Operator]
  | ['operator-delete', { id: string }]
  | ['suggestion', FaqSuggestion]
  | ['heard', HeardRecord]
  | ['value', ValueRecord]
  | ['value-delete', { name: string }]
  | ['audit', AuditEntry]
  /** An outbox item sent: the item as stored, with status sent (a completion's line stays small). */
  | ['sent', { id: string; sentAt: string; platformId?: string; attempts: number }];

const putSchema = z.union([
  z.tuple([z.literal('customer'), customerSchema]),
  z.tuple([z.literal('customer-file'), customerFileSchema]),
  z.tuple([z.literal('saved-reply'), savedReplySchema]),
  z.tuple([z.literal('saved-reply-delete'), z.object({ id: z.string() })]),
  z.tuple([z.literal('conversation'), conversationSchema]),
  z.tuple([z.literal('case'), caseSchema]),
  z.tuple([z.literal('message'), storedMessageSchema]),
  z.tuple([z.literal('outbox'), outboxItemSchema]),
  z.tuple([z.literal('delivery'), eventDeliverySchema]),
  z.tuple([z.literal('inbound'), inboundRecordSchema]),
  z.tuple([z.literal('operator'), operatorSchema]),
  z.tuple([z.literal('operator-delete'), z.object({ id: z.string() })]),
  z.tuple([z.literal('suggestion'), faqSuggestionSchema]),
  z.tuple([z.literal('heard'), heardRecordSchema]),
  z.tuple([z.literal('value'), z.object({ name: z.string(), value: z.string(), expiresAt: z.number().optional() })]),
  z.tuple([z.literal('value-delete'), z.object({ name: z.string() })]),
  z.tuple([z.literal('audit'), auditEntrySchema]),
  z.tuple([z.literal('sent'), z.object({ id: z.string(), sentAt: z.string(), platformId: z.string().optional(), attempts: z.number().int().nonnegative() })]),
]);
/** A journal line: the mutation's number and its puts. */
export const journalLineSchema = z.tuple([z.number().int().positive(), z.array(putSchema)]);

export const inboundKey = (channel: string, id: string): string => `${channel}\u0000${id}`;
export const clone = <T>(value: T): T => structuredClone(value);
export const time = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/** Freezes an object and everything it holds (records are plain JSON data). */
export function freezeDeep<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) freezeDeep(item);
  else for (const key in value) freezeDeep((value as Record<string, unknown>)[key]);
  return value;
}

/** Applies `change` to `target`: keys whose value is undefined are removed. */
export function merge<T extends object>(target: T, change: Partial<T>): T {
  const result: Record<string, unknown> = { ...(target as Record<string, unknown>) };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete result[k];
    else result[k] = v;
  }
  return result as T;
}
