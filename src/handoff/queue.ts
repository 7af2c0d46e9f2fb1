/**
 * @module handoff/queue
 * The operators' queue: which conversations wait for a person, in what order, for how long,
 * and how much time is left before their first-response SLA is breached.
 */
import type { Clock, Store } from '../core/ports.js';
import type { ConversationState } from '../core/state.js';
import type { Conversation, EscalationReason, QueueInfo } from '../core/types.js';
import type { BusinessHours } from './business-hours.js';
import { agedPriority, basePriority, raisedPriority } from './priority.js';
import { slaDueAt, slaMs, slaStatus, type SlaSettings } from './sla.js';

/** The configuration the queue reads (a whole `Config` fits). */
export interface QueueConfig {
  handoff: SlaSettings;
}

/**
 * Computes the queue entry of a conversation being escalated now, or (`waiting`: its entry in the
 * queue) of a waiting one whose priority `reason` raises (see `raisedPriority`).
 */
export function computeQueueInfo(
  input: { reason: EscalationReason; enqueuedAt: string | Date; vip: boolean; waiting?: QueueInfo },
  hours: BusinessHours,
  config: QueueConfig,
): QueueInfo {
  const enqueuedAt = new Date(input.enqueuedAt);
  const priority = input.waiting ? raisedPriority(input.waiting.priority, input.reason, input.vip) : basePriority(input.reason, input.vip);
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
  return rows.sort(queueOrder);
}

/** The queue's order: waiting first, most urgent, breached, longest waiting, then by id. */
function queueOrder(a: QueueRow, b: QueueRow): number {
  const waitingFirst = (r: QueueRow) => (r.state === 'queued' ? 0 : 1);
  return (
    waitingFirst(a) - waitingFirst(b) ||
    a.priority - b.priority ||
    Number(b.breached) - Number(a.breached) ||
    a.enqueuedAt.localeCompare(b.enqueuedAt) ||
    a.conversationId.localeCompare(b.conversationId)
  );
}

/** Escalations answered for the first time within this many days make the typical wait. */
const TYPICAL_WAIT_DAYS = 7;
/** Fewer answered escalations than this: no typical wait (the SLA target is the upper bound). */
const TYPICAL_WAIT_MIN_SAMPLES = 3;
/** How long a read of the queue serves positions (ms, on the app's clock). */
const QUEUE_READ_MS = 1_000;
/** How long a typical wait serves (ms, likewise): a median over seven days moves slowly. */
const TYPICAL_WAIT_READ_MS = 60_000;

/**
 * Where a conversation stands in the queue (1: next; a conversation not queued yet counts as
 * after the last one waiting) and the team's typical first response: the median business time
 * from queueing to the first reply of recent escalations.
 *
 * Both need reads that grow with the store: every conversation waiting, and the recently answered
 * ones (found among all assigned and resolved ones). Asked at every escalation and every message
 * of a waiting customer, they would cost each of them as much again in a crisis (2,000 waiting and
 * 30,000 resolved: about 40 ms of CPU a call on the embedded store). So a read serves the calls of
 * the next second (the typical wait: of the next minute) by the app's clock, and one read in
 * flight serves every call waiting for it. The conversation asked about is always taken as it is now, and
 * conversations seen queued by this function since the read count too, so customers escalated in
 * one burst are told their places in turn.
 */
export function createQueueStatus(
  store: Pick<Store, 'conversations'>,
  clock: Clock,
  hours: BusinessHours,
  config: QueueConfig,
): (conversation: Conversation) => Promise<{ position: number; typicalWaitMinutes?: number }> {
  interface Read<T> { value: Promise<T>; at: number }
  const fresh = (read: Read<unknown> | undefined, ms: number): boolean => read !== undefined && Math.abs(clock.now().getTime() - read.at) < ms;
  const reading = <T>(load: () => Promise<T>): Read<T> => {
    const read = { value: load(), at: clock.now().getTime() };
    // A failed read is not kept: the next call reads again.
    read.value.catch(() => {
      if (queueRead === read) queueRead = undefined;
      if (typicalRead === read) typicalRead = undefined;
    });
    return read;
  };
  let queueRead: Read<QueueRow[]> | undefined;
  let typicalRead: Read<number | undefined> | undefined;
  /** Conversations queued since the last read of the queue, as this function saw them (their rows). */
  let seen = new Map<string, QueueRow>();

  async function typicalWait(): Promise<number | undefined> {
    const now = clock.now();
    const recent = await store.conversations.list({ states: ['assigned', 'resolved'], limit: 200 });
    const since = now.getTime() - TYPICAL_WAIT_DAYS * 86_400_000;
    const waits = recent
      .flatMap((c) => (c.queue?.firstResponseAt && new Date(c.queue.firstResponseAt).getTime() >= since ? [c.queue] : []))
      .map((q) => hours.businessMsBetween(new Date(q.enqueuedAt), new Date(q.firstResponseAt!)) / 60_000)
      .sort((a, b) => a - b);
    return waits.length < TYPICAL_WAIT_MIN_SAMPLES ? undefined : waits[Math.floor(waits.length / 2)];
  }

  return async (conversation) => {
    if (!fresh(queueRead, QUEUE_READ_MS)) {
      queueRead = reading(async () => queueView(await store.conversations.list({ states: ['queued'] }), clock, hours, config));
      seen = new Map();
    }
    if (!fresh(typicalRead, TYPICAL_WAIT_READ_MS)) typicalRead = reading(typicalWait);
    const [waiting, typicalWaitMinutes] = await Promise.all([queueRead!.value, typicalRead!.value]);
    // Its place: one more than the rows before it, itself and the ones seen since the read taken as they are now.
    const mine = conversation.state === 'queued' ? queueView([conversation], clock, hours, config)[0] : undefined;
    if (mine) seen.set(conversation.id, mine);
    else seen.delete(conversation.id);
    const before = (row: QueueRow) => row.conversationId !== conversation.id && (!mine || queueOrder(row, mine) < 0);
    let position = 1;
    for (const row of waiting) if (!seen.has(row.conversationId) && before(row)) position++;
    for (const row of seen.values()) if (before(row)) position++;
    return typicalWaitMinutes === undefined ? { position } : { position, typicalWaitMinutes };
  };
}
