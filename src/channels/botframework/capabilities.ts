/**
 * @module channels/botframework/capabilities
 * What Bot Framework channels allow, apart from the adapter: config, the conversation-test runner
 * and the definition read it without loading botbuilder (loaded only when the channel is on).
 */
import type { ChannelCapabilities } from '../../core/ports.js';

/** Teams refuses messages over about 28 KB; Web Chat has no limit of its own. */
const MAX_TEXT = 28000;

/** What Bot Framework channels allow (the conversation-test runner can use the same values). */
export const BOTFRAMEWORK_CAPABILITIES: Readonly<ChannelCapabilities> = Object.freeze({
  publicReplies: false,
  privateMessages: true,
  maxLength: { private: MAX_TEXT, public: MAX_TEXT },
  measure: (text: string) => text.length,
  quickReplies: 10,
  signsPublicReplies: false,
  maxThread: 1,
  surveys: {},
});
