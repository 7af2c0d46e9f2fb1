/**
 * @module channels/twitter/capabilities
 * What X allows, apart from the adapter: config, the conversation-test runner and the definition
 * read it without loading the X client (twitter-api-v2 is loaded only when the channel is on).
 */
import type { ChannelCapabilities } from '../../core/ports.js';
import { MAX_DM, MAX_POST, weightedLength } from './text.js';

/** What X allows: 280 weighted characters a post (twitter-text), threads of up to 3, no quick replies. */
export const TWITTER_CAPABILITIES: Readonly<ChannelCapabilities> = Object.freeze({
  publicReplies: true,
  privateMessages: true,
  maxLength: { public: MAX_POST, private: MAX_DM },
  measure: weightedLength,
  quickReplies: 0,
  signsPublicReplies: true,
  maxThread: 3,
  // Since 2026-02-23 a self-serve app may reply only to posts that mention or quote the brand.
  publicRepliesNeedAddress: true,
  // By DM only, when the brand can DM the customer (privateReach); v2 DMs have no quick replies.
  surveys: {},
  // Where an operator opens a post to answer it from X itself (x.com/i/web/status/ID works without the handle).
  postLink: ({ platformId, authorHandle }: { platformId: string; authorHandle?: string }) => `https://x.com/${authorHandle ? encodeURIComponent(authorHandle) : 'i/web'}/status/${encodeURIComponent(platformId)}`,
});
