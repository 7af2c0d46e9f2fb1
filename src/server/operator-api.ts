/**
 * @module server/operator-api
 * The operator JSON API under `/api/operator/` (login, queue, live events over SSE, case
 * history, FAQ suggestions, and the desk's actions) and the static console at `/console`.
 * Every route but login refuses a request without a valid session (401); every state change
 * needs the session's CSRF token and a same-origin request (403).
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { faqLabel, type KnowledgeSource } from '../core/corpus.js';
import { ConflictError, CorpusError, IllegalTransitionError } from '../core/errors.js';
import { approveSuggestion, SuggestionError } from '../corpus/suggestions.js';
import type { DomainEvent, EventBus } from '../core/events.js';
import type { Clock, Store } from '../core/ports.js';
import type { Case, Conversation, Customer, FaqSuggestion, Operator, StoredMessage } from '../core/types.js';
import {
  createLoginLimiter,
  createSessions,
  isSameOrigin,
  verifyLogin,
  type Session,
  type Sessions,
} from '../handoff/auth.js';
import { describeWhen, type BusinessHours } from '../handoff/business-hours.js';
import type { OperatorDesk } from '../handoff/operator-desk.js';
import { queueView, QUEUE_STATES } from '../handoff/queue.js';
import type { Logger } from '../util/logger.js';
import { readJsonBody } from './http.js';

/** What the operator API needs. */
export interface OperatorApiDeps {
  store: Store;
  bus: EventBus;
  desk: OperatorDesk;
  /** The live corpus; `lastError` (when present) feeds the "corpus failed to reload" banner. */
  knowledge: KnowledgeSource & { lastError?(): string[] | undefined; reload?(): Promise<unknown> };
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
  hours: BusinessHours;
  /** SSE heartbeat period (tests shorten it). */
  heartbeatMs?: number;
}

// ───────────────────────────── request bodies ─────────────────────────────

const text = z.string().trim().min(1, 'must not be empty').max(4000, 'at most 4000 characters');
/** POST login. */
export const loginSchema = z.object({ name: z.string().trim().min(1, 'required').max(80), password: z.string().min(1, 'required').max(1024) });
/** POST conversations/:id/claim. */
export const claimSchema = z.object({ takeover: z.boolean().optional() });
/** POST conversations/:id/reply. */
export const replySchema = z.object({ text, visibility: z.enum(['public', 'private']).optional() });
/** POST conversations/:id/note. */
export const noteSchema = z.object({ text });
/** POST conversations/:id/transfer. */
export const transferSchema = z.object({ operatorId: z.string().min(1, 'required').max(100) });
/** POST conversations/:id/resolve. */
export const resolveSchema = z.object({ addToFaq: z.boolean().optional(), answer: text.optional() });
/** POST suggestions/:id/approve: the reviewer's edits, all optional. */
export const approveSchema = z.object({
  questions: z.array(text).min(1).max(50).optional(),
  answer: text.optional(),
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case').max(80).optional(),
});
const emptySchema = z.object({});
/** FAQ suggestions below this confidence are not shown. */
const MIN_SUGGESTION_CONFIDENCE = 0.05;
const idSchema = z.string().regex(/^[A-Za-z0-9_:.-]{1,120}$/, 'not a valid id');

// ───────────────────────────── plumbing ─────────────────────────────

/** An HTTP error with a status, shown to the operator as `{ error }`. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

function send(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** The public view of an operator: never the password hash. */
function publicOperator(op: Operator) {
  return { id: op.id, name: op.name, initials: op.initials, role: op.role };
}

function remoteAddress(req: Request): string {
  return req.socket?.remoteAddress ?? 'unknown';
}

/** Our own origins: the configured public URL and the one the browser used to reach us. */
function ownOrigins(req: Request, config: Readonly<Config>): string[] {
  const origins: string[] = [];
  if (config.publicUrl) origins.push(new URL(config.publicUrl).origin.toLowerCase());
  const host = req.headers.host;
  if (host) origins.push(`http://${host}`.toLowerCase(), `https://${host}`.toLowerCase());
  return origins;
}

interface Context {
  req: Request;
  res: Response;
  operator: Operator;
  session: Session;
  body: unknown;
  id: string;
}

type Handler = (ctx: Context) => Promise<unknown>;

const CONSOLE_DIR = new URL('../console/', import.meta.url);
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};
/** The console page may load only its own scripts and styles, and talk only to us. */
const CONSOLE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** Loads the console's static files once (a few small files, no build step). */
function loadConsoleAssets(logger: Logger): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(CONSOLE_DIR);
  } catch (err) {
    logger.error({ err }, 'the operator console files are missing: /console will answer 404');
  }
  for (const name of names) {
    const ext = name.split('.').pop() ?? '';
    const type = CONTENT_TYPES[ext];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name)) assets.set(name, { body: readFileSync(new URL(name, CONSOLE_DIR)), type });
  }
  return assets;
}

// ───────────────────────────── the API ─────────────────────────────

/** What `registerOperatorApi` returns. */
export interface OperatorApi {
  /** Ends the open event streams (call before closing the HTTP server, which waits for them). */
  close(): void;
}

/** Registers the operator API under `/api/operator/` and the console at `/console`. */
export function registerOperatorApi(server: Server, deps: OperatorApiDeps): OperatorApi {
  const { store, desk, clock, config, logger, hours } = deps;
  const limiter = createLoginLimiter({ clock, store });
  const sessions: Sessions = createSessions({ secret: config.sessionSecret, clock, store, secure: Boolean(config.publicUrl?.startsWith('https:')) });
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  /** Open event streams: ended by `close()`, or the HTTP server would wait for them forever. */
  const streams = new Set<Response>();

  async function authenticate(req: Request): Promise<{ operator: Operator; session: Session }> {
    const session = await sessions.read(req.headers.cookie);
    if (!session) throw new HttpError(401, 'log in first');
    const operator = await store.directory.getOperator(session.operatorId);
    if (!operator) throw new HttpError(401, 'this operator no longer exists; log in again');
    return { operator, session };
  }

  function fail(res: Response, err: unknown): void {
    if (err instanceof HttpError) {
      send(res, err.status, { error: err.message, ...err.extra });
    } else if (err instanceof z.ZodError) {
      const fields = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
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

  /** Wraps a route: session (401), same origin and CSRF token for changes (403), role, body schema (400). */
  function route(
    method: 'get' | 'post',
    path: string,
    options: { admin?: boolean; body?: z.ZodType },
    handler: Handler,
  ): void {
    server[method](`/api/operator${path}`, async (req: Request, res: Response) => {
      try {
        const { operator, session } = await authenticate(req);
        if (method === 'post') {
          if (!isSameOrigin(req.headers, ownOrigins(req, config))) throw new HttpError(403, 'cross-site request refused');
          const token = req.headers['x-csrf-token'];
          if (!sessions.checkCsrf(session, typeof token === 'string' ? token : undefined)) {
            throw new HttpError(403, 'missing or wrong X-CSRF-Token header; reload the console');
          }
        }
        if (options.admin && operator.role !== 'admin') throw new HttpError(403, 'only an admin can do this');
        const raw = method === 'post' ? await readJsonBody(req) : undefined;
        const body = options.body ? options.body.parse(raw ?? {}) : raw;
        const idParam = req.params?.id === undefined ? undefined : idSchema.safeParse(String(req.params.id));
        if (idParam && !idParam.success) throw new HttpError(400, `"${String(req.params.id).slice(0, 40)}" is not a valid id`);
        const id = idParam?.data ?? '';
        const result = await handler({ req, res, operator, session, body, id });
        if (result !== undefined) send(res, 200, result);
      } catch (err) {
        fail(res, err);
      }
    });
  }

  /** Names are matched exactly, then ignoring case ("marta" logs in as "Marta"). */
  async function findOperator(name: string): Promise<Operator | undefined> {
    const exact = await store.directory.findOperatorByName(name);
    if (exact) return exact;
    const folded = name.toLocaleLowerCase();
    const matches = (await store.directory.listOperators()).filter((o) => o.name.toLocaleLowerCase() === folded);
    return matches.length === 1 ? matches[0] : undefined;
  }

  async function operatorNames(): Promise<Map<string, string>> {
    return new Map((await store.directory.listOperators()).map((o) => [o.id, o.name]));
  }

  async function mustGetConversation(id: string): Promise<Conversation> {
    const conversation = await store.conversations.get(id);
    if (!conversation) throw new HttpError(404, `conversation ${id} does not exist`);
    return conversation;
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

  // ── queue ──

  route('get', '/queue', {}, async () => {
    const now = clock.now();
    const conversations = await store.conversations.list({ states: [...QUEUE_STATES] });
    const rows = queueView(conversations, clock, hours, config);
    const names = await operatorNames();
    const customers = new Map<string, Customer | undefined>();
    const enriched = await Promise.all(
      rows.map(async (row) => {
        if (!customers.has(row.customerId)) customers.set(row.customerId, await store.directory.getCustomer(row.customerId));
        const customer = customers.get(row.customerId);
        const messages = await store.conversations.listMessages({ conversationId: row.conversationId });
        const lastIn = [...messages].reverse().find((m) => m.direction === 'in');
        return {
          ...row,
          customer: customer ? { id: customer.id, handle: customer.handle, name: customer.name, followers: customer.followers } : { id: row.customerId },
          assigneeName: row.assignee ? names.get(row.assignee) ?? row.assignee : undefined,
          preview: lastIn ? lastIn.text.slice(0, 160) : undefined,
        };
      }),
    );
    let nextOpening: Date | undefined;
    try {
      nextOpening = hours.nextOpening(now);
    } catch (err) {
      logger.warn({ err }, 'business hours never open');
    }
    const tz = config.handoff.timezone;
    return {
      now: now.toISOString(),
      open: hours.isOpen(now),
      nextOpening: nextOpening?.toISOString(),
      reopens: nextOpening ? { it: describeWhen(nextOpening, now, 'it', tz), en: describeWhen(nextOpening, now, 'en', tz) } : undefined,
      rows: enriched,
      corpusProblems: deps.knowledge.lastError?.(),
    };
  });

  // ── live events ──

  server.get('/api/operator/events', async (req: Request, res: Response) => {
    try {
      await authenticate(req);
    } catch (err) {
      fail(res, err);
      return;
    }
    streams.add(res);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const write = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    write('ready', { at: clock.now().toISOString(), corpusProblems: deps.knowledge.lastError?.() });
    // Events carry ids only (no message text): the console fetches what it is allowed to see.
    const unsubscribe = deps.bus.subscribe((event: DomainEvent) => write(event.type, event));
    const heartbeat = setInterval(() => {
      // A session that expired or logged out elsewhere stops receiving.
      void sessions.read(req.headers.cookie).then(
        (still) => (still ? res.write(': heartbeat\n\n') : res.end()),
        (err: unknown) => logger.warn({ err }, 'could not check an operator session'),
      );
    }, heartbeatMs);
    heartbeat.unref();
    await new Promise<void>((resolve) => {
      req.on('close', resolve);
      res.on('close', resolve);
      res.on('finish', resolve);
    });
    clearInterval(heartbeat);
    unsubscribe();
    streams.delete(res);
  });

  // ── a conversation and its case ──

  route('get', '/conversations/:id', {}, async ({ id }) => {
    const conversation = await mustGetConversation(id);
    const [customer, kase, names] = await Promise.all([store.directory.getCustomer(conversation.customerId), store.conversations.getCase(conversation.caseId), operatorNames()]);
    const linkedIds = [...new Set([conversation.id, ...(kase?.conversationIds ?? [])])];
    const linked = (await Promise.all(linkedIds.map((cid) => store.conversations.get(cid)))).filter((c): c is Conversation => c !== undefined);
    const messages = (await store.conversations.listMessages({ caseId: conversation.caseId }))
      .concat(
        // Messages of linked conversations recorded under another case id (a DM joined later).
        ...(await Promise.all(linked.filter((c) => c.caseId !== conversation.caseId).map((c) => store.conversations.listMessages({ conversationId: c.id })))),
      )
      .filter((m, i, all) => all.findIndex((x) => x.id === m.id) === i)
      .sort((a, b) => a.at.localeCompare(b.at));
    const byId = new Map(linked.map((c) => [c.id, c]));
    const earlier = (await store.conversations.listCases(conversation.customerId)).filter((c) => c.id !== conversation.caseId);
    const earlierCases = await Promise.all(
      earlier
        .sort((a, b) => b.openedAt.localeCompare(a.openedAt))
        .slice(0, 20)
        .map(async (c: Case) => {
          const first = (await store.conversations.listMessages({ caseId: c.id })).find((m) => m.direction === 'in');
          return { id: c.id, status: c.status, openedAt: c.openedAt, resolvedAt: c.resolvedAt, resolvedBy: c.resolvedBy ? names.get(c.resolvedBy) ?? c.resolvedBy : undefined, firstMessage: first?.text.slice(0, 200), conversationIds: c.conversationIds };
        }),
    );
    const now = clock.now();
    const [queueRow] = queueView([conversation], clock, hours, config);
    return {
      now: now.toISOString(),
      conversation: { ...conversation, ref: undefined, assigneeName: conversation.assignee ? names.get(conversation.assignee) ?? conversation.assignee : undefined },
      queue: queueRow,
      customer: customer ?? { id: conversation.customerId },
      case: kase,
      conversations: linked.map((c) => ({ id: c.id, channel: c.channel, visibility: c.visibility, state: c.state, flags: c.flags, assignee: c.assignee })),
      messages: messages.map((m: StoredMessage) => ({
        ...m,
        channel: byId.get(m.conversationId)?.channel ?? conversation.channel,
        conversationVisibility: byId.get(m.conversationId)?.visibility ?? m.visibility,
        flagged: (m.flags ?? []).includes('private_data'),
      })),
      earlierCases,
    };
  });

  route('get', '/conversations/:id/suggestions', {}, async ({ id }) => {
    const conversation = await mustGetConversation(id);
    const messages = await store.conversations.listMessages({ caseId: conversation.caseId });
    const last = [...messages].reverse().find((m) => m.direction === 'in' && m.text.trim().length > 0);
    if (!last) return { message: undefined, suggestions: [] };
    const knowledge = deps.knowledge.current();
    const understanding = knowledge.understander.understand(last.text, { previousLanguage: conversation.language });
    const suggestions = understanding.classification.ranked
      .filter((r) => r.label.startsWith('faq:'))
      .map((r) => {
        const matches = knowledge.corpus.faq.filter((e) => faqLabel(e.id) === r.label);
        const entry = matches.find((e) => e.locale === understanding.language) ?? matches[0];
        return entry ? { faqId: entry.id, confidence: r.confidence, locale: entry.locale, question: entry.questions[0] ?? '', answer: entry.answer, answerShort: entry.answer_short } : undefined;
      })
      // Guesses the classifier gives almost no chance are noise to an operator.
      .filter((s) => s !== undefined && s.confidence >= MIN_SUGGESTION_CONFIDENCE)
      .slice(0, 3);
    return { message: { id: last.id, at: last.at }, language: understanding.language, suggestions };
  });

  // ── actions ──

  route('post', '/conversations/:id/claim', { body: claimSchema }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { takeover } = body as z.infer<typeof claimSchema>;
    return { conversation: await desk.claim(id, operator, { takeover }) };
  });
  route('post', '/conversations/:id/reply', { body: replySchema }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { text: replyText, visibility } = body as z.infer<typeof replySchema>;
    const item = await desk.reply(id, operator, replyText, { visibility });
    return { outbox: { id: item.id, status: item.status, visibility: item.visibility, text: item.reply.text, createdAt: item.createdAt } };
  });
  route('post', '/conversations/:id/note', { body: noteSchema }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    return { note: await desk.note(id, operator, (body as z.infer<typeof noteSchema>).text) };
  });
  route('post', '/conversations/:id/ask-private', { body: emptySchema }, async ({ id, operator }) => {
    await mustGetConversation(id);
    const items = await desk.askPrivate(id, operator);
    return { outbox: items.map((i) => ({ id: i.id, status: i.status, visibility: i.visibility, text: i.reply.text })) };
  });
  route('post', '/conversations/:id/transfer', { body: transferSchema }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    return { conversation: await desk.transfer(id, operator, (body as z.infer<typeof transferSchema>).operatorId) };
  });
  route('post', '/conversations/:id/resolve', { body: resolveSchema }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { addToFaq, answer } = body as z.infer<typeof resolveSchema>;
    return await desk.resolve(id, operator, { addToFaq, answer });
  });
  route('post', '/conversations/:id/return-to-bot', { body: emptySchema }, async ({ id, operator }) => {
    await mustGetConversation(id);
    return { conversation: await desk.returnToBot(id, operator) };
  });

  // ── FAQ suggestions learned from resolved cases ──

  const statusSchema = z.enum(['pending', 'approved', 'rejected']).optional();
  route('get', '/suggestions', {}, async ({ req }) => {
    const status = statusSchema.parse(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? undefined);
    return { suggestions: await store.suggestions.list(status ? { status } : undefined) };
  });
  route('post', '/suggestions/:id/approve', { admin: true, body: approveSchema }, async ({ id, operator, body }) => {
    const suggestion = await mustBePending(id);
    const edits = body as z.infer<typeof approveSchema>;
    let written: { file: string };
    try {
      written = await approveSuggestion(suggestion, { faqDir: config.faqDir, intentsDir: config.intentsDir, reviewer: operator.name, clock, edits });
    } catch (err) {
      if (err instanceof SuggestionError) throw new HttpError(409, err.message);
      if (err instanceof CorpusError) throw new HttpError(409, `the FAQ would not load with this change: ${err.message}`, { problems: err.problems });
      throw err;
    }
    const updated = await store.suggestions.update(id, { status: 'approved', reviewedBy: operator.id, reviewedAt: clock.now().toISOString() });
    logger.info({ suggestionId: id, operatorId: operator.id, file: written.file }, 'FAQ suggestion approved');
    // The watcher reloads too; reloading now makes the bot answer with it at once.
    const reload = await deps.knowledge.reload?.();
    return { suggestion: updated, file: written.file, reload };
  });
  route('post', '/suggestions/:id/reject', { admin: true, body: emptySchema }, async ({ id, operator }) => {
    await mustBePending(id);
    const updated = await store.suggestions.update(id, { status: 'rejected', reviewedBy: operator.id, reviewedAt: clock.now().toISOString() });
    return { suggestion: updated };
  });

  async function mustBePending(id: string): Promise<FaqSuggestion> {
    const found = (await store.suggestions.list()).find((s) => s.id === id);
    if (!found) throw new HttpError(404, `suggestion ${id} does not exist`);
    if (found.status !== 'pending') throw new HttpError(409, `suggestion ${id} was already ${found.status}`);
    return found;
  }

  // ── the console ──

  const assets = loadConsoleAssets(logger);
  const serveAsset = (name: string, res: Response) => {
    const asset = assets.get(name);
    if (!asset) {
      send(res, 404, { error: 'not found' });
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, ...CONSOLE_HEADERS });
    res.end(asset.body);
  };
  server.get('/console', async (_req: Request, res: Response) => serveAsset('index.html', res));
  server.get('/console/:file', async (req: Request, res: Response) => serveAsset(String(req.params.file ?? ''), res));

  return {
    close() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
