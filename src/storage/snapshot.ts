/**
 * @module storage/snapshot
 * The whole content of a store as one JSON document: what `sportello export` writes and
 * `sportello import` reads (e.g. moving an embedded lowdb install to PostgreSQL). The zod
 * schemas check the fields every store relies on; unknown fields are kept (loose objects), so
 * a field added later to a domain type survives an export/import round trip.
 */
import { z } from 'zod';
import { CONVERSATION_STATES } from '../core/state.js';
import { ESCALATION_REASONS } from '../core/types.js';
import type {
  AuditEntry,
  Case,
  Conversation,
  Customer,
  CustomerFile,
  EventDelivery,
  FaqSuggestion,
  HeardRecord,
  InboundMessage,
  Operator,
  OutboxItem,
  SavedReply,
  StoredMessage,
} from '../core/types.js';

const iso = z.string().min(1);
const record = z.record(z.string(), z.unknown());
const visibility = z.enum(['public', 'private']);
const language = z.enum(['it', 'en']);

/** A customer as stored. */
export const customerSchema = z.looseObject({
  id: z.string().min(1),
  channel: z.string().min(1),
  platformId: z.string(),
  handle: z.string().optional(),
  name: z.string().optional(),
  followers: z.number().optional(),
  firstSeenAt: iso,
  lastSeenAt: iso,
  surveyOptOutAt: iso.optional(),
  language: language.optional(),
});

/** An inbound message as a channel parsed it (kept until processed). */
export const inboundMessageSchema = z.looseObject({
  channel: z.string().min(1),
  id: z.string().min(1),
  visibility,
  customer: z.looseObject({
    platformId: z.string(),
    handle: z.string().optional(),
    name: z.string().optional(),
    followers: z.number().optional(),
  }),
  text: z.string(),
  sentAt: iso,
  threadId: z.string().optional(),
  inReplyTo: z.string().optional(),
  payload: z.string().optional(),
  ref: record.optional(),
  // An older form ({ valueName }) is dropped: the channel now resolves its links itself.
  linkTo: z.looseObject({ customerPlatformId: z.string() }).optional().catch(undefined),
});

const queueInfoSchema = z.looseObject({
  reason: z.enum(ESCALATION_REASONS),
  priority: z.number(),
  enqueuedAt: iso,
  slaDueAt: z.string().optional(),
  firstResponseAt: z.string().optional(),
});

/** A conversation as stored. */
export const conversationSchema = z.looseObject({
  id: z.string().min(1),
  key: z.string().min(1),
  channel: z.string().min(1),
  visibility,
  customerId: z.string().min(1),
  caseId: z.string().min(1),
  state: z.enum(CONVERSATION_STATES),
  language: language.optional(),
  missStreak: z.number(),
  assignee: z.string().optional(),
  queue: queueInfoSchema.optional(),
  threadId: z.string().optional(),
  lastInboundId: z.string().optional(),
  lastInboundAt: z.string().optional(),
  lastAnswer: z.object({ faqId: z.string(), at: z.string() }).optional(),
  lastOffer: z.object({ options: z.array(z.object({ title: z.string(), payload: z.string() })), at: z.string(), askedWhich: z.boolean().optional() }).optional(),
  earlierCase: z.looseObject({ id: z.string(), resolvedAt: z.string().optional(), resolvedBy: z.string().optional() }).optional(),
  flags: z.array(z.string()),
  ref: record.optional(),
  createdAt: iso,
  updatedAt: iso,
});

/** A case as stored. */
export const caseSchema = z.looseObject({
  id: z.string().min(1),
  customerId: z.string().min(1),
  status: z.enum(['open', 'resolved']),
  conversationIds: z.array(z.string()),
  openedAt: iso,
  resolvedAt: z.string().optional(),
  resolvedBy: z.string().optional(),
  followUpOf: z.string().optional(),
  survey: z
    .looseObject({
      sentAt: iso.optional(),
      channel: z.string().optional(),
      skipped: z.enum(['opted_out', 'unreachable', 'window_closed', 'no_survey', 'superseded']).optional(),
      followUpDue: z.string().optional(),
      followUpCaseId: z.string().optional(),
      answeredAt: iso.optional(),
      score: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]).optional(),
      comment: z.string().optional(),
    })
    .optional(),
});

const authorSchema = z.union([
  z.looseObject({ kind: z.literal('bot') }),
  z.looseObject({ kind: z.literal('operator'), operatorId: z.string(), name: z.string(), initials: z.string() }),
]);

/** A message as stored. */
export const storedMessageSchema = z.looseObject({
  id: z.string().min(1),
  conversationId: z.string().min(1),
  caseId: z.string().min(1),
  direction: z.enum(['in', 'out', 'note']),
  author: z.union([authorSchema, z.looseObject({ kind: z.literal('customer') })]),
  text: z.string(),
  visibility,
  platformId: z.string().optional(),
  at: iso,
  action: z.string().optional(),
  faqId: z.string().optional(),
  quickReplies: z.array(z.looseObject({ title: z.string(), payload: z.string() })).optional(),
  escalation: z.looseObject({ reason: z.enum(ESCALATION_REASONS), priority: z.number(), slaDueAt: iso.optional() }).optional(),
  flags: z.array(z.string()).optional(),
});

const replySchema = z.union([
  z.looseObject({ kind: z.literal('text'), text: z.string() }),
  z.looseObject({
    kind: z.literal('quick_replies'),
    text: z.string(),
    options: z.array(z.looseObject({ title: z.string(), payload: z.string() })),
  }),
  z.looseObject({ kind: z.literal('dm_prompt'), text: z.string(), canMessagePrivately: z.boolean() }),
  z.looseObject({
    kind: z.literal('survey'),
    text: z.string(),
    options: z.array(z.looseObject({ title: z.string(), payload: z.string() })),
    question: z.string(),
    caseId: z.string(),
    language,
  }),
]);

/** An outbox item as stored. */
export const outboxItemSchema = z.looseObject({
  id: z.string().min(1),
  conversationId: z.string().min(1),
  channel: z.string().min(1),
  visibility,
  recipient: z.string(),
  inReplyTo: z.string().optional(),
  reply: replySchema,
  author: authorSchema,
  seq: z.number().int().positive(),
  status: z.enum(['pending', 'sending', 'sent', 'dead']),
  attempts: z.number().int().nonnegative(),
  notBefore: z.number(),
  createdAt: iso,
  sentAt: z.string().optional(),
  platformId: z.string().optional(),
  lastError: z.string().optional(),
  inDoubt: z.number().int().nonnegative().optional(),
  ref: record.optional(),
  customerLastMessageAt: z.string().optional(),
});

/** An outbound event delivery (webhook) as stored. */
export const eventDeliverySchema = z.looseObject({
  id: z.string().min(1),
  subscription: z.string().min(1),
  orderKey: z.string().min(1),
  type: z.string().min(1),
  payload: record,
  status: z.enum(['pending', 'sending', 'delivered', 'dead']),
  attempts: z.number().int().nonnegative(),
  notBefore: z.number(),
  createdAt: iso,
  deliveredAt: z.string().optional(),
  lastStatus: z.number().int().optional(),
  lastError: z.string().optional(),
});

/** An operator as stored (password as a scrypt hash only). */
export const operatorSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  initials: z.string(),
  role: z.enum(['agent', 'admin']),
  passwordHash: z.string(),
  createdAt: iso,
});

/** A FAQ suggestion as stored. */
export const faqSuggestionSchema = z.looseObject({
  id: z.string().min(1),
  caseId: z.string(),
  kind: z.enum(['new_entry', 'add_question', 'update_answer']),
  entryId: z.string().optional(),
  locale: language,
  questions: z.array(z.string()),
  answer: z.string().optional(),
  answerShort: z.string().optional(),
  operatorAnswer: z.string().optional(),
  status: z.enum(['pending', 'approved', 'rejected']),
  createdAt: iso,
  createdBy: z.string(),
  reviewedBy: z.string().optional(),
  reviewedAt: z.string().optional(),
});

/** A post heard by listening. */
export const heardRecordSchema = z.object({
  id: z.string().min(1),
  channel: z.string().min(1),
  platformId: z.string().min(1),
  at: iso,
  kind: z.enum(['mention', 'post', 'comment', 'dm']),
  author: z.object({ id: z.string(), handle: z.string().optional(), followers: z.number().optional() }),
  text: z.string(),
  language: z.enum(['it', 'en']),
  sentiment: z.number(),
  class: z.enum(['care', 'praise', 'noise', 'spam']),
  topic: z.string().optional(),
  spike: z.string().optional(),
});

/** The desk's file on a customer (tags, notes, links) as stored. */
export const customerFileSchema = z.looseObject({
  customerId: z.string().min(1),
  tags: z.array(z.string()),
  notes: z.array(z.looseObject({ id: z.string().min(1), text: z.string(), operatorId: z.string(), at: iso })),
  links: z.array(z.string()),
  updatedAt: iso,
});

/** A saved reply as stored. */
export const auditEntrySchema = z.object({
  id: z.string().min(1),
  at: iso,
  operatorId: z.string().min(1),
  action: z.string().min(1),
  target: z.string().optional(),
  from: z.string().optional(),
});

export const savedReplySchema = z.looseObject({
  id: z.string().min(1),
  language,
  shortcut: z.string().min(1),
  title: z.string(),
  text: z.string(),
  createdBy: z.string(),
  createdAt: iso,
  updatedAt: iso,
});

/** One inbound message id the store has seen; `message` is kept only until it is processed. */
export const inboundRecordSchema = z.object({
  channel: z.string().min(1),
  id: z.string().min(1),
  acceptedAt: iso,
  processedAt: iso.optional(),
  message: inboundMessageSchema.optional(),
});

/** The whole store as one document. */
export const storeSnapshotSchema = z.object({
  format: z.literal('sportello-store'),
  version: z.literal(1),
  exportedAt: iso,
  customers: z.array(customerSchema),
  conversations: z.array(conversationSchema),
  cases: z.array(caseSchema),
  messages: z.array(storedMessageSchema),
  outbox: z.array(outboxItemSchema),
  deliveries: z.array(eventDeliverySchema).optional(),
  inbound: z.array(inboundRecordSchema),
  operators: z.array(operatorSchema),
  suggestions: z.array(faqSuggestionSchema),
  heard: z.array(heardRecordSchema).optional(),
  customerFiles: z.array(customerFileSchema).optional(),
  savedReplies: z.array(savedReplySchema).optional(),
  audit: z.array(auditEntrySchema).optional(),
  values: z.record(z.string(), z.string()),
  valueExpiresAt: z.record(z.string(), iso).optional(),
  journalSeq: z.number().int().nonnegative().optional(),
});

/**
 * One seen inbound id (with the message while it is still pending). Written with the domain
 * types so stores can hand their own objects in; the schema's output is checked to fit below.
 */
export interface InboundRecord {
  channel: string;
  id: string;
  acceptedAt: string;
  processedAt?: string;
  message?: InboundMessage;
}

/** The whole store as one document (`sportello export` / `sportello import`). */
export interface StoreSnapshot {
  format: 'sportello-store';
  version: 1;
  exportedAt: string;
  customers: Customer[];
  conversations: Conversation[];
  cases: Case[];
  messages: StoredMessage[];
  outbox: OutboxItem[];
  /** Outbound event deliveries (webhooks); absent in documents written before they existed. */
  deliveries?: EventDelivery[];
  inbound: InboundRecord[];
  operators: Operator[];
  suggestions: FaqSuggestion[];
  /** Posts heard by listening; absent in documents written before they existed. */
  heard?: HeardRecord[];
  /** The desk's files on customers (tags, notes, links); absent in documents written before they existed. */
  customerFiles?: CustomerFile[];
  /** Saved replies; absent in documents written before they existed. */
  savedReplies?: SavedReply[];
  /** The audit trail (append-only); absent in documents written before it existed. */
  audit?: AuditEntry[];
  /** Named values (`namespace:key` → value; see KeyValues). */
  values: Record<string, string>;
  /** When values set with a time to live expire (name → ISO time); absent: never. */
  valueExpiresAt?: Record<string, string>;
  /**
   * lowdb only: the last journal entry this document already contains (entries up to it are
   * skipped when the journal is replayed). Ignored by imports.
   */
  journalSeq?: number;
}

// Each schema's type must fit its domain type: these fail to compile when a required field
// is added to a domain type and not here.
type Assignable<T extends U, U> = T;
export type SnapshotTypesMatch = [
  Assignable<z.infer<typeof customerSchema>, Customer>,
  Assignable<z.infer<typeof conversationSchema>, Conversation>,
  Assignable<z.infer<typeof caseSchema>, Case>,
  Assignable<z.infer<typeof storedMessageSchema>, StoredMessage>,
  Assignable<z.infer<typeof outboxItemSchema>, OutboxItem>,
  Assignable<z.infer<typeof eventDeliverySchema>, EventDelivery>,
  Assignable<z.infer<typeof operatorSchema>, Operator>,
  Assignable<z.infer<typeof faqSuggestionSchema>, FaqSuggestion>,
  Assignable<z.infer<typeof heardRecordSchema>, HeardRecord>,
  Assignable<z.infer<typeof customerFileSchema>, CustomerFile>,
  Assignable<z.infer<typeof savedReplySchema>, SavedReply>,
  Assignable<z.infer<typeof inboundMessageSchema>, InboundMessage>,
  Assignable<z.infer<typeof inboundRecordSchema>, InboundRecord>,
  Assignable<z.infer<typeof storeSnapshotSchema>, StoreSnapshot>,
];

/** Turns a zod error into one line per problem, each naming where in the document it is. */
export function describeSnapshotProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(document)'}: ${issue.message}`);
}

/** Parses and checks a snapshot document; throws an Error listing every problem. */
export function parseStoreSnapshot(data: unknown): StoreSnapshot {
  const parsed = storeSnapshotSchema.safeParse(data);
  if (!parsed.success) {
    const problems = describeSnapshotProblems(parsed.error);
    throw new Error(`not a valid Sportello store snapshot:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''}`);
  }
  return parsed.data;
}

/** A snapshot with nothing in it. */
export function emptySnapshot(exportedAt: string): StoreSnapshot {
  return {
    format: 'sportello-store',
    version: 1,
    exportedAt,
    customers: [],
    conversations: [],
    cases: [],
    messages: [],
    outbox: [],
    inbound: [],
    operators: [],
    suggestions: [],
    values: {},
  };
}
