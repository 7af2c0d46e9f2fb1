/** @module channels/botframework — Microsoft Bot Framework via botbuilder's CloudAdapter (kept inside this folder). */
import { z } from 'zod';
import { defineChannel } from '../definition.js';
import { BOTFRAMEWORK_CAPABILITIES, createBotFrameworkChannel } from './botframework-channel.js';
import { botframeworkEnv, botframeworkSettings } from './settings.js';

export { createBotFrameworkChannel, BOTFRAMEWORK_CAPABILITIES, BOTFRAMEWORK_PATH } from './botframework-channel.js';
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
  create: (settings, { store, clock, logger, outbound }) => createBotFrameworkChannel({ config: settings, store, clock, logger, outbound }),
});
