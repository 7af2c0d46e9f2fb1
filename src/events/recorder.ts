/**
 * @module events/recorder
 * Turns a committed change into outbound event deliveries, one per subscription that wants each
 * event, built for that subscription (its payload version, its private-data setting). The
 * conversation writer adds them to the change's commit, and an approval to its write, so an event
 * is stored exactly when the change it reports is (docs/extending.md, "Outbound events").
 */
import type { DomainEvent } from '../core/events.js';
import type { Clock, Store } from '../core/ports.js';
import type { Case, Conversation, EventDelivery, FaqSuggestion, StoredMessage } from '../core/types.js';
import { newId } from '../util/ids.js';
import { conversationEventBody, crisisAlertBody, faqApprovedBody, messageCreatedBody, type EventBody, type PayloadContext } from './payloads.js';
import { EVENT_TYPES, type EventType, type Subscription, type Subscriptions } from './subscriptions.js';

/** What a conversation change holds that events are made of. */
export interface RecordedChange {
  conversations: readonly Conversation[];
  /** The case the change writes (a survey's answer: its comment). */
  case?: Case;
  messages: readonly StoredMessage[];
  events: readonly DomainEvent[];
}

/** Makes the deliveries of a change. */
export interface EventRecorder {
  /**
   * The deliveries a conversation change causes, in the order things happened: the customer's
   * message, then the change's events (escalated, assigned, resolved), then the replies and notes.
   * Undefined when no subscription wants any of them.
   */
  forChange(change: RecordedChange): EventDelivery[] | undefined;
  /** The `faq.approved` deliveries of an approved suggestion (as approved). */
  forApproval(suggestion: FaqSuggestion): EventDelivery[];
  /** The `crisis.alert` deliveries of a spike alert (in order per subscription, apart from conversations). */
  forAlert(alert: Extract<DomainEvent, { type: 'crisis.alert' }>): EventDelivery[];
  /** Call once deliveries it made are stored: the dispatcher sends them now rather than at its next poll. */
  recorded(): void;
}

/** Creates the recorder over the configured subscriptions (none: it records nothing). */
export function createEventRecorder(deps: {
  subscriptions: Subscriptions;
  clock: Clock;
  orderNumberPattern?: string;
  /** Told when deliveries were stored (the dispatcher's kick). */
  onRecorded?: () => void;
}): EventRecorder {
  const { list } = deps.subscriptions;
  const wants = (type: EventType) => list.filter((s) => s.events.has(type));
  const context = (s: Subscription): PayloadContext => ({ privateData: s.privateData, orderNumberPattern: deps.orderNumberPattern });

  function delivery(s: Subscription, orderKey: string, body: EventBody): EventDelivery {
    return {
      id: newId('msg'),
      subscription: s.name,
      orderKey: `${s.name}/${orderKey}`,
      type: body.type,
      payload: body as unknown as Record<string, unknown>,
      status: 'pending',
      attempts: 0,
      notBefore: 0,
      createdAt: deps.clock.now().toISOString(),
    };
  }

  return {
    forChange(change) {
      if (list.length === 0) return undefined;
      const byId = new Map(change.conversations.map((c) => [c.id, c]));
      const out: EventDelivery[] = [];
      const messages = (direction: (d: StoredMessage['direction']) => boolean) => {
        for (const m of change.messages) {
          if (!direction(m.direction)) continue;
          for (const s of wants('message.created')) out.push(delivery(s, m.conversationId, messageCreatedBody(m, byId.get(m.conversationId), context(s))));
        }
      };
      messages((d) => d === 'in');
      for (const event of change.events) {
        if (!('conversationId' in event) || !(EVENT_TYPES as readonly string[]).includes(event.type)) continue;
        for (const s of wants(event.type as EventType)) {
          const body = conversationEventBody(event, byId.get(event.conversationId), context(s), change.case);
          if (body) out.push(delivery(s, event.conversationId, body));
        }
      }
      messages((d) => d !== 'in');
      return out.length ? out : undefined;
    },

    forApproval(suggestion) {
      const at = suggestion.reviewedAt ?? deps.clock.now().toISOString();
      return wants('faq.approved').map((s) => delivery(s, 'faq', faqApprovedBody(suggestion, at, context(s))));
    },

    forAlert(alert) {
      return wants('crisis.alert').map((s) => delivery(s, 'crisis', crisisAlertBody(alert, context(s))));
    },

    recorded() {
      deps.onRecorded?.();
    },
  };
}

/**
 * Records an approved suggestion: the change (status approved, reviewer, edits) and its
 * `faq.approved` deliveries in one write, so the event is stored exactly when the approval is.
 * The one way to mark a suggestion approved (operator API and CLI).
 */
export async function recordApproval(
  store: Pick<Store, 'suggestions'>,
  recorder: EventRecorder,
  suggestion: FaqSuggestion,
  change: Partial<FaqSuggestion> & { status: 'approved' },
): Promise<FaqSuggestion | undefined> {
  const deliveries = recorder.forApproval({ ...suggestion, ...change });
  const updated = await store.suggestions.update(suggestion.id, change, deliveries.length ? { deliveries } : undefined);
  if (updated && deliveries.length) recorder.recorded();
  return updated;
}
