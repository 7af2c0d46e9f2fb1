/**
 * @module actions/http
 * An HTTP action: the brand's endpoint answers for an FAQ entry. Each call is one JSON POST signed
 * by the Standard Webhooks specification, as Sportello's outbound events are (headers
 * `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`, one signature per secret during a rotation), so the receiver
 * verifies it with the `standardwebhooks` library of its language. The id stays the same across
 * retries. Connection refused or reset, a connect timeout, 5xx and 429 are retried with backoff
 * (429/503 `Retry-After` honoured) while the action's time lasts; other statuses, a body that is
 * not JSON, or more than 64 KiB, fail at once. The reply body is checked by the runner (zod).
 */
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { ActionInput } from '../core/ports.js';
import { newId } from '../util/ids.js';
import { DEFAULT_ACTION_TIMEOUT_MS, type Action, type ActionContext } from './define.js';

/** An HTTP action as declared in the actions folder (`actions/NAME.yaml`). */
export interface HttpActionSpec {
  name: string;
  url: string;
  /** The whole call, retries included (default 5000 ms). */
  timeoutMs?: number;
  /** Setting up one connection (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  retries?: number;
}

/** The body of an action call: what `handle` gets, with the event type and time (Standard Webhooks' payload shape). */
export interface ActionRequestBody extends ActionInput {
  type: 'action.request';
  timestamp: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
const DEFAULT_RETRIES = 2;
const MAX_REPLY_BYTES = 64 * 1024;

/** Why one attempt failed, and whether another may succeed. */
class AttemptError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly retryAfterMs?: number) {
    super(message);
  }
}

/**
 * Makes an action of the brand's HTTP endpoint, signed with `secrets` (whsec_…; several while a
 * secret is rotated: the receiver accepts a call when one signature matches).
 */
export function httpAction(spec: HttpActionSpec, options: { secrets: readonly string[]; now?: () => number }): Action {
  if (options.secrets.length === 0) throw new TypeError(`HTTP action ${spec.name}: no signing secret`);
  const signers = options.secrets.map((secret) => new Webhook(secret));
  const url = new URL(spec.url);
  const timeoutMs = spec.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS;
  const connectTimeoutMs = spec.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const retries = spec.retries ?? DEFAULT_RETRIES;
  const now = options.now ?? Date.now;

  async function handle(input: ActionInput, { signal }: ActionContext): Promise<unknown> {
    const deadline = now() + timeoutMs;
    const id = newId('msg');
    const request: ActionRequestBody = { type: 'action.request', timestamp: new Date(now()).toISOString(), ...input };
    const body = JSON.stringify(request);
    for (let attempt = 0; ; attempt += 1) {
      const sentAt = new Date(now());
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Sportello',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signers.map((s) => s.sign(id, sentAt, body)).join(' '),
      };
      try {
        return await post(url, body, headers, { connectTimeoutMs, deadline, now, signal });
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err;
        const wait = err.retryAfterMs ?? backoff(attempt);
        const tries = attempt > 0 ? ` (${attempt + 1} attempts)` : '';
        if (!err.retryable || attempt >= retries || signal.aborted) throw new Error(`${err.message}${tries}`);
        if (now() + wait >= deadline) throw new Error(`${err.message}; no time left to retry`);
        await sleep(wait, signal);
      }
    }
  }

  return { name: spec.name, timeoutMs, handle: handle as Action['handle'] };
}

/** 200 ms, 400 ms, 800 ms… with up to 100 ms of jitter. */
function backoff(attempt: number): number {
  return 200 * 2 ** attempt + Math.floor(Math.random() * 100);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** `Retry-After` in ms (seconds or an HTTP date), when given. */
function retryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** One POST: the parsed JSON reply of a 2xx, or an AttemptError. */
function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: { connectTimeoutMs: number; deadline: number; now: () => number; signal: AbortSignal },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const left = options.deadline - options.now();
    if (left <= 0 || options.signal.aborted) {
      reject(new AttemptError('timed out', false));
      return;
    }
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    let settled = false;
    const finish = (err: AttemptError | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      options.signal.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value);
    };
    const total = setTimeout(() => finish(new AttemptError(`no reply within the action's time`, false)), left);
    let connect: NodeJS.Timeout | undefined;
    const onAbort = () => finish(new AttemptError('timed out', false));
    options.signal.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connect = setTimeout(() => finish(new AttemptError(`could not connect within ${options.connectTimeoutMs} ms`, true)), options.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connect));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(new AttemptError(`request failed (${err.code ?? err.message})`, true)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) finish(new AttemptError(`the reply is larger than ${MAX_REPLY_BYTES} bytes`, false));
        else chunks.push(chunk);
      });
      res.on('error', (err) => finish(new AttemptError(`the reply broke off (${err.message})`, true)));
      res.on('end', () => {
        if (status === 429 || status >= 500) {
          const wait = status === 429 || status === 503 ? retryAfter(res.headers['retry-after'], options.now()) : undefined;
          finish(new AttemptError(`HTTP ${status}`, true, wait));
          return;
        }
        if (status < 200 || status > 299) {
          finish(new AttemptError(`HTTP ${status}`, false));
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          finish(undefined, JSON.parse(text));
        } catch {
          finish(new AttemptError(text.trim() === '' ? `HTTP ${status} with an empty body: expected a JSON reply` : `HTTP ${status}: the reply is not JSON`, false));
        }
      });
    });
    req.end(body);
  });
}
