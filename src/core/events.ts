/**
 * @module core/events
 * Typed domain events: facts the core emits (Chatwoot-style dotted names). The console's live
 * feed, the FAQ feedback writer and metrics are listeners; core never knows who listens.
 */
import type { EscalationReason } from './types.js';

/** Every fact the domain announces. */
export type DomainEvent =
  | { type: 'message.received'; conversationId: string; caseId: string; messageId: string; at: string }
  | { type: 'message.sent'; conversationId: string; outboxId: string; platformId: string; at: string }
  | { type: 'message.failed'; conversationId: string; outboxId: string; error: string; at: string }
  | { type: 'conversation.escalated'; conversationId: string; caseId: string; reason: EscalationReason; at: string }
  | { type: 'conversation.assigned'; conversationId: string; operatorId: string; at: string }
  | { type: 'conversation.updated'; conversationId: string; at: string }
  | { type: 'conversation.resolved'; conversationId: string; caseId: string; operatorId?: string; addToFaq?: boolean; at: string }
  | { type: 'conversation.returned_to_bot'; conversationId: string; at: string }
  /** A customer answered a satisfaction survey of a case (its comment stays on the case: events carry no text). */
  | { type: 'csat.received'; conversationId: string; caseId: string; channel: string; score: number; at: string }
  | { type: 'privacy.flagged'; conversationId: string; messageId: string; at: string }
  | { type: 'corpus.reloaded'; version: string; at: string }
  | { type: 'corpus.failed'; problems: string[]; at: string }
  | { type: 'suggestion.created'; suggestionId: string; at: string }
  /** The operator holding a conversation is writing a reply (nothing stored; channels show it where they can). */
  | { type: 'operator.composing'; conversationId: string; operatorId: string; at: string }
  // A channel's platform stopped answering (its circuit opened: its replies wait), or answers again.
  | { type: 'channel.degraded'; channel: string; reason: string; retryAt: string; at: string }
  | { type: 'channel.recovered'; channel: string; at: string }
  /**
   * Listening found a spike on a topic (docs/listening.md): raised when it starts, again only when
   * it grows (`update`). Samples are public posts with private data masked; authors by reach.
   */
  | {
      type: 'crisis.alert';
      spikeId: string;
      topic: string;
      windowMinutes: number;
      windowStart: string;
      volume: number;
      baseline: number;
      negativeShare: number;
      update: boolean;
      samples: string[];
      topAuthors: Array<{ id: string; handle?: string; followers: number }>;
      at: string;
    }
  /** An operator opened or closed crisis mode on a topic (docs/listening.md). */
  | { type: 'crisis.opened'; crisisId: string; topic: string; operatorId: string; at: string; /** opened by this rule of the listening file (operatorId `system`) */ rule?: string }
  | { type: 'crisis.closed'; crisisId: string; topic: string; operatorId: string; at: string }
  // The desk (issue 21): a customer's file (tags, notes, links) changed; saved replies changed;
  // an operator went online or away; the desk's settings (teams, auto-assignment) changed.
  | { type: 'customer.updated'; customerIds: string[]; at: string }
  | { type: 'saved_replies.changed'; at: string }
  | { type: 'operator.presence'; operatorId: string; status: 'online' | 'away'; at: string }
  | { type: 'desk.settings_changed'; at: string };

/** The event names, for listeners that filter. */
export type DomainEventType = DomainEvent['type'];

/** What a listener is told besides the event. */
export interface EventMeta {
  /**
   * True when this instance published the event. Instances sharing a bus all receive every
   * event; something that must happen once (telling a platform about a handover) happens where
   * the event was published.
   */
  local: boolean;
}

/** Delivers domain events to listeners, in this process or (PostgreSQL) across instances. */
export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: DomainEvent, meta: EventMeta) => void): () => void;
  close(): Promise<void>;
}

/**
 * Publishes events in order without waiting for them to go out (a shared bus sends them in a
 * round trip of its own): the caller's turn or send is done once its store write is. Events are
 * not durable in any case; a failure is passed to `onError`.
 */
export function publishInBackground(bus: EventBus, events: readonly DomainEvent[], onError: (err: unknown, event: DomainEvent) => void): void {
  for (const event of events) bus.publish(event).catch((err: unknown) => onError(err, event));
}

/** An in-process bus: the default for the embedded store. */
export function createLocalEventBus(): EventBus {
  const listeners = new Set<(event: DomainEvent, meta: EventMeta) => void>();
  const meta: EventMeta = { local: true };
  return {
    async publish(event) {
      for (const listener of [...listeners]) listener(event, meta);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
