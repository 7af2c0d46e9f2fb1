/** @module channels/messenger — Facebook Messenger and Page comments (bottender's MessengerClient stays in here). */
export { createMessengerChannel, MESSENGER_CAPABILITIES, MESSENGER_WINDOW, PAGE_INBOX_APP_ID } from './messenger-channel.js';
export type { MessengerChannelDeps } from './messenger-channel.js';
export { signBody } from './signature.js';
