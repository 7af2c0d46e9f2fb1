/**
 * @module channels/registry
 * Every channel Sportello knows, one line each: adding a channel is a folder under src/channels/
 * whose index.ts exports its `defineChannel(...)`, and one line here. (`catalog.ts` reads them.)
 */
export { webchatChannel } from './webchat/index.js';
export { twitterChannel } from './twitter/index.js';
export { messengerChannel } from './messenger/index.js';
export { botframeworkChannel } from './botframework/index.js';
export { consoleChannel } from './console/index.js';
