/**
 * @module channels/webchat/sessions
 * A web chat visitor has two ids. The **token** is their credential: a random secret the server
 * issues (`POST /chat/api/sessions`), that only their page holds; with it one reads the visitor's
 * event stream and writes as them. The **visitor id** is public: the customer's platform id
 * (`webchat:<visitor>`), the conversation key (`webchat:private:<visitor>`), what operators see.
 * Nothing derives one from the other: the store keeps, in the channel's values, the token's
 * SHA-256 (never the token) → `{ visitor, createdAt, seenAt }`.
 *
 * A session is kept `retentionMs` after it was last used: the record carries that time to live
 * (the store prunes expired values hourly, and at start), its use refreshes it at most once a
 * day, and a lookup of a session past its time deletes it at once (whatever the store's clock).
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../core/ports.js';
import type { ChannelValues } from '../values.js';

/** A token as the server issues it: 32 random bytes, base64url (43 characters). */
export const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Sessions looked up recently, kept in memory so a message costs no store read. */
const CACHE_SIZE = 10_000;

/** A visitor's session as the channel knows it. */
export interface VisitorSession {
  visitor: string;
  createdAt: number;
  seenAt: number;
}

const recordSchema = z.object({ visitor: z.string().min(1), createdAt: z.number(), seenAt: z.number() });

/** The key of a token's record: its SHA-256 (the token itself is never stored). */
export const sessionKey = (token: string): string => `session:${createHash('sha256').update(token, 'utf8').digest('base64url')}`;

export interface Sessions {
  /** A new session: the token (for the visitor only) and the public visitor id. */
  create(): Promise<{ token: string; visitor: string }>;
  /** The session of `token` (its use recorded), or undefined when unknown or expired. */
  find(token: string): Promise<VisitorSession | undefined>;
}

export function createSessions(deps: { values: ChannelValues; clock: Clock; retentionMs: number }): Sessions {
  const { values, clock, retentionMs } = deps;
  const cache = new Map<string, VisitorSession>();
  /** Refresh the stored record this often at most (a message must not cost a write). */
  const refreshMs = Math.min(DAY_MS, retentionMs / 30);

  function remember(key: string, session: VisitorSession): void {
    cache.delete(key);
    cache.set(key, session);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }

  async function store(key: string, session: VisitorSession): Promise<void> {
    await values.set(key, JSON.stringify(session), { ttlMs: retentionMs });
    remember(key, session);
  }

  return {
    async create() {
      const token = randomBytes(32).toString('base64url');
      const visitor = `v${randomBytes(16).toString('base64url')}`;
      const now = clock.now().getTime();
      await store(sessionKey(token), { visitor, createdAt: now, seenAt: now });
      return { token, visitor };
    },

    async find(token) {
      if (!TOKEN.test(token)) return undefined;
      const key = sessionKey(token);
      let session = cache.get(key);
      if (!session) {
        const raw = await values.get(key);
        const parsed = raw === undefined ? undefined : recordSchema.safeParse(safeJson(raw));
        if (!parsed?.success) return undefined;
        session = parsed.data;
      }
      const now = clock.now().getTime();
      if (now - session.seenAt >= retentionMs) {
        cache.delete(key);
        await values.delete(key);
        return undefined;
      }
      if (now - session.seenAt >= refreshMs) await store(key, { ...session, seenAt: now });
      else remember(key, session);
      return cache.get(key);
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
