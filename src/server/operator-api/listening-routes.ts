/**
 * @module server/operator-api/listening-routes
 * Heard posts and praise (docs/listening.md "Praise", docs/operator-desk-api.md): `GET
 * listening/heard` (newest first, paged, by class and topic, with the author's reach, whether they
 * are an advocate, and for praise whether and by whom it was thanked), `POST
 * listening/heard/:id/thank` (the one-click public thank-you; a second click sends nothing) and
 * `POST listening/heard/:id/advocate` `{advocate}` (marks or unmarks the post's author). Any
 * operator may use them; thank-yous and advocate marks are in the audit trail.
 */
import { z } from 'zod';
import { customerRef } from '../../handoff/customer-rights.js';
import { NotThankableError, type HeardView, type PraiseDesk, type ThankYou } from '../../handoff/praise.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';

/** GET listening/heard: its query. */
export const heardQuerySchema = z.strictObject({
  class: z.enum(['care', 'praise', 'noise', 'spam']).optional(),
  topic: z.string().trim().min(1).max(120).optional(),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
  before: z.string().regex(/^[A-Za-z0-9_:.-]{1,200}$/, 'not a valid id').optional(),
});
/** POST listening/heard/:id/advocate: its body. */
export const advocateSchema = z.strictObject({ advocate: z.boolean() });

/** A thank-you as the API shows it (snake_case, like the rest of the desk's routes). */
function thankYouJson(t: ThankYou) {
  return { operator_id: t.operatorId, name: t.name, initials: t.initials, at: t.at, text: t.text, outbox_id: t.outboxId, ...(t.status ? { status: t.status } : {}) };
}

/** A heard post as the API shows it. */
export function heardJson(h: HeardView) {
  return {
    id: h.id,
    channel: h.channel,
    platform_id: h.platformId,
    at: h.at,
    kind: h.kind,
    class: h.class,
    language: h.language,
    sentiment: h.sentiment,
    topic: h.topic ?? null,
    spike: h.spike ?? null,
    text: h.text,
    author: { id: h.author.id, handle: h.author.handle ?? null, followers: h.author.followers ?? null },
    customer_id: h.customerId,
    advocate: h.advocate,
    erased: h.erased,
    thank: h.thank,
    thanked: h.thanked ? thankYouJson(h.thanked) : null,
  };
}

/** Registers the listening routes (404 when the instance has no praise desk). */
export function registerListeningRoutes(router: Router, deps: OperatorApiDeps & { praise?: PraiseDesk }): void {
  const praise = (): PraiseDesk => {
    if (!deps.praise) throw new HttpError(404, 'listening is not available here');
    return deps.praise;
  };
  router.route('get', '/listening/heard', {}, async ({ req }) => {
    const query = heardQuerySchema.parse(Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams));
    const { items, next } = await praise().list({ limit: query.page_size, ...(query.before ? { before: query.before } : {}), ...(query.class ? { class: query.class } : {}), ...(query.topic ? { topic: query.topic } : {}) });
    return { items: items.map(heardJson), next: next ?? null };
  });
  router.route('post', '/listening/heard/:id/thank', {}, async ({ id, req, operator }) => {
    try {
      const done = await praise().thank(id, operator);
      // The conversation, like the desk's replies: the trail keeps no platform id of the customer.
      if (!done.already) await router.audit(req, operator.id, 'praise.thank', done.conversationId);
      return { already: done.already, conversation_id: done.conversationId, thanked: thankYouJson(done.thanked) };
    } catch (err) {
      if (err instanceof NotThankableError) throw new HttpError(409, err.message, { reason: err.reason, ...(err.link ? { link: err.link } : {}) });
      throw err;
    }
  });
  router.route('post', '/listening/heard/:id/advocate', { body: advocateSchema }, async ({ id, req, operator, body }) => {
    const { advocate } = body as z.infer<typeof advocateSchema>;
    const done = await praise().setAdvocate(id, advocate);
    // The customer is named by a digest, as every customer in the trail.
    await router.audit(req, operator.id, advocate ? 'advocate.mark' : 'advocate.unmark', customerRef(done.customerId));
    return { customer_id: done.customerId, advocate: done.advocate };
  });
}
