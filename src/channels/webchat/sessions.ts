/**
 * @module channels/webchat/sessions
 * A web chat visitor has two ids. The **token** is their credential: a secret the server issues
 * (`POST /chat/api/sessions`), that only their page holds; with it one reads the visitor's event
 * stream and writes as them. The **visitor id** is public: the customer's platform id
 * (`webchat:<visitor>`), the conversation key (`webchat:private:<visitor>`), what operators see.
 * Nothing derives the token from the visitor id.
 *
 * A session costs the store nothing until its first message: the token is signed (32 bytes: the
 * time it was issued, 12 random bytes, and an HMAC of those 16 with a secret kept once in the
 * channel's values), and the visitor id is a hash of its first 16 bytes. Before its first message
 * is accepted the store gets the record of the session, under the token's SHA-256 (never the
 * token) → `{ visitor, createdAt, seenAt }`; from then on the record is the session (tokens issued
 * before signing have only their record and work as before). A session with no record is good
 * for UNUSED_MS after it was issued: a page that never wrote starts another after that (it holds
 * no conversation), and a customer's erasure, which removes their record, ends their session.
 *
 * A session with a record is kept `retentionMs` after it was last used: the record carries that
 * time to live (the store prunes expired values hourly, and at start), its use refreshes it at
 * most once a day, and a lookup of a session past its time deletes it at once (whatever the
 * store's clock). A stored session kept in memory is read again at least every RECHECK_MS and
 * before its daily refresh: an erasure elsewhere (another instance, the CLI) ends it there.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../core/ports.js';
import type { ChannelValues } from '../values.js';

/** A token as the server issues it: 32 bytes, base64url (43 characters). */
export const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a session that never sent a message is good for (it has no record to extend). */
export const UNUSED_MS = 60 * 60 * 1000;
/** Sessions looked up recently, kept in memory so a message costs no store read. */
const CACHE_SIZE = 10_000;
/**
 * How long a stored session kept in memory is trusted before its record is read again: an erasure
 * (by any instance, or the CLI) removes the record, and the session ends at the next check.
 */
export const RECHECK_MS = 60_000;
/** The channel value holding the secret that signs tokens (generated on first use). */
const SECRET_KEY = 'token-secret';
/** After a token fails to verify, the secret is read again at most this often (another instance may have stored its own first). */
const SECRET_RELOAD_MS = 60_000;

/** A visitor's session as the channel knows it. */
export interface VisitorSession {
  visitor: string;
  createdAt: number;
  seenAt: number;
  /** Whether its record is in the store: false until its first message (`keep`). */
  stored: boolean;
}

const recordSchema = z.object({ visitor: z.string().min(1), createdAt: z.number(), seenAt: z.number() });

/** The key of a token's record: its SHA-256 (the token itself is never stored). */
export const sessionKey = (token: string): string => `session:${createHash('sha256').update(token, 'utf8').digest('base64url')}`;

export interface Sessions {
  /** A new session (nothing written): the token (for the visitor only) and the public visitor id. */
  create(): Promise<{ token: string; visitor: string }>;
  /** The session of `token` (its use recorded), or undefined when unknown or expired. */
  find(token: string): Promise<VisitorSession | undefined>;
  /** Puts the session `find` gave for `token` in the store, if it is not yet: call before accepting its message. */
  keep(token: string, session: VisitorSession): Promise<void>;
}

export function createSessions(deps: { values: ChannelValues; clock: Clock; retentionMs: number }): Sessions {
  const { values, clock, retentionMs } = deps;
  /** Sessions by key, with when their record was last read or written (stored ones). */
  const cache = new Map<string, { session: VisitorSession; checkedAt: number }>();
  /** Sessions found erased here (their tokens still carry a good signature). */
  const ended = new Set<string>();
  /** Refresh the stored record this often at most (a message must not cost a write). */
  const refreshMs = Math.min(DAY_MS, retentionMs / 30);
  const unusedMs = Math.min(UNUSED_MS, retentionMs);
  let secret: Promise<Buffer> | undefined;
  let secretReadAt = -Infinity;

  /** The signing secret: the one in the store, generated there on first use. */
  async function loadSecret(): Promise<Buffer> {
    secretReadAt = clock.now().getTime();
    let text = await values.get(SECRET_KEY);
    if (text === undefined) {
      await values.set(SECRET_KEY, randomBytes(32).toString('base64url'));
      // Two instances starting at once may both generate: the one the store kept wins for both.
      text = await values.get(SECRET_KEY);
      if (text === undefined) throw new Error('web chat: the token secret could not be stored');
    }
    return Buffer.from(text, 'base64url');
  }
  const currentSecret = (): Promise<Buffer> => {
    secret ??= loadSecret().catch((err: unknown) => {
      secret = undefined;
      throw err;
    });
    return secret;
  };

  const sign = (key: Buffer, body: Buffer) => createHmac('sha256', key).update('webchat session:').update(body).digest().subarray(0, 16);
  const visitorOf = (body: Buffer) => `v${createHash('sha256').update('webchat visitor:').update(body).digest().subarray(0, 16).toString('base64url')}`;

  /** The session a signed token names (not stored), or undefined when the signature is not ours. */
  async function signed(token: string): Promise<VisitorSession | undefined> {
    const bytes = Buffer.from(token, 'base64url');
    if (bytes.length !== 32) return undefined;
    const body = bytes.subarray(0, 16);
    const mac = bytes.subarray(16);
    let key = await currentSecret();
    if (!timingSafeEqual(sign(key, body), mac)) {
      if (clock.now().getTime() - secretReadAt < SECRET_RELOAD_MS) return undefined;
      secret = undefined;
      key = await currentSecret();
      if (!timingSafeEqual(sign(key, body), mac)) return undefined;
    }
    const createdAt = body.readUInt32BE(0) * 1000;
    return { visitor: visitorOf(body), createdAt, seenAt: createdAt, stored: false };
  }

  function remember(key: string, session: VisitorSession, checkedAt = cache.get(key)?.checkedAt ?? clock.now().getTime()): void {
    cache.delete(key);
    cache.set(key, { session, checkedAt });
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }

  async function store(key: string, session: VisitorSession): Promise<void> {
    const { visitor, createdAt, seenAt } = session;
    await values.set(key, JSON.stringify({ visitor, createdAt, seenAt }), { ttlMs: retentionMs });
    remember(key, { visitor, createdAt, seenAt, stored: true }, clock.now().getTime());
  }

  /** A session from its stored record (undefined: none, or unreadable). */
  function parseRecord(raw: string | undefined): VisitorSession | undefined {
    const parsed = raw === undefined ? undefined : recordSchema.safeParse(safeJson(raw));
    return parsed?.success ? { ...parsed.data, stored: true } : undefined;
  }

  /** The session of `token`: its record when it has one, else what its signature says. */
  async function load(token: string, key: string): Promise<VisitorSession | undefined> {
    const raw = await values.get(key);
    return raw === undefined ? signed(token) : parseRecord(raw);
  }

  return {
    async create() {
      const key = await currentSecret();
      const now = clock.now().getTime();
      const body = Buffer.alloc(16);
      body.writeUInt32BE(Math.floor(now / 1000), 0);
      randomBytes(12).copy(body, 4);
      const token = Buffer.concat([body, sign(key, body)]).toString('base64url');
      const createdAt = body.readUInt32BE(0) * 1000;
      const session: VisitorSession = { visitor: visitorOf(body), createdAt, seenAt: createdAt, stored: false };
      remember(sessionKey(token), session);
      return { token, visitor: session.visitor };
    },

    async find(token) {
      if (!TOKEN.test(token)) return undefined;
      const key = sessionKey(token);
      const now = clock.now().getTime();
      const cached = cache.get(key);
      let session = cached?.session;
      if (ended.has(key)) return undefined;
      if (cached && session?.stored && (now - cached.checkedAt >= RECHECK_MS || now - session.seenAt >= refreshMs)) {
        // Its record may be gone (the customer's data erased): then the session has ended, for
        // good (its signature alone would otherwise open it again as a new one). Read again
        // before a refresh too, which would write the record back.
        session = parseRecord(await values.get(key));
        if (!session) {
          cache.delete(key);
          ended.add(key);
          if (ended.size > CACHE_SIZE) ended.delete(ended.values().next().value!);
          return undefined;
        }
        remember(key, session, now);
      }
      if (!session) {
        session = await load(token, key);
        if (!session) return undefined;
        if (session.stored) remember(key, session, now);
      }
      if (!session.stored) {
        if (now - session.createdAt >= unusedMs) {
          cache.delete(key);
          return undefined;
        }
        remember(key, session);
        return session;
      }
      if (now - session.seenAt >= retentionMs) {
        cache.delete(key);
        await values.delete(key);
        return undefined;
      }
      if (now - session.seenAt >= refreshMs) await store(key, { ...session, seenAt: now });
      else remember(key, session);
      return cache.get(key)?.session;
    },

    async keep(token, session) {
      if (session.stored) return;
      await store(sessionKey(token), { ...session, seenAt: clock.now().getTime() });
    },
  };
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
