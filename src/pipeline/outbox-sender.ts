/**
 * @module pipeline/outbox-sender
 * Delivers outbox items through their channels: each once, in order per conversation, retrying
 * platform outages with backoff and honouring rate-limit reset times. Runs in every instance;
 * the store's claim (a lease) keeps two instances from sending the same item.
 */
import { publishInBackground, type DomainEvent, type EventBus } from '../core/events.js';
import { ChannelApiError, NetworkError } from '../core/errors.js';
import type { ChannelAdapter, Clock, Store } from '../core/ports.js';
import type { OutboxItem } from '../core/types.js';
import type { Logger } from '../util/logger.js';

/** How the sender retries. */
export interface RetryPolicy {
  /** First retry delay; doubles each attempt. */
  baseMs: number;
  maxMs: number;
  /** Attempts before an item is given up (dead). */
  maxAttempts: number;
  /** How long a claimed item is reserved for one sender. */
  leaseMs: number;
}

/**
 * The lease is longer than any platform call may take (clients time out well before), and short
 * enough that a crashed instance's claimed replies are retried by another instance soon after.
 */
const DEFAULT_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 5 * 60_000, maxAttempts: 10, leaseMs: 30_000 };

/** Where the sender reports each send's outcome and the platform call's time (`/metrics`). */
export interface SendMetrics {
  observe(item: OutboxItem, outcome: 'sent' | 'retried' | 'failed', seconds: number, at: string): void;
}

/** What a turn needs of the sender: hand it replies, claimed in the commit or left in the outbox. */
export type ReplySender = Pick<OutboxSender, 'reserve' | 'sendClaimed' | 'kick'>;

/** The outbox sender. */
export interface OutboxSender {
  start(): void;
  /** Sends what is due now (called after a turn wrote replies that it did not claim). */
  kick(): void;
  /**
   * Makes room for `n` sends of replies a turn is about to claim in its commit
   * (Conversations.commit with `claim`): the claim's time and lease when there is room (then pass the
   * claimed items, or none, to `sendClaimed`), undefined when the sender is full (commit without
   * claiming, then `kick`).
   */
  reserve(n: number): { now: number; leaseMs: number } | undefined;
  /** Sends items claimed by a turn's commit, in the room `reserve(reserved)` made; gives back the rest. */
  sendClaimed(items: readonly OutboxItem[], reserved: number): void;
  /** Sends everything due until nothing is due (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates a sender over the store's outbox. */
export function createOutboxSender(deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  channels: ReadonlyMap<string, ChannelAdapter>;
  policy?: Partial<RetryPolicy>;
  /** How often to look for due items (retries, other instances' items). */
  pollMs?: number;
  /**
   * Sends in flight at once, across conversations (default 128: enough for channels that batch
   * calls, like Messenger, to fill their batches). It also bounds what a crash can leave in doubt:
   * a send that reached the platform but was not yet recorded is sent again.
   */
  concurrency?: number;
  metrics?: SendMetrics;
}): OutboxSender {
  const policy = { ...DEFAULT_POLICY, ...deps.policy };
  const { store, clock, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const onPublishError = (err: unknown, event: DomainEvent) => logger.warn({ err, type: event.type }, 'could not publish an event');

  /** Sends one claimed item and records the outcome; true when its conversation has more to send. */
  async function sendOne(item: OutboxItem): Promise<boolean> {
    const adapter = deps.channels.get(item.channel);
    const at = clock.now().toISOString();
    if (!adapter) {
      return (await store.outbox.complete(item.id, { status: 'dead', error: `no channel ${item.channel}` })).more;
    }
    const started = process.hrtime.bigint();
    const took = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await adapter.send(item);
      deps.metrics?.observe(item, 'sent', took(), clock.now().toISOString());
      const { more } = await store.outbox.complete(item.id, { status: 'sent', platformId: result.platformId, at });
      publishInBackground(deps.bus, [{ type: 'message.sent', conversationId: item.conversationId, outboxId: item.id, platformId: result.platformId, at }], onPublishError);
      return more;
    } catch (err) {
      const retryable = err instanceof NetworkError || (err instanceof ChannelApiError && err.details.retryable);
      const message = err instanceof Error ? err.message : String(err);
      if (retryable && item.attempts < policy.maxAttempts) {
        const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, item.attempts - 1));
        const jitter = Math.round(backoff * 0.2 * Math.random());
        const retryAt = err instanceof ChannelApiError && err.details.retryAt ? err.details.retryAt : 0;
        const notBefore = Math.max(clock.now().getTime() + backoff + jitter, retryAt);
        logger.warn({ channel: item.channel, outboxId: item.id, attempts: item.attempts, notBefore, error: message }, 'send failed; will retry');
        deps.metrics?.observe(item, 'retried', took(), at);
        // The conversation's next items wait behind this one: nothing new to claim.
        await store.outbox.complete(item.id, { status: 'retry', notBefore, error: message });
      } else {
        logger.error({ channel: item.channel, outboxId: item.id, attempts: item.attempts, error: message }, 'send failed; giving up');
        deps.metrics?.observe(item, 'failed', took(), at);
        const { more } = await store.outbox.complete(item.id, { status: 'dead', error: message });
        publishInBackground(deps.bus, [{ type: 'message.failed', conversationId: item.conversationId, outboxId: item.id, error: message, at }], onPublishError);
        return more;
      }
    }
    return false;
  }

  const maxInFlight = deps.concurrency ?? 128;
  const refillAt = Math.max(1, Math.floor(maxInFlight / 4));
  const sending = new Set<Promise<void>>();
  /** Room promised to turns about to claim their replies in their commits (`reserve`). */
  let reserved = 0;
  /** The last claim filled every free slot: more may be due, claim again as slots free up. */
  let backlog = false;

  function startSend(item: OutboxItem): void {
    const p: Promise<void> = sendOne(item)
      .then(
        (more) => {
          // The conversation's next item is now first in line: claim it.
          if (more) kick();
        },
        (err: unknown) => logger.error({ err, outboxId: item.id }, 'outbox send bookkeeping failed'),
      )
      .finally(() => {
        sending.delete(p);
        // After a full claim, claim again in batches (a claim scans every conversation's next item).
        if (backlog && (sending.size === 0 || free() >= refillAt)) kick();
      });
    sending.add(p);
  }

  const free = (): number => maxInFlight - sending.size - reserved;

  /**
   * Keeps up to `maxInFlight` sends going. A claim runs when something may be due: on start, on
   * the poll, on `kick` (replies a turn did not claim itself, operator replies), when a sent
   * item's conversation has more, and while the last claim came back full. Order within a
   * conversation holds because the store hands out a conversation's next item only after the
   * previous one is completed.
   */
  async function pump(): Promise<void> {
    do {
      again = false;
      while (!stopped && free() > 0) {
        const limit = free();
        const batch = await store.outbox.claim(clock.now().getTime(), limit, policy.leaseMs);
        backlog = batch.length >= limit;
        if (batch.length === 0) break;
        for (const item of batch) startSend(item);
      }
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pump()
      .catch((err: unknown) => logger.error({ err }, 'outbox cycle failed'))
      .finally(() => {
        running = undefined;
      });
  }

  /** Waits until nothing is being claimed or sent and nothing is due. */
  async function settle(): Promise<void> {
    for (;;) {
      while (running || sending.size > 0) {
        if (running) await running;
        if (sending.size > 0) await Promise.allSettled([...sending]);
      }
      await pump();
      if (sending.size === 0 && !running) return;
    }
  }

  return {
    start() {
      stopped = false;
      timer = setInterval(kick, deps.pollMs ?? 500);
      timer.unref();
      kick();
    },
    kick,
    reserve(n) {
      if (stopped || n > free()) return undefined;
      reserved += n;
      return { now: clock.now().getTime(), leaseMs: policy.leaseMs };
    },
    sendClaimed(items, room) {
      reserved -= room;
      // Claimed items are sent even after stop() began: their lease would otherwise hold them back
      // from every other instance until it runs out.
      for (const item of items) startSend(item);
    },
    drain: settle,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      while (running) await running;
      await Promise.allSettled([...sending]);
    },
  };
}
