/**
 * @module events/payloads
 * The bodies of outbound events, version 1 (docs/formats.md, "Outbound events"):
 *
 *   { "type": "conversation.escalated", "version": 1, "timestamp": "…", "data": { … } }
 *
 * The Standard Webhooks payload shape (type, timestamp, data) plus `version`. Within a version
 * fields are only added; renaming or removing one makes a new version, which a subscription asks
 * for with `payload_version`. Private data (emails, phones, IBANs, cards, codici fiscali, order
 * numbers, customer codes: the entities of classifier/entities.ts) is replaced by placeholders
 * (`{email}`) unless the subscription allows it (`private_data: true`).
 */
import { z } from 'zod';
import { detectEntities, redactEntities } from '../classifier/entities.js';
import type { DomainEvent } from '../core/events.js';
import { ESCALATION_REASONS, type Case, type Conversation, type FaqSuggestion, type StoredMessage } from '../core/types.js';
import { CONVERSATION_STATES } from '../core/state.js';
import type { EventType } from './subscriptions.js';

/** What a payload builder needs besides its event. */
export interface PayloadContext {
  /** Keep private data as written (the subscription's `private_data`). */
  privateData: boolean;
  /** The brand's order-number pattern (ORDER_NUMBER_PATTERN). */
  orderNumberPattern?: string;
}

/** A conversation as events describe it (no customer handle or name: the customer's id only). */
function conversationData(c: Conversation | undefined, id: string, caseId?: string) {
  if (!c) return { id, ...(caseId ? { caseId } : {}) };
  return {
    id: c.id,
    caseId: c.caseId,
    channel: c.channel,
    visibility: c.visibility,
    state: c.state,
    customerId: c.customerId,
    ...(c.language ? { language: c.language } : {}),
    ...(c.assignee ? { assignee: c.assignee } : {}),
    ...(c.queue ? { priority: c.queue.priority, ...(c.queue.slaDueAt ? { slaDueAt: c.queue.slaDueAt } : {}) } : {}),
  };
}

/** A text with private data replaced by placeholders, unless the context allows it. */
export function safeText(text: string, ctx: PayloadContext): string {
  if (ctx.privateData) return text;
  const once = redactEntities(text, detectEntities(text));
  return ctx.orderNumberPattern ? redactEntities(once, detectEntities(once, { orderNumberPattern: ctx.orderNumberPattern })) : once;
}

/** An event's body: type, version, timestamp, data. */
export interface EventBody {
  type: EventType;
  version: number;
  timestamp: string;
  data: Record<string, unknown>;
}

const body = (type: EventType, timestamp: string, data: Record<string, unknown>): EventBody => ({ type, version: 1, timestamp, data });

/** The body of a conversation event, or undefined for domain events that are not sent out. */
export function conversationEventBody(
  event: DomainEvent,
  conversation: Conversation | undefined,
  ctx?: PayloadContext,
  /** The case the change wrote (`csat.received` takes the comment from its survey). */
  kase?: Case,
): EventBody | undefined {
  switch (event.type) {
    case 'conversation.escalated':
      return body(event.type, event.at, { conversation: conversationData(conversation, event.conversationId, event.caseId), reason: event.reason });
    case 'conversation.assigned':
      return body(event.type, event.at, { conversation: conversationData(conversation, event.conversationId), operatorId: event.operatorId });
    case 'conversation.resolved':
      return body(event.type, event.at, {
        conversation: conversationData(conversation, event.conversationId, event.caseId),
        ...(event.operatorId ? { operatorId: event.operatorId } : {}),
        ...(event.addToFaq !== undefined ? { addToFaq: event.addToFaq } : {}),
      });
    case 'csat.received': {
      // The comment is the customer's words: private data in it is masked unless the subscription allows it.
      const comment = kase?.id === event.caseId ? kase.survey?.comment : undefined;
      return body(event.type, event.at, {
        conversation: conversationData(conversation, event.conversationId, event.caseId),
        caseId: event.caseId,
        channel: event.channel,
        score: event.score,
        ...(comment !== undefined && ctx ? { comment: safeText(comment, ctx) } : {}),
      });
    }
    default:
      return undefined;
  }
}

/** The body of `message.created`. */
export function messageCreatedBody(message: StoredMessage, conversation: Conversation | undefined, ctx: PayloadContext): EventBody {
  const author = message.author.kind === 'operator' ? { kind: 'operator', operatorId: message.author.operatorId, name: message.author.name } : { kind: message.author.kind };
  return body('message.created', message.at, {
    conversation: conversationData(conversation, message.conversationId, message.caseId),
    message: {
      id: message.id,
      direction: message.direction,
      author,
      visibility: message.visibility,
      text: safeText(message.text, ctx),
      at: message.at,
      ...(message.action ? { action: message.action } : {}),
      ...(message.faqId ? { faqId: message.faqId } : {}),
    },
  });
}

/** The body of `faq.approved` (suggestions hold placeholders already, never private data). */
export function faqApprovedBody(s: FaqSuggestion, at: string, ctx: PayloadContext): EventBody {
  return body('faq.approved', at, {
    suggestion: {
      id: s.id,
      kind: s.kind,
      ...(s.entryId ? { entryId: s.entryId } : {}),
      locale: s.locale,
      questions: s.questions.map((q) => safeText(q, ctx)),
      ...(s.answer !== undefined ? { answer: safeText(s.answer, ctx) } : {}),
      ...(s.answerShort !== undefined ? { answerShort: safeText(s.answerShort, ctx) } : {}),
    },
    ...(s.reviewedBy ? { reviewedBy: s.reviewedBy } : {}),
  });
}

/** The body of `crisis.alert`: listening's spike alert (samples are public posts, private data as placeholders unless allowed). */
export function crisisAlertBody(alert: Extract<DomainEvent, { type: 'crisis.alert' }>, ctx: PayloadContext): EventBody {
  return body('crisis.alert', alert.at, {
    alert: {
      spikeId: alert.spikeId,
      topic: alert.topic,
      windowMinutes: alert.windowMinutes,
      windowStart: alert.windowStart,
      volume: alert.volume,
      baseline: alert.baseline,
      negativeShare: alert.negativeShare,
      update: alert.update,
      samples: alert.samples.map((s) => safeText(s, ctx)),
      topAuthors: alert.topAuthors.map((a) => ({ id: a.id, ...(a.handle ? { handle: a.handle } : {}), followers: a.followers })),
    },
    // A chat tool's incoming webhook (Slack-compatible) shows this line.
    text: `${alert.update ? 'Spike growing' : 'Spike'} on "${alert.topic}": ${alert.volume} posts in ${alert.windowMinutes} min (baseline ${alert.baseline}), ${Math.round(alert.negativeShare * 100)}% negative`,
  });
}

// ── the published schema of version 1 (tests check every body against it; docs/formats.md shows it) ──

const conversationSchema = z.object({
  id: z.string(),
  caseId: z.string().optional(),
  channel: z.string().optional(),
  visibility: z.enum(['public', 'private']).optional(),
  state: z.enum(CONVERSATION_STATES).optional(),
  customerId: z.string().optional(),
  language: z.enum(['it', 'en']).optional(),
  assignee: z.string().optional(),
  priority: z.number().optional(),
  slaDueAt: z.string().optional(),
});
const envelope = <T extends string, D extends z.ZodRawShape>(type: T, data: D) =>
  z.object({ type: z.literal(type), version: z.literal(1), timestamp: z.string(), data: z.object(data) });

/** Every version-1 body, checked field by field. */
export const eventBodyV1Schema = z.discriminatedUnion('type', [
  envelope('conversation.escalated', { conversation: conversationSchema, reason: z.enum(ESCALATION_REASONS) }),
  envelope('conversation.assigned', { conversation: conversationSchema, operatorId: z.string() }),
  envelope('conversation.resolved', { conversation: conversationSchema, operatorId: z.string().optional(), addToFaq: z.boolean().optional() }),
  envelope('csat.received', { conversation: conversationSchema, caseId: z.string(), channel: z.string(), score: z.number().int().min(1).max(5), comment: z.string().optional() }),
  envelope('message.created', {
    conversation: conversationSchema,
    message: z.object({
      id: z.string(),
      direction: z.enum(['in', 'out', 'note']),
      author: z.object({ kind: z.enum(['customer', 'bot', 'operator']), operatorId: z.string().optional(), name: z.string().optional() }),
      visibility: z.enum(['public', 'private']),
      text: z.string(),
      at: z.string(),
      action: z.string().optional(),
      faqId: z.string().optional(),
    }),
  }),
  envelope('faq.approved', {
    suggestion: z.object({
      id: z.string(),
      kind: z.enum(['new_entry', 'add_question', 'update_answer']),
      entryId: z.string().optional(),
      locale: z.enum(['it', 'en']),
      questions: z.array(z.string()),
      answer: z.string().optional(),
      answerShort: z.string().optional(),
    }),
    reviewedBy: z.string().optional(),
  }),
  envelope('crisis.alert', {
    alert: z.object({
      spikeId: z.string(),
      topic: z.string(),
      windowMinutes: z.number(),
      windowStart: z.string(),
      volume: z.number(),
      baseline: z.number(),
      negativeShare: z.number(),
      update: z.boolean(),
      samples: z.array(z.string()),
      topAuthors: z.array(z.object({ id: z.string(), handle: z.string().optional(), followers: z.number() })),
    }),
    text: z.string(),
  }),
]);
