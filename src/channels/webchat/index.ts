/** @module channels/webchat — the web chat Sportello serves itself at /chat (on unless WEBCHAT=false). */
import { z } from 'zod';
import { defineChannel, envBool, envInt, type ChannelSettingsResult } from '../definition.js';
import { createWebchatChannel, DEFAULT_WELCOME, webchatCapabilities, type WebchatSettings } from './webchat-channel.js';

export { createWebchatChannel, DEFAULT_LIMITS, DEFAULT_WELCOME, renderPage, webchatCapabilities, webchatMessageSchema } from './webchat-channel.js';
export type { WebchatChannelDeps, WebchatLimits, WebchatSettings, WebchatWelcome } from './webchat-channel.js';

/** A welcome text: `none` turns it off (an empty variable means the default, like every variable). */
const welcome = (fallback: string) =>
  z
    .string()
    .max(1000)
    .default(fallback)
    .transform((text) => (text.trim().toLowerCase() === 'none' ? '' : text.trim()));

/** Origins allowed to embed the chat (frame-ancestors) and call its API (CORS): `https://host[:port]`, comma-separated. */
const origins = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const list = v.split(',').map((o) => o.trim()).filter(Boolean);
    for (const o of list) {
      let url: URL | undefined;
      try {
        url = new URL(o);
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/.test(url.protocol) || url.origin !== o.replace(/\/$/, '')) {
        ctx.addIssue({ code: 'custom', message: `${o} is not an origin (scheme://host[:port], nothing after it)` });
      }
    }
    return list.map((o) => o.replace(/\/$/, ''));
  });

/** The web chat: on by default, so `npm start` with no credentials is a bot to talk to. */
export const webchatChannel = defineChannel({
  name: 'webchat',
  title: 'web chat',
  docs: 'docs/webchat.md',
  env: z.object({
    WEBCHAT: envBool.default(true),
    WEBCHAT_WELCOME_IT: welcome(DEFAULT_WELCOME.it),
    WEBCHAT_WELCOME_EN: welcome(DEFAULT_WELCOME.en),
    WEBCHAT_EMBED_ORIGINS: origins,
    WEBCHAT_RETENTION_DAYS: envInt(1, 3650).default(30),
    WEBCHAT_MAX_MESSAGE_CHARS: envInt(1, 4000).default(4000),
    WEBCHAT_SESSION_MESSAGES_PER_MINUTE: envInt(1, 10_000).default(20),
    WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE: envInt(1, 100_000).default(120),
    WEBCHAT_ADDRESS_SESSIONS_PER_HOUR: envInt(1, 100_000).default(60),
    WEBCHAT_ADDRESS_STREAMS: envInt(1, 100_000).default(20),
  }),
  settings: (env): ChannelSettingsResult<WebchatSettings> =>
    env.WEBCHAT
      ? {
          on: true,
          settings: {
            welcome: { it: env.WEBCHAT_WELCOME_IT, en: env.WEBCHAT_WELCOME_EN },
            embedOrigins: env.WEBCHAT_EMBED_ORIGINS,
            limits: {
              retentionDays: env.WEBCHAT_RETENTION_DAYS,
              maxMessageChars: env.WEBCHAT_MAX_MESSAGE_CHARS,
              sessionMessagesPerMinute: env.WEBCHAT_SESSION_MESSAGES_PER_MINUTE,
              addressMessagesPerMinute: env.WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE,
              addressSessionsPerHour: env.WEBCHAT_ADDRESS_SESSIONS_PER_HOUR,
              addressStreams: env.WEBCHAT_ADDRESS_STREAMS,
            },
          },
        }
      : { on: false },
  // In-process (a write to the visitor's event stream): no platform to wait for.
  sendSlots: 256,
  // Visitors give a name only if they want to: RETENTION_DAYS_ANONYMOUS applies to those who did not.
  anonymousVisitors: true,
  capabilities: webchatCapabilities,
  create: (settings, { store, bus, clock, logger }) => createWebchatChannel({ store, bus, clock, logger, ...settings }),
});
