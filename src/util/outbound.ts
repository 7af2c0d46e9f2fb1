/**
 * @module util/outbound
 * What every call to a platform shares: HTTP agents that give up on a connection that does not
 * open in time (the connect timeout; the total timeout is set on each call by its client), the
 * reading of `Retry-After`, and telling a failure that certainly left nothing at the platform
 * (the connection never opened) from one whose outcome is unknown (the request left, no answer came).
 */
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';

/** Time limits of every outbound call (OUTBOUND_CONNECT_TIMEOUT_MS, OUTBOUND_TIMEOUT_MS). */
export interface OutboundLimits {
  /** A connection (TCP and TLS) that has not opened after this long is dropped: nothing was sent. */
  connectTimeoutMs: number;
  /** A call without a complete answer after this long is given up: its outcome is unknown. */
  timeoutMs: number;
}

/** The error code of a connection that did not open within the connect timeout. */
export const CONNECT_TIMEOUT_CODE = 'ESPORTELLOCONNECTTIMEOUT';

type CreateConnection = (options: object, callback: (err: Error | null, socket: Duplex) => void) => Duplex | undefined;

/** Arms the connect timer on every new socket the agent opens (TLS sockets wait for the handshake). */
function withConnectTimeout<A extends HttpAgent>(agent: A, connectTimeoutMs: number, secure: boolean): A {
  const create = (agent as unknown as { createConnection: CreateConnection }).createConnection.bind(agent);
  (agent as unknown as { createConnection: CreateConnection }).createConnection = (options, callback) => {
    const socket = create(options, callback);
    if (!socket) return socket;
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`connect timeout: no connection after ${connectTimeoutMs} ms`), { code: CONNECT_TIMEOUT_CODE });
      socket.destroy(error);
    }, connectTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    socket.once(secure ? 'secureConnect' : 'connect', clear);
    socket.once('close', clear);
    socket.once('error', clear);
    return socket;
  };
  return agent;
}

/** A keep-alive HTTP agent with the connect timeout. */
export function outboundHttpAgent(limits: OutboundLimits, options: AgentOptions = {}): HttpAgent {
  return withConnectTimeout(new HttpAgent({ keepAlive: true, ...options }), limits.connectTimeoutMs, false);
}

/** A keep-alive HTTPS agent with the connect timeout (counting the TLS handshake). */
export function outboundHttpsAgent(limits: OutboundLimits, options: HttpsAgentOptions = {}): HttpsAgent {
  return withConnectTimeout(new HttpsAgent({ keepAlive: true, ...options }), limits.connectTimeoutMs, true);
}

/** Codes of failures before anything was written to the platform: retrying cannot duplicate. */
const NOT_SENT_CODES = new Set([
  CONNECT_TIMEOUT_CODE,
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Whether a call that got no answer may have reached the platform: `not_sent` when the connection
 * never opened (refused, unknown host, connect timeout, bad certificate), else `unknown` (the request
 * may have left: a timeout while waiting, a connection dropped mid-call). Looks through `cause`s.
 */
export function deliveryOf(error: unknown): 'not_sent' | 'unknown' {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return 'not_sent';
    const errors = (e as { errors?: unknown }).errors;
    // AggregateError of a dual-stack connect: every address refused.
    if (Array.isArray(errors) && errors.length > 0 && errors.every((x) => deliveryOf(x) === 'not_sent')) return 'not_sent';
  }
  return 'unknown';
}

/**
 * `Retry-After` (RFC 9110: delay-seconds or an HTTP-date) as epoch ms, or undefined when absent
 * or unreadable. A date in the past means now.
 */
export function retryAfterAt(value: unknown, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? now + raw * 1000 : undefined;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return now + Number(text) * 1000;
  // An HTTP-date names its day and month (`Tue, 24 Nov 2026 09:01:30 GMT`); Date.parse alone would take "-5" for a year.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(now, date);
}
