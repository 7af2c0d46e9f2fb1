/**
 * @module channels/messenger/store-keys
 * Names of the small values the Messenger channel keeps in the store (`Store.getValue`).
 */

/** The author (app-scoped id) of a Facebook comment, recorded when the comment is parsed. */
export const commentAuthorKey = (commentId: string): string => `messenger:comment-author:${commentId}`;

/** Set once a private reply went to a comment: Meta allows exactly one. JSON `{ recipientId, at }`. */
export const privateReplyKey = (commentId: string): string => `messenger:private-reply:${commentId}`;

/** The commenter a Messenger PSID belongs to (learned from a private reply's `recipient_id`). */
export const psidLinkKey = (psid: string): string => `messenger:psid-link:${psid}`;

/** The Messenger PSID of a commenter, once known: private messages to the commenter go there. */
export const commenterPsidKey = (commenterId: string): string => `messenger:commenter-psid:${commenterId}`;

/** The comment thread (top-level comment id) a comment belongs to. */
export const commentThreadKey = (commentId: string): string => `messenger:comment-thread:${commentId}`;

/** How many parts of a long outbox item went out already, so a retry does not repeat them. */
export const sentPartsKey = (outboxId: string): string => `messenger:sent-parts:${outboxId}`;
