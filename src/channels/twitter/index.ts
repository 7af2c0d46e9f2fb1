/** @module channels/twitter — X (Twitter): mentions, replies, DMs, webhooks (XAA and AAA) and polling; twitter-api-v2 stays in here. */
import { z } from 'zod';
import { defineChannel } from '../definition.js';
import { twitterEnv, twitterSettings } from './settings.js';
import { TWITTER_CAPABILITIES } from './capabilities.js';

// The adapter (and twitter-api-v2) is loaded only when the channel is on: import it from ./twitter-channel.js.
export { TWITTER_CAPABILITIES } from './capabilities.js';
export type { TwitterChannel, TwitterChannelDeps } from './twitter-channel.js';
export type { TwitterSettings } from './settings.js';
export type { PollResult } from './polling.js';
export { xSignature } from './signature.js';
export { weightedLength, splitForThread } from './text.js';

/** The X channel: on when its five credentials are set; webhooks at /webhooks/twitter. */
export const twitterChannel = defineChannel({
  name: 'twitter',
  title: 'X',
  aliases: ['x'],
  docs: 'docs/twitter.md',
  env: z.object(twitterEnv),
  settings: twitterSettings,
  // X allows a few hundred posts and DMs per 15 minutes: a handful at once is plenty.
  sendSlots: 16,
  capabilities: TWITTER_CAPABILITIES,
  create: async (settings, { store, clock, logger, outbound, listening }) =>
    (await import('./twitter-channel.js')).createTwitterChannel({ config: settings, store, clock, logger, outbound, ...(listening ? { listening } : {}) }),
  conversationTests: {
    // A customer's post mentioning the brand is public unless the test says otherwise.
    defaultVisibility: 'public',
    customer: { follows_brand: z.boolean().optional() },
    apply(customer, channel) {
      // Without a follow (and open DMs) the brand cannot write first: X's "needs_follow".
      if (customer.follows_brand === false) channel.setReach(customer.id, 'needs_follow');
    },
  },
});
