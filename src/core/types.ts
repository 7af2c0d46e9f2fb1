/**
 * @module core/types
 * The domain of customer care: customers, conversations, cases, messages, replies.
 * Channel- and store-agnostic: adapters translate to and from these shapes.
 */
import type { DataKind } from './corpus.js';
import type { ConversationState } from './state.js';

/** Languages the bot speaks first-class. Others fall back to the default locale. */
export type Language = 'it' | 'en';
/** Where a message was seen: everyone (a mention, a comment) or only the brand (a DM, Messenger). */
export type Visibility = 'public' | 'private';
/** The name of a channel adapter: twitter | messenger | botframework | webchat | console | test ... */
export type ChannelName = string;

/** A customer as one channel knows them. `id` is `${channel}:${platformId}`. */
export interface Customer {
  id: string;
  channel: ChannelName;
  platformId: string;
  handle?: string;
  name?: string;
  /** Reach on the platform, for VIP rules. */
  followers?: number;
  firstSeenAt: string;
  lastSeenAt: string;
  /** When the customer said "stop" to satisfaction surveys: none is sent to them again. */
  surveyOptOutAt?: string;
  /**
   * The language of the customer's last turn: a message with no language of its own (a code,
   * "?") in a conversation that has none yet (the DM after a public thread, a new thread) keeps it.
   */
  language?: Language;
}

/** What the customer told us about themselves, as a channel delivers it. */
export interface CustomerProfile {
  platformId: string;
  handle?: string;
  name?: string;
  followers?: number;
}

/** One message from a customer, as parsed by a channel adapter. */
export interface InboundMessage {
  channel: ChannelName;
  /** The platform's id of this message (tweet id, Messenger mid, activity id): the idempotency key. */
  id: string;
  visibility: Visibility;
  customer: CustomerProfile;
  /**
   * What the customer wrote. Attachments are described in it in brackets, after the words
   * (`[image: https://…]`, `[invoice.pdf]`), so operators see them; a text of such descriptions
   * only is a message without words (pipeline/turn-decision.ts).
   */
  text: string;
  /** ISO time the platform says the message was sent. */
  sentAt: string;
  /**
   * The public thread this message belongs to (X conversation id, Facebook post id).
   * Public conversations are keyed by thread; private ones by customer.
   */
  threadId?: string;
  /** The platform id of the message this one replies to, if any. */
  inReplyTo?: string;
  /** A quick reply or postback: the payload the customer picked. */
  payload?: string;
  /**
   * Channel-specific data the adapter needs again to answer (a Bot Framework conversation
   * reference, a Facebook comment id). Stored on the conversation; core never reads it.
   */
  ref?: Record<string, unknown>;
  /**
   * This private message continues the case of another identity of the same customer on this
   * channel (Messenger: the PSID that answered our private reply to a Facebook comment): that
   * identity's platform id. The channel keeps what it needs to tell (in its own key-value
   * namespace).
   */
  linkTo?: { customerPlatformId: string };
  /**
   * Heard by listening (a keyword search, a Page feed): a public post that does not mention or
   * quote the brand. Where the platform allows public replies only to posts addressed to the brand
   * (`ChannelCapabilities.publicRepliesNeedAddress`), the bot does not answer it in public.
   */
  heard?: boolean;
  /**
   * Found by listening (a keyword search, a Page's feed, a tag of the Page) rather than sent to the
   * brand's inbox: it goes through listening first (docs/listening.md), which passes care requests on
   * to the pipeline and only counts the rest.
   */
  listening?: boolean;
  /**
   * Listening found it on the topic of an open spike (a polemic, an outage): the topic's label.
   * The bot answers what it knows and sends the rest to a person at once (priority of a crisis).
   */
  spikeTopic?: string;
}

/** A quick-reply option (clarify offers the top guesses). */
export interface QuickReplyOption {
  title: string;
  payload: string;
}

/** What to say. Adapters render each kind; plain text is the fallback of every kind. */
export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'quick_replies'; text: string; options: QuickReplyOption[] }
  | {
      /**
       * A satisfaction survey: a 1–5 score (options with payloads `csat:1` … `csat:5`) and an
       * optional comment. Channels render it as quick replies where they have them (Messenger: the
       * Customer Feedback Template after the 24-hour window), else as the text, which asks for a number.
       */
      kind: 'survey';
      text: string;
      options: QuickReplyOption[];
      /** The question alone (the feedback template's title); `text` adds how to answer. */
      question: string;
      /** The case surveyed. */
      caseId: string;
      /** The customer's language (a channel's own labels: the feedback template's button). */
      language: Language;
    }
  | {
      kind: 'dm_prompt';
      text: string;
      /** Whether the platform lets the brand write first (true: a DM link can be offered). */
      canMessagePrivately: boolean;
    };

/** Who wrote an outbound message. */
export type Author =
  | { kind: 'bot' }
  | { kind: 'operator'; operatorId: string; name: string; initials: string };

/** A reply recorded in the outbox before it is sent; sent once, with retries. */
export interface OutboxItem {
  id: string;
  conversationId: string;
  channel: ChannelName;
  visibility: Visibility;
  /** The customer's platform id (DM recipient) */
  recipient: string;
  /** Platform id of the message this answers (public replies thread under it). */
  inReplyTo?: string;
  reply: Reply;
  author: Author;
  /** Position within its conversation: items of one conversation are sent in this order. */
  seq: number;
  status: 'pending' | 'sending' | 'sent' | 'dead';
  attempts: number;
  /** Epoch ms before which the item is not tried (backoff, rate limits, leases). */
  notBefore: number;
  createdAt: string;
  sentAt?: string;
  platformId?: string;
  lastError?: string;
  /**
   * Attempts whose outcome is unknown (the platform took the request and did not answer in time):
   * the message may have been delivered. The channel checks before sending again where its
   * platform allows; the sender gives up after a bound rather than send it yet again.
   */
  inDoubt?: number;
  /** Channel data copied from the conversation (e.g. Bot Framework conversation reference). */
  ref?: Record<string, unknown>;
  /** When the customer last wrote (messaging windows: Messenger 24 h / HUMAN_AGENT 7 days). */
  customerLastMessageAt?: string;
}

/**
 * One outbound event for one webhook subscription (docs/formats.md, "Outbound events"), kept until
 * the subscriber's endpoint accepts it. Written in the same commit as the change it reports.
 */
export interface EventDelivery {
  /** The Standard Webhooks `webhook-id` (`msg_…`): the same on every attempt. */
  id: string;
  /** The subscription's name in the webhooks file. */
  subscription: string;
  /**
   * Deliveries with the same key are sent one after the other, in insertion order: the
   * subscription and the conversation (`crm/conv-1`), or the subscription and `faq`.
   */
  orderKey: string;
  /** The event type (`conversation.escalated`, `message.created`, …). */
  type: string;
  /** The request body (`{ type, version, timestamp, data }`), built for this subscription. */
  payload: Record<string, unknown>;
  status: 'pending' | 'sending' | 'delivered' | 'dead';
  attempts: number;
  /** Epoch ms before which it is not tried (backoff, Retry-After, leases). */
  notBefore: number;
  createdAt: string;
  deliveredAt?: string;
  /** The HTTP status of the last attempt (absent: no answer, e.g. a timeout). */
  lastStatus?: number;
  lastError?: string;
}

/** Why a conversation went to a person. */
export const ESCALATION_REASONS = [
  'human_request',
  'low_confidence',
  'negative_sentiment',
  'vip',
  'crisis',
  'private_case',
  'faq_escalate',
  'policy',
  /** A custom action (an FAQ entry's `handler`) asked for a person. */
  'handler',
  /** A custom action failed, timed out or answered something that is not a reply: a person takes over. */
  'handler_failed',
  /** Heard by listening without a mention where the platform forbids the bot's public reply: a person answers from the platform. */
  'unaddressed',
  /** A customer gave a low satisfaction score: a person follows the case up. */
  'low_satisfaction',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/** The queue's view of a waiting conversation. */
export interface QueueInfo {
  reason: EscalationReason;
  /** 1 = most urgent. */
  priority: number;
  enqueuedAt: string;
  /** When the first response is due (business time), ISO. */
  slaDueAt?: string;
  firstResponseAt?: string;
}

/** One conversation of a customer on one channel and visibility (a public thread, or the DMs). */
export interface Conversation {
  id: string;
  /** `${channel}:${visibility}:${threadId or customer platform id}` */
  key: string;
  channel: ChannelName;
  visibility: Visibility;
  customerId: string;
  caseId: string;
  state: ConversationState;
  language?: Language;
  /** Low-confidence turns in a row. */
  missStreak: number;
  /** The operator holding it (state `assigned`). */
  assignee?: string;
  queue?: QueueInfo;
  threadId?: string;
  /** Platform id of the last customer message (public replies thread under it). */
  lastInboundId?: string;
  lastInboundAt?: string;
  /** Marks for operators, e.g. `private_data_public` on a public post with private data. */
  flags: string[];
  ref?: Record<string, unknown>;
  /**
   * The bot asked the customer for their data here (a private FAQ answer, the opener of a DM):
   * a later message fills the request only if it carries such data (`asks`, or any identifying
   * data when absent), until `until`; any other message is handled as a new one.
   */
  dataRequest?: {
    asks?: DataKind[];
    faqId?: string;
    at: string;
    until: string;
    /** The bot offered the order the customer gave in an earlier case (`onFile`): "sì" means that one. */
    onFile?: true;
  };
  /**
   * Private conversations only: the kinds of data the customer gave here for a case (the data itself
   * stays in that message), the case and when. Writing again in a later case about an order, the
   * customer is asked whether it is the same one instead of having to find its number again; a
   * "yes" hands the new case to a person, who finds the number in the earlier one.
   */
  onFile?: { kinds: DataKind[]; caseId: string; at: string };
  /** When the customer waiting in the queue was last told where they stand (the escalation reply counts). */
  noticeAt?: string;
  /**
   * The FAQ entry the bot answered last here, and when: a short follow-up ("e in contrassegno?",
   * "what about sale items?") is understood together with that entry's question
   * (pipeline/follow-up-question.ts).
   */
  lastAnswer?: { faqId: string; at: string };
  /**
   * The options the bot offered last here ("did you mean one of these?"), and when: a customer
   * who types "2", "la prima" or, to a single option, "sì" picks one (pipeline/offered-choice.ts).
   * Only the FAQ's titles and labels are kept, never the customer's words. `askedWhich`: a bare
   * "sì" to several of them was answered by asking which (once; a second one is a miss).
   */
  lastOffer?: { options: Array<{ title: string; payload: string }>; at: string; askedWhich?: boolean };
  /**
   * The case this conversation was in before its current one, resolved then (set when the customer
   * wrote again and a new case opened): "ciao", then "il pacco non è ancora arrivato" is still about
   * it while the bot has answered nothing else since (pipeline/turn-decision.ts).
   */
  earlierCase?: { id: string; resolvedAt?: string; resolvedBy?: string };
  /**
   * The customer gave the survey of this case (its id) a low score: a follow-up case is to be
   * opened for this conversation (right after the answer; cleared when it is).
   */
  followUpOf?: string;
  createdAt: string;
  updatedAt: string;
}

/** A case: one matter of one customer, linking the public thread and the private conversation. */
export interface Case {
  id: string;
  customerId: string;
  status: 'open' | 'resolved';
  conversationIds: string[];
  openedAt: string;
  resolvedAt?: string;
  /**
   * Who resolved it: an operator's id; `bot` for a case the bot closed on its own (deflection);
   * `idle` for one closed after the quiet time without the bot having answered its last message;
   * `customer` when the customer said it was sorted; `erased` when the customer's erasure closed it.
   */
  resolvedBy?: string;
  /**
   * The satisfaction survey of this case (at most one per case): when it was sent and, once the
   * customer answered, the score (1–5) and their comment. Reports read `score`.
   */
  survey?: CaseSurvey;
  /** The case this one follows up (a low satisfaction score opened it). */
  followUpOf?: string;
}

/** A case's satisfaction survey. The comment is the customer's words: personal data (export/erasure). */
export interface CaseSurvey {
  /** When it went out; absent when none was sent (`skipped`). */
  sentAt?: string;
  /** The channel it went on. */
  channel?: string;
  /**
   * Why no survey went (it never will for this case): `opted_out` (the customer said "stop"),
   * `unreachable` (the brand cannot write to them privately), `window_closed` (past the platform's
   * window: Messenger 7 days after the customer's last message), `no_survey` (the channel has none),
   * `superseded` (a later case of the customer came first).
   */
  skipped?: 'opted_out' | 'unreachable' | 'window_closed' | 'no_survey' | 'superseded';
  /**
   * A low score's follow-up is still to be opened, for this conversation (set with the answer,
   * cleared once the follow-up case is open: a crash in between is finished by the survey job).
   */
  followUpDue?: string;
  /** The follow-up case the low score opened. */
  followUpCaseId?: string;
  answeredAt?: string;
  score?: 1 | 2 | 3 | 4 | 5;
  comment?: string;
}

/** How a customer message sent its conversation to the queue (kept on the message, for reports). */
export interface EscalationRecord {
  reason: EscalationReason;
  /** Queue priority at escalation (1 = most urgent). */
  priority: number;
  /** When the first response was due (business time), as the queue computed it then. */
  slaDueAt?: string;
}

/** Something said in a conversation, or an operator's internal note. */
export interface StoredMessage {
  id: string;
  conversationId: string;
  caseId: string;
  direction: 'in' | 'out' | 'note';
  author: Author | { kind: 'customer' };
  text: string;
  visibility: Visibility;
  /** Platform id (inbound: the message id; outbound: filled when sent). */
  platformId?: string;
  at: string;
  /** What the bot did with an inbound message (answer, clarify, ...). */
  action?: string;
  /** The FAQ entry the bot answered with (on the customer's message and on the bot's reply). */
  faqId?: string;
  /** The options the bot offered with this reply (quick replies), as offered. */
  quickReplies?: QuickReplyOption[];
  /** This customer message sent its conversation to the queue: why, and its SLA then. */
  escalation?: EscalationRecord;
  /** Marks such as `private_data` (this public message contains private data). */
  flags?: string[];
  /** On the note a transfer leaves in the history: from and to whom (operator ids), and why. */
  transfer?: { from: string; to: string; reason?: string };
}

/** An operator (care-team member) who takes over conversations. */
export interface Operator {
  id: string;
  name: string;
  /** Shown in public signatures like "^MR". */
  initials: string;
  role: 'agent' | 'admin';
  /** scrypt hash, never the password. */
  passwordHash: string;
  createdAt: string;
}

/** A proposed FAQ change learned from a resolved case, waiting for review. */
export interface FaqSuggestion {
  id: string;
  caseId: string;
  /**
   * `new_entry`: a new entry (`entryId` is its proposed id). `add_question`: the customer's
   * question(s) join an existing entry. `update_answer`: the customer asked a question the entry
   * already has and the operator answered otherwise: the operator's answer is proposed as the
   * entry's new answer. Approving into an existing entry adds the questions it lacks and, when
   * `answer` / `answerShort` are set, replaces its answer / answer_short.
   */
  kind: 'new_entry' | 'add_question' | 'update_answer';
  /** The new entry's proposed id, or the existing entry that changes. */
  entryId?: string;
  locale: Language;
  questions: string[];
  /** The entry's (new) answer: a new entry's answer, or the replacement of an existing entry's. */
  answer?: string;
  /** The entry's (new) `answer_short`, for channels with short public posts. */
  answerShort?: string;
  /** What the operator answered in the case (cleaned like the questions): kept on every kind, so no answer is lost. */
  operatorAnswer?: string;
  status: 'pending' | 'approved' | 'rejected';
  createdAt: string;
  createdBy: string;
  reviewedBy?: string;
  reviewedAt?: string;
}

/**
 * A post heard by listening (docs/listening.md): kept for trends and reports. The text is stored
 * with private data masked; the author's id, handle and followers are kept (personal data).
 */
export interface HeardRecord {
  /** `channel:platform id`. */
  id: string;
  channel: ChannelName;
  platformId: string;
  /** ISO time (UTC, `Date.toISOString`) the post was written. */
  at: string;
  kind: 'mention' | 'post' | 'comment' | 'dm';
  author: { id: string; handle?: string; followers?: number };
  text: string;
  language: Language;
  /** −1 … 1. */
  sentiment: number;
  class: 'care' | 'praise' | 'noise' | 'spam';
  topic?: string;
  /** The topic of the open spike it belonged to. */
  spike?: string;
}

/**
 * What the team keeps on a customer record beyond a case (issue 21): tags, notes, and the other
 * records of the same person (linked both ways). Written by operators only, never by turns, so a
 * turn that rewrites the `Customer` never loses them. Personal data (export/erasure, issue 22).
 */
export interface CustomerFile {
  customerId: string;
  /** Lower-case labels (`vip`, `reso-in-corso`), sorted, unique. */
  tags: string[];
  /** Oldest first. */
  notes: CustomerNote[];
  /** Ids of the other customer records of the same person (the link is held on both sides). */
  links: string[];
  updatedAt: string;
}

/** An operator's note on a customer: it stays across cases. */
export interface CustomerNote {
  id: string;
  text: string;
  operatorId: string;
  at: string;
}

/**
 * A saved reply operators insert with "/" (issue 21). `text` may hold variables in braces:
 * `{customer_name}`, `{operator_name}`, `{business_hours}`, `{reopens}` (see handoff/saved-replies.ts).
 */
export interface SavedReply {
  id: string;
  language: Language;
  /** What the "/" search shows and matches: a short name (`tracking`, `orari`). */
  shortcut: string;
  title: string;
  text: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** One entry of the audit trail (issue 22): who did what, when, from where. Append-only. */
export interface AuditEntry {
  id: string;
  at: string;
  /** The operator or admin who acted (`cli` for a command run on the server's machine). */
  operatorId: string;
  /** What was done: `customer.export`, `customer.erase`, … */
  action: string;
  /** What it was done to (a customer id, a conversation id), when it names one. */
  target?: string;
  /** Where the request came from (the client's address), when known. */
  from?: string;
}
