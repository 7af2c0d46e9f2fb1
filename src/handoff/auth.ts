/**
 * @module handoff/auth
 * Operator authentication: scrypt password hashes computed in a bounded pool, sessions kept in
 * the store and named by HMAC-signed cookies with a per-session CSRF token, a same-origin check,
 * and a login limit counted before the password is checked. Nothing here keeps a password: only
 * its salted, memory-hard hash is stored, and it is compared in constant time.
 */
import { createHash, createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { z } from 'zod';
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
/** The namespace of the operator console's values (session secret, sessions, login attempts and blocks). */
export const AUTH_NS = 'auth';

/**
 * The secret that signs session cookies: SESSION_SECRET when set; otherwise one generated once
 * and kept in the store, so restarts and instances sharing the store accept the same sessions.
 */
export async function loadSessionSecret(store: Pick<Store, 'values'>, configured?: string): Promise<string> {
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

/** A valid session: its record in the store and the operator it belongs to. */
export interface Session {
  operatorId: string;
  /** The operator as stored now (the session was checked against their current password). */
  operator: Operator;
  /** Random per-session id, the cookie's content: the CSRF token derives from it. */
  nonce: string;
  /** When the session ends (epoch ms), as recorded by the server when it was issued. */
  expiresAt: number;
  csrfToken: string;
}

/** Sessions kept in the store, named by signed cookies. */
export interface Sessions {
  /** Starts a session for `operator`: the Set-Cookie value and the session (with its CSRF token). */
  issue(operator: Operator): Promise<{ setCookie: string; session: Session }>;
  /**
   * Reads and checks the session cookie of a request: undefined when absent or forged, when its
   * record is gone (logged out) or expired, when the operator no longer exists or changed their
   * password since it was issued.
   */
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
const digest = (data: string) => createHash('sha256').update(data).digest('base64url');

/** What the store keeps of a session: who, until when, and which password it was opened with. */
const sessionRecordSchema = z.object({ o: z.string().min(1), e: z.number().finite(), p: z.string().min(1) });

/** A fingerprint of the operator's password hash: changing the password ends every older session. */
const passwordStamp = (operator: Operator) => digest(`password:${operator.passwordHash}`).slice(0, 22);

/**
 * Creates the sessions. A session is a record in the store's values (`auth:session:<hash of the
 * nonce>`: the operator, the expiry, a fingerprint of the password), expiring with it; the cookie
 * carries only the random nonce and its HMAC, so it cannot extend itself or name another
 * operator, and logging out (deleting the record) or changing the password ends it on every
 * instance sharing the store. With `secret` (SESSION_SECRET) that secret signs; without it the
 * one kept in the store does (generated on first use). Two instances that start together may
 * both generate one, and only one stays in the store: each login signs with the stored secret,
 * and a cookie that fails to verify is checked again after re-reading it, so every instance
 * converges on the stored secret. `secure` adds the Secure attribute.
 */
export function createSessions(options: { secret?: string; clock: Clock; store: Pick<Store, 'values' | 'directory'>; secure: boolean; ttlMs?: number }): Sessions {
  const { clock, store } = options;
  const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  const attributes = `HttpOnly; SameSite=Strict; Path=/${options.secure ? '; Secure' : ''}`;
  // The store holds a hash of the nonce: a copy of the store does not hand out live cookies.
  const recordKey = (nonce: string) => `session:${digest(`session:${nonce}`)}`;
  let cached: string | undefined = options.secret;
  const stored = async (): Promise<string> => (cached = await loadSessionSecret(store));
  const current = async (): Promise<string> => cached ?? stored();

  async function verify(nonce: string, signature: string): Promise<string | undefined> {
    const secret = await current();
    if (safeEqual(signature, mac(secret, 'session', nonce))) return secret;
    if (options.secret) return undefined;
    const fresh = await stored();
    return fresh !== secret && safeEqual(signature, mac(fresh, 'session', nonce)) ? fresh : undefined;
  }

  return {
    async issue(operator) {
      const secret = options.secret ?? (await stored());
      const nonce = randomBytes(24).toString('base64url');
      const expiresAt = clock.now().getTime() + ttlMs;
      const record = { o: operator.id, e: expiresAt, p: passwordStamp(operator) };
      await store.values.set(AUTH_NS, recordKey(nonce), JSON.stringify(record), { ttlMs });
      return {
        setCookie: `${SESSION_COOKIE}=${nonce}.${mac(secret, 'session', nonce)}; Max-Age=${Math.floor(ttlMs / 1000)}; ${attributes}`,
        session: { operatorId: operator.id, operator, nonce, expiresAt, csrfToken: mac(secret, 'csrf', nonce) },
      };
    },
    async read(cookieHeader) {
      const value = parseCookies(cookieHeader).get(SESSION_COOKIE);
      if (!value || value.length > 200) return undefined;
      const [nonce, signature, extra] = value.split('.');
      if (!nonce || !signature || extra !== undefined) return undefined;
      const secret = await verify(nonce, signature);
      if (!secret) return undefined;
      const raw = await store.values.get(AUTH_NS, recordKey(nonce));
      if (!raw) return undefined;
      let parsed: z.infer<typeof sessionRecordSchema>;
      try {
        parsed = sessionRecordSchema.parse(JSON.parse(raw));
      } catch (err) {
        // A damaged record names no one: no session.
        void err;
        return undefined;
      }
      if (parsed.e <= clock.now().getTime()) return undefined;
      const operator = await store.directory.getOperator(parsed.o);
      if (!operator || !safeEqual(parsed.p, passwordStamp(operator))) return undefined;
      return { operatorId: operator.id, operator, nonce, expiresAt: parsed.e, csrfToken: mac(secret, 'csrf', nonce) };
    },
    async revoke(session) {
      await store.values.delete(AUTH_NS, recordKey(session.nonce));
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

// ───────────────────────── the hashing pool ─────────────────────────

/** Thrown when the hashing pool is full: answer 503 with Retry-After, quickly. */
export class HashPoolBusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many logins at once: try again in a moment');
  }
}

/** A place in the hashing pool's line, taken before the attempt is counted. */
export interface HashSlot {
  /** Waits for this slot's turn, runs `work`, and frees the slot. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Frees the slot without running anything (the attempt was refused). */
  cancel(): void;
}

/** A bounded pool for password hashing: `concurrency` at a time, `queue` more waiting, the rest refused. */
export interface HashPool {
  /** A place in line, or HashPoolBusyError when running and waiting places are all taken. */
  reserve(): HashSlot;
  /** Hashes running and waiting now. */
  load(): { running: number; waiting: number };
}

/**
 * Creates the pool that every password check and hash of the login routes goes through. scrypt
 * runs on libuv's thread pool (4 threads by default), which also serves file writes (the
 * embedded store's fsync) and DNS lookups: with at most `concurrency` hashes (default 1) no
 * flood of logins can take those threads from webhooks, and with at most `queue` waiting
 * (default 32: a whole team signing in at the start of a shift waits its turn, a few seconds
 * at most) the others are refused at once instead of piling up.
 */
export function createHashPool(options: { concurrency?: number; queue?: number } = {}): HashPool {
  const concurrency = options.concurrency ?? 1;
  const queueLength = options.queue ?? 32;
  let running = 0;
  const waiting: Array<() => void> = [];
  let reserved = 0;

  const next = () => {
    const start = waiting.shift();
    if (start) start();
  };

  return {
    reserve() {
      if (reserved >= concurrency + queueLength) throw new HashPoolBusyError(1);
      reserved += 1;
      let done = false;
      const release = () => {
        if (done) return;
        done = true;
        reserved -= 1;
      };
      return {
        async run(work) {
          if (done) throw new Error('this hashing slot was already used');
          if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
          running += 1;
          try {
            return await work();
          } finally {
            running -= 1;
            release();
            next();
          }
        },
        cancel: release,
      };
    },
    load: () => ({ running, waiting: waiting.length }),
  };
}

// ───────────────────────── the login limit ─────────────────────────

/** The outcome of counting a login attempt. */
export type LoginAttempt =
  | {
      allowed: true;
      /** Call after the right password: forgets this name's failures (from this address, and overall unless the address was known), and knows the address. */
      succeeded(): Promise<void>;
    }
  | { allowed: false; retryAfterMs: number; scope: 'address' | 'account' };

/** Counts login attempts before the password is checked, and blocks for a growing while. */
export interface LoginGate {
  /** Counts one attempt for `name` from `address`: allowed (check the password) or refused with the wait. */
  attempt(name: string, address: string): Promise<LoginAttempt>;
}

/** How the gate limits: attempts per block and how long blocks last. */
export interface LoginLimits {
  /** Password checks allowed for one name from one address before a block (default 5). */
  perAddress: number;
  /** Password checks allowed for one name from all addresses together (default 20). */
  perAccount: number;
  /**
   * Attempts counted from one address whatever the names (default 50), except for a name
   * the address is known for: names sprayed from one address stop there, so the records the limit
   * keeps grow with the addresses an attacker holds, not with the guesses.
   */
  perAddressAllNames: number;
  /** Length of the 1st, 2nd, … block; the last repeats (default 15 s, 1 min, 5 min, 15 min). */
  blocksMs: number[];
  /** A block level is forgotten this long after the last block ended (default 1 hour). */
  forgetAfterMs: number;
  /** Attempts are forgotten this long after the first of them without a block (default 1 hour). */
  countForMs: number;
  /**
   * An address from which a name logged in is known for it this long after (default 30 days): the
   * name's looser limit across addresses neither counts nor blocks it (its own limit still does).
   */
  knownForMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perAddress: 5,
  perAccount: 20,
  perAddressAllNames: 50,
  blocksMs: [15_000, 60_000, 5 * 60_000, 15 * 60_000],
  forgetAfterMs: 60 * 60_000,
  countForMs: 60 * 60_000,
  knownForMs: 30 * 24 * 60 * 60_000,
};

/** A block as stored: until when (epoch ms), how many blocks in a row, and the counting round after it. */
const blockSchema = z.object({ until: z.number().finite(), level: z.number().int().min(1), round: z.number().int().min(0) });
type Block = z.infer<typeof blockSchema>;

/**
 * The address attempts are counted under: an IPv4-mapped IPv6 address as IPv4, any other IPv6
 * address by its /64 network (one subscriber usually holds a whole /64, and could rotate within it).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Creates the login gate. Every attempt is counted in the store with an atomic increment
 * (`values.increment`) *before* the password is checked, under two keys: the name from this
 * address, and the name from anywhere (a looser limit, against guesses rotated over many
 * addresses). However many guesses arrive at once, across however many instances, at most
 * `perAddress` of them reach the password check; the others are refused, the right password
 * too. The attempt that goes past the limit starts a block: 15 seconds the first time, then
 * 1, 5 and 15 minutes while blocks follow each other within an hour (so a colleague behind the
 * same office NAT is kept out for seconds, a persistent guesser for long), and counting starts
 * again once it ends. The right password forgets the name's failures. Names and addresses are
 * stored only as keyed hashes, and every record expires (attempts an hour after the first, a
 * block an hour after it ends).
 *
 * The looser limit per name would otherwise let anyone keep an operator out: twenty wrong
 * guesses from anywhere blocked the name everywhere, the operator at their usual desk included.
 * So an address from which the name logged in (kept `knownForMs`, as a keyed hash of name and
 * address) is not counted or blocked by it: guesses spread over many addresses are still
 * stopped, the operator's own address is limited only by its own five.
 *
 * Each name tried leaves a record for an hour (the name's count), so names sprayed at random from
 * one address would grow the store without bound. One address is therefore also limited across
 * all names (`perAddressAllNames`, counted first, same blocks; a name the address is known for is
 * exempt, so guessers behind an office address cannot keep its operators out): an address
 * past it writes nothing more, and what the limit keeps grows with the addresses, not the guesses.
 * It treats every name alike, existing or not, so it tells nothing about which names exist.
 */
export function createLoginGate(options: { clock: Clock; store: Pick<Store, 'values'>; limits?: Partial<LoginLimits> }): LoginGate {
  const { clock, store } = options;
  const limits = { ...DEFAULT_LOGIN_LIMITS, ...options.limits };
  const hash = (text: string) => createHmac('sha256', 'sportello-login-limiter').update(text).digest('base64url').slice(0, 32);
  const blockKey = (id: string) => `login-block:${id}`;
  const countKey = (id: string, round: number) => `login-try:${id}:${round}`;
  const knownKey = (pair: string) => `login-known:${pair}`;

  async function readBlock(id: string): Promise<Block | undefined> {
    const raw = await store.values.get(AUTH_NS, blockKey(id));
    if (!raw) return undefined;
    try {
      return blockSchema.parse(JSON.parse(raw));
    } catch (err) {
      // A damaged record blocks no one; it is overwritten by the next block.
      void err;
      return undefined;
    }
  }

  /** Counts one attempt under `id`; the wait when it goes past `limit`. */
  async function count(id: string, block: Block | undefined, limit: number): Promise<number | undefined> {
    const round = block?.round ?? 0;
    const n = await store.values.increment(AUTH_NS, countKey(id, round), { ttlMs: limits.countForMs });
    if (n <= limit) return undefined;
    const now = clock.now().getTime();
    const level = block && now - block.until < limits.forgetAfterMs ? block.level + 1 : 1;
    const ms = limits.blocksMs[Math.min(level, limits.blocksMs.length) - 1]!;
    // The attempt that went past the limit starts the block (exactly one, whatever the instance).
    if (n === limit + 1) {
      const next: Block = { until: now + ms, level, round: round + 1 };
      await store.values.set(AUTH_NS, blockKey(id), JSON.stringify(next), { ttlMs: ms + limits.forgetAfterMs });
    }
    return ms;
  }

  return {
    async attempt(name, address) {
      const account = hash(`account:${name.normalize('NFC').toLocaleLowerCase()}`);
      const pair = hash(`pair:${name.normalize('NFC').toLocaleLowerCase()}|${addressKey(address)}`);
      const from = hash(`address:${addressKey(address)}`);
      const [pairBlock, accountBlock, fromBlock, known] = await Promise.all([
        readBlock(pair),
        readBlock(account),
        readBlock(from),
        store.values.get(AUTH_NS, knownKey(pair)),
      ]);
      const now = clock.now().getTime();
      const waits = [pairBlock, accountBlock, fromBlock].map((b) => (b && b.until > now ? b.until - now : 0));
      if (waits[0]! > 0) return { allowed: false, retryAfterMs: waits[0]!, scope: 'address' };
      if (!known && waits[2]! > 0) return { allowed: false, retryAfterMs: waits[2]!, scope: 'address' };
      if (!known && waits[1]! > 0) return { allowed: false, retryAfterMs: waits[1]!, scope: 'account' };
      // The address's budget across names first: past it, nothing is written for the name typed.
      if (!known) {
        const fromWait = await count(from, fromBlock, limits.perAddressAllNames);
        if (fromWait !== undefined) return { allowed: false, retryAfterMs: fromWait, scope: 'address' };
      }
      const pairWait = await count(pair, pairBlock, limits.perAddress);
      if (pairWait !== undefined) return { allowed: false, retryAfterMs: pairWait, scope: 'address' };
      if (!known) {
        const accountWait = await count(account, accountBlock, limits.perAccount);
        if (accountWait !== undefined) return { allowed: false, retryAfterMs: accountWait, scope: 'account' };
      }
      return {
        allowed: true,
        async succeeded() {
          await Promise.all([
            store.values.delete(AUTH_NS, countKey(pair, pairBlock?.round ?? 0)),
            store.values.delete(AUTH_NS, blockKey(pair)),
            // A known address never counted for the name: guesses from elsewhere stay counted (and blocked).
            ...(known
              ? []
              : [store.values.delete(AUTH_NS, countKey(account, accountBlock?.round ?? 0)), store.values.delete(AUTH_NS, blockKey(account))]),
            store.values.set(AUTH_NS, knownKey(pair), '1', { ttlMs: limits.knownForMs }),
          ]);
        },
      };
    },
  };
}
