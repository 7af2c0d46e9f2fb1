/**
 * @module handoff/sla
 * First-response service levels: minutes per priority (`SLA_MINUTES`, most urgent first),
 * counted in business time only, so a message on Saturday night is not "late" on Sunday.
 */
import type { QueueInfo } from '../core/types.js';
import type { BusinessHours } from './business-hours.js';

const MINUTE = 60_000;

/** SLA settings: first-response minutes per priority, index 0 = priority 1. */
export interface SlaSettings {
  slaMinutes: readonly number[];
}

/** The first-response SLA of a priority, in ms; priorities past the list use its last value. */
export function slaMs(priority: number, settings: SlaSettings): number {
  const list = settings.slaMinutes;
  if (list.length === 0) return 0;
  const index = Math.min(Math.max(priority, 1), list.length) - 1;
  return list[index]! * MINUTE;
}

/** When the first response to a conversation queued at `enqueuedAt` is due (business time). */
export function slaDueAt(enqueuedAt: Date, priority: number, hours: BusinessHours, settings: SlaSettings): Date {
  return hours.addBusinessMs(enqueuedAt, slaMs(priority, settings));
}

/** Where a conversation stands against its SLA. */
export interface SlaStatus {
  /** Business ms left until the due time; negative once breached (how late, in business time). */
  remainingMs: number;
  /** Due time passed without a first response, or the first response came late. */
  breached: boolean;
  /** An operator already answered. */
  responded: boolean;
}

/** The SLA status of a queue entry at `now`; undefined when it has no due time. */
export function slaStatus(queue: QueueInfo, now: Date, hours: BusinessHours): SlaStatus | undefined {
  if (!queue.slaDueAt) return undefined;
  const due = new Date(queue.slaDueAt);
  const until = queue.firstResponseAt ? new Date(queue.firstResponseAt) : now;
  const remainingMs =
    until.getTime() <= due.getTime() ? hours.businessMsBetween(until, due) : -hours.businessMsBetween(due, until);
  // Past the due instant is a breach even when no business time has elapsed since (closing time).
  const breached = until.getTime() > due.getTime();
  return { remainingMs: breached ? Math.min(remainingMs, -1) : remainingMs, breached, responded: Boolean(queue.firstResponseAt) };
}
