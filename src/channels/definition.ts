/**
 * @module channels/definition
 * What a channel is to the rest of Sportello: one `ChannelDefinition`, exported from its folder's
 * `index.ts` and listed on one line of `registry.ts`. Config composes the channels' environment
 * schemas from it, the composition root builds the enabled channels with its factory, and the
 * conversation-test runner plays a channel with its capabilities and test settings. Nothing
 * outside a channel's folder and the registry names a channel or one of its variables
 * (tests/architecture/channels.test.ts keeps it so).
 */
import { z } from 'zod';
import type { EventBus } from '../core/events.js';
import type { ChannelAdapter, ChannelCapabilities, Clock, PrivateReach, Store } from '../core/ports.js';
import type { Visibility } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import type { OutboundLimits } from '../util/outbound.js';

/** What a channel's factory receives besides its own settings. */
export interface ChannelDeps {
  store: Store;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /**
   * Time limits of every call the channel makes to its platform (connect, total): its clients use
   * `outboundHttpAgent`/`outboundHttpsAgent` (util/outbound.ts) and set the total on each call.
   */
  outbound: OutboundLimits;
  /**
   * What the brand listens for beyond its mentions (LISTENING_FILE: docs/listening.md), for a
   * channel that searches its platform: the brand's names, keywords, handles without @, hashtags,
   * misspellings, and words that exclude a post. Absent: nothing to search for.
   */
  listening?: ListeningTerms;
}

/** The terms of the brand's listening file a channel may search its platform for. */
export interface ListeningTerms {
  brand: readonly string[];
  keywords: readonly string[];
  handles: readonly string[];
  hashtags: readonly string[];
  misspellings: readonly string[];
  exclude: readonly string[];
}

/** The outcome of reading a channel's variables: its settings when it is on, or what is wrong. */
export type ChannelSettingsResult<S> = { on: true; settings: S } | { on: false; problems?: string[] };

/** What a conversation test may say about its customer on this channel, and how it is played. */
export interface ChannelTestSupport<T extends z.ZodRawShape = z.ZodRawShape> {
  /** Visibility of a customer turn that names none (X: public mentions). Default: private. */
  defaultVisibility?: Visibility;
  /** Customer settings this channel understands in a YAML test (X: `follows_brand`). */
  customer?: T;
  /** Applies them to the recording channel that plays this channel in the test. */
  apply?(customer: { id: string } & z.infer<z.ZodObject<T>>, channel: { setReach(customerPlatformId: string, reach: PrivateReach): void }): void;
}

/** One channel: its name, variables, capabilities and factory. */
export interface ChannelDefinition<E extends z.ZodRawShape = z.ZodRawShape, S = unknown, T extends z.ZodRawShape = z.ZodRawShape> {
  /** The channel's name: `InboundMessage.channel`, `/webhooks/:name`, the YAML tests' `channel:`. */
  readonly name: string;
  /** How people call it (messages to operators and editors: "X", "Messenger"). */
  readonly title: string;
  /** Other names of the channel or its platform (X for twitter, Facebook for messenger): reserved like the name. */
  readonly aliases?: readonly string[];
  /** The page that documents it (checked to list every variable of `env`). */
  readonly docs?: string;
  /** The environment variables it reads (keys are the variable names), with their defaults. */
  readonly env: z.ZodObject<E>;
  /** From its parsed variables: on with settings, off, or off with problems (a half-set channel). */
  settings(env: z.infer<z.ZodObject<E>>): ChannelSettingsResult<S>;
  /**
   * Replies this channel sends at once per instance (its own send slots: a platform that hangs
   * fills only these, never another channel's). Sized to what the platform takes: Messenger
   * batches up to 50 calls in one request, X allows few posts a minute, the web chat is in-process.
   * `SEND_SLOTS` overrides it. It also bounds what a crash or a timeout can leave in doubt.
   * Default 32.
   */
  readonly sendSlots?: number;
  /**
   * Its visitors may stay anonymous (the web chat: no account, a name only if they give one).
   * Those who never gave a name or handle get `RETENTION_DAYS_ANONYMOUS` (handoff/retention.ts).
   */
  readonly anonymousVisitors?: boolean;
  /** What the platform allows; the pipeline reads this, never the name. */
  readonly capabilities: Readonly<ChannelCapabilities>;
  /**
   * Builds the adapter, once at start when the channel is on. Its routes (`ChannelAdapter.routes`)
   * are served by the HTTP server. May be async: a channel loads its platform's SDK here
   * (`await import(...)`), so a channel that is off costs nothing at start.
   */
  create(settings: S, deps: ChannelDeps): ChannelAdapter | Promise<ChannelAdapter>;
  /** How conversation tests play this channel. */
  readonly conversationTests?: ChannelTestSupport<T>;
}

/** A definition of any channel, as the registry holds it. */
export type AnyChannelDefinition = ChannelDefinition<any, any, any>;

/** What a channel's name may be: it is a URL segment (`/webhooks/:name`) and a YAML value. */
export const CHANNEL_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
/** What an environment variable's name may be. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Declares a channel: the settings type flows from `settings` to `create`, and the definition is
 * checked now, so a mistake is reported where the channel is written rather than at start.
 * Built-in channels are listed in src/channels/registry.ts; a brand's own channel is passed to
 * `createSportello({ channels: [myChannel] })` (and `loadConfig(env, { channels })`).
 */
export function defineChannel<E extends z.ZodRawShape, S, T extends z.ZodRawShape = Record<never, never>>(
  definition: ChannelDefinition<E, S, T>,
): ChannelDefinition<E, S, T> {
  const problems = channelDefinitionProblems(definition);
  if (problems.length > 0) throw new TypeError(`defineChannel(${JSON.stringify(definition?.name ?? null)}): ${problems.join('; ')}`);
  return Object.freeze({ ...definition });
}

/** What is wrong with a would-be channel definition (none: it is one). */
export function channelDefinitionProblems(d: unknown): string[] {
  if (!d || typeof d !== 'object') return ['a definition is an object'];
  const def = d as Partial<Record<keyof ChannelDefinition, unknown>>;
  const problems: string[] = [];
  if (typeof def.name !== 'string' || !CHANNEL_NAME.test(def.name)) problems.push('name: lower-case letters, digits, - and _, starting with a letter (at most 32)');
  if (typeof def.title !== 'string' || def.title.trim() === '') problems.push('title: how people call the channel, e.g. "SMS"');
  if (def.aliases !== undefined && (!Array.isArray(def.aliases) || def.aliases.some((a) => typeof a !== 'string' || !CHANNEL_NAME.test(a)))) {
    problems.push('aliases: a list of names written like `name`');
  }
  // Duck-typed: a brand's project may have its own copy of zod.
  const env = def.env as { shape?: unknown; safeParse?: unknown } | undefined;
  if (!env || typeof env.safeParse !== 'function' || !env.shape || typeof env.shape !== 'object') problems.push('env: a zod object of the variables it reads, e.g. z.object({ SMS_TOKEN: z.string().optional() })');
  else for (const variable of Object.keys(env.shape)) if (!VARIABLE_NAME.test(variable)) problems.push(`env: ${variable} is not a variable name`);
  if (typeof def.settings !== 'function') problems.push('settings: a function from the parsed variables to { on, settings } (see allOrNone)');
  if (typeof def.create !== 'function') problems.push('create: a function building the ChannelAdapter');
  const caps = def.capabilities as Partial<ChannelCapabilities> | undefined;
  if (!caps || typeof caps !== 'object') problems.push('capabilities: what the platform allows (ChannelCapabilities)');
  else {
    if (typeof caps.publicReplies !== 'boolean' || typeof caps.privateMessages !== 'boolean') problems.push('capabilities: publicReplies and privateMessages are booleans');
    if (!caps.maxLength || !(Number(caps.maxLength.public) > 0) || !(Number(caps.maxLength.private) > 0)) problems.push('capabilities.maxLength: { public, private } positive lengths');
    if (typeof caps.measure !== 'function') problems.push('capabilities.measure: a function giving a text\'s length as the platform counts it');
  }
  return problems;
}

// ───────────── helpers for channels' variables ─────────────

/** A boolean variable: true/false, 1/0, yes/no, on/off. */
export const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** An integer variable within [min, max]. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

/** A platform origin: https, or plain http to a loopback address (tests' fake platforms); no trailing slash. */
export const envOrigin = z
  .string()
  .url()
  .refine((v) => !v.startsWith('http:') || LOOPBACK.test(v), 'plain http is allowed only to a loopback address')
  .transform((v) => v.replace(/\/$/, ''));

/**
 * The rule of channels with credentials: on when every one of `names` is set, off when none is,
 * a problem naming the missing ones when only some are (a typo must not silently switch it off).
 */
export function allOrNone<N extends string, S>(
  channel: string,
  env: Partial<Record<N, unknown>>,
  names: readonly N[],
  settings: () => S,
): ChannelSettingsResult<S> {
  const set = names.filter((n) => env[n] !== undefined);
  if (set.length === 0) return { on: false };
  if (set.length < names.length) {
    const missing = names.filter((n) => env[n] === undefined);
    return { on: false, problems: [`${missing.join(', ')}: required to turn on ${channel} (${set.join(', ')} set)`] };
  }
  return { on: true, settings: settings() };
}
