/**
 * @module tests/fakes/graph-api
 * A fake Meta Graph API on 127.0.0.1 for the Messenger channel's tests. It speaks the real
 * payloads: the Send API (`/vNN.N/me/messages`, with messaging windows, HUMAN_AGENT, the Customer
 * Feedback Template and its CUSTOMER_FEEDBACK tag (7 days), quick-reply
 * and length limits, private replies to comments), comment replies and hiding, the handover
 * calls, and Graph's error bodies (`{ error: { message, type, code, error_subcode, fbtrace_id } }`).
 * It also plays Meta's webhook side: it signs deliveries with `X-Hub-Signature-256` and runs the
 * `hub.challenge` subscription check. Batch requests (`batch=[…]`, up to 50 calls) are answered
 * call by call, as Graph does. It can misbehave as a platform does: answer errors with their
 * headers (`failNext`: 500, 429 with `Retry-After`…), or hang (`hang`): accept connections and
 * never answer, before doing the call or after doing it (the message delivered, the answer lost).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../src/core/ports.js';

const DAY = 86_400_000;

/** One call the fake received. */
export interface GraphCall {
  method: string;
  /** Path without the version prefix, e.g. `/me/messages`. */
  path: string;
  version: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
}

/** An error the next matching call answers with. */
export interface InjectedError {
  status: number;
  code: number;
  subcode?: number;
  message?: string;
  type?: string;
  headers?: Record<string, string>;
  /** Only calls whose path matches (default: any). */
  path?: string;
  /** Let this many matching calls succeed first. */
  skip?: number;
  /** Answer this text instead of Graph's JSON error (a body cut short, a proxy's HTML page), with `status`. */
  rawBody?: string;
}

/** A comment on a Page post, as the fake knows it. */
export interface FakeComment {
  commentId: string;
  postId: string;
  /** The commenter's app-scoped id (what `feed` webhooks carry in `from.id`). */
  fromId: string;
  fromName?: string;
  /** The PSID the commenter gets in Messenger (differs from fromId, as on Meta). */
  psid: string;
  createdAt: Date;
  message: string;
}

/** The fake Graph API. */
export interface FakeGraphApi {
  origin: string;
  calls: GraphCall[];
  /** Send API calls (`/me/messages`) with a message (not sender actions). */
  sentMessages(): GraphCall[];
  /** The user `psid` wrote to the Page at `at`: opens the messaging windows. */
  userWrote(psid: string, at: Date): void;
  addComment(comment: FakeComment): void;
  /** A post on (or tagging) the Page that the Page may comment under (a visitor post, a tag). */
  addPost(postId: string): void;
  /** Comments the Page posted, by the comment they answer. */
  commentReplies: Array<{ parentId: string; id: string; message: string }>;
  hidden: Set<string>;
  /** Thread owner app id per PSID after handover calls. */
  threadOwner: Map<string, number | 'page'>;
  failNext(error: InjectedError): void;
  /** The next call to `path` (after `skip` others) is done as usual, but its answer's body is cut short (not JSON any more). */
  garbleNext(options: { path: string; skip?: number }): void;
  /**
   * From now on, calls get no answer: `before` the fake does them (nothing delivered), or `after`
   * (the message is delivered, only the answer never comes); `false` answers again (calls already
   * held stay open until `dropHeld`).
   */
  hang(mode: 'before' | 'after' | false): void;
  /**
   * The Page token expires (`true`: every call with it gets Graph's 190 / subcode 463 "Session has
   * expired", as after a password change or a revoked permission) or is valid again (`false`).
   */
  expireToken(expired: boolean): void;
  /**
   * Whether the app holds the Human Agent permission (App Review; true at start). Without it the
   * HUMAN_AGENT tag does not widen the window: the fake answers as outside the window (Graph's
   * exact answer for this case is not in our sources).
   */
  grantHumanAgent(granted: boolean): void;
  /** HTTP requests held open without an answer right now. */
  openRequests(): number;
  /** Drops the held connections without an answer (as a load balancer giving up would). */
  dropHeld(): void;
  /** Signs and POSTs a webhook body to `url` as Meta does; returns the HTTP status. */
  deliver(url: string, body: unknown, options?: { secret?: string }): Promise<{ status: number; text: string }>;
  /** Runs Meta's GET subscription check against `url`. */
  verifySubscription(url: string, verifyToken: string, challenge?: string): Promise<{ status: number; text: string; contentType: string | null }>;
  close(): Promise<void>;
}

/** Meta escapes non-ASCII characters (and `/`) in webhook JSON: the raw bytes are what is signed. */
export function metaJson(body: unknown): string {
  return JSON.stringify(body)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The headers Meta puts on a webhook delivery of `raw`. */
export function metaSignatureHeaders(appSecret: string, raw: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-hub-signature': `sha1=${createHmac('sha1', appSecret).update(raw).digest('hex')}`,
    'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`,
  };
}

/** What the fake answers to one call (alone, or inside a batch). */
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Sent as is instead of `body` as JSON. */
  raw?: string;
}

function graphError(e: InjectedError): Answer {
  const body = {
    error: {
      message: e.message ?? `(#${e.code}) error`,
      type: e.type ?? 'OAuthException',
      code: e.code,
      ...(e.subcode !== undefined ? { error_subcode: e.subcode } : {}),
      fbtrace_id: randomBytes(8).toString('base64url'),
    },
  };
  return { status: e.status, body, headers: e.headers, ...(e.rawBody !== undefined ? { raw: e.rawBody } : {}) };
}

function ok(body: unknown): Answer {
  return { status: 200, body };
}

function write(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
  res.end(answer.raw ?? JSON.stringify(answer.body));
}

/** Graph reads form parameters whose value is JSON (`recipient={"id":"…"}`) as that JSON. */
function formParams(raw: string): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const trimmed = value.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        params[key] = JSON.parse(trimmed);
        continue;
      } catch {
        // not JSON after all: keep the text
      }
    }
    params[key] = value;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return formParams(raw);
  return JSON.parse(raw) as Record<string, unknown>;
}

/** Starts the fake on 127.0.0.1 (random port). */
export async function createFakeGraphApi(options: {
  appSecret: string;
  pageToken: string;
  pageId: string;
  clock: Clock;
}): Promise<FakeGraphApi> {
  const { appSecret, pageToken, pageId, clock } = options;
  const calls: GraphCall[] = [];
  const lastUserMessage = new Map<string, number>();
  const comments = new Map<string, FakeComment>();
  const pagePosts = new Set<string>();
  const privateReplied = new Set<string>();
  const commentReplies: FakeGraphApi['commentReplies'] = [];
  const hidden = new Set<string>();
  const threadOwner = new Map<string, number | 'page'>();
  const injected: InjectedError[] = [];
  const garbles: Array<{ path: string; skip?: number }> = [];
  let hanging: 'before' | 'after' | false = false;
  const held = new Set<ServerResponse>();
  const hold = (res: ServerResponse) => {
    held.add(res);
    res.on('close', () => held.delete(res));
  };
  let counter = 0;
  const expectedProof = createHmac('sha256', appSecret).update(pageToken).digest('hex');
  let tokenExpired = false;
  let humanAgentPermission = true;
  /** What Graph answers a call made with an expired Page token. */
  const expiredToken = () =>
    graphError({ status: 400, code: 190, subcode: 463, message: `Error validating access token: Session has expired on ${clock.now().toUTCString()}. The current time is ${clock.now().toUTCString()}.` });

  function handleMessages(body: Record<string, unknown>): Answer {
    const recipient = (body.recipient ?? {}) as { id?: string; comment_id?: string };
    const now = clock.now().getTime();
    if (body.sender_action !== undefined) {
      if (!recipient.id || !lastUserMessage.has(recipient.id)) {
        return graphError({ status: 400, code: 100, subcode: 2018001, message: '(#100) No matching user found' });
      }
      return ok({ recipient_id: recipient.id });
    }
    const message = (body.message ?? {}) as { text?: string; quick_replies?: unknown[]; attachment?: { type?: string; payload?: Record<string, unknown> } };
    const feedback = message.attachment?.type === 'template' && message.attachment.payload?.template_type === 'customer_feedback';
    if (feedback) {
      const refused = checkFeedbackTemplate(message.attachment!.payload!);
      if (refused) return refused;
    } else if (typeof message.text !== 'string' || message.text.length === 0) {
      return graphError({ status: 400, code: 100, message: '(#100) The parameter message is required' });
    }
    if (!feedback && message.text!.length > 2000) {
      return graphError({ status: 400, code: 100, message: '(#100) Length of param message[text] must be less than or equal to 2000' });
    }
    const quick = message.quick_replies ?? [];
    if (quick.length > 13) {
      return graphError({ status: 400, code: 100, message: '(#100) param message[quick_replies] must have a maximum of 13 elements' });
    }
    for (const q of quick as Array<{ content_type?: string; title?: string; payload?: string }>) {
      if (q.content_type !== 'text' || !q.title || !q.payload) {
        return graphError({ status: 400, code: 100, message: '(#100) quick reply needs content_type, title and payload' });
      }
    }
    const messageId = `m_${(++counter).toString(36)}${randomBytes(6).toString('hex')}`;
    if (recipient.comment_id) {
      const comment = comments.get(recipient.comment_id);
      if (!comment) return graphError({ status: 400, code: 100, subcode: 33, message: 'Unsupported post request. Object does not exist' });
      // Meta allows one private reply per comment; our sources do not name the exact error it
      // returns for a second one, so the fake answers with the window error (code 10).
      if (privateReplied.has(comment.commentId)) {
        return graphError({ status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' });
      }
      if (now - comment.createdAt.getTime() > 7 * DAY) {
        return graphError({ status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' });
      }
      privateReplied.add(comment.commentId);
      return ok({ recipient_id: comment.psid, message_id: messageId });
    }
    if (!recipient.id) return graphError({ status: 400, code: 100, message: '(#100) param recipient must be non-empty.' });
    const type = body.messaging_type;
    if (type !== 'RESPONSE' && type !== 'UPDATE' && type !== 'MESSAGE_TAG') {
      return graphError({ status: 400, code: 100, message: '(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}' });
    }
    if (type === 'MESSAGE_TAG' && typeof body.tag !== 'string') {
      return graphError({ status: 400, code: 100, message: '(#100) Tag is required for MESSAGE_TAG messaging type' });
    }
    const last = lastUserMessage.get(recipient.id);
    if (last === undefined) return graphError({ status: 400, code: 100, subcode: 2018001, message: '(#100) No matching user found' });
    const age = now - last;
    // CUSTOMER_FEEDBACK is for the Customer Feedback Template only, within 7 days of the user's last message.
    if (type === 'MESSAGE_TAG' && body.tag === 'CUSTOMER_FEEDBACK' && !feedback) {
      return graphError({ status: 400, code: 100, message: '(#100) The CUSTOMER_FEEDBACK tag may only be used with the customer feedback template' });
    }
    const allowed =
      age <= DAY ||
      (type === 'MESSAGE_TAG' && body.tag === 'HUMAN_AGENT' && humanAgentPermission && age <= 7 * DAY) ||
      (type === 'MESSAGE_TAG' && body.tag === 'CUSTOMER_FEEDBACK' && feedback && age <= 7 * DAY);
    if (!allowed) {
      return graphError({ status: 400, code: 10, subcode: 2018278, message: '(#10) This message is sent outside of allowed window.' });
    }
    return ok({ recipient_id: recipient.id, message_id: messageId });
  }

  /**
   * The Customer Feedback Template's rules: one screen with one question (csat, nps or ces; a
   * free-form follow-up of at most 400 characters' placeholder), a privacy policy URL, and an
   * expiry of 1–7 days. Our sources give the rules but not Graph's exact messages for each.
   */
  function checkFeedbackTemplate(payload: Record<string, unknown>): Answer | undefined {
    const bad = (what: string) => graphError({ status: 400, code: 100, message: `(#100) ${what}` });
    const screens = payload.feedback_screens as Array<{ questions?: Array<Record<string, unknown>> }> | undefined;
    if (!Array.isArray(screens) || screens.length !== 1) return bad('param feedback_screens must have exactly one screen');
    const questions = screens[0]!.questions;
    if (!Array.isArray(questions) || questions.length !== 1) return bad('a feedback screen must have exactly one question');
    const q = questions[0]!;
    if (typeof q.id !== 'string' || !['csat', 'nps', 'ces'].includes(String(q.type))) return bad('question needs an id and a type csat, nps or ces');
    const privacy = payload.business_privacy as { url?: unknown } | undefined;
    if (typeof privacy?.url !== 'string' || !/^https?:\/\//.test(privacy.url)) return bad('param business_privacy[url] is required');
    const days = payload.expires_in_days;
    if (days !== undefined && (typeof days !== 'number' || days < 1 || days > 7)) return bad('param expires_in_days must be between 1 and 7');
    if (typeof payload.title !== 'string' || payload.title.length === 0) return bad('param title is required');
    return undefined;
  }

  /** One Graph call after authentication: injected errors first, then the endpoint. */
  function route(call: GraphCall): Answer {
    const answer = endpoint(call);
    const g = garbles.findIndex((x) => x.path === call.path);
    if (g < 0) return answer;
    if ((garbles[g]!.skip ?? 0) > 0) {
      garbles[g]!.skip! -= 1;
      return answer;
    }
    garbles.splice(g, 1);
    const text = JSON.stringify(answer.body);
    return { ...answer, raw: text.slice(0, Math.ceil(text.length / 2)) };
  }

  function endpoint(call: GraphCall): Answer {
    const i = injected.findIndex((e) => !e.path || e.path === call.path);
    const pending = injected[i];
    if (pending && (pending.skip ?? 0) > 0) pending.skip = pending.skip! - 1;
    else if (pending) return graphError(injected.splice(i, 1)[0]!);
    const { path, body } = call;
    if (call.method !== 'POST') return graphError({ status: 400, code: 100, message: 'Unsupported get request.' });
    if (path === '/me/messages' || path === `/${pageId}/messages`) return handleMessages(body);
    if (path === '/me/pass_thread_control') {
      const recipient = body.recipient as { id?: string } | undefined;
      if (!recipient?.id || typeof body.target_app_id !== 'number') {
        return graphError({ status: 400, code: 100, message: '(#100) recipient and target_app_id are required' });
      }
      threadOwner.set(recipient.id, body.target_app_id);
      return ok({ success: true });
    }
    if (path === '/me/take_thread_control') {
      const recipient = body.recipient as { id?: string } | undefined;
      if (!recipient?.id) return graphError({ status: 400, code: 100, message: '(#100) recipient is required' });
      threadOwner.set(recipient.id, 'page');
      return ok({ success: true });
    }
    const commentReply = /^\/([\d_]+)\/comments$/.exec(path);
    if (commentReply) {
      const parentId = commentReply[1]!;
      if (!comments.has(parentId) && !pagePosts.has(parentId)) return graphError({ status: 400, code: 100, subcode: 33, message: 'Unsupported post request. Object does not exist' });
      if (typeof body.message !== 'string' || body.message === '') {
        return graphError({ status: 400, code: 100, message: '(#100) The parameter message is required' });
      }
      const id = `${parentId.split('_')[0]}_${900000 + ++counter}`;
      commentReplies.push({ parentId, id, message: body.message });
      return ok({ id });
    }
    const hide = /^\/([\d_]+)$/.exec(path);
    if (hide && 'is_hidden' in body) {
      if (!comments.has(hide[1]!)) return graphError({ status: 400, code: 100, subcode: 33, message: 'Unsupported post request. Object does not exist' });
      if (body.is_hidden === true || body.is_hidden === 'true') hidden.add(hide[1]!);
      else hidden.delete(hide[1]!);
      return ok({ success: true });
    }
    return graphError({ status: 400, code: 100, subcode: 33, message: 'Unsupported post request.' });
  }

  /**
   * A batch request (`POST /vNN.N/` with `batch=[{ method, relative_url, body }]`, at most 50):
   * each call runs with the batch's access token and gets its own answer `{ code, headers, body }`,
   * the body a JSON string; `include_headers=false` leaves the headers out.
   */
  function batch(outer: GraphCall): Answer {
    const raw = typeof outer.body.batch === 'string' ? JSON.parse(outer.body.batch) : outer.body.batch;
    if (!Array.isArray(raw) || raw.length === 0) return graphError({ status: 400, code: 100, message: '(#100) The parameter batch is required' });
    if (raw.length > 50) return graphError({ status: 400, code: 1, message: 'Too many requests in batch message. Maximum batch size is 50' });
    const withHeaders = outer.body.include_headers !== false && outer.body.include_headers !== 'false';
    return ok(
      raw.map((item: { method?: string; relative_url?: string; body?: string }) => {
        const target = new URL(`/${(item.relative_url ?? '').replace(/^\//, '')}`, 'http://127.0.0.1');
        const versioned = /^\/(v\d+\.\d+)(\/.*)$/.exec(target.pathname);
        const query = Object.fromEntries(target.searchParams);
        const call: GraphCall = {
          method: (item.method ?? 'GET').toUpperCase(),
          path: versioned?.[2] ?? target.pathname,
          version: versioned?.[1] ?? outer.version,
          query,
          body: typeof item.body === 'string' ? formParams(item.body) : {},
        };
        calls.push(call);
        const token = query.access_token ?? outer.query.access_token ?? outer.body.access_token;
        let answer: Answer;
        if (token !== pageToken) answer = graphError({ status: 400, code: 190, message: 'Invalid OAuth access token - Cannot parse access token' });
        else if (tokenExpired) answer = expiredToken();
        else if (query.appsecret_proof !== undefined && query.appsecret_proof !== expectedProof) {
          answer = graphError({ status: 400, code: 100, message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException' });
        } else answer = route(call);
        const headers = Object.entries({ 'Content-Type': 'application/json; charset=UTF-8', ...(answer.headers ?? {}) }).map(([name, value]) => ({ name, value }));
        return { code: answer.status, ...(withHeaders ? { headers } : {}), body: answer.raw ?? JSON.stringify(answer.body) };
      }),
    );
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const m = /^\/(v\d+\.\d+)(\/.*)$/.exec(url.pathname);
      const body = await readBody(req);
      const query = Object.fromEntries(url.searchParams);
      const call: GraphCall = { method: req.method ?? 'GET', path: m?.[2] ?? url.pathname, version: m?.[1] ?? '', query, body };
      if (hanging === 'before') return hold(res);
      const answer = (a: Answer) => (hanging === 'after' ? hold(res) : write(res, a));
      calls.push(call);
      if (!m) return write(res, graphError({ status: 400, code: 2500, message: 'Unknown path components', type: 'OAuthException' }));
      // The token may come as a query or a POST parameter.
      if ((query.access_token ?? body.access_token) !== pageToken) {
        return write(res, graphError({ status: 400, code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }));
      }
      if (tokenExpired) return write(res, expiredToken());
      if (query.appsecret_proof !== expectedProof) {
        return write(res, graphError({ status: 400, code: 100, message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException' }));
      }
      if (call.path === '/' && req.method === 'POST' && 'batch' in body) return answer(batch(call));
      return answer(route(call));
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error), type: 'FakeError', code: 1 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    calls,
    sentMessages: () => calls.filter((c) => c.path.endsWith('/messages') && c.body.message !== undefined),
    userWrote: (psid, at) => lastUserMessage.set(psid, at.getTime()),
    addComment: (comment) => comments.set(comment.commentId, comment),
    addPost: (postId) => void pagePosts.add(postId),
    commentReplies,
    hidden,
    threadOwner,
    failNext: (error) => injected.push(error),
    garbleNext: (options) => garbles.push({ ...options }),
    expireToken: (expired) => {
      tokenExpired = expired;
    },
    grantHumanAgent: (granted) => {
      humanAgentPermission = granted;
    },
    hang: (mode) => {
      hanging = mode;
    },
    openRequests: () => held.size,
    dropHeld() {
      for (const res of held) res.socket?.destroy();
      held.clear();
    },
    async deliver(url, body, opts) {
      const raw = metaJson(body);
      const res = await fetch(url, { method: 'POST', headers: metaSignatureHeaders(opts?.secret ?? appSecret, raw), body: raw });
      return { status: res.status, text: await res.text() };
    },
    async verifySubscription(url, verifyToken, challenge = randomBytes(8).toString('hex')) {
      const target = new URL(url);
      target.searchParams.set('hub.mode', 'subscribe');
      target.searchParams.set('hub.verify_token', verifyToken);
      target.searchParams.set('hub.challenge', challenge);
      const res = await fetch(target);
      return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
