/**
 * @module core/state
 * The conversation state machine: one table of allowed moves and one `transition()`.
 */
import { IllegalTransitionError } from './errors.js';

/** Where a conversation stands. */
export const CONVERSATION_STATES = ['bot', 'awaiting_private', 'queued', 'assigned', 'resolved'] as const;
export type ConversationState = (typeof CONVERSATION_STATES)[number];

/**
 * Allowed moves. Staying in the same state is not a transition and is always allowed.
 * - bot → awaiting_private: a DM prompt went out; → queued: escalated; → assigned: an operator
 *   took the conversation from the bot; → resolved: an operator closed it, or the bot-close job
 *   (pipeline/follow-ups: quiet after the bot's answer).
 * - awaiting_private → bot: the customer went on with something public the bot can answer;
 *   → queued: escalated; → assigned: an operator took it; → resolved.
 * - queued → assigned: an operator claimed it; → bot: an operator gave it back to the bot; → resolved.
 * - assigned → queued: released/transferred back to the queue; → resolved; → bot: returned to bot.
 * - resolved → bot: the customer wrote again (the bot then decides as usual), and in the same
 *   turn → awaiting_private or → queued when that decision moves it on; → queued: a low
 *   satisfaction score opened a follow-up (pipeline/surveys).
 *   A resolved conversation is never claimed: the customer must write again first.
 * Every actor's change is checked against this table when it is committed
 * (pipeline/conversation-writer).
 */
export const TRANSITIONS: Readonly<Record<ConversationState, readonly ConversationState[]>> = {
  bot: ['awaiting_private', 'queued', 'assigned', 'resolved'],
  awaiting_private: ['bot', 'queued', 'assigned', 'resolved'],
  queued: ['assigned', 'bot', 'resolved'],
  assigned: ['queued', 'resolved', 'bot'],
  resolved: ['bot', 'awaiting_private', 'queued'],
};

/** True when `from → to` is allowed (or is no move at all). */
export function canTransition(from: ConversationState, to: ConversationState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Returns `to`, or throws IllegalTransitionError when the move is not in the table. */
export function transition(from: ConversationState, to: ConversationState): ConversationState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}
