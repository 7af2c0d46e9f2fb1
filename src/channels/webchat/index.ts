/** @module channels/webchat — the web chat Sportello serves itself at /chat (on unless WEBCHAT=false). */
import { z } from 'zod';
import { defineChannel, envBool } from '../definition.js';
import { createWebchatChannel, webchatCapabilities } from './webchat-channel.js';

export { createWebchatChannel, webchatCapabilities, webchatMessageSchema } from './webchat-channel.js';
export type { WebchatChannelDeps } from './webchat-channel.js';

/** The web chat: on by default, so `npm start` with no credentials is a bot to talk to. */
export const webchatChannel = defineChannel({
  name: 'webchat',
  title: 'web chat',
  env: z.object({ WEBCHAT: envBool.default(true) }),
  settings: (env) => (env.WEBCHAT ? { on: true, settings: {} } : { on: false }),
  capabilities: webchatCapabilities,
  create: (_settings, { store, bus, clock, logger }) => createWebchatChannel({ store, bus, clock, logger }),
});
