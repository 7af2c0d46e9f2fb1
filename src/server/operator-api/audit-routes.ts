/**
 * @module server/operator-api/audit-routes
 * The audit trail for the console's admin page (issue 22): `GET /api/operator/audit`, newest
 * first, filtered by period, operator and action, a page at a time (`next_cursor`). Admins only:
 * it says what every operator did. Reading it is not itself audited (the page would fill the
 * trail with its own reads).
 */
import { z } from 'zod';
import { addLocalDays, localMidnight } from '../../handoff/business-hours.js';
import type { OperatorApiDeps } from './index.js';
import { queryOf } from './desk-routes.js';
import { HttpError, type Router } from './routing.js';

/** YYYY-MM-DD (a day in the team's time zone) or an ISO instant with its offset. */
const instantOrDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'use YYYY-MM-DD or an ISO time with its offset' });

/** GET /audit: unknown parameters are refused, so a misspelt filter is never ignored. */
export const auditQuerySchema = z.strictObject({
  from: instantOrDate.optional(),
  to: instantOrDate.optional(),
  operator: z.string().regex(/^[A-Za-z0-9_:.-]{1,120}$/, 'not a valid operator id').optional(),
  action: z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/, 'an action is like conversation.reply').max(64).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(200, 'must be at most 200'))
    .default(50),
  cursor: z.string().regex(/^\d{1,18}$/, 'not a cursor this API gave').optional(),
});

/** Registers the audit route. */
export function registerAuditRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, hours } = deps;
  router.route('get', '/audit', { admin: true }, async ({ req }) => {
    const q = auditQuerySchema.parse(queryOf(req.url));
    const from = q.from === undefined ? undefined : q.from.length === 10 ? localMidnight(q.from, hours.timezone).toISOString() : new Date(q.from).toISOString();
    // A date alone as the end means the whole of that day.
    const to = q.to === undefined ? undefined : q.to.length === 10 ? localMidnight(addLocalDays(q.to, 1), hours.timezone).toISOString() : new Date(q.to).toISOString();
    if (from !== undefined && to !== undefined && from >= to) throw new HttpError(400, `the period is empty: from (${from}) must come before to (${to})`);
    const page = await store.audit.page({
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(q.operator !== undefined ? { operatorId: q.operator } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.cursor !== undefined ? { after: q.cursor } : {}),
      limit: q.limit,
      newestFirst: true,
    });
    const names = await router.operatorNames();
    return {
      entries: page.entries.map((e) => ({
        id: e.id,
        at: e.at,
        operator_id: e.operatorId,
        // `cli`: a command run on the server's machine; an operator removed since keeps their id.
        operator_name: names.get(e.operatorId) ?? null,
        action: e.action,
        target: e.target ?? null,
        from: e.from ?? null,
      })),
      next_cursor: page.next ?? null,
    };
  });
}
