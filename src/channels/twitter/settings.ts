/**
 * @module channels/twitter/settings
 * The X channel's environment variables and the settings read from them.
 */
import { z } from 'zod';
import { allOrNone, envInt, envOrigin, type ChannelSettingsResult } from '../definition.js';

/** The variables the X channel reads (docs/twitter.md, .env.example). */
export const twitterEnv = {
  X_API_KEY: z.string().min(1).optional(),
  X_API_SECRET: z.string().min(1).optional(),
  X_ACCESS_TOKEN: z.string().min(1).optional(),
  X_ACCESS_SECRET: z.string().min(1).optional(),
  X_BRAND_USER_ID: z.string().regex(/^\d+$/, 'a numeric X user id').optional(),
  X_BRAND_HANDLE: z.string().optional(),
  X_POLL_SECONDS: envInt(0, 86400).default(0),
  X_SEARCH_QUERY: z.string().trim().min(1).max(4096).optional(),
  X_SEARCH_SECONDS: envInt(10, 86400).default(60),
  X_LISTEN_MODE: z.enum(['search', 'stream']).default('search'),
  X_BEARER_TOKEN: z.string().min(1).optional(),
  X_API_ORIGIN: envOrigin.default('https://api.x.com'),
};

/** The credentials that turn the channel on, all together. */
const CREDENTIALS = ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET', 'X_BRAND_USER_ID'] as const;

/** The X channel's settings. */
export interface TwitterSettings {
  apiKey: string;
  apiSecret: string;
  accessToken: string;
  accessSecret: string;
  brandUserId: string;
  brandHandle?: string;
  pollSeconds: number;
  /** Listening: the recent-search query (absent: no search). */
  searchQuery?: string;
  searchSeconds: number;
  /** How listening hears X: recent search polled (default) or the filtered stream (falls back to search without stream access). */
  listenMode: 'search' | 'stream';
  /** The app-only bearer token the filtered stream needs (absent: obtained from the API key and secret). */
  bearerToken?: string;
  apiOrigin: string;
}

/** On when all five credentials are set. */
export function twitterSettings(e: z.infer<z.ZodObject<typeof twitterEnv>>): ChannelSettingsResult<TwitterSettings> {
  return allOrNone('twitter', e, CREDENTIALS, () => ({
    apiKey: e.X_API_KEY!,
    apiSecret: e.X_API_SECRET!,
    accessToken: e.X_ACCESS_TOKEN!,
    accessSecret: e.X_ACCESS_SECRET!,
    brandUserId: e.X_BRAND_USER_ID!,
    brandHandle: e.X_BRAND_HANDLE?.replace(/^@/, ''),
    pollSeconds: e.X_POLL_SECONDS,
    ...(e.X_SEARCH_QUERY ? { searchQuery: e.X_SEARCH_QUERY } : {}),
    searchSeconds: e.X_SEARCH_SECONDS,
    listenMode: e.X_LISTEN_MODE,
    ...(e.X_BEARER_TOKEN ? { bearerToken: e.X_BEARER_TOKEN } : {}),
    apiOrigin: e.X_API_ORIGIN,
  }));
}
