/** @module channels/botframework — Microsoft Bot Framework via botbuilder's CloudAdapter (kept inside this folder). */
import { z } from 'zod';
import { defineChannel } from '../definition.js';
import { BOTFRAMEWORK_CAPABILITIES } from './capabilities.js';
import { botframeworkEnv, botframeworkSettings } from './settings.js';

// The adapter (and botbuilder) is loaded only when the channel is on: import it from ./botframework-channel.js.
export { BOTFRAMEWORK_CAPABILITIES } from './capabilities.js';
export type { BotFrameworkChannelDeps } from './botframework-channel.js';
export type { BotFrameworkSettings } from './settings.js';
export { isLoopbackAddress, isLoopbackUrl } from './loopback.js';

/** Bot Framework (Azure Bot: Web Chat, Teams, Direct Line): its route is POST /api/messages. */
export const botframeworkChannel = defineChannel({
  name: 'botframework',
  title: 'Bot Framework',
  docs: 'docs/botframework.md',
  env: z.object(botframeworkEnv),
  settings: botframeworkSettings,
  sendSlots: 32,
  capabilities: BOTFRAMEWORK_CAPABILITIES,
  create: async (settings, { store, clock, logger, outbound }) =>
    (await import('./botframework-channel.js')).createBotFrameworkChannel({ config: settings, store, clock, logger, outbound }),
});
