/**
 * @module handoff/queue
 * The operators' queue: which conversations wait for a person, in what order, for how long,
 * and how much time is left before their first-response SLA is breached.
 */
import type { Clock } from '../core/ports.js';
import type { ConversationState } from '../core/state.js';
import type { Conversation, EscalationReason, QueueInfo } from '../core/types.js';
import type { BusinessHours } from './business-hours.js';
import { agedPriority, basePriority } from './priority.js';
import { slaDueAt, slaMs, slaStatus, type SlaSettings } from './sla.js';

/** The configuration the queue reads (a whole `Config` fits). */
export interface QueueConfig {
  handoff: SlaSettings;
}

/** Computes the queue entry of a conversation being escalated now. */
export function computeQueueInfo(
  input: { reason: EscalationReason; enqueuedAt: string | Date; vip: boolean },
  hours: BusinessHours,
  config: QueueConfig,
): QueueInfo {
  const enqueuedAt = new Date(input.enqueuedAt);
  const priority = basePriority(input.reason, input.vip);
  let due: Date | undefined;
  try {
    due = slaDueAt(enqueuedAt, priority, hours, config.handoff);
  } catch (err) {
    // Hours that never open give no due time; the queue still orders by priority and age.
    if (!(err instanceof RangeError)) throw err;
  }
  return { reason: input.reason, priority, enqueuedAt: enqueuedAt.toISOString(), slaDueAt: due?.toISOString() };
}

/** States shown in the queue: waiting for someone, or held by someone. */
export const QUEUE_STATES: readonly ConversationState[] = ['queued', 'assigned'];

/** One row of the operators' queue. */
export interface QueueRow {
  conversationId: string;
  caseId: string;
  customerId: string;
  channel: string;
  visibility: Conversation['visibility'];
  state: ConversationState;
  assignee?: string;
  language?: Conversation['language'];
  flags: string[];
  reason: EscalationReason;
  /** Priority it entered the queue with. */
  basePriority: number;
  /** Priority now, raised by waiting (1 = most urgent). */
  priority: number;
  enqueuedAt: string;
  /** Wall-clock ms since it was queued. */
  waitingMs: number;
  /** Business-hours ms since it was queued. */
  waitingBusinessMs: number;
  slaDueAt?: string;
  /** Business ms left before the SLA is breached; negative once breached. Absent without a due time. */
  slaRemainingMs?: number;
  breached: boolean;
  /** An operator already sent the first response. */
  responded: boolean;
  lastInboundAt?: string;
}

/**
 * The queue as operators see it: waiting conversations first (most urgent, then longest
 * waiting), then the ones operators hold. A conversation held without a queue entry (claimed
 * straight from the bot) is shown with reason `policy` from the time it was last updated.
 */
export function queueView(
  conversations: readonly Conversation[],
  clock: Clock,
  hours: BusinessHours,
  config: QueueConfig,
): QueueRow[] {
  const now = clock.now();
  const rows = conversations
    .filter((c) => QUEUE_STATES.includes(c.state))
    .map((c): QueueRow => {
      const queue = c.queue ?? computeQueueInfo({ reason: 'policy', enqueuedAt: c.updatedAt, vip: false }, hours, config);
      const enqueued = new Date(queue.enqueuedAt);
      const waitingBusinessMs = hours.businessMsBetween(enqueued, now);
      const sla = slaStatus(queue, now, hours);
      return {
        conversationId: c.id,
        caseId: c.caseId,
        customerId: c.customerId,
        channel: c.channel,
        visibility: c.visibility,
        state: c.state,
        assignee: c.assignee,
        language: c.language,
        flags: c.flags,
        reason: queue.reason,
        basePriority: queue.priority,
        priority: queue.firstResponseAt
          ? queue.priority
          : agedPriority(queue.priority, waitingBusinessMs, (p) => slaMs(p, config.handoff)),
        enqueuedAt: queue.enqueuedAt,
        waitingMs: Math.max(0, now.getTime() - enqueued.getTime()),
        waitingBusinessMs,
        slaDueAt: queue.slaDueAt,
        slaRemainingMs: sla?.remainingMs,
        breached: sla?.breached ?? false,
        responded: sla?.responded ?? Boolean(queue.firstResponseAt),
        lastInboundAt: c.lastInboundAt,
      };
    });
  const waitingFirst = (r: QueueRow) => (r.state === 'queued' ? 0 : 1);
  return rows.sort(
    (a, b) =>
      waitingFirst(a) - waitingFirst(b) ||
      a.priority - b.priority ||
      Number(b.breached) - Number(a.breached) ||
      a.enqueuedAt.localeCompare(b.enqueuedAt) ||
      a.conversationId.localeCompare(b.conversationId),
  );
}
