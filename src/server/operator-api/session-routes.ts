/**
 * @module server/operator-api/session-routes
 * Login (counted before the password is checked, per name and address and per name; hashing in
 * a bounded pool), logout, changing one's password, who am I, the list of operators.
 */
import type { Request, Response, Server } from 'restify';
import type { Operator } from '../../core/types.js';
import { hashPassword, HashPoolBusyError, isSameOrigin, verifyLogin, verifyPassword, type HashPool, type LoginGate, type Sessions } from '../../handoff/auth.js';
import { createLogThrottle } from '../../util/log-throttle.js';
import { readJsonBody } from '../http.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, ownOrigins, publicOperator, send, type Router } from './routing.js';
import { emptySchema, loginSchema, passwordChangeSchema } from './schemas.js';

/** What the session routes share with the rest of the API. */
export interface SessionAuth {
  gate: LoginGate;
  pool: HashPool;
  sessions: Sessions;
}

/** Registers the session routes. */
export function registerSessionRoutes(server: Server, router: Router, deps: OperatorApiDeps, auth: SessionAuth): void {
  const { store, config, logger } = deps;
  const { gate, pool, sessions } = auth;
  const { route, fail } = router;
  // A refused login costs the sender nothing (no password is checked): one line a minute, not one each.
  const quiet = createLogThrottle();

  /** Names are matched exactly, then ignoring case ("marta" logs in as "Marta"). */
  async function findOperator(name: string): Promise<Operator | undefined> {
    const exact = await store.directory.findOperatorByName(name);
    if (exact) return exact;
    const folded = name.toLocaleLowerCase();
    const matches = (await store.directory.listOperators()).filter((o) => o.name.toLocaleLowerCase() === folded);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /**
   * Checks a password for `name` from the request's address: a place in the hashing pool first
   * (503 when full: nothing counted), then the attempt is counted (429 when past the limit: the
   * password is not even looked at), then the hash. True when right.
   */
  async function checkPassword(req: Request, name: string, check: () => Promise<boolean>): Promise<{ ok: boolean; succeeded: () => Promise<void> }> {
    const slot = pool.reserve();
    let attempt;
    try {
      attempt = await gate.attempt(name, router.clientAddress(req));
    } catch (err) {
      slot.cancel();
      throw err;
    }
    if (!attempt.allowed) {
      slot.cancel();
      const seconds = Math.max(1, Math.ceil(attempt.retryAfterMs / 1000));
      const told = quiet.take(`login-refused:${attempt.scope}`);
      if (told.log) {
        const more = told.suppressed > 0 ? { refusedSinceLastLine: told.suppressed } : {};
        logger.warn({ remote: router.clientAddress(req), scope: attempt.scope, retryAfterSeconds: seconds, ...more }, 'operator login refused: too many attempts (more within a minute are not logged)');
      }
      throw new HttpError(429, `too many failed logins: try again in ${seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`}`, { retryAfterSeconds: seconds });
    }
    return { ok: await slot.run(check), succeeded: attempt.succeeded };
  }

  /** Sends an error, with Retry-After for 429 and 503. */
  function refuse(res: Response, err: unknown): void {
    if (err instanceof HashPoolBusyError) err = new HttpError(503, err.message, { retryAfterSeconds: err.retryAfterSeconds });
    if (err instanceof HttpError && (err.status === 429 || err.status === 503)) res.setHeader('retry-after', String(err.extra.retryAfterSeconds));
    fail(res, err);
  }

  // ── session ──

  server.post('/api/operator/login', async (req: Request, res: Response) => {
    try {
      if (!isSameOrigin(req.headers, ownOrigins(req, config))) throw new HttpError(403, 'cross-site request refused');
      const { name, password } = loginSchema.parse((await readJsonBody(req)) ?? {});
      let operator: Operator | undefined;
      const { ok, succeeded } = await checkPassword(req, name, async () => {
        operator = await findOperator(name);
        return verifyLogin(operator, password);
      });
      if (!ok || !operator) {
        // Never the name typed: it may be a password typed into the wrong field.
        logger.warn({ operatorId: operator?.id, remote: router.clientAddress(req) }, 'operator login failed');
        // A wrong password for an existing operator is in the audit trail under that operator (someone
        // tried their account, from this address). A name that is no operator's is not: nobody to
        // name, the text typed may be a password, and anyone could fill the append-only trail.
        if (operator) await router.audit(req, operator.id, 'login.failed');
        throw new HttpError(401, 'wrong name or password');
      }
      await succeeded();
      const { setCookie, session } = await sessions.issue(operator);
      logger.info({ operatorId: operator.id }, 'operator logged in');
      await router.audit(req, operator.id, 'login');
      send(res, 200, { operator: publicOperator(operator), csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt).toISOString(), brandName: config.brandName, timezone: config.handoff.timezone }, { 'set-cookie': setCookie });
    } catch (err) {
      refuse(res, err);
    }
  });

  route('post', '/logout', { body: emptySchema, audit: 'logout' }, async ({ res, session, operator }) => {
    await sessions.revoke(session);
    logger.info({ operatorId: operator.id }, 'operator logged out');
    send(res, 200, { ok: true }, { 'set-cookie': sessions.clearCookie() });
    return undefined;
  });

  // Changing one's password ends every session opened with the old one (on every instance), this
  // one included: the answer carries a new session.
  route('post', '/password', { body: passwordChangeSchema, audit: 'password.change' }, async ({ req, res, session, operator, body }) => {
    const { currentPassword, newPassword } = body as { currentPassword: string; newPassword: string };
    try {
      const { ok, succeeded } = await checkPassword(req, operator.name, () => verifyPassword(currentPassword, operator.passwordHash));
      if (!ok) throw new HttpError(403, 'the current password is wrong');
      await succeeded();
      const passwordHash = await pool.reserve().run(() => hashPassword(newPassword));
      const updated = await store.directory.updateOperator(operator.id, { passwordHash });
      if (!updated) throw new HttpError(401, 'this operator no longer exists; log in again');
      await sessions.revoke(session);
      const issued = await sessions.issue(updated);
      logger.info({ operatorId: operator.id }, 'operator changed their password; older sessions ended');
      send(res, 200, { operator: publicOperator(updated), csrfToken: issued.session.csrfToken, expiresAt: new Date(issued.session.expiresAt).toISOString() }, { 'set-cookie': issued.setCookie });
    } catch (err) {
      refuse(res, err);
    }
    return undefined;
  });

  route('get', '/me', {}, async ({ operator, session }) => ({
    operator: publicOperator(operator),
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
    brandName: config.brandName,
    /** The team's time zone: the console shows times in it (issue 21). */
    timezone: config.handoff.timezone,
  }));

  route('get', '/operators', {}, async () => ({ operators: (await store.directory.listOperators()).map(publicOperator) }));
}
