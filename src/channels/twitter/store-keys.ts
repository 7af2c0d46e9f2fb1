/**
 * @module channels/twitter/store-keys
 * Keys of the small values the X channel keeps in the store, inside its namespace (`twitterValues`).
 */

import { createHash } from 'node:crypto';
import { channelValues, type ChannelValues, type ValuesStore } from '../values.js';

/** The X channel's values in the store: the only way its code reaches them. */
export const twitterValues = (store: ValuesStore): ChannelValues => channelValues(store, 'twitter');

/** Highest mention id processed by polling (the next `since_id`). */
export const MENTIONS_CURSOR = 'poll:mentions:since_id';
/** Newest DM event id processed by polling. */
export const DMS_CURSOR = 'poll:dms:newest_id';
/** Highest post id heard by recent search (the next `since_id`). */
export const SEARCH_CURSOR = 'search:since_id';
/** A search round cut short by the rate limit: where the next one resumes (JSON). */
export const SEARCH_RESUME = 'search:resume';
/** When search first ran: nothing older is heard. */
export const SEARCH_BASELINE = 'search:baseline';
/** Posts read by recent search so far (X bills reads per post). */
export const SEARCH_READS = 'search:reads';
/** When polling first started: nothing older is answered. */
export const POLL_BASELINE = 'poll:baseline';

/** The conversation (thread) id of a post we saw or sent: v1.1 payloads lack conversation_id. */
export function threadKey(postId: string): string {
  return `thread:${postId}`;
}

/** When a public text was last posted (X refuses the same text twice as duplicate content). */
export function recentTextKey(text: string): string {
  return `recent:${createHash('sha256').update(text).digest('base64url')}`;
}

/** Our last post under `target` in a conversation: later parts of a numbered thread chain under it. */
export function chainKey(conversationId: string, target: string): string {
  return `chain:${conversationId}:${target}`;
}

/** Posts already sent of a multi-part outbox item (JSON array of ids). */
export function sentPartsKey(itemId: string): string {
  return `sent:${itemId}`;
}

/** Cached private reach of a customer: `{ reach, at }`. */
export function reachKey(userId: string): string {
  return `reach:${userId}`;
}
