/**
 * @module handoff/auth
 * Operator authentication: scrypt password hashes, HMAC-signed session cookies with a
 * per-session CSRF token, a same-origin check, and a login rate limit. Nothing here keeps a
 * password: only its salted, memory-hard hash is stored, and it is compared in constant time.
 */
import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { safeEqual } from '../util/safe-equal.js';
import type { Clock, Store } from '../core/ports.js';
import type { Operator } from '../core/types.js';

/** Shortest password accepted for an operator. */
export const MIN_PASSWORD_LENGTH = 10;

/** scrypt cost parameters (N = 2^15, r = 8: 32 MiB per hash, tens of ms). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 64;

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64url), parameters kept with the hash. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

const HASH_FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Checks a password against a stored hash, in constant time. False for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = HASH_FORMAT.exec(stored);
  if (!m) return false;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5]!, 'base64url');
  const actual = await scrypt(password, Buffer.from(m[4]!, 'base64url'), params);
  // timingSafeEqual: a byte-by-byte compare that stops early would leak how much matched.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Verifies a login: against the operator's hash when the name is known; otherwise a scrypt of
 * the same cost is still computed, so response time does not tell which names exist.
 */
export async function verifyLogin(operator: Operator | undefined, password: string): Promise<boolean> {
  if (operator) return verifyPassword(password, operator.passwordHash);
  await scrypt(password, randomBytes(16), DEFAULT_SCRYPT);
  return false;
}

/** Name of the store value holding the generated session secret. */
export const SESSION_SECRET_KEY = 'session_secret';
/** The namespace of the operator console's values (session secret, revoked sessions, login failures). */
export const AUTH_NS = 'auth';

/**
 * The secret that signs session cookies: SESSION_SECRET when set; otherwise one generated once
 * and kept in the store, so restarts and instances sharing the store accept the same sessions.
 */
export async function loadSessionSecret(store: Store, configured?: string): Promise<string> {
  if (configured) return configured;
  const existing = await store.values.get(AUTH_NS, SESSION_SECRET_KEY);
  if (existing) return existing;
  const generated = randomBytes(32).toString('base64url');
  await store.values.set(AUTH_NS, SESSION_SECRET_KEY, generated);
  // Two instances starting at once may both generate: the one the store kept wins for both.
  return (await store.values.get(AUTH_NS, SESSION_SECRET_KEY)) ?? generated;
}

/** Name of the session cookie. */
export const SESSION_COOKIE = 'sportello_session';

/** A valid session read from a cookie. */
export interface Session {
  operatorId: string;
  /** Random per-session id: the CSRF token and revocation derive from it. */
  nonce: string;
  expiresAt: number;
  csrfToken: string;
}

/** Session cookies signed with HMAC-SHA256. */
export interface Sessions {
  /** Starts a session: the Set-Cookie value and the CSRF token to send with state changes. */
  issue(operatorId: string): Promise<{ setCookie: string; session: Session }>;
  /** Reads and checks the session cookie of a request; undefined when absent, forged, expired or revoked. */
  read(cookieHeader: string | undefined): Promise<Session | undefined>;
  /** Ends a session for good (this instance and any sharing the store). */
  revoke(session: Session): Promise<void>;
  /** A Set-Cookie value that deletes the cookie. */
  clearCookie(): string;
  /** Whether `token` is the CSRF token of `session` (constant time). */
  checkCsrf(session: Session, token: string | undefined): boolean;
}

/** Session lifetime: one long shift. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;


function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

const mac = (secret: string, purpose: string, data: string) => createHmac('sha256', secret).update(`${purpose}:${data}`).digest('base64url');

/**
 * Creates the session signer. With `secret` (SESSION_SECRET) that secret signs everything;
 * without it the secret kept in the store does (generated on first use). Two instances that
 * start together may both generate one, and only one stays in the store: so each login signs
 * with the stored secret, and a cookie that fails to verify is checked again after re-reading
 * it, and every instance converges on the stored secret. `secure` adds the Secure attribute.
 */
export function createSessions(options: { secret?: string; clock: Clock; store: Store; secure: boolean; ttlMs?: number }): Sessions {
  const { clock, store } = options;
  const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  const attributes = `HttpOnly; SameSite=Strict; Path=/${options.secure ? '; Secure' : ''}`;
  const revokedKey = (nonce: string) => `session-revoked:${nonce}`;
  let cached: string | undefined = options.secret;
  const stored = async (): Promise<string> => (cached = await loadSessionSecret(store));
  const current = async (): Promise<string> => cached ?? stored();

  async function verify(payload: string, signature: string): Promise<string | undefined> {
    const secret = await current();
    if (safeEqual(signature, mac(secret, 'session', payload))) return secret;
    if (options.secret) return undefined;
    const fresh = await stored();
    return fresh !== secret && safeEqual(signature, mac(fresh, 'session', payload)) ? fresh : undefined;
  }

  return {
    async issue(operatorId) {
      const secret = options.secret ?? (await stored());
      const nonce = randomBytes(18).toString('base64url');
      const expiresAt = clock.now().getTime() + ttlMs;
      const payload = Buffer.from(JSON.stringify({ o: operatorId, n: nonce, e: expiresAt })).toString('base64url');
      const value = `${payload}.${mac(secret, 'session', payload)}`;
      return {
        setCookie: `${SESSION_COOKIE}=${value}; Max-Age=${Math.floor(ttlMs / 1000)}; ${attributes}`,
        session: { operatorId, nonce, expiresAt, csrfToken: mac(secret, 'csrf', nonce) },
      };
    },
    async read(cookieHeader) {
      const value = parseCookies(cookieHeader).get(SESSION_COOKIE);
      if (!value) return undefined;
      const [payload, signature] = value.split('.');
      if (!payload || !signature) return undefined;
      const secret = await verify(payload, signature);
      if (!secret) return undefined;
      let data: unknown;
      try {
        data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch (err) {
        // Signed by us yet unreadable: only possible with a leaked secret. Treat as no session.
        void err;
        return undefined;
      }
      if (typeof data !== 'object' || data === null) return undefined;
      const { o, n, e } = data as Record<string, unknown>;
      if (typeof o !== 'string' || typeof n !== 'string' || typeof e !== 'number') return undefined;
      if (e <= clock.now().getTime()) return undefined;
      if (await store.values.get(AUTH_NS, revokedKey(n))) return undefined;
      return { operatorId: o, nonce: n, expiresAt: e, csrfToken: mac(secret, 'csrf', n) };
    },
    async revoke(session) {
      // Kept until the session would have expired anyway, then pruned.
      const ttlMs = Math.max(1, session.expiresAt - clock.now().getTime());
      await store.values.set(AUTH_NS, revokedKey(session.nonce), new Date(session.expiresAt).toISOString(), { ttlMs });
    },
    clearCookie() {
      return `${SESSION_COOKIE}=; Max-Age=0; ${attributes}`;
    },
    checkCsrf(session, token) {
      return typeof token === 'string' && token.length > 0 && safeEqual(token, session.csrfToken);
    },
  };
}

/**
 * Refuses cross-site requests: a browser's `Sec-Fetch-Site` must be same-origin, and an
 * `Origin` header must be one of ours. Requests with neither (curl, scripts) pass; they still
 * need the CSRF token, which only a logged-in page can read.
 */
export function isSameOrigin(headers: Record<string, string | string[] | undefined>, allowedOrigins: readonly string[]): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin') return false;
  const origin = headers.origin;
  if (typeof origin === 'string') return allowedOrigins.includes(origin.toLowerCase());
  return true;
}

/** Counts failed logins per key (name + address) and blocks after too many. */
export interface LoginLimiter {
  /** Epoch ms until which the key is blocked, or undefined. */
  blockedUntil(key: string): Promise<number | undefined>;
  fail(key: string): Promise<void>;
  succeed(key: string): Promise<void>;
}

/**
 * Creates a login limiter: `maxFailures` failures within `windowMs` block the key for the rest
 * of the window. With a store, failures are kept there (under a hash of the key, so no name or
 * address is stored), so instances sharing the store share the count; otherwise in memory.
 */
export function createLoginLimiter(options: { clock: Clock; store?: Pick<Store, 'values'>; maxFailures?: number; windowMs?: number }): LoginLimiter {
  const max = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 15 * 60 * 1000;
  const memory = new Map<string, number[]>();
  const storeKey = (key: string) => `login-failures:${createHmac('sha256', 'sportello-login-limiter').update(key).digest('base64url')}`;

  async function load(key: string): Promise<number[]> {
    if (!options.store) return memory.get(key) ?? [];
    const raw = await options.store.values.get(AUTH_NS, storeKey(key));
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? parsed.filter((t): t is number => typeof t === 'number') : [];
  }
  async function save(key: string, times: number[]): Promise<void> {
    if (!options.store) {
      if (times.length > 0) memory.set(key, times);
      else memory.delete(key);
      return;
    }
    // Failures older than the window no longer count: the value expires with the last of them.
    await options.store.values.set(AUTH_NS, storeKey(key), JSON.stringify(times), { ttlMs: windowMs });
  }
  async function recent(key: string): Promise<number[]> {
    const now = options.clock.now().getTime();
    return (await load(key)).filter((t) => t > now - windowMs);
  }

  return {
    async blockedUntil(key) {
      const kept = await recent(key);
      return kept.length >= max ? kept[kept.length - max]! + windowMs : undefined;
    },
    async fail(key) {
      const kept = await recent(key);
      kept.push(options.clock.now().getTime());
      await save(key, kept.slice(-max * 2));
    },
    async succeed(key) {
      if (options.store && !(await options.store.values.get(AUTH_NS, storeKey(key)))) return;
      await save(key, []);
    },
  };
}
