/** @module channels/webchat — the web chat Sportello serves itself at /chat (on unless WEBCHAT=false). */
import { z } from 'zod';
import { defineChannel, envBool, type ChannelSettingsResult } from '../definition.js';
import { createWebchatChannel, DEFAULT_WELCOME, webchatCapabilities, type WebchatWelcome } from './webchat-channel.js';

export { createWebchatChannel, DEFAULT_WELCOME, renderPage, webchatCapabilities, webchatMessageSchema } from './webchat-channel.js';
export type { WebchatChannelDeps, WebchatWelcome } from './webchat-channel.js';

/** A welcome text: `none` turns it off (an empty variable means the default, like every variable). */
const welcome = (fallback: string) =>
  z
    .string()
    .max(1000)
    .default(fallback)
    .transform((text) => (text.trim().toLowerCase() === 'none' ? '' : text.trim()));

/** The web chat: on by default, so `npm start` with no credentials is a bot to talk to. */
export const webchatChannel = defineChannel({
  name: 'webchat',
  title: 'web chat',
  docs: 'docs/webchat.md',
  env: z.object({
    WEBCHAT: envBool.default(true),
    WEBCHAT_WELCOME_IT: welcome(DEFAULT_WELCOME.it),
    WEBCHAT_WELCOME_EN: welcome(DEFAULT_WELCOME.en),
  }),
  settings: (env): ChannelSettingsResult<{ welcome: WebchatWelcome }> => (env.WEBCHAT ? { on: true, settings: { welcome: { it: env.WEBCHAT_WELCOME_IT, en: env.WEBCHAT_WELCOME_EN } } } : { on: false }),
  // In-process (a write to the visitor's event stream): no platform to wait for.
  sendSlots: 256,
  capabilities: webchatCapabilities,
  create: (settings, { store, bus, clock, logger }) => createWebchatChannel({ store, bus, clock, logger, welcome: settings.welcome }),
});
