/** @module channels/messenger — Facebook Messenger and Page comments (bottender's MessengerClient stays in here). */
import { z } from 'zod';
import { defineChannel } from '../definition.js';
import { createMessengerChannel, MESSENGER_CAPABILITIES } from './messenger-channel.js';
import { messengerEnv, messengerSettings } from './settings.js';

export { createMessengerChannel, MESSENGER_CAPABILITIES, MESSENGER_WINDOW, PAGE_INBOX_APP_ID } from './messenger-channel.js';
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
  // Enough to fill a Graph batch request (50 calls) while the previous one is answered.
  sendSlots: 64,
  capabilities: MESSENGER_CAPABILITIES,
  create: (settings, { store, clock, logger, outbound }) => createMessengerChannel({ config: settings, store, clock, logger, outbound }),
});
