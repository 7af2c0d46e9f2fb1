/**
 * @module handoff/priority
 * How urgent a waiting conversation is: 1 is most urgent. The reason it was escalated sets the
 * starting priority, a VIP starts at 1, and waiting raises it (ageing), so nobody waits forever
 * behind a stream of newer urgent cases.
 */
import type { EscalationReason } from '../core/types.js';

/** Least urgent priority a conversation can have. */
export const LOWEST_PRIORITY = 3;

/**
 * Starting priority per escalation reason. Crises and VIPs first; someone upset, asking for a
 * person, or whose case needs private data next; the bot merely unsure last.
 */
export const REASON_PRIORITY: Readonly<Record<EscalationReason, number>> = {
  crisis: 1,
  vip: 1,
  negative_sentiment: 2,
  human_request: 2,
  private_case: 2,
  policy: 2,
  handler: 2,
  handler_failed: 2,
  unaddressed: 2,
  low_satisfaction: 2,
  faq_escalate: 3,
  low_confidence: 3,
};

/** The priority a conversation enters the queue with. */
export function basePriority(reason: EscalationReason, vip: boolean): number {
  return vip ? 1 : REASON_PRIORITY[reason];
}

/**
 * The priority of a waiting case raised by what the customer just wrote: a crisis or a VIP goes
 * to the top; anger moves the case one level up from where it waits (at least to the anger's own
 * level), so a customer who asked for a person and is now furious is not left where they were;
 * any other reason only lifts the case to that reason's level. Never lower than `current`.
 */
export function raisedPriority(current: number, reason: EscalationReason, vip: boolean): number {
  const base = basePriority(reason, vip);
  const target = reason === 'negative_sentiment' ? Math.min(base, current - 1) : base;
  return Math.max(1, Math.min(current, target));
}

/**
 * The priority after waiting `waitedBusinessMs` of business time: every full SLA period of its
 * current level waited raises it one level (3 → 2 after the priority-3 SLA, → 1 after a further
 * priority-2 SLA). `slaMsFor(p)` gives the SLA of level p.
 */
export function agedPriority(base: number, waitedBusinessMs: number, slaMsFor: (priority: number) => number): number {
  let priority = base;
  let left = waitedBusinessMs;
  while (priority > 1) {
    const step = slaMsFor(priority);
    if (step <= 0 || left < step) break;
    left -= step;
    priority -= 1;
  }
  return priority;
}
