/** @module channels/twitter — X (Twitter): mentions, replies, DMs, webhooks (XAA and AAA) and polling; twitter-api-v2 stays in here. */
export { createTwitterChannel, dmComposeLink, REACH_TTL_MS, TWITTER_CAPABILITIES } from './twitter-channel.js';
export type { TwitterChannel, TwitterChannelDeps } from './twitter-channel.js';
export type { PollResult } from './polling.js';
export { xSignature } from './signature.js';
export { weightedLength, splitForThread } from './text.js';
