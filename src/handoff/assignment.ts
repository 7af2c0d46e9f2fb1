/**
 * @module handoff/assignment
 * Presence and assignment (issue 21). Operators say they are online or away; an online operator
 * whose console stopped checking in (its live event stream, every heartbeat) for two minutes
 * counts as away. Admins set the desk's settings: optional auto-assignment (round robin among
 * online operators: the one holding the fewest conversations, then the one auto-assigned least
 * recently; a per-operator cap; language and channel skills), teams (groups of operators with
 * their own queue view: their channels and languages), and how long an away operator keeps
 * their conversations before they return to the queue.
 *
 * Every change to a conversation goes through the operator desk (writer.change): an auto-claim
 * is a claim of a queued conversation (`desk.assign`), a return is `desk.release`. Several
 * instances may run passes at once: a conversation is claimed once (the revision check), and the
 * cap may be passed by one at such a moment. Settings and presence are small values in the
 * store's KeyValues (`desk:settings`, `presence:<operator id>`), checked with zod when read.
 */
import { z } from 'zod';
import type { EventBus } from '../core/events.js';
import type { Clock, Store } from '../core/ports.js';
import type { Conversation, Operator } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import type { OperatorDesk } from './operator-desk.js';

/** An online operator whose console has not checked in for this long counts as away. */
export const PRESENCE_STALE_MS = 2 * 60_000;
/** A console's check-in is written at most this often. */
const TOUCH_EVERY_MS = 30_000;

const language = z.enum(['it', 'en']);
const channelName = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'not a channel name');

/** An operator's skills: empty lists mean any. */
export const skillsSchema = z.object({ languages: z.array(language).default([]), channels: z.array(channelName).default([]) });
/** A team: a group of operators with its own queue view (its channels and languages; empty: all). */
export const teamSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/),
  name: z.string().trim().min(1).max(80),
  members: z.array(z.string().min(1).max(100)).max(200).default([]),
  channels: z.array(channelName).default([]),
  languages: z.array(language).default([]),
});
export type Team = z.output<typeof teamSchema>;

/** The desk's settings as stored. */
export const deskSettingsSchema = z.object({
  autoAssign: z.boolean().default(false),
  /** Conversations an operator may hold before auto-assignment passes them over. */
  capacity: z.number().int().min(1).max(100).default(5),
  /** Minutes after which an away operator's conversations return to the queue; null: never. */
  awayReturnMinutes: z.number().int().min(1).max(7 * 24 * 60).nullable().default(null),
  skills: z.record(z.string(), skillsSchema).default({}),
  teams: z.array(teamSchema).default([]),
});
export type DeskSettings = z.output<typeof deskSettingsSchema>;

const presenceSchema = z.object({ status: z.enum(['online', 'away']), since: z.string(), seenAt: z.string() });
type StoredPresence = z.output<typeof presenceSchema>;

/** Where an operator is, as the desk counts it. */
export interface Presence {
  status: 'online' | 'away';
  /** Since when (null: never said). */
  since: string | null;
  /** Online by their word, but their console stopped checking in. */
  disconnected: boolean;
}

/** Presence, settings and the assignment passes. */
export interface Assignment {
  settings(): Promise<DeskSettings>;
  /** Changes the settings (read, changed, written: the last admin's write wins). */
  updateSettings(change: (current: DeskSettings) => DeskSettings): Promise<DeskSettings>;
  presence(operatorIds: readonly string[]): Promise<Map<string, Presence>>;
  setPresence(operator: Operator, status: 'online' | 'away'): Promise<Presence>;
  /** The operator's console is there (its event stream's heartbeat). */
  touch(operatorId: string): Promise<void>;
  /** One pass: away operators' conversations back to the queue, then queued ones auto-assigned. */
  run(): Promise<{ assigned: number; released: number }>;
  /** Runs a pass now and then, and after the events that may call for one. */
  start(): void;
  stop(): Promise<void>;
}

export function createAssignment(deps: { store: Store; desk: OperatorDesk; bus: EventBus; clock: Clock; logger: Logger; intervalMs?: number }): Assignment {
  const { store, desk, bus, clock, logger } = deps;
  /** When each operator was last auto-assigned (this instance): the round robin's order. */
  const lastAssigned = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let running: Promise<{ assigned: number; released: number }> | undefined;
  let following: Promise<{ assigned: number; released: number }> | undefined;

  async function settings(): Promise<DeskSettings> {
    const raw = await store.values.get('desk', 'settings');
    if (raw === undefined) return deskSettingsSchema.parse({});
    const parsed = deskSettingsSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      logger.warn({ problems: parsed.error.issues.map((i) => i.message) }, 'the desk settings in the store are not valid: using the defaults');
      return deskSettingsSchema.parse({});
    }
    return parsed.data;
  }

  async function stored(operatorId: string): Promise<StoredPresence | undefined> {
    const raw = await store.values.get('presence', operatorId);
    if (raw === undefined) return undefined;
    const parsed = presenceSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  function effective(p: StoredPresence | undefined, now: number): Presence {
    if (!p) return { status: 'away', since: null, disconnected: false };
    if (p.status === 'away') return { status: 'away', since: p.since, disconnected: false };
    const seen = Date.parse(p.seenAt);
    if (now - seen > PRESENCE_STALE_MS) return { status: 'away', since: new Date(seen + PRESENCE_STALE_MS).toISOString(), disconnected: true };
    return { status: 'online', since: p.since, disconnected: false };
  }

  async function presence(operatorIds: readonly string[]): Promise<Map<string, Presence>> {
    const now = clock.now().getTime();
    const all = await Promise.all(operatorIds.map(async (id) => [id, effective(await stored(id), now)] as const));
    return new Map(all);
  }

  const matches = (allowed: readonly string[], value: string | undefined) => allowed.length === 0 || value === undefined || allowed.includes(value);

  async function pass(): Promise<{ assigned: number; released: number }> {
    const current = await settings();
    if (!current.autoAssign && current.awayReturnMinutes === null) return { assigned: 0, released: 0 };
    const operators = await store.directory.listOperators();
    const present = await presence(operators.map((o) => o.id));
    const now = clock.now().getTime();
    let released = 0;
    let assigned = 0;
    if (current.awayReturnMinutes !== null) {
      const limit = current.awayReturnMinutes * 60_000;
      for (const op of operators) {
        const p = present.get(op.id)!;
        if (p.status !== 'away' || p.since === null || now - Date.parse(p.since) < limit) continue;
        for (const c of await store.conversations.list({ states: ['assigned'], assignee: op.id })) {
          if (await desk.release(c.id, op.id)) {
            released += 1;
            logger.info({ conversationId: c.id, operatorId: op.id }, 'conversation returned to the queue: its operator is away');
          }
        }
      }
    }
    if (current.autoAssign) {
      const online = operators.filter((o) => present.get(o.id)?.status === 'online');
      if (online.length === 0) return { assigned, released };
      const load = new Map<string, number>(online.map((o) => [o.id, 0]));
      for (const c of await store.conversations.list({ states: ['assigned'] })) if (c.assignee && load.has(c.assignee)) load.set(c.assignee, load.get(c.assignee)! + 1);
      const waiting = (await store.conversations.list({ states: ['queued'] })).sort(
        (a: Conversation, b: Conversation) => (a.queue?.priority ?? 9) - (b.queue?.priority ?? 9) || (a.queue?.enqueuedAt ?? a.updatedAt).localeCompare(b.queue?.enqueuedAt ?? b.updatedAt),
      );
      for (const c of waiting) {
        const candidates = online
          .filter((o) => load.get(o.id)! < current.capacity)
          .filter((o) => {
            const skills = current.skills[o.id];
            return !skills || (matches(skills.languages, c.language) && matches(skills.channels, c.channel));
          })
          .sort((a, b) => load.get(a.id)! - load.get(b.id)! || (lastAssigned.get(a.id) ?? 0) - (lastAssigned.get(b.id) ?? 0) || a.name.localeCompare(b.name));
        const chosen = candidates[0];
        if (!chosen) continue;
        try {
          if (await desk.assign(c.id, chosen)) {
            assigned += 1;
            load.set(chosen.id, load.get(chosen.id)! + 1);
            lastAssigned.set(chosen.id, clock.now().getTime());
            logger.info({ conversationId: c.id, operatorId: chosen.id }, 'conversation auto-assigned');
          }
        } catch (err) {
          logger.warn({ err, conversationId: c.id }, 'auto-assignment of a conversation failed');
        }
      }
    }
    return { assigned, released };
  }

  /** One pass at a time; passes asked for while one runs share one pass after it. */
  function run(): Promise<{ assigned: number; released: number }> {
    if (!running) {
      const p = pass().finally(() => {
        if (running === p) running = undefined;
      });
      running = p;
      return p;
    }
    if (!following) {
      following = running
        .catch(() => undefined)
        .then(() => {
          following = undefined;
          return run();
        });
    }
    return following;
  }

  /** Events after which a pass may have something to do (a case waits, an operator freed up or came online). */
  const TRIGGERS = new Set(['conversation.escalated', 'conversation.resolved', 'conversation.returned_to_bot', 'operator.presence', 'desk.settings_changed']);

  return {
    settings,

    async updateSettings(change) {
      const next = deskSettingsSchema.parse(change(await settings()));
      await store.values.set('desk', 'settings', JSON.stringify(next));
      await bus.publish({ type: 'desk.settings_changed', at: clock.now().toISOString() });
      return next;
    },

    presence,

    async setPresence(operator, status) {
      const at = clock.now().toISOString();
      const old = await stored(operator.id);
      // Saying the same again keeps the time it started.
      const since = old && old.status === status ? old.since : at;
      await store.values.set('presence', operator.id, JSON.stringify({ status, since, seenAt: at }));
      await bus.publish({ type: 'operator.presence', operatorId: operator.id, status, at });
      return effective({ status, since, seenAt: at }, clock.now().getTime());
    },

    async touch(operatorId) {
      const p = await stored(operatorId);
      if (!p || p.status !== 'online') return;
      const now = clock.now();
      if (now.getTime() - Date.parse(p.seenAt) < TOUCH_EVERY_MS) return;
      await store.values.set('presence', operatorId, JSON.stringify({ ...p, seenAt: now.toISOString() }));
    },

    run,

    start() {
      if (timer) return;
      const kick = () => void run().catch((err: unknown) => logger.warn({ err }, 'assignment pass failed'));
      timer = setInterval(kick, deps.intervalMs ?? 30_000);
      timer.unref();
      unsubscribe = bus.subscribe((event) => {
        if (TRIGGERS.has(event.type)) kick();
      });
    },

    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      await following?.catch(() => undefined);
      await running?.catch(() => undefined);
    },
  };
}
