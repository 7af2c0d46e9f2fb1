/**
 * @module server/operator-api/webhook-routes
 * The delivery log of outbound events (admins only): newest first, a page at a time
 * (`?limit=50&before=<last id of the previous page>`, optional `status` and `subscription`).
 * Payloads are shown as they were sent: without private data unless the subscription allows it.
 */
import { z } from 'zod';
import type { OperatorApiDeps } from './index.js';
import type { Router } from './routing.js';
import { idSchema } from './schemas.js';

/** GET webhooks/deliveries: its query, checked. */
export const deliveriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().regex(/^[A-Za-z0-9_-]{1,120}$/, 'not a delivery id').optional(),
  status: z.enum(['pending', 'sending', 'delivered', 'dead']).optional(),
  subscription: idSchema.optional(),
});

/** Registers the delivery log. */
export function registerWebhookRoutes(router: Router, deps: OperatorApiDeps): void {
  router.route('get', '/webhooks/deliveries', { admin: true }, async ({ req }) => {
    const query = deliveriesQuerySchema.parse(Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams));
    const deliveries = await deps.store.deliveries.list(query);
    const last = deliveries[deliveries.length - 1];
    return {
      subscriptions: deps.config.webhooks.list.map((s) => ({ name: s.name, events: [...s.events], privateData: s.privateData, payloadVersion: s.payloadVersion })),
      deliveries,
      // The next page: the same query with before=<this>.
      ...(deliveries.length === query.limit && last ? { next: last.id } : {}),
    };
  });
}
