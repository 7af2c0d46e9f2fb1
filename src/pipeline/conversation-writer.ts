/**
 * @module pipeline/conversation-writer
 * The one way to change a conversation, for every actor (a customer's turn, each operator action,
 * scheduled jobs, CLI commands):
 *
 *   lock the conversation → load its context → plan the change (context in, records and replies
 *   out) → check every state move against the table → add the outbound event deliveries it causes
 *   → commit, refused if anything it read has changed → on a conflict, load again and plan again.
 *
 * Nothing writes a conversation it did not read in that context, so nothing writes a stale or
 * partial conversation; an illegal move throws IllegalTransitionError before anything is written.
 */
import { publishInBackground, type EventBus } from '../core/events.js';
import { TurnConflictError } from '../core/errors.js';
import type { ContextQuery, Store, TurnContext, TurnRecord } from '../core/ports.js';
import { transition } from '../core/state.js';
import type { Conversation, OutboxItem } from '../core/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { Logger } from '../util/logger.js';
import type { ReplySender } from './outbox-sender.js';

/** What a plan decided: the records to write (none: nothing to change) and what the caller gets back. */
export interface Planned<T> {
  /** The records; the writer adds what it derives from them (the outbound event deliveries). */
  write?: Omit<TurnRecord, 'expect' | 'deliveries'>;
  result: T;
}

/**
 * Plans a change from what was read. It may be called more than once (after a conflict, with the
 * new context), so it must not change anything itself: no writes, no sends, no events.
 */
export type Planner<T> = (context: TurnContext) => Planned<T> | Promise<Planned<T>>;

/** Changes conversations: see the module comment. */
export interface ConversationWriter {
  change<T>(query: ContextQuery, plan: Planner<T>): Promise<T>;
}

/** Runs of one change before it gives up when other writers keep changing its conversation first. */
const MAX_ATTEMPTS = 5;

/** Every conversation a context holds, by id: what a plan may change. */
function readConversations(context: TurnContext): Map<string, Conversation> {
  const read = new Map<string, Conversation>();
  for (const c of context.related) read.set(c.id, c);
  if (context.conversation) read.set(context.conversation.id, context.conversation);
  return read;
}

/**
 * Checks each conversation's move against the state table: from its state as read (the commit's
 * revision check makes that the stored state), or from `bot` for a conversation the change creates.
 */
export function checkMoves(context: TurnContext, conversations: readonly Conversation[]): void {
  const read = readConversations(context);
  for (const c of conversations) transition(read.get(c.id)?.state ?? 'bot', c.state);
}

/** Creates the writer every actor uses. */
export function createConversationWriter(deps: {
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** Makes the change's outbound event deliveries (webhooks), committed with it. */
  recorder: EventRecorder;
  /** Told of every committed change's replies (claimed in the commit where the store can). */
  sender?: ReplySender;
}): ConversationWriter {
  const { store, logger } = deps;

  /**
   * Writes a change and hands its replies to the sender: those the store leased to it in its
   * commit (when the sender has room) are sent at once; the rest are left to the sender's claim.
   */
  async function commit(record: TurnRecord): Promise<void> {
    const { sender } = deps;
    const replies = record.outbox;
    const claim = replies.length > 0 ? sender?.reserve(replies) : undefined;
    let claimed: OutboxItem[] = [];
    try {
      claimed = await store.conversations.commit(record, claim ? { claim } : undefined);
    } finally {
      if (claim) sender!.sendClaimed(claimed, replies);
    }
    if (claimed.length < replies.length) sender?.kick();
  }

  async function attempt<T>(query: ContextQuery, plan: Planner<T>): Promise<T> {
    const context = await store.conversations.loadContext(query);
    const { write, result } = await plan(context);
    if (!write) return result;
    checkMoves(context, write.conversations);
    const deliveries = deps.recorder.forChange(write);
    await commit(deliveries ? { ...write, deliveries, expect: context.revisions } : { ...write, expect: context.revisions });
    if (deliveries) deps.recorder.recorded();
    publishInBackground(deps.bus, write.events, (err, event) => logger.warn({ err, type: event.type }, 'could not publish an event'));
    return result;
  }

  return {
    change(query, plan) {
      return store.conversations.withLock(query.key, async () => {
        // The lock orders the writers of one process; across instances (a shared store) a change
        // that raced another is refused whole and planned again on what the winner wrote.
        for (let n = 1; ; n += 1) {
          try {
            return await attempt(query, plan);
          } catch (err) {
            if (!(err instanceof TurnConflictError) || n >= MAX_ATTEMPTS) throw err;
            // Not the key: it holds the customer's platform id, which logs never do (docs/data-protection.md).
            logger.debug({ attempt: n }, 'a change raced another on its conversation; planning it again');
            if (n > 1) await new Promise((r) => setTimeout(r, Math.random() * 10 * n));
          }
        }
      });
    },
  };
}
