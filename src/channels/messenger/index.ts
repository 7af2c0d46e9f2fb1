/** @module channels/messenger — Facebook Messenger and Page comments (bottender's MessengerClient stays in here). */
import { z } from 'zod';
import { defineChannel } from '../definition.js';
import { MESSENGER_CAPABILITIES } from './capabilities.js';
import { messengerEnv, messengerSettings } from './settings.js';

// The adapter (and bottender) is loaded only when the channel is on: import it from ./messenger-channel.js.
export { MESSENGER_CAPABILITIES, MESSENGER_WINDOW } from './capabilities.js';
export type { MessengerChannelDeps } from './messenger-channel.js';
export type { MessengerSettings } from './settings.js';
export { signBody } from './signature.js';

/** Messenger and Page comments: on when its three credentials are set; webhooks at /webhooks/messenger. */
export const messengerChannel = defineChannel({
  name: 'messenger',
  title: 'Messenger',
  aliases: ['facebook'],
  docs: 'docs/messenger.md',
  env: z.object(messengerEnv),
  settings: messengerSettings,
  // Enough to keep two or three Graph batch requests (50 calls each) in flight: with 64, replies
  // fell behind acceptance under load (bench:e2e, lowdb 1.6 × the echo bot against 2.1 × with 128).
  sendSlots: 128,
  capabilities: MESSENGER_CAPABILITIES,
  create: async (settings, { store, clock, logger, outbound }) =>
    (await import('./messenger-channel.js')).createMessengerChannel({ config: settings, store, clock, logger, outbound }),
});
