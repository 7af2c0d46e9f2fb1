/**
 * @module channels/messenger/settings
 * The Messenger channel's environment variables and the settings read from them.
 */
import { z } from 'zod';
import { allOrNone, envBool, envOrigin, type ChannelSettingsResult } from '../definition.js';

/** The variables the Messenger channel reads (docs/messenger.md, .env.example). */
export const messengerEnv = {
  MESSENGER_APP_SECRET: z.string().min(1).optional(),
  MESSENGER_PAGE_TOKEN: z.string().min(1).optional(),
  MESSENGER_VERIFY_TOKEN: z.string().min(1).optional(),
  MESSENGER_PAGE_ID: z.string().optional(),
  MESSENGER_GRAPH_VERSION: z.string().regex(/^v\d+\.\d+$/, 'like v23.0').default('v23.0'),
  MESSENGER_GRAPH_ORIGIN: envOrigin.default('https://graph.facebook.com'),
  MESSENGER_HANDOVER: envBool.default(false),
  MESSENGER_PRIVACY_URL: z.url({ protocol: /^https?$/ }).optional(),
};

/** The credentials that turn the channel on, all together. */
const CREDENTIALS = ['MESSENGER_APP_SECRET', 'MESSENGER_PAGE_TOKEN', 'MESSENGER_VERIFY_TOKEN'] as const;

/** The Messenger channel's settings. */
export interface MessengerSettings {
  appSecret: string;
  pageToken: string;
  verifyToken: string;
  pageId?: string;
  graphVersion: string;
  graphOrigin: string;
  handover: boolean;
  /** The brand's privacy policy: the Customer Feedback Template requires it (surveys after 24 h). */
  privacyUrl?: string;
}

/** On when the three credentials are set. */
export function messengerSettings(e: z.infer<z.ZodObject<typeof messengerEnv>>): ChannelSettingsResult<MessengerSettings> {
  return allOrNone('messenger', e, CREDENTIALS, () => ({
    appSecret: e.MESSENGER_APP_SECRET!,
    pageToken: e.MESSENGER_PAGE_TOKEN!,
    verifyToken: e.MESSENGER_VERIFY_TOKEN!,
    pageId: e.MESSENGER_PAGE_ID,
    graphVersion: e.MESSENGER_GRAPH_VERSION,
    graphOrigin: e.MESSENGER_GRAPH_ORIGIN,
    handover: e.MESSENGER_HANDOVER,
    ...(e.MESSENGER_PRIVACY_URL ? { privacyUrl: e.MESSENGER_PRIVACY_URL } : {}),
  }));
}
