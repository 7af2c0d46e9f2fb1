/**
 * @module server/operator-api/crisis-routes
 * Crisis mode (docs/listening.md): `GET crisis` (the open one, or none), `POST crisis` `{topic}`
 * opens one (replacing an open one), `POST crisis/close` ends it. Any operator may open or close:
 * the care team on duty reacts first; each change is logged and published with who did it.
 */
import { z } from 'zod';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';

/** POST crisis: its body. */
export const openCrisisSchema = z.strictObject({ topic: z.string().trim().min(1).max(120) });

/** Registers the crisis routes. */
export function registerCrisisRoutes(router: Router, deps: OperatorApiDeps): void {
  const desk = () => {
    if (!deps.crisis) throw new HttpError(404, 'crisis mode is not available here');
    return deps.crisis;
  };
  router.route('get', '/crisis', {}, async () => {
    const crisis = desk();
    await crisis.refresh();
    return { crisis: crisis.current() ?? null };
  });
  router.route('post', '/crisis', { body: openCrisisSchema }, async ({ req, body, operator }) => {
    try {
      const { topic } = body as z.infer<typeof openCrisisSchema>;
      const crisis = await desk().open(topic, operator.id);
      // In the audit trail with its topic (who opened which crisis, when, from where).
      await router.audit(req, operator.id, 'crisis.open', topic);
      return { crisis };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, (err as Error).message);
    }
  });
  router.route('post', '/crisis/close', {}, async ({ req, operator }) => {
    const closed = (await desk().close(operator.id)) ?? null;
    if (closed) await router.audit(req, operator.id, 'crisis.close', closed.topic);
    return { closed };
  });
}
