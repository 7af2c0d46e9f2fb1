/**
 * @module channels/messenger/capabilities
 * What Messenger and Page comments allow, apart from the adapter: config, the conversation-test
 * runner and the definition read it without loading bottender (loaded only when the channel is on).
 */
import type { ChannelCapabilities } from '../../core/ports.js';

const HOUR = 3_600_000;
/** Bot replies: 24 h after the customer's last message. Operators (HUMAN_AGENT): 7 days. */
export const MESSENGER_WINDOW = { standardMs: 24 * HOUR, humanAgentMs: 7 * 24 * HOUR } as const;
export const MAX_TEXT = 2000;
/** Facebook comments accept up to 8,000 characters. */
export const MAX_COMMENT = 8000;
export const MAX_QUICK_REPLIES = 13;

/** What Messenger and Page comments allow (the conversation-test runner can use the same values). */
export const MESSENGER_CAPABILITIES: Readonly<ChannelCapabilities> = Object.freeze({
  publicReplies: true,
  privateMessages: true,
  maxLength: { private: MAX_TEXT, public: MAX_COMMENT },
  // UTF-16 units: never more than Meta's count of characters, so a fitted text always fits.
  measure: (text: string) => text.length,
  quickReplies: MAX_QUICK_REPLIES,
  signsPublicReplies: false,
  maxThread: 1,
  messagingWindow: { ...MESSENGER_WINDOW },
  // Surveys only within 7 days of the customer's last message (the CUSTOMER_FEEDBACK tag's limit).
  // Only to someone who wrote in Messenger: a Page cannot write first (a commenter gets one private reply, not a survey).
  surveys: { withinMs: MESSENGER_WINDOW.humanAgentMs, needsPrivateConversation: true },
});
