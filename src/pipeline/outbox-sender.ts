/**
 * @module pipeline/outbox-sender
 * Delivers outbox items through their channels: each once, in order per conversation, retrying
 * platform outages with backoff and honouring rate-limit reset times. Runs in every instance;
 * the store's claim (a lease) keeps two instances from sending the same item.
 *
 * Each channel has its own send slots and its own circuit breaker, so a platform that hangs or
 * fails fills only its own slots and is then given none while it is down: the other channels'
 * replies never wait for it. A send whose outcome is unknown (the platform took it and did not
 * answer in time) is marked in doubt: the channel checks whether it was delivered before sending
 * it again where its platform allows, and the sender gives up on it after a bound rather than
 * risk sending it again and again. Both are counted (`stats`).
 */
import { publishInBackground, type DomainEvent, type EventBus } from '../core/events.js';
import { ChannelApiError, NetworkError } from '../core/errors.js';
import type { ChannelAdapter, Clock, SendResult, Store } from '../core/ports.js';
import type { OutboxItem } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import { createPump } from '../util/pump.js';

/** How the sender retries. */
export interface RetryPolicy {
  /** First retry delay; doubles each attempt. */
  baseMs: number;
  maxMs: number;
  /** Attempts before an item is given up (dead). */
  maxAttempts: number;
  /** How long a claimed item is reserved for one sender. */
  leaseMs: number;
  /**
   * Attempts with an unknown outcome (timed out after the platform took them) after which an item
   * is given up rather than sent again: each of them may have reached the customer. With 2, a
   * reply reaches a customer at most twice.
   */
  maxInDoubt: number;
}

/** When a channel's circuit breaker opens, and for how long. */
export interface BreakerPolicy {
  /** Consecutive failures (no answer, timeouts, 5xx) that open it. */
  failures: number;
  /** First pause; doubles each time a probe fails, up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
}

/**
 * The lease is longer than any platform call may take (the send deadline), and short enough that
 * a crashed instance's claimed replies are retried by another instance soon after.
 */
const DEFAULT_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 5 * 60_000, maxAttempts: 10, leaseMs: 30_000, maxInDoubt: 2 };
const DEFAULT_BREAKER: BreakerPolicy = { failures: 5, openMs: 5_000, maxOpenMs: 5 * 60_000 };
/** Send slots of a channel that names none (adapters handed in by tests or embedders). */
const DEFAULT_SLOTS = 32;

/** How one failed send counts. */
export type FailureKind = 'timeout' | 'network' | 'server' | 'credentials' | 'rate_limited' | 'refused' | 'internal';

/** A channel's circuit: closed (sending), open (paused until `retryAt`), half open (one probe). */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** What `/healthz` shows of one channel's sending (nothing about customers or messages). */
export interface ChannelSendHealth {
  circuit: CircuitState;
  /** Failures in a row (no answer, timeouts, 5xx). */
  consecutiveFailures: number;
  /** When the circuit last opened (ISO), while it is not closed. */
  since?: string;
  /** When the next probe may go (ISO), while open. */
  retryAt?: string;
  lastFailure?: FailureKind;
  inFlight: number;
  slots: number;
}

/** Counters of one channel since start (`/metrics`). */
export interface ChannelSendStats {
  sent: number;
  failures: Record<FailureKind, number>;
  /** Sends whose outcome is unknown (the platform took them and did not answer in time). */
  inDoubt: number;
  /** Replies in doubt then sent again without a late check: each may have reached the customer twice. */
  possibleDuplicates: number;
  /** Replies in doubt that the channel's late check found delivered (not sent again). */
  duplicatesAvoided: number;
  /** Replies given up after `maxInDoubt` unknown outcomes (reported to operators). */
  givenUpInDoubt: number;
  /** Times the circuit opened. */
  circuitOpened: number;
}

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
   * Makes room for the sends of replies a turn is about to claim in its commit
   * (Conversations.commit with `claim`): the claim's time and lease when each of their channels
   * has room (then pass the claimed items, or none, to `sendClaimed` with the same `replies`),
   * undefined when one is full or paused (commit without claiming, then `kick`).
   */
  reserve(replies: readonly Pick<OutboxItem, 'channel'>[]): { now: number; leaseMs: number } | undefined;
  /** Sends items claimed by a turn's commit, in the room `reserve(replies)` made; gives back the rest. */
  sendClaimed(items: readonly OutboxItem[], replies: readonly Pick<OutboxItem, 'channel'>[]): void;
  /** Each channel's circuit and slots (`/healthz`). */
  health(): Record<string, ChannelSendHealth>;
  /** Each channel's counters since start (`/metrics`). */
  stats(): Record<string, ChannelSendStats>;
  /** Sends everything due until nothing is due (tests, shutdown). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

interface Lane {
  slots: number;
  inFlight: number;
  /** Room promised to turns about to claim their replies in their commits (`reserve`). */
  reserved: number;
  /** The last claim filled this channel's room: more may be due, claim again as slots free up. */
  backlog: boolean;
  circuit: CircuitState;
  failures: number;
  openedAt?: number;
  retryAt?: number;
  openMs: number;
  /**
   * The send that probes a half-open circuit (the item's id). Only its failure extends the pause:
   * sends started before the circuit opened fail one after another once it is open (a hang ends
   * in as many timeouts as there were sends in flight), and must not double it each time.
   */
  probe?: string;
  lastFailure?: FailureKind;
  stats: ChannelSendStats;
}

/** The platform took the request and gave no answer within the send deadline. */
class SendDeadlineError extends NetworkError {}

/** Creates a sender over the store's outbox. */
export function createOutboxSender(deps: {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  channels: ReadonlyMap<string, ChannelAdapter>;
  policy?: Partial<RetryPolicy>;
  breaker?: Partial<BreakerPolicy>;
  /** How often to look for due items (retries, other instances' items, circuits to probe). */
  pollMs?: number;
  /**
   * Sends in flight at once per channel (its definition's `sendSlots`, or `SEND_SLOTS`); 32 for a
   * channel not named. They also bound what a crash or a timeout can leave in doubt.
   */
  sendSlots?: Readonly<Record<string, number>>;
  /**
   * The longest one send may take, in real time (the channel's calls have their own timeouts;
   * this catches a client that ignores them). A send still unanswered then counts as in doubt and
   * frees its slot; its late outcome is only logged.
   */
  sendDeadlineMs?: number;
  /** Where each send's outcome and time are reported (`/metrics`). */
  metrics?: SendMetrics;
}): OutboxSender {
  const sendDeadlineMs = deps.sendDeadlineMs ?? 30_000;
  const policy = { ...DEFAULT_POLICY, ...deps.policy };
  // A claimed item must stay leased for as long as its send may take.
  policy.leaseMs = Math.max(policy.leaseMs, sendDeadlineMs + 10_000);
  const breaker = { ...DEFAULT_BREAKER, ...deps.breaker };
  const { store, clock, logger } = deps;

  const onPublishError = (err: unknown, event: DomainEvent) => logger.warn({ err, type: event.type }, 'could not publish an event');
  const publish = (events: DomainEvent[]) => publishInBackground(deps.bus, events, onPublishError);

  const lanes = new Map<string, Lane>();
  for (const name of deps.channels.keys()) {
    lanes.set(name, {
      slots: Math.max(1, deps.sendSlots?.[name] ?? DEFAULT_SLOTS),
      inFlight: 0,
      reserved: 0,
      backlog: false,
      circuit: 'closed',
      failures: 0,
      openMs: breaker.openMs,
      stats: {
        sent: 0,
        failures: { timeout: 0, network: 0, server: 0, credentials: 0, rate_limited: 0, refused: 0, internal: 0 },
        inDoubt: 0,
        possibleDuplicates: 0,
        duplicatesAvoided: 0,
        givenUpInDoubt: 0,
        circuitOpened: 0,
      },
    });
  }

  /** Sends the channel may start now: none while its circuit is open, one probe when half open. */
  function room(lane: Lane, now: number): number {
    if (lane.circuit === 'open') {
      if (now < (lane.retryAt ?? 0)) return 0;
      lane.circuit = 'half_open';
    }
    if (lane.circuit === 'half_open') return lane.inFlight + lane.reserved === 0 ? 1 : 0;
    return Math.max(0, lane.slots - lane.inFlight - lane.reserved);
  }

  function classify(err: unknown): FailureKind {
    if (err instanceof NetworkError) return err.delivery === 'unknown' ? 'timeout' : 'network';
    if (err instanceof ChannelApiError) {
      if (err.details.credentials) return 'credentials';
      if (err.details.status === 429 || (err.details.retryable && err.details.retryAt !== undefined)) return 'rate_limited';
      if (err.details.status >= 500) return 'server';
      return 'refused';
    }
    return 'internal';
  }

  function openCircuit(name: string, lane: Lane, now: number): void {
    const wasOpen = lane.circuit !== 'closed';
    // A failed probe doubles the pause; a first opening starts from the shortest one.
    lane.openMs = wasOpen ? Math.min(breaker.maxOpenMs, lane.openMs * 2) : breaker.openMs;
    lane.circuit = 'open';
    lane.openedAt = wasOpen ? lane.openedAt : now;
    lane.retryAt = now + lane.openMs;
    if (!wasOpen) {
      lane.stats.circuitOpened += 1;
      if (lane.lastFailure === 'credentials') {
        logger.error(
          { channel: name, lastFailure: lane.lastFailure, retryAt: new Date(lane.retryAt).toISOString() },
          'the platform refuses this channel’s credentials (token expired or revoked, wrong secret): sends on this channel paused, replies wait in the outbox; renew the credentials (and restart) to send them',
        );
      } else {
        logger.warn({ channel: name, failures: lane.failures, lastFailure: lane.lastFailure, retryAt: new Date(lane.retryAt).toISOString() }, 'platform not answering: sends on this channel paused (circuit open)');
      }
      publish([{ type: 'channel.degraded', channel: name, reason: lane.lastFailure ?? 'timeout', retryAt: new Date(lane.retryAt).toISOString(), at: new Date(now).toISOString() }]);
    } else {
      logger.warn({ channel: name, retryAt: new Date(lane.retryAt).toISOString() }, 'probe failed: sends on this channel stay paused');
    }
  }

  /** The platform answered: a half-open circuit closes. */
  function platformAnswered(name: string, lane: Lane, now: number): void {
    lane.failures = 0;
    lane.probe = undefined;
    if (lane.circuit === 'closed') return;
    const pausedMs = now - (lane.openedAt ?? now);
    lane.circuit = 'closed';
    lane.openMs = breaker.openMs;
    lane.openedAt = undefined;
    lane.retryAt = undefined;
    logger.info({ channel: name, pausedMs }, 'platform answering again: sends on this channel resumed (circuit closed)');
    publish([{ type: 'channel.recovered', channel: name, at: new Date(now).toISOString() }]);
  }

  function recordFailure(name: string, lane: Lane, itemId: string, kind: FailureKind, now: number): void {
    lane.stats.failures[kind] += 1;
    const probe = lane.probe === itemId;
    if (probe) lane.probe = undefined;
    if (kind === 'refused') return platformAnswered(name, lane, now);
    // A rate limit is an answer too: the item waits for the reset; the circuit is not the place for it.
    if (kind === 'rate_limited' || kind === 'internal') {
      if (probe && lane.circuit === 'half_open') lane.circuit = 'closed';
      return;
    }
    lane.failures += 1;
    // Refused credentials fail every send alike until someone renews them: paused at once.
    if (kind === 'credentials') lane.failures = Math.max(lane.failures, breaker.failures);
    lane.lastFailure = kind;
    // While the circuit is not closed, only its probe decides: a send started before it opened
    // adds nothing to what the failures that opened it said.
    if (lane.circuit === 'closed' ? lane.failures >= breaker.failures : probe) openCircuit(name, lane, now);
  }

  /** The adapter's send, given up after the send deadline (a client that ignores its own timeouts). */
  function sendWithin(adapter: ChannelAdapter, item: OutboxItem): Promise<SendResult> {
    const sending = adapter.send(item);
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      deadline = setTimeout(
        () => reject(new SendDeadlineError(`${item.channel}: no answer within ${sendDeadlineMs} ms`, { delivery: 'unknown' })),
        sendDeadlineMs,
      );
      deadline.unref();
    });
    const late = (err: unknown) => {
      if (!(err instanceof SendDeadlineError)) throw err;
      // The send goes on in the background; its outcome no longer decides anything.
      sending.then(
        () => logger.warn({ channel: item.channel, outboxId: item.id }, 'a send answered after its deadline: it was delivered, and may be sent again'),
        () => undefined,
      );
      throw err;
    };
    return Promise.race([sending, expired])
      .catch(late)
      .finally(() => clearTimeout(deadline));
  }

  /** Sends one claimed item and records the outcome; true when its conversation has more to send. */
  async function sendOne(item: OutboxItem): Promise<boolean> {
    const adapter = deps.channels.get(item.channel);
    const lane = lanes.get(item.channel);
    const at = clock.now().toISOString();
    if (!adapter || !lane) {
      return (await store.outbox.complete(item.id, { status: 'dead', error: `no channel ${item.channel}` })).more;
    }
    const started = process.hrtime.bigint();
    const took = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await sendWithin(adapter, item);
      const now = clock.now().getTime();
      lane.stats.sent += 1;
      deps.metrics?.observe(item, 'sent', took(), new Date(now).toISOString());
      platformAnswered(item.channel, lane, now);
      if ((item.inDoubt ?? 0) > 0) {
        if (result.alreadyDelivered) lane.stats.duplicatesAvoided += 1;
        else {
          lane.stats.possibleDuplicates += 1;
          logger.warn({ channel: item.channel, outboxId: item.id, inDoubt: item.inDoubt }, 'a reply whose earlier send timed out was sent again: the customer may have it twice');
        }
      }
      const { more } = await store.outbox.complete(item.id, { status: 'sent', platformId: result.platformId, at });
      publish([{ type: 'message.sent', conversationId: item.conversationId, outboxId: item.id, platformId: result.platformId, at }]);
      return more;
    } catch (err) {
      const now = clock.now().getTime();
      const kind = classify(err);
      recordFailure(item.channel, lane, item.id, kind, now);
      const retryable = err instanceof NetworkError || (err instanceof ChannelApiError && err.details.retryable);
      const message = err instanceof Error ? err.message : String(err);
      const inDoubt = (item.inDoubt ?? 0) + (kind === 'timeout' ? 1 : 0);
      if (kind === 'timeout') lane.stats.inDoubt += 1;
      // Refused credentials are the channel's fault, not the reply's: it waits (as a probe, at most
      // every few minutes) for them to be renewed however long that takes, not given up after its tenth try.
      if (retryable && (item.attempts < policy.maxAttempts || kind === 'credentials') && inDoubt < policy.maxInDoubt) {
        const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, item.attempts - 1));
        const jitter = Math.round(backoff * 0.2 * Math.random());
        const retryAt = err instanceof ChannelApiError && err.details.retryAt ? err.details.retryAt : 0;
        const notBefore = Math.max(now + backoff + jitter, retryAt);
        logger.warn({ channel: item.channel, outboxId: item.id, attempts: item.attempts, inDoubt, notBefore, error: message }, 'send failed; will retry');
        deps.metrics?.observe(item, 'retried', took(), at);
        // The conversation's next items wait behind this one: nothing new to claim.
        await store.outbox.complete(item.id, { status: 'retry', notBefore, error: message, ...(inDoubt > 0 ? { inDoubt } : {}) });
      } else {
        const doubtful = retryable && inDoubt >= policy.maxInDoubt;
        if (doubtful) lane.stats.givenUpInDoubt += 1;
        const reason = doubtful
          ? `${message} (the platform took this reply ${inDoubt} times without answering: it may have been delivered; not sent again, to avoid duplicates)`
          : message;
        logger.error({ channel: item.channel, outboxId: item.id, attempts: item.attempts, inDoubt, error: reason }, 'send failed; giving up');
        deps.metrics?.observe(item, 'failed', took(), at);
        const { more } = await store.outbox.complete(item.id, { status: 'dead', error: reason });
        publish([{ type: 'message.failed', conversationId: item.conversationId, outboxId: item.id, error: reason, at }]);
        return more;
      }
    }
    return false;
  }

  function startSend(item: OutboxItem): void {
    const lane = lanes.get(item.channel);
    if (lane) {
      // The one send a half-open circuit lets through (room() gives it only with nothing in flight).
      if (lane.circuit === 'half_open' && lane.probe === undefined) lane.probe = item.id;
      lane.inFlight += 1;
    }
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
        if (!lane) return;
        lane.inFlight -= 1;
        if (lane.probe === item.id) lane.probe = undefined;
        // After a full claim, claim again in batches (a claim scans the channel's next items).
        if (lane.backlog && (lane.inFlight === 0 || room(lane, clock.now().getTime()) >= Math.max(1, Math.floor(lane.slots / 4)))) kick();
      });
    sending.add(p);
  }
  const sending = new Set<Promise<void>>();

  /**
   * Keeps each channel's slots busy. A claim runs when something may be due: on start, on the
   * poll, on `kick` (replies a turn did not claim itself, operator replies), when a sent item's
   * conversation has more, and while the last claim filled a channel's room. Order within a
   * conversation holds because the store hands out a conversation's next item only after the
   * previous one is completed.
   */
  const pump = createPump({
    pollMs: deps.pollMs ?? 500,
    inFlight: sending,
    onError: (err) => logger.error({ err }, 'outbox cycle failed'),
    async cycle() {
      while (!pump.stopped) {
        const now = clock.now().getTime();
        const wanted: Record<string, number> = {};
        let total = 0;
        for (const [name, lane] of lanes) {
          const n = room(lane, now);
          if (n > 0) {
            wanted[name] = n;
            total += n;
          }
        }
        if (total === 0) break;
        const batch = await store.outbox.claim(now, wanted, policy.leaseMs);
        const got = new Map<string, number>();
        for (const item of batch) got.set(item.channel, (got.get(item.channel) ?? 0) + 1);
        for (const [name, n] of Object.entries(wanted)) lanes.get(name)!.backlog = (got.get(name) ?? 0) >= n;
        for (const item of batch) startSend(item);
        // Some channel got less than its room: nothing more of it is due now.
        if (batch.length < total) break;
      }
    },
  });
  const kick = pump.kick;

  function countByChannel(replies: readonly Pick<OutboxItem, 'channel'>[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of replies) counts.set(r.channel, (counts.get(r.channel) ?? 0) + 1);
    return counts;
  }

  return {
    start: pump.start,
    kick,
    reserve(replies) {
      if (pump.stopped || replies.length === 0) return undefined;
      const now = clock.now().getTime();
      const counts = countByChannel(replies);
      for (const [name, n] of counts) {
        const lane = lanes.get(name);
        if (!lane || n > room(lane, now)) return undefined;
      }
      for (const [name, n] of counts) lanes.get(name)!.reserved += n;
      return { now, leaseMs: policy.leaseMs };
    },
    sendClaimed(items, replies) {
      for (const [name, n] of countByChannel(replies)) {
        const lane = lanes.get(name);
        if (lane) lane.reserved -= n;
      }
      // Claimed items are sent even after stop() began: their lease would otherwise hold them back
      // from every other instance until it runs out.
      for (const item of items) startSend(item);
    },
    health() {
      const now = clock.now().getTime();
      const out: Record<string, ChannelSendHealth> = {};
      for (const [name, lane] of lanes) {
        room(lane, now); // an open circuit whose pause is over shows as half open
        out[name] = {
          circuit: lane.circuit,
          consecutiveFailures: lane.failures,
          ...(lane.circuit !== 'closed' && lane.openedAt !== undefined ? { since: new Date(lane.openedAt).toISOString() } : {}),
          ...(lane.circuit === 'open' && lane.retryAt !== undefined ? { retryAt: new Date(lane.retryAt).toISOString() } : {}),
          ...(lane.lastFailure ? { lastFailure: lane.lastFailure } : {}),
          inFlight: lane.inFlight,
          slots: lane.slots,
        };
      }
      return out;
    },
    stats() {
      return Object.fromEntries([...lanes].map(([name, lane]) => [name, { ...lane.stats, failures: { ...lane.stats.failures } }]));
    },
    /** Waits until nothing is being claimed or sent and nothing is due. */
    drain: pump.drain,
    async stop() {
      await pump.stop();
      await Promise.allSettled([...sending]);
    },
  };
}
