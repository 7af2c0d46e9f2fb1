/**
 * @module pipeline/turn-queue
 * The queue side of a customer's turn (a step of turn-effects.ts): handing the customer to a person
 * (`escalate`), telling a waiting customer where they stand, raising a waiting case's priority, and
 * the honest wait all of them state.
 */
import type { DataKind } from '../core/corpus.js';
import type { DomainEvent } from '../core/events.js';
import type { ActionInput } from '../core/ports.js';
import type { Case, Conversation, EscalationReason, Language, QueueInfo, StoredMessage } from '../core/types.js';
import { isVip } from '../handoff/escalation.js';
import { answersWithCode, type Decision } from './decide.js';
import { say, sayDuration } from './messages.js';
import { openPrivateChannel } from './private-channel.js';
import type { Of, TurnScope } from './turn-effects.js';
import type { TurnPlanDeps } from './turn-plan.js';

/**
 * Hands the customer to a person: queue data, the acknowledgement (with an honest wait), what the
 * operators need to know (notes), and the order on file for a later case.
 */
export async function escalate(
  scope: TurnScope,
  decision: Decision,
  conversation: Conversation,
  kase: Case,
  why: { reason: EscalationReason; statement?: string; called?: ActionInput },
): Promise<{ record: NonNullable<StoredMessage['escalation']>; notes: string[]; event: DomainEvent }> {
  const { deps, input, customer, understanding, out } = scope;
  const { msg, now, at } = input;
  const { language, carries, request, onFile, resolvedBefore } = scope.facts;
  const { reason: escalation, statement, called } = why;
  const notes: string[] = [];
  const info = deps.queueInfo({ reason: escalation, enqueuedAt: now, vip: isVip(customer, deps.settings.rules) });
  const when = describeWait(deps, now, info, language, (await deps.queueStatus(conversation)).typicalWaitMinutes);
  // The customer gave their data (to the bot, or to a custom action that could not answer): a colleague checks it.
  const gaveData = (escalation === 'private_case' && !(decision.action === 'escalate' && decision.withoutData)) || (called !== undefined && Object.keys(called.data).length > 0);
  const sameOrder = decision.action === 'escalate' && decision.sameAsBefore === true && onFile !== undefined;
  const continues = decision.action === 'escalate' && decision.continues === true;
  const code = decision.action === 'escalate' && decision.code === true;
  const key =
    escalation === 'negative_sentiment' || escalation === 'crisis'
      ? 'escalateAngry'
      : continues
        ? 'continuesCase'
        : sameOrder
          ? 'privateCaseOnFile'
          : code
            ? 'codeCheck'
            : gaveData
              ? 'privateCase'
              : 'escalateOpen';
  if (code && conversation.lastAnswer) {
    notes.push(`The customer sent a code right after the answer "${conversation.lastAnswer.faqId}": most likely it does not work for them (the code is in their message).`);
  }
  if (continues && resolvedBefore) {
    notes.push(`The customer says the matter of their earlier case ${resolvedBefore.id} (resolved ${resolvedBefore.resolvedAt ?? ''}) is not sorted: see that case.`);
    // The order of that case, if they gave one, stays on file for this one.
    if (conversation.onFile?.caseId === resolvedBefore.id) conversation.onFile = { ...conversation.onFile, caseId: kase.id };
  }
  const then = onFile ? deps.hours.describe(new Date(onFile.at), now, language) : '';
  const text = deps.hours.isOpen(now) ? say(key, language, { when, then }) : say(key === 'escalateOpen' ? 'escalateClosed' : key, language, { when, then });
  if (sameOrder) {
    // Where the operators find the order: the earlier case's messages (the number is not copied here).
    notes.push(`Same order as in the customer's earlier case ${onFile.caseId} (${onFile.at}): its number is in that case's messages.`);
    conversation.onFile = { ...onFile, caseId: kase.id, at };
  } else if (gaveData && !code && msg.visibility === 'private') {
    // What the customer gave here, by kind only: a later case may offer it back ("is it the same order?").
    const kinds = [...new Set([...carries, ...(!carries.includes('order_number') && request?.asks?.includes('order_number') && answersWithCode(msg.text, understanding.entities, request.asks) ? (['order_number'] as DataKind[]) : [])])];
    if (kinds.length > 0) conversation.onFile = { kinds, caseId: kase.id, at };
  }
  // A post the bot may not answer in public (heard without a mention) gets no acknowledgement;
  // where the team allows it and the customer accepts DMs, a DM says we read it (a person follows).
  if (escalation !== 'unaddressed') out.reply({ kind: 'text', text: statement ?? text });
  else if (deps.settings.unaddressedDm) {
    await openPrivateChannel(scope, conversation, undefined, say('heardDm', language, { brand: deps.settings.brandName }));
  }
  conversation.queue = info;
  // The escalation reply is the first notice of where the customer stands; the request for data is done with.
  conversation.noticeAt = at;
  conversation.dataRequest = undefined;
  return {
    record: { reason: escalation, priority: info.priority, ...(info.slaDueAt ? { slaDueAt: info.slaDueAt } : {}) },
    notes,
    event: { type: 'conversation.escalated', conversationId: conversation.id, caseId: kase.id, reason: escalation, at },
  };
}


/** A customer waiting for a person is told where they stand (or that what they sent was added). */
export async function noticeQueue(scope: TurnScope, decision: Of<'queue_notice'>, conversation: Conversation): Promise<DomainEvent[]> {
  const { deps, input, out, siblings } = scope;
  const { now, at } = input;
  const { language } = scope.facts;
  if (decision.received) {
    const events = decision.raise ? raisePriority(scope, conversation, decision.raise) : [];
    out.reply({ kind: 'text', text: say('receivedForPerson', language) });
    conversation.noticeAt = at;
    return events;
  }
  if (decision.elsewhere) {
    // In public, while a person has the case in the DM: where it is, and when they will answer.
    const waiting = siblings.find((s) => s.state === 'queued' || s.state === 'assigned')!;
    const when = waiting.state === 'assigned' ? undefined : describeWait(deps, now, waiting.queue, language, (await deps.queueStatus(waiting)).typicalWaitMinutes);
    out.reply({ kind: 'text', text: when === undefined ? say('caseInPrivateHeld', language) : say('caseInPrivate', language, { when }) });
    conversation.noticeAt = at;
    return [];
  }
  const events = decision.raise ? raisePriority(scope, conversation, decision.raise) : [];
  const status = await deps.queueStatus(conversation);
  const ahead = Math.max(0, status.position - 1);
  const position = ahead === 0 ? say('queueNext', language) : say(ahead === 1 ? 'queueAheadOne' : 'queueAhead', language, { n: ahead });
  const when = describeWait(deps, now, conversation.queue, language, status.typicalWaitMinutes);
  out.reply({ kind: 'text', text: say(deps.hours.isOpen(now) ? 'queueNotice' : 'queueNoticeClosed', language, { position, when }) });
  conversation.noticeAt = at;
  return events;
}


/** Anger, crisis words or a VIP while waiting: the case moves up the queue (never down). */
export function raisePriority(scope: TurnScope, conversation: Conversation, reason: EscalationReason): DomainEvent[] {
  const { deps, customer, input } = scope;
  const queue = conversation.queue;
  if (!queue) return [];
  const raised = deps.queueInfo({ reason, enqueuedAt: new Date(queue.enqueuedAt), vip: isVip(customer, deps.settings.rules), waiting: queue });
  if (raised.priority >= queue.priority) return [];
  conversation.queue = { ...raised, firstResponseAt: queue.firstResponseAt };
  return [{ type: 'conversation.updated', conversationId: conversation.id, at: input.at }];
}


/**
 * When a waiting customer will be answered, honestly: the reopening time when closed; when open,
 * the team's recent typical first response if there is one, else the SLA target as an upper bound
 * ("at the latest"), never the deadline read out as a promise.
 */
function describeWait(deps: TurnPlanDeps, now: Date, info: QueueInfo | undefined, language: Language, typicalMinutes?: number): string {
  if (!deps.hours.isOpen(now)) return deps.hours.describe(deps.hours.nextOpening(now), now, language);
  const due = info?.slaDueAt ? new Date(info.slaDueAt) : undefined;
  const left = due ? Math.round((due.getTime() - now.getTime()) / 60000) : undefined;
  if (typicalMinutes !== undefined && (left === undefined || typicalMinutes <= Math.max(left, 5))) {
    return say('usually', language, { duration: sayDuration(Math.max(5, Math.ceil(typicalMinutes / 5) * 5), language) });
  }
  if (left === undefined) return say('usually', language, { duration: sayDuration(60, language) });
  if (left <= 8 * 60) return say('soonAtTheLatest', language, { duration: sayDuration(Math.max(5, left), language) });
  return say('atTheLatest', language, { when: deps.hours.describe(due!, now, language) });
}
