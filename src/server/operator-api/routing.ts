/**
 * @module server/operator-api/routing
 * The plumbing every operator route shares: the session check (401), same origin and CSRF token
 * for changes (403), the admin role, the body schema (400), and one translation of errors to
 * answers (409 for conflicts and illegal moves, 500 without details for the rest).
 */
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Config } from '../../config/config.js';
import { ConflictError, IllegalTransitionError } from '../../core/errors.js';
import type { Clock, Store } from '../../core/ports.js';
import { customerRef } from '../../handoff/customer-rights.js';
import { newId } from '../../util/ids.js';
import type { Conversation, Operator } from '../../core/types.js';
import { isSameOrigin, type Session, type Sessions } from '../../handoff/auth.js';
import { createClientAddress } from '../../util/client-address.js';
import type { Logger } from '../../util/logger.js';
import { readJsonBody } from '../http.js';
import { idSchema } from './schemas.js';

/** An HTTP error with a status, shown to the operator as `{ error }`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

/** Writes a JSON answer that is never cached. */
export function send(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** The public view of an operator: never the password hash. */
export function publicOperator(op: Operator) {
  return { id: op.id, name: op.name, initials: op.initials, role: op.role };
}


/** Our own origins: the configured public URL and the one the browser used to reach us. */
export function ownOrigins(req: Request, config: Readonly<Config>): string[] {
  const origins: string[] = [];
  if (config.publicUrl) origins.push(new URL(config.publicUrl).origin.toLowerCase());
  const host = req.headers.host;
  if (host) origins.push(`http://${host}`.toLowerCase(), `https://${host}`.toLowerCase());
  return origins;
}

/** What a route's handler is given. */
export interface RouteContext {
  req: Request;
  res: Response;
  operator: Operator;
  session: Session;
  body: unknown;
  id: string;
}

/** A route's handler: its result is sent as JSON (undefined: the handler answered itself). */
export type Handler = (ctx: RouteContext) => Promise<unknown>;

/** The shared plumbing, bound to one server. */
export interface Router {
  /** `put` and `del` are changes like `post`: same origin and CSRF token checked; `del` has no body. */
  /** `audit`: the action's name in the audit trail (issue 22), written once the handler succeeded. */
  /** `auditOnceWithinMs`: the same operator repeating it on the same target within that time is not written again (this instance). */
  route(method: 'get' | 'post' | 'put' | 'del', path: string, options: { admin?: boolean; body?: z.ZodType; audit?: string; auditOnceWithinMs?: number }, handler: Handler): void;
  /** Appends to the audit trail: who, when, what, from where (a failure is logged, never the action's). */
  audit(req: Request, operatorId: string, action: string, target?: string): Promise<void>;
  authenticate(req: Request): Promise<{ operator: Operator; session: Session }>;
  fail(res: Response, err: unknown): void;
  mustGetConversation(id: string): Promise<Conversation>;
  operatorNames(): Promise<Map<string, string>>;
  /** The client's address: the socket's peer, or read from X-Forwarded-For through TRUST_PROXY's proxies. */
  clientAddress(req: Request): string;
}

/** Creates the router of the operator API. */
export function createRouter(server: Server, deps: { store: Store; sessions: Sessions; config: Readonly<Config>; logger: Logger; clock: Clock }): Router {
  const { store, sessions, config, logger, clock } = deps;
  const addressOf = createClientAddress(config.trustProxy);
  const clientAddress = (req: Request): string => addressOf(req.socket?.remoteAddress, req.headers['x-forwarded-for']);

  async function audit(req: Request, operatorId: string, action: string, target?: string): Promise<void> {
    try {
      await store.audit.append({ id: newId('aud'), at: clock.now().toISOString(), operatorId, action, ...(target ? { target } : {}), from: clientAddress(req) });
    } catch (err) {
      logger.error({ err, operatorId, action }, 'could not write the audit trail');
    }
  }

  async function authenticate(req: Request): Promise<{ operator: Operator; session: Session }> {
    // A session is checked against its record and the operator's current password (handoff/auth.ts).
    const session = await sessions.read(req.headers.cookie);
    if (!session) throw new HttpError(401, 'log in first');
    return { operator: session.operator, session };
  }

  /** `input`: what a problem of the whole input is about, the body or (a request without one) the query string. */
  function fail(res: Response, err: unknown, input: '(body)' | '(query)' = '(body)'): void {
    if (err instanceof HttpError) {
      send(res, err.status, { error: err.message, ...err.extra });
    } else if (err instanceof z.ZodError) {
      const fields = err.issues.map((i) => ({ field: i.path.join('.') || input, message: i.message }));
      send(res, 400, { error: `invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`, fields });
    } else if (err instanceof IllegalTransitionError) {
      send(res, 409, { error: `a ${err.from} conversation cannot become ${err.to}` });
    } else if (err instanceof ConflictError) {
      send(res, 409, { error: err.message });
    } else {
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status < 500) {
        send(res, status, { error: (err as Error).message });
        return;
      }
      logger.error({ err }, 'operator API request failed');
      send(res, 500, { error: 'something went wrong on the server; the action may not have been done, reload and check' });
    }
  }

  /** When each operator last had an action audited on a target, for `auditOnceWithinMs` (bounded). */
  const lastAudited = new Map<string, number>();
  function repeated(key: string, withinMs: number): boolean {
    const now = clock.now().getTime();
    const last = lastAudited.get(key);
    if (last !== undefined && now - last < withinMs) return true;
    lastAudited.delete(key);
    lastAudited.set(key, now);
    if (lastAudited.size > 10_000) for (const k of [...lastAudited.keys()].slice(0, 1000)) lastAudited.delete(k);
    return false;
  }

  function route(method: 'get' | 'post' | 'put' | 'del', path: string, options: { admin?: boolean; body?: z.ZodType; audit?: string; auditOnceWithinMs?: number }, handler: Handler): void {
    server[method](`/api/operator${path}`, async (req: Request, res: Response) => {
      try {
        const { operator, session } = await authenticate(req);
        if (method !== 'get') {
          if (!isSameOrigin(req.headers, ownOrigins(req, config))) throw new HttpError(403, 'cross-site request refused');
          const token = req.headers['x-csrf-token'];
          if (!sessions.checkCsrf(session, typeof token === 'string' ? token : undefined)) {
            throw new HttpError(403, 'missing or wrong X-CSRF-Token header; reload the console');
          }
        }
        if (options.admin && operator.role !== 'admin') throw new HttpError(403, 'only an admin can do this');
        const raw = method === 'post' || method === 'put' ? await readJsonBody(req) : undefined;
        const body = options.body ? options.body.parse(raw ?? {}) : raw;
        const idParam = req.params?.id === undefined ? undefined : idSchema.safeParse(String(req.params.id));
        if (idParam && !idParam.success) throw new HttpError(400, `"${String(req.params.id).slice(0, 40)}" is not a valid id`);
        const id = idParam?.data ?? '';
        const result = await handler({ req, res, operator, session, body, id });
        // A customer is named by a digest: an erasure leaves no identifier in the trail.
        const target = path.startsWith('/customers/') ? customerRef(id) : id || undefined;
        if (options.audit && !(options.auditOnceWithinMs && repeated(`${operator.id}\n${options.audit}\n${target ?? ''}`, options.auditOnceWithinMs))) {
          await audit(req, operator.id, options.audit, target);
        }
        if (result !== undefined) send(res, 200, result);
      } catch (err) {
        // Only POST and PUT read a body: a GET's or DELETE's schema problems are its query's.
        fail(res, err, method === 'post' || method === 'put' ? '(body)' : '(query)');
      }
    });
  }

  async function mustGetConversation(id: string): Promise<Conversation> {
    const conversation = await store.conversations.get(id);
    if (!conversation) throw new HttpError(404, `conversation ${id} does not exist`);
    return conversation;
  }

  async function operatorNames(): Promise<Map<string, string>> {
    return new Map((await store.directory.listOperators()).map((o) => [o.id, o.name]));
  }

  return { route, audit, authenticate, fail, mustGetConversation, operatorNames, clientAddress };
}
