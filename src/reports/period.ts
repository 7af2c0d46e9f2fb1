/**
 * @module reports/period
 * A report's period from the team's dates: `YYYY-MM-DD` in its time zone (local midnights),
 * `from` inclusive, `to` exclusive; by default the 7 days up to now. Shared by `sportello report`
 * and the console's reports page.
 */
import { z } from 'zod';
import { addLocalDays, localMidnight } from '../handoff/business-hours.js';

/** A calendar date, `YYYY-MM-DD`. */
export const reportDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD')
  .refine((d) => addLocalDays(d, 0) === d, 'not a calendar date');

/** The period's instants; an error message when it is empty. */
export function reportPeriod(dates: { from?: string; to?: string }, now: Date, timezone: string): { from: Date; to: Date } | { error: string } {
  const to = dates.to ? localMidnight(dates.to, timezone) : now;
  const from = dates.from ? localMidnight(dates.from, timezone) : new Date(to.getTime() - 7 * 86_400_000);
  if (from.getTime() >= to.getTime()) return { error: `the period is empty: from (${from.toISOString()}) must come before to (${to.toISOString()})` };
  return { from, to };
}
