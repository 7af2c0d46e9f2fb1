/**
 * @module server/operator-api/session-routes
 * Login (rate-limited per name and address), logout, who am I, the list of operators.
 */
import type { Request, Response, Server } from 'restify';
import type { Operator } from '../../core/types.js';
import { isSameOrigin, verifyLogin, type LoginLimiter, type Sessions } from '../../handoff/auth.js';
import { readJsonBody } from '../http.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, ownOrigins, publicOperator, remoteAddress, send, type Router } from './routing.js';
import { emptySchema, loginSchema } from './schemas.js';

/** Registers the session routes. */
export function registerSessionRoutes(server: Server, router: Router, deps: OperatorApiDeps, auth: { limiter: LoginLimiter; sessions: Sessions }): void {
  const { store, clock, config, logger } = deps;
  const { limiter, sessions } = auth;
  const { route, fail } = router;

  /** Names are matched exactly, then ignoring case ("marta" logs in as "Marta"). */
  async function findOperator(name: string): Promise<Operator | undefined> {
    const exact = await store.directory.findOperatorByName(name);
    if (exact) return exact;
    const folded = name.toLocaleLowerCase();
    const matches = (await store.directory.listOperators()).filter((o) => o.name.toLocaleLowerCase() === folded);
    return matches.length === 1 ? matches[0] : undefined;
  }

  // ── session ──

  server.post('/api/operator/login', async (req: Request, res: Response) => {
    try {
      if (!isSameOrigin(req.headers, ownOrigins(req, config))) throw new HttpError(403, 'cross-site request refused');
      const { name, password } = loginSchema.parse((await readJsonBody(req)) ?? {});
      const key = `${name.toLowerCase()}|${remoteAddress(req)}`;
      const blocked = await limiter.blockedUntil(key);
      if (blocked) {
        const seconds = Math.max(1, Math.ceil((blocked - clock.now().getTime()) / 1000));
        logger.warn({ operator: name, remote: remoteAddress(req) }, 'operator login refused: too many failures');
        throw new HttpError(429, `too many failed logins: try again in ${Math.ceil(seconds / 60)} minutes`, { retryAfterSeconds: seconds });
      }
      const operator = await findOperator(name);
      if (!(await verifyLogin(operator, password)) || !operator) {
        await limiter.fail(key);
        logger.warn({ operator: name, remote: remoteAddress(req) }, 'operator login failed');
        throw new HttpError(401, 'wrong name or password');
      }
      await limiter.succeed(key);
      const { setCookie, session } = await sessions.issue(operator.id);
      logger.info({ operatorId: operator.id }, 'operator logged in');
      send(res, 200, { operator: publicOperator(operator), csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt).toISOString() }, { 'set-cookie': setCookie });
    } catch (err) {
      if (err instanceof HttpError && err.status === 429) {
        res.setHeader('retry-after', String(err.extra.retryAfterSeconds));
      }
      fail(res, err);
    }
  });

  route('post', '/logout', { body: emptySchema }, async ({ res, session, operator }) => {
    await sessions.revoke(session);
    logger.info({ operatorId: operator.id }, 'operator logged out');
    send(res, 200, { ok: true }, { 'set-cookie': sessions.clearCookie() });
    return undefined;
  });

  route('get', '/me', {}, async ({ operator, session }) => ({
    operator: publicOperator(operator),
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
    brandName: config.brandName,
  }));

  route('get', '/operators', {}, async () => ({ operators: (await store.directory.listOperators()).map(publicOperator) }));

}
