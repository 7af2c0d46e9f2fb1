/**
 * @module core/ports
 * The interfaces core depends on. Channels, stores and the classifier implement them in their
 * own folders; only the composition root (`main.ts`) meets the implementations.
 */
import type {
  AuditEntry,
  Author,
  Case,
  ChannelName,
  Conversation,
  Customer,
  CustomerFile,
  CustomerNote,
  CustomerProfile,
  EscalationReason,
  EventDelivery,
  FaqSuggestion,
  HeardRecord,
  InboundMessage,
  Language,
  Operator,
  OutboxItem,
  QuickReplyOption,
  SavedReply,
  StoredMessage,
  Visibility,
} from './types.js';
import type { DataKind } from './corpus.js';
import type { DomainEvent } from './events.js';
import type { ConversationState } from './state.js';

/** Injected wherever time matters (SLA, business hours, messaging windows), so tests use a fake one. */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock that moves only when told: for tests and the conversation-test runner. */
export interface FakeClock extends Clock {
  set(at: Date | string): void;
  advance(ms: number): void;
}

/** Creates a fake clock starting at `start`. */
export function createFakeClock(start: Date | string = '2026-01-01T00:00:00Z'): FakeClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (at) => {
      current = new Date(at).getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

// ───────────────────────────── channels ─────────────────────────────

/** What a channel can do; the pipeline and answer fitting read this, never the channel's name. */
export interface ChannelCapabilities {
  publicReplies: boolean;
  privateMessages: boolean;
  /** Longest text of one message, per visibility, measured by `measure`. */
  maxLength: Record<Visibility, number>;
  /** How the platform counts a text's length (X weighs characters and links). */
  measure(text: string): number;
  /** Maximum quick-reply options, 0 when the channel has none. */
  quickReplies: number;
  /** Whether operator replies shown in public carry the operator's signature (X: "^MR"). */
  signsPublicReplies: boolean;
  /** Max number of posts a long public answer may be split into (X: a numbered thread). */
  maxThread: number;
  /**
   * Messenger-style windows after the customer's last message: bot replies only within
   * `standardMs`; operator replies up to `humanAgentMs` (HUMAN_AGENT tag). Absent: no window.
   */
  messagingWindow?: { standardMs: number; humanAgentMs: number };
  /**
   * Public replies through the API only to posts that mention or quote the brand (X since
   * February 2026): a post heard by listening without a mention (`InboundMessage.heard`) gets no
   * public reply from the bot; it goes to a person. Absent: false.
   */
  publicRepliesNeedAddress?: boolean;
  /**
   * Whether a satisfaction survey may follow a resolved case, sent privately (absent: never).
   * `withinMs`: only this long after the customer's last message (Messenger: 7 days, with the
   * Customer Feedback Template and the CUSTOMER_FEEDBACK tag after the first 24 hours).
   * `needsPrivateConversation`: only to a customer who wrote privately in the case (Messenger: a
   * commenter who never wrote in Messenger cannot be messaged). A channel with `privateReach` is
   * asked first, and the survey goes only when it answers `open` (X: DMs).
   */
  surveys?: { withinMs?: number; needsPrivateConversation?: boolean };
  /**
   * The address of a post on the platform, for a person to open it there (the console's link where
   * the API may not reply: X posts heard without a mention). Absent: no link.
   */
  postLink?(post: { platformId: string; authorHandle?: string }): string;
}

/** An HTTP request as the server hands it to a channel: raw body kept for signatures. */
export interface ChannelRequest {
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  rawBody: Buffer;
  remoteAddress?: string;
}

/** An HTTP answer a channel gives (a CRC response, a hub.challenge echo). */
export interface ChannelResponse {
  status: number;
  body?: unknown;
  contentType?: string;
  /** Extra response headers (the web chat page's Content-Security-Policy). */
  headers?: Record<string, string>;
}

/** An extra HTTP route of a channel; the server hands it the raw request. */
export interface ChannelRoute {
  /** `OPTIONS`: a CORS preflight the channel answers itself (the web chat's embedding origins). */
  method: 'GET' | 'POST' | 'OPTIONS';
  path: string;
  /** A page people open in a browser (the web chat): its name, linked from the server's start page `/`. */
  page?: string;
  handle(req: ChannelRequest): Promise<ChannelResponse>;
}

/** Whether and how the brand can write to a customer privately. */
export type PrivateReach = 'open' | 'needs_follow' | 'unavailable';

/** Result of a successful send. */
export interface SendResult {
  /** The platform's id of what was posted (first post of a thread). */
  platformId: string;
  /**
   * The item was in doubt (`OutboxItem.inDoubt`: an earlier attempt timed out after the platform
   * took it) and the channel's late check found it delivered: it was not sent again.
   */
  alreadyDelivered?: boolean;
}

/** One messaging channel: a platform adapter behind one interface. */
export interface ChannelAdapter {
  readonly name: ChannelName;
  readonly capabilities: ChannelCapabilities;
  /** Answers a platform's verification call (X CRC, Messenger hub.challenge); undefined: not such a call. */
  handshake?(req: ChannelRequest): Promise<ChannelResponse | undefined>;
  /** Checks the request's signature over the raw body; throws or returns false when wrong. */
  verify(req: ChannelRequest): Promise<boolean>;
  /** Turns a verified webhook body into customer messages (ours, echoes and receipts are dropped). */
  parse(req: ChannelRequest): Promise<InboundMessage[]>;
  /**
   * Sends one outbox item; throws ChannelApiError / NetworkError on failure. When `item.inDoubt`
   * (an earlier attempt's outcome is unknown), a channel whose platform can tell checks first
   * whether it was delivered after all (a late check) and then answers `alreadyDelivered`.
   */
  send(item: OutboxItem): Promise<SendResult>;
  /** Whether the brand can message this customer privately (X: DM allowed?). */
  privateReach?(customer: Customer): Promise<PrivateReach>;
  /** A link that opens a private conversation with the brand (X DM deep link, m.me link). */
  privateLink?(customer: Customer): string | undefined;
  /** Shows a typing indicator while the bot works (Messenger sender_action). */
  typing?(msg: InboundMessage): Promise<void>;
  /** Tells the customer an operator is writing to them (the web chat shows "Marta is typing…"). */
  composing?(conversation: Conversation, author: Author & { kind: 'operator' }): Promise<void>;
  /** Hides a public message with private data, where the platform allows (Facebook comments). */
  hideMessage?(conversation: Conversation, platformId: string): Promise<void>;
  /** Told about domain events of its conversations (Bot Framework emits handoff.initiate/status). */
  notify?(event: DomainEvent, conversation: Conversation): Promise<void>;
  /** Extra HTTP routes the channel serves (Bot Framework: POST /api/messages). */
  routes?: ChannelRoute[];
  /** Starts background work (polling); called once when the server starts. */
  start?(ctx: ChannelContext): Promise<void>;
  stop?(): Promise<void>;
}

/** What a channel receives to feed messages in on its own (polling, web chat). */
export interface ChannelContext {
  /** Accepts a message into the pipeline (idempotent by channel + id). */
  receive(msg: InboundMessage): Promise<void>;
  /**
   * Hands over a post heard by listening (a keyword search, a Page feed) rather than addressed to
   * the brand: listening classes it, counts it for spikes, and passes care requests on to the
   * pipeline. Absent (a bare context): the channel passes heard posts to `receive`.
   */
  hear?(msg: InboundMessage): Promise<void>;
  store: Store;
}

// ───────────────────────────── understanding ─────────────────────────────

/** One training example: a FAQ question (`faq:<id>`) or an intent example (`intent:<name>`). */
export interface TrainingExample {
  text: string;
  label: string;
  language?: Language;
  /** Recognised word for word only, not learnt (an intent with `match: exact`). */
  exact?: boolean;
  /**
   * Held out: not learnt, only read to calibrate the classifier's confidence (a dataset's validation
   * split, `sportello eval`). FAQ corpora have none: the classifier then holds out a share of the rest.
   */
  heldOut?: boolean;
}

/** A ranked guess. */
export interface LabelScore {
  label: string;
  confidence: number;
}

/** The classifier's answer. Confidence is calibrated: 0.8 should be right about 80% of the time. */
export interface Classification {
  ranked: LabelScore[];
}

/** Learns labels from examples; swappable without touching the pipeline. */
export interface Classifier {
  train(examples: readonly TrainingExample[]): Promise<void>;
  classify(text: string, hint?: { language?: Language }): Classification;
}

/** A piece of data found in a message. Private kinds must never be repeated in public. */
export interface Entity {
  kind: 'email' | 'phone' | 'iban' | 'card' | 'codice_fiscale' | 'order_number' | 'customer_code' | 'date';
  /** The text as written (never log it). */
  value: string;
  start: number;
  end: number;
  /** True for kinds that are private data. */
  private: boolean;
}

/** Everything the pipeline knows about a customer's message. */
export interface Understanding {
  language: Language;
  /**
   * True when the text alone decided the language: a conversation's previous language would not
   * have changed it (nor, then, anything else here). Lets a caller understand a message before
   * it knows the conversation. Undefined: not known.
   */
  languageSettled?: boolean;
  classification: Classification;
  entities: Entity[];
  /** -1 (furious) … +1 (delighted). */
  sentiment: number;
  /** 0 … 1: swearing, CAPS, "!!!", angry emoji. */
  anger: number;
}

/** Language detection, classification, entities and sentiment, in one call. */
export interface Understander {
  understand(text: string, context?: { previousLanguage?: Language }): Understanding;
  /**
   * Optional: the same answer, computed off the calling thread (classifier/understanding-pool).
   * The pipeline prefers it, so the thread that serves webhooks and writes the store does not
   * spend its time on understanding.
   */
  understandAsync?(text: string, context?: { previousLanguage?: Language }): Promise<Understanding>;
}

// ───────────────────────────── custom actions ─────────────────────────────
//
// An FAQ entry may name a handler (`handler: order-status`): a custom action written by the
// brand, as a module (`defineAction`) or an HTTP endpoint of theirs (src/actions/). The pipeline
// calls it outside the conversation's lock and plans the turn again with its outcome.

/** What a custom action is given: never more than the conversation may use where it runs. */
export interface ActionInput {
  /** The action's name: the entry's `handler`. */
  handler: string;
  /** The FAQ entry that named it. */
  faq: string;
  language: Language;
  channel: ChannelName;
  visibility: Visibility;
  /**
   * The data the customer gave for the entry's request (`asks_for`), by kind, as written (the
   * first of each kind). Only in private, for `private: true` entries; empty otherwise.
   */
  data: Partial<Record<DataKind, string>>;
}

/** How a custom action's call ended, checked: a reply, a request for a person, or a failure. */
export type ActionOutcome =
  | { kind: 'reply'; text: string; quickReplies: QuickReplyOption[] }
  | { kind: 'handoff'; reason?: string }
  | { kind: 'failed'; error: string };

/** Calls custom actions by name, with their timeouts. It never throws: a failure is an outcome. */
export interface ActionRunner {
  /** The names of the actions it can call (an FAQ entry may name only these). */
  readonly names: ReadonlySet<string>;
  call(input: ActionInput): Promise<ActionOutcome>;
}

// ───────────────────────────── storage ─────────────────────────────
//
// Persistence is one object, `Store`, made of thirteen small ports. `createStore(config)`
// (src/storage/index.ts) builds the embedded (lowdb) or the shared (PostgreSQL) one; one contract
// test suite runs against both (tests/storage/store-contract.ts). See docs/storage.md.

/**
 * Revisions of stored conversations and cases (id → revision) as a turn read them. Every write of
 * a conversation or case gives it a new revision; a store compares them at commit (optimistic
 * concurrency across instances, see docs/storage.md).
 */
export interface Revisions {
  conversations: Record<string, number>;
  cases: Record<string, number>;
}

/**
 * Empty revisions. The maps are keyed by record ids: objects without a prototype (dictionary
 * objects) take any number of distinct keys without a new hidden class per key.
 */
export function emptyRevisions(): Revisions {
  return { conversations: Object.create(null) as Record<string, number>, cases: Object.create(null) as Record<string, number> };
}

/** What a turn reads before it decides, asked for in one call. */
export interface ContextQuery {
  /** The conversation key (see pipeline `conversationKey`). */
  key: string;
  /** The customer writing (`channel:platformId`). */
  customerId: string;
  /** The customer a message links to (a DM opened from a public post), whose open case it may join. */
  linkedCustomerId?: string;
  /** Other conversations to read by key in the same call (returned in `related`, with revisions). */
  otherKeys?: string[];
  /**
   * A case to read by id (returned in `requestedCase`, with its revision, and its conversations in
   * `related`): a scheduled job's case, which the conversation of `key` may no longer belong to.
   */
  caseId?: string;
}

/**
 * The answer to a ContextQuery, read in one consistent snapshot where the store can. Its records
 * may be the store's own (the embedded store hands out what it holds in memory, without a copy
 * per turn): read them, never change them; a turn builds changed copies.
 */
export interface TurnContext {
  customer?: Customer;
  /** The conversation with the query's key. */
  conversation?: Conversation;
  /** That conversation's case. */
  case?: Case;
  /** The customer's most recent open case (as `findOpenCase`). */
  openCase?: Case;
  /** The linked customer's most recent open case, when a link was given. */
  linkedOpenCase?: Case;
  /**
   * Every other stored conversation of the cases above (the siblings of whichever case the turn
   * joins), and those found by `otherKeys`.
   */
  related: Conversation[];
  /** The case `ContextQuery.caseId` names, when it exists. */
  requestedCase?: Case;
  /** Revisions of the conversations and cases above: pass them as `TurnRecord.expect`. */
  revisions: Revisions;
}

/** Everything one turn (a customer's message, an operator's action) changes, written atomically. */
export interface TurnRecord {
  /**
   * Revisions the turn's decisions rest on (from `loadContext`). A conversation or case the turn
   * writes that is already stored must be listed here with the revision the turn read; when it is
   * not listed, or its stored revision differs, the turn is refused with TurnConflictError,
   * writing nothing. So nothing writes a conversation it did not read.
   */
  expect: Revisions;
  /** The inbound message this turn processed (marked done); absent for operator actions. */
  inbound?: { channel: ChannelName; id: string };
  customer?: Customer;
  conversations: Conversation[];
  case?: Case;
  messages: StoredMessage[];
  outbox: Omit<OutboxItem, 'seq'>[];
  /**
   * Outbound event deliveries (webhooks) the change causes, written with it. The conversation
   * writer derives them from `events` and `messages` (events/recorder.ts); absent: none.
   */
  deliveries?: EventDelivery[];
  events: DomainEvent[];
}

/** Filters for listing conversations. */
export interface ConversationFilter {
  states?: ConversationState[];
  caseId?: string;
  customerId?: string;
  assignee?: string;
  /** Only conversations last changed before this ISO instant (the bot-close job: those gone quiet). */
  updatedBefore?: string;
  limit?: number;
}

/** What `Inbox.accept` says about a message. */
export interface Acceptance {
  /** False when (channel, id) was seen before: do not process it again. */
  fresh: boolean;
  /**
   * Resolves once the message is kept durably (on disk, or committed by the turn that processed
   * it); rejects when it could not be. Acknowledge the delivery only after it resolves.
   */
  durable: Promise<void>;
}

/** Accepted customer messages: idempotency and crash recovery. */
export interface Inbox {
  /**
   * Accepts a message unless (channel, id) was seen. A store may record it at once or together
   * with the commit of the turn that processes it (`durable` says when it is kept); a message
   * whose turn fails or does not commit soon is recorded on its own, to be found by `pending`.
   */
  accept(msg: InboundMessage): Promise<Acceptance>;
  /** Accepted messages not yet processed (after a crash), oldest first. */
  pending(limit: number): Promise<InboundMessage[]>;
}

/** Where a turn's replies may be claimed in its commit (the sender's room, see OutboxSender.reserve). */
export interface CommitOptions {
  claim?: { now: number; leaseMs: number };
}

/** Conversations, their cases and messages: the one way to change them, and their reads. */
export interface Conversations {
  /**
   * Runs `fn` while holding the lock of one conversation key in this process. Across processes a
   * shared store does not lock: `commit` refuses a turn that raced another (TurnConflictError) and
   * the caller runs it again.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Reads what a turn needs (customer, conversation, cases, siblings, revisions) in one call. */
  loadContext(query: ContextQuery): Promise<TurnContext>;
  /**
   * Writes a turn: conversations, case, customer, messages, outbox, inbound done: all or nothing.
   * Throws AlreadyProcessedError when its inbound message was processed, TurnConflictError when a
   * conversation or case it writes is not as `expect` says (or a new conversation's key was
   * taken). Resolves with the turn's outbox items leased to the caller when `claim` was given
   * (those a claim would hand out now; maybe none); the others wait for `Outbox.claim`.
   */
  commit(turn: TurnRecord, options?: CommitOptions): Promise<OutboxItem[]>;

  get(id: string): Promise<Conversation | undefined>;
  findByKey(key: string): Promise<Conversation | undefined>;
  list(filter: ConversationFilter): Promise<Conversation[]>;
  getCase(id: string): Promise<Case | undefined>;
  /** The customer's open case, if any (joins a DM to the public thread's case). */
  findOpenCase(customerId: string): Promise<Case | undefined>;
  listCases(customerId: string): Promise<Case[]>;
  listMessages(filter: { conversationId?: string; caseId?: string }): Promise<StoredMessage[]>;
  /**
   * The survey job's work list: resolved cases with no `survey` decided yet, or whose survey's low
   * score still waits for its follow-up (`survey.followUpDue`), resolved in `[resolvedFrom,
   * resolvedTo)` (ISO instants), oldest resolution first, at most `limit`.
   */
  casesAwaitingSurvey(query: { resolvedFrom: string; resolvedTo: string; limit: number }): Promise<Case[]>;
  /**
   * What happened in a period, for reports (read-only): the cases opened in `[from, to)` or with a
   * message in it, their conversations, all their messages (also those outside the period: a
   * reply after its end), and the outbox items of those conversations (when replies were sent).
   */
  history(period: HistoryQuery): Promise<History>;
}

/** A period of history: ISO instants, `from` inclusive, `to` exclusive. */
export interface HistoryQuery {
  from: string;
  to: string;
}

/** The records a report is computed from (see Conversations.history). */
export interface History {
  /** Oldest opened first. */
  cases: Case[];
  conversations: Conversation[];
  /** By time; within a case, messages of the same time in insertion order. */
  messages: StoredMessage[];
  replies: OutboxItem[];
}

/** How a send ended. */
export type OutboxOutcome =
  | { status: 'sent'; platformId: string; at: string }
  | { status: 'retry'; notBefore: number; error: string; inDoubt?: number }
  | { status: 'dead'; error: string };

/** Replies waiting to be sent, one conversation's in order. */
export interface Outbox {
  /**
   * Claims due items (the first unsent one of each conversation), leasing them: up to `room[c]`
   * items of each channel `c` (a channel not named gets none: each channel has its own send slots,
   * and a channel whose platform is down is given no room while others are).
   */
  claim(now: number, room: Readonly<Record<ChannelName, number>>, leaseMs: number): Promise<OutboxItem[]>;
  /**
   * Records a send's outcome. `more`: the item's conversation has unsent items after it, which a
   * claim may hand out now that this one is done.
   */
  complete(id: string, outcome: OutboxOutcome): Promise<{ more: boolean }>;
  get(id: string): Promise<OutboxItem | undefined>;
  list(filter: { conversationId?: string; status?: OutboxItem['status'] }): Promise<OutboxItem[]>;
}

/** How a delivery attempt ended. */
export type DeliveryOutcome =
  | { status: 'delivered'; at: string; httpStatus: number }
  | { status: 'retry'; notBefore: number; error: string; httpStatus?: number }
  | { status: 'dead'; error: string; httpStatus?: number };

/**
 * Outbound event deliveries (webhooks), written by `conversations.commit` and
 * `suggestions.update` with the change they report, sent by the webhook dispatcher
 * (events/dispatcher.ts): a queue of their own, apart from the replies' outbox.
 */
export interface Deliveries {
  /**
   * Claims up to `limit` due deliveries, each the first undelivered one of its `orderKey`
   * (pending, or sending with an expired lease; `notBefore <= now`), leasing them (`sending`,
   * `attempts + 1`, `notBefore = now + leaseMs`). Dead ones do not hold later ones back.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<EventDelivery[]>;
  /** Records an attempt's outcome; throws StoreError for an unknown id. */
  complete(id: string, outcome: DeliveryOutcome): Promise<void>;
  /** Newest first, at most `limit`, those older than the delivery `before` (a page's last id). */
  list(filter: { limit: number; before?: string; status?: EventDelivery['status']; subscription?: string }): Promise<EventDelivery[]>;
}

/** Who is who: customers (written by turns) and operators. */
export interface Directory {
  getCustomer(id: string): Promise<Customer | undefined>;
  /** Throws ConflictError when the id or the name is taken. */
  addOperator(op: Operator): Promise<void>;
  getOperator(id: string): Promise<Operator | undefined>;
  findOperatorByName(name: string): Promise<Operator | undefined>;
  listOperators(): Promise<Operator[]>;
  /** Changes an operator's password hash, initials or role (not the name); undefined when there is no such operator. */
  updateOperator(id: string, change: Partial<Pick<Operator, 'passwordHash' | 'initials' | 'role'>>): Promise<Operator | undefined>;
  /**
   * Removes an operator (their sessions end with it: a session reads the operator) and frees the
   * name; records that name them (cases, the audit trail) keep the id. The operator as it was;
   * undefined when there is no such operator.
   */
  removeOperator(id: string): Promise<Operator | undefined>;
}

/** FAQ changes proposed from resolved cases, waiting for review. */
export interface Suggestions {
  /** Throws ConflictError when the id is taken. */
  add(s: FaqSuggestion): Promise<void>;
  /**
   * Merges `change` in (a key set to undefined is removed); undefined when there is no such
   * suggestion (then nothing is written). `deliveries` (an approval's `faq.approved` events) are
   * written in the same write.
   */
  update(id: string, change: Partial<FaqSuggestion>, options?: { deliveries?: readonly EventDelivery[] }): Promise<FaqSuggestion | undefined>;
  list(filter?: { status?: FaqSuggestion['status'] }): Promise<FaqSuggestion[]>;
}

/**
 * Small values in namespaces (a channel's cursors and links, sessions, rate limits). A namespace
 * is a lower-case word (`[a-z0-9_-]+`, e.g. the channel's name); a key is any text. A value set
 * with `ttlMs` is never returned after it expires, and expired values are pruned.
 */
export interface KeyValues {
  get(ns: string, key: string): Promise<string | undefined>;
  set(ns: string, key: string, value: string, options?: { ttlMs?: number }): Promise<void>;
  delete(ns: string, key: string): Promise<void>;
  /**
   * Adds one to the whole number stored under the key, atomically (also across instances sharing
   * the store), and returns the new number: callers racing each other each get a different one.
   * A key that is absent or expired counts from 0 and, with `ttlMs`, expires that long after this
   * first increment (a fixed window); later increments keep its expiry. Throws StoreError when the
   * stored value is not a whole number.
   */
  increment(ns: string, key: string, options?: { ttlMs?: number }): Promise<number>;
}

/** Posts heard by listening (docs/listening.md), for trends, the console and reports. */
export interface HeardItems {
  /**
   * Records heard posts; a post already recorded (same id) keeps its first record. `deliveries`
   * (the `crisis.alert` events a post's spike raised) are written in the same write.
   */
  add(items: readonly HeardRecord[], options?: { deliveries?: readonly EventDelivery[] }): Promise<void>;
  /**
   * Heard posts newest first (by `at`, then the order recorded), at most `limit`: those with
   * `from <= at < to` when given, of one class or topic when given; with `before` (the id of a
   * page's last post), only those after it in this order (the next page; none when it is unknown).
   */
  list(filter: { limit: number; from?: string; to?: string; class?: HeardRecord['class']; topic?: string; before?: string }): Promise<HeardRecord[]>;
  /** One heard post by id (`channel:platform id`); undefined when there is none. */
  get(id: string): Promise<HeardRecord | undefined>;
}

/**
 * What the desk looks for (issue 21): every filter is optional and all given ones must hold.
 * `text` is split into words; each word must be found (as the start of a word, ignoring case and
 * accents) in a message of the conversation (notes included) or in its customer's name or
 * handle. Results are the most recently updated first (then by id), `limit` from `offset`.
 */
export interface ConversationQuery {
  text?: string;
  states?: ConversationState[];
  /** Only conversations whose last message (notes aside) is an operator's reply: waiting on the customer (false: the others). */
  waitingOnCustomer?: boolean;
  /** Any of these channels. */
  channels?: readonly ChannelName[];
  /** Any of these languages. */
  languages?: readonly Language[];
  assignee?: string;
  priority?: number;
  reason?: EscalationReason;
  /** Only conversations of these customers (e.g. those with a tag). */
  customerIds?: readonly string[];
  /** Conversations active in the period: created before `to` and updated at or after `from` (ISO). */
  from?: string;
  to?: string;
  offset: number;
  limit: number;
}

/** One conversation found, with what a result list shows of it. */
export interface ConversationHit {
  conversation: Conversation;
  customer?: Customer;
  /** The conversation's last message, notes aside. */
  lastMessage?: StoredMessage;
  /**
   * When the query has words: the message (notes included) that holds the most of them, the latest
   * of equals (`matchingMessage` in storage/desk-records). Absent when no message holds any (the
   * customer's name or handle matched).
   */
  match?: StoredMessage;
}

/** Finds conversations for the desk (PostgreSQL full-text search; lowdb an in-memory word index). */
export interface ConversationSearch {
  find(query: ConversationQuery): Promise<{ hits: ConversationHit[]; total: number }>;
}

/** The desk's files on customers: tags, notes and links between records of one person. */
export interface CustomerFiles {
  /** The file of a customer record (an empty one when nothing was kept yet). */
  get(customerId: string): Promise<CustomerFile>;
  /** Adds a note at the end of the file. */
  addNote(customerId: string, note: CustomerNote): Promise<CustomerFile>;
  /** Replaces the tags (normalised: lower-case, unique, sorted). */
  setTags(customerId: string, tags: readonly string[], at: string): Promise<CustomerFile>;
  /** Links two records of one person (both files hold the link; linking twice changes nothing). */
  link(a: string, b: string, at: string): Promise<void>;
  /** Removes the link between two records (both sides). */
  unlink(a: string, b: string, at: string): Promise<void>;
  /** The ids of the customers carrying a tag. */
  withTag(tag: string): Promise<string[]>;
}

/** Saved replies (admins manage them, operators insert them). */
export interface SavedReplies {
  /** Sorted by language, then shortcut. */
  list(filter?: { language?: Language }): Promise<SavedReply[]>;
  get(id: string): Promise<SavedReply | undefined>;
  /** Adds or replaces (by id). Throws ConflictError when another reply of the language has the shortcut. */
  put(reply: SavedReply): Promise<void>;
  /** False when there was no such reply. */
  delete(id: string): Promise<boolean>;
}

/**
 * Everything one customer record holds in the store (issue 22: a customer's data rights). Values
 * are the key-value entries that name the customer (its id or platform id in their name or value,
 * e.g. a channel's reach cache or links, a web chat session) or a message of theirs.
 */
export interface CustomerRecords {
  customer: Customer;
  /** The desk's file on them (tags, notes, links), when one was kept. */
  file?: CustomerFile;
  conversations: Conversation[];
  cases: Case[];
  /** Every message of their conversations, notes included, by time. */
  messages: StoredMessage[];
  /** The replies to them (the outbox history). */
  outbox: OutboxItem[];
  /** Outbound event deliveries (webhooks) about their conversations or cases. */
  deliveries: EventDelivery[];
  /** FAQ suggestions proposed from their cases. */
  suggestions: FaqSuggestion[];
  values: Array<{ name: string; value: string }>;
  /** Their posts heard by listening (author = this record's platform id on its channel). */
  heard: HeardRecord[];
}

/** What an erasure did: counts per kind of record. */
export interface ErasureResult {
  /** The random pseudonym the kept (anonymised) records carry instead of the customer id. */
  pseudonym: string;
  removed: { customers: number; files: number; deliveries: number; suggestions: number; values: number; inbound: number };
  anonymised: { conversations: number; cases: number; messages: number; outbox: number; heard: number };
}

/**
 * One customer's data: found, gathered for an export, erased (GDPR articles 15 and 17). Erasure
 * removes the customer, their file, webhook deliveries, key-value entries and unapproved
 * suggestions, and keeps what reports need anonymised: conversations and cases carry `pseudonym`
 * instead of the customer id, messages and replies lose their texts and platform ids, unsent
 * replies are dropped (`dead`). The embedded store rewrites its file and empties its journal.
 */
export interface CustomerData {
  /** Customers whose name, handle, id or platform id contains `text` (ignoring case), last seen first. */
  find(text: string, limit: number): Promise<Customer[]>;
  /** Everything held about one customer record; undefined when there is no such customer. */
  collect(customerId: string): Promise<CustomerRecords | undefined>;
  /** Erases one customer record (see above); undefined when there is no such customer. */
  erase(customerId: string, options: { pseudonym: string; at: string }): Promise<ErasureResult | undefined>;
  /**
   * The customer records a retention rule has expired (see RetentionRule), least recently seen
   * first, at most `limit`: what `expire` would erase now (a dry run).
   */
  expired(rule: RetentionRule, limit: number): Promise<string[]>;
  /**
   * Erases (as `erase`, the same code) up to `limit` records the rule has expired, each with its
   * own `pseudonym()`. Safe on several instances at once: each record is erased by one of them
   * (PostgreSQL: the records are taken with FOR UPDATE SKIP LOCKED and checked again under the
   * lock; the embedded store: one process, one synchronous step, the file rewritten once).
   */
  expire(rule: RetentionRule, options: { limit: number; at: string; pseudonym: () => string }): Promise<Array<{ customerId: string; result: ErasureResult }>>;
}

/**
 * Which customer records a retention period has expired (issue 22's retention job,
 * handoff/retention.ts). A record is expired when, by its cutoff, it was last seen before it, none
 * of its cases is open, every conversation of it is resolved, and no conversation of it changed
 * nor got a message at or after the cutoff. Open cases are never touched.
 */
export interface RetentionRule {
  /** Each channel's cutoff (ISO): records last active before it expire; null: the channel is kept. */
  channels: Readonly<Record<ChannelName, string | null>>;
  /** The cutoff of channels not in `channels` (absent: they are kept). */
  others?: string;
  /**
   * Visitors who never gave a name or handle, on channels whose visitors may stay anonymous
   * (the web chat): this cutoff instead of their channel's.
   */
  anonymous?: { channels: readonly ChannelName[]; before: string };
}

/** The audit trail: operators' and admins' actions, append-only (nothing changes or removes an entry). */
export interface AuditTrail {
  /** Throws ConflictError when the id is taken. */
  append(entry: AuditEntry): Promise<void>;
  /** Oldest first: those at or after `from` (ISO), of `operatorId` when given, at most `limit`. */
  list(filter: { from?: string; operatorId?: string; limit: number }): Promise<AuditEntry[]>;
  /**
   * One page of the trail, for the console: ordered by time, then in the order appended (newest
   * first with `newestFirst`); `from` inclusive, `to` exclusive (ISO), `action` matched exactly.
   * `next` (only when more match) is an opaque cursor of the store: pass it back as `after`, with
   * the same filter, for the following page; an entry appended meanwhile never shifts a page.
   */
  page(filter: AuditFilter & { limit: number; newestFirst?: boolean; after?: string }): Promise<{ entries: AuditEntry[]; next?: string }>;
}

/** Which audit entries a page holds (every field optional: all of them). */
export interface AuditFilter {
  from?: string;
  to?: string;
  operatorId?: string;
  action?: string;
}

/** Persistence: the ports above, opened and closed together. */
export interface Store {
  init(): Promise<void>;
  close(): Promise<void>;
  readonly inbox: Inbox;
  readonly conversations: Conversations;
  readonly outbox: Outbox;
  readonly deliveries: Deliveries;
  readonly directory: Directory;
  readonly suggestions: Suggestions;
  readonly values: KeyValues;
  readonly heard: HeardItems;
  readonly search: ConversationSearch;
  readonly customerFiles: CustomerFiles;
  readonly savedReplies: SavedReplies;
  readonly customerData: CustomerData;
  readonly audit: AuditTrail;
}
