/**
 * @module channels/messenger/store-keys
 * Keys of the small values the Messenger channel keeps in the store, inside its namespace (`messengerValues`).
 */
import { channelValues, type ChannelValues, type ValuesStore } from '../values.js';

/** The Messenger channel's values in the store: the only way its code reaches them. */
export const messengerValues = (store: ValuesStore): ChannelValues => channelValues(store, 'messenger');

/** The author (app-scoped id) of a Facebook comment, recorded when the comment is parsed. */
export const commentAuthorKey = (commentId: string): string => `comment-author:${commentId}`;

/** Set once a private reply went to a comment: Meta allows exactly one. JSON `{ recipientId, at }`. */
export const privateReplyKey = (commentId: string): string => `private-reply:${commentId}`;

/** The commenter a Messenger PSID belongs to (learned from a private reply's `recipient_id`). */
export const psidLinkKey = (psid: string): string => `psid-link:${psid}`;

/** The Messenger PSID of a commenter, once known: private messages to the commenter go there. */
export const commenterPsidKey = (commenterId: string): string => `commenter-psid:${commenterId}`;

/** The comment thread (top-level comment id) a comment belongs to. */
export const commentThreadKey = (commentId: string): string => `comment-thread:${commentId}`;

/** How many parts of a long outbox item went out already, so a retry does not repeat them. */
export const sentPartsKey = (outboxId: string): string => `sent-parts:${outboxId}`;
