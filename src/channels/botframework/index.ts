/** @module channels/botframework — Microsoft Bot Framework via botbuilder's CloudAdapter (kept inside this folder). */
export { createBotFrameworkChannel, BOTFRAMEWORK_CAPABILITIES, BOTFRAMEWORK_PATH } from './botframework-channel.js';
export type { BotFrameworkChannelDeps } from './botframework-channel.js';
export { isLoopbackAddress, isLoopbackUrl } from './loopback.js';
