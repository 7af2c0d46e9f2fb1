/**
 * @module config
 * One `loadConfig(env)` → a frozen, typed configuration. Every problem is reported at once,
 * naming its variable. Each channel's variables come from its definition in the channel registry
 * (src/channels/registry.ts), which also decides when it is on: a channel with some but not all
 * of its credentials is an error (a typo must not silently switch it off).
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { Language } from '../core/types.js';
import { CHANNELS, checkChannels, type AnyChannelDefinition } from '../channels/catalog.js';
import { loadSubscriptions, NO_SUBSCRIPTIONS, type Subscriptions } from '../events/subscriptions.js';
import { parseTrustProxy, type TrustProxy } from '../util/client-address.js';
import { alertMailEnv, readAlertMail, type AlertMailSettings } from './alert-mail.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const origin = z.string().url();

/** Weekly schedule like `mon-fri=09:00-18:00,sat=09:00-13:00`; days not listed are closed. */
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type DayName = (typeof DAY_NAMES)[number];
/** Opening intervals per weekday, minutes from midnight. */
export type WeeklySchedule = Record<DayName, Array<[number, number]>>;

/** Parses `mon-fri=09:00-18:00,sat=09:00-13:00` (also `mon-fri: 09:00-18:00; sat: ...`). */
export function parseSchedule(spec: string | Record<string, string>): WeeklySchedule {
  const schedule: WeeklySchedule = { sun: [], mon: [], tue: [], wed: [], thu: [], fri: [], sat: [] };
  const pairs: Array<[string, string]> =
    typeof spec === 'string'
      ? spec
          .split(/[,;]/)
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => {
            const m = /^([a-z-]+)\s*[=:]\s*(.+)$/i.exec(p);
            if (!m) throw new Error(`"${p}" is not DAYS=HH:MM-HH:MM`);
            return [m[1]!, m[2]!];
          })
      : Object.entries(spec);
  for (const [days, hours] of pairs) {
    const range = days.toLowerCase().split('-');
    const from = DAY_NAMES.indexOf(range[0] as DayName);
    const to = DAY_NAMES.indexOf((range[1] ?? range[0]) as DayName);
    if (from < 0 || to < 0 || range.length > 2) throw new Error(`unknown day range "${days}"`);
    for (const interval of String(hours).split(/\s+|\+/).filter(Boolean)) {
      const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(interval);
      if (!m) throw new Error(`"${interval}" is not HH:MM-HH:MM`);
      const start = Number(m[1]) * 60 + Number(m[2]);
      const end = Number(m[3]) * 60 + Number(m[4]);
      if (end <= start || end > 24 * 60) throw new Error(`"${interval}" ends before it starts`);
      for (let d = from; ; d = (d + 1) % 7) {
        schedule[DAY_NAMES[d]!].push([start, end]);
        if (d === to) break;
      }
    }
  }
  for (const d of DAY_NAMES) schedule[d].sort((a, b) => a[0] - b[0]);
  return schedule;
}

const schedule = z.string().transform((v, ctx) => {
  try {
    return parseSchedule(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');

const regex = z.string().refine((v) => {
  try {
    new RegExp(v);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

/** A delay as people write it: `90m`, `24h`, `3d` (minutes, hours, days), in milliseconds. */
const duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*[mhd]$/i, 'a number of minutes, hours or days, e.g. 90m, 24h, 3d')
  .transform((v) => Number(v.slice(0, -1).trim()) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[v.slice(-1).toLowerCase() as 'm' | 'h' | 'd']);

/** Environment variables Sportello's core reads, with defaults (channels add theirs). Documented in `.env.example`. */
export const envSchema = z.object({
  PORT: int(0, 65535).default(3978),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SPORTELLO_DATA: z.string().min(1).default('data/sportello.json'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://').optional(),
  /** Per channel send slots overriding the channels' own (`messenger=64,twitter=8`). */
  SEND_SLOTS: z.string().optional(),
  OUTBOUND_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3000),
  OUTBOUND_TIMEOUT_MS: int(500, 120_000).default(10_000),
  UNDERSTANDING_THREADS: int(0, 16).optional(),
  FAQ_DIR: z.string().min(1).default('faq'),
  INTENTS_DIR: z.string().min(1).default('intents'),
  FAQ_WATCH: bool.default(true),
  DEFAULT_LOCALE: z.enum(['it', 'en']).default('it'),
  BRAND_NAME: z.string().min(1).default('Bottega Rossi'),
  PUBLIC_URL: origin.optional(),

  ANSWER_THRESHOLD: num(0, 1).default(0.5),
  CLARIFY_THRESHOLD: num(0, 1).default(0.2),
  ORDER_NUMBER_PATTERN: regex.default('\\b(?:BR|ORD)-?\\d{5,10}\\b'),

  TIMEZONE: timezone.default('Europe/Rome'),
  BUSINESS_HOURS: schedule.default(parseSchedule('mon-fri=09:00-18:00,sat=09:00-13:00')),
  HOLIDAYS: list
    .pipe(z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates must be YYYY-MM-DD')))
    .default([]),
  SLA_MINUTES: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated minutes per priority, most urgent first')
    .transform((v) => v.split(',').map(Number))
    .default([15, 60, 240]),
  VIP_FOLLOWERS: int(0, Number.MAX_SAFE_INTEGER).default(100000),
  VIP_HANDLES: list.default([]),
  CRISIS_KEYWORDS: list.default([
    'class action',
    'avvocato',
    'avvocati',
    'denuncia',
    'intossicazione',
    'intossicato',
    'lawyer',
    'lawsuit',
    'sue you',
    'food poisoning',
    'poisoning',
    // Harm from a product: a person at once, first in the queue.
    'allergia',
    'reazione allergica',
    'ustione',
    'ustionato',
    'ustionata',
    'pronto soccorso',
    'ospedale',
    'soffocato',
    'soffocata',
    'soffocamento',
    'ingerito',
    'ha ingoiato',
    'preso fuoco',
    'prende fuoco',
    'scossa elettrica',
    'allergic reaction',
    'allergy',
    'burned',
    'burnt',
    'injured',
    'injury',
    'hospital',
    'emergency room',
    'choked',
    'choking',
    'swallowed',
    'caught fire',
    'electric shock',
    'si e fatto male',
    'si e fatta male',
    'mi sono fatto male',
    'mi sono fatta male',
    'si sono fatti male',
    'ferito',
    'ferita',
    'got hurt',
    'was hurt',
    'hurt himself',
    'hurt herself',
    'hurt myself',
    // Fraud and stolen accounts or cards.
    'frode',
    'addebito non autorizzato',
    'senza autorizzazione',
    'carta clonata',
    'carta rubata',
    'rubato la carta',
    'clonato la carta',
    'non autorizzato',
    'non autorizzata',
    'a mia insaputa',
    'account hackerato',
    'furto di identita',
    'fraud',
    'fraudulent',
    'unauthorized',
    'unauthorised',
    'without my permission',
    'stolen card',
    'card was stolen',
    'identity theft',
    'hacked',
    // The press.
    'giornalista',
    'ufficio stampa',
    'journalist',
    'reporter',
    'press office',
    // Consumer television and associations (Italy).
    'striscia la notizia',
    'le iene',
    'mi manda raitre',
    'mi manda rai tre',
    'codacons',
    'altroconsumo',
  ]),
  ANGER_THRESHOLD: num(0, 1).default(0.6),
  MISSES_BEFORE_ESCALATION: int(1, 10).default(2),
  QUEUE_NOTICE_MINUTES: int(0, 24 * 60).default(5),
  DATA_REQUEST_MINUTES: int(1, 7 * 24 * 60).default(30),

  BOT_CLOSE_HOURS: num(0, 24 * 30).default(24),
  SURVEYS: bool.default(false),
  SURVEY_DELAY: duration.default(24 * 3_600_000),
  SURVEY_BUSINESS_TIME: bool.default(false),
  SURVEY_AFTER_BOT: bool.default(false),
  SURVEY_LOW_SCORE: int(0, 5).default(2),
  FOLLOW_UP_INTERVAL_SECONDS: int(1, 3600).default(60),
  /** Retention (docs/data-protection.md): days for every channel and/or per channel (`365,webchat=30`); unset: kept. */
  RETENTION_DAYS: z.string().optional(),
  RETENTION_DAYS_ANONYMOUS: int(1, 36500).optional(),
  RETENTION_INTERVAL_MINUTES: int(1, 7 * 24 * 60).default(60),

  SESSION_SECRET: z.string().min(32, 'use at least 32 characters').optional(),
  WEBHOOKS_FILE: z.string().min(1).optional(),
  METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  LISTENING_FILE: z.string().min(1).optional(),
  TRUST_PROXY: z.string().transform((v, ctx) => {
    try {
      return parseTrustProxy(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }).optional(),

  ACTIONS_DIR: z.string().min(1).default('actions'),
  ACTIONS_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}(\s+whsec_[A-Za-z0-9+/]{16,}={0,2})*$/, 'one or more whsec_<base64> secrets separated by spaces')
    .transform((v) => v.split(/\s+/))
    .optional(),
  // Listening's alerts by e-mail (config/alert-mail.ts, docs/listening.md).
  ...alertMailEnv,
});

type Env = z.infer<typeof envSchema>;

/** The validated configuration. */
export interface Config {
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  dataFile: string;
  databaseUrl?: string;
  /**
   * Replies each channel sends at once in this instance (its own slots: a hung platform fills only
   * its own), by channel name: SEND_SLOTS, else the channel's definition. Also the most a crash or
   * a platform's timeout can leave in doubt on that channel.
   */
  sendSlots: Readonly<Record<string, number>>;
  /** Time limits of every call to a platform: connect, and total (then the outcome is unknown). */
  outbound: { connectTimeoutMs: number; timeoutMs: number };
  /** Worker threads that understand customer messages (undefined: one when the machine has a second core). */
  understandingThreads?: number;
  faqDir: string;
  intentsDir: string;
  watchCorpus: boolean;
  defaultLocale: Language;
  brandName: string;
  publicUrl?: string;
  nlu: { answerThreshold: number; clarifyThreshold: number; orderNumberPattern: string };
  handoff: {
    timezone: string;
    businessHours: WeeklySchedule;
    holidays: string[];
    /** First-response SLA in minutes, index 0 = priority 1. */
    slaMinutes: number[];
    vipFollowers: number;
    vipHandles: string[];
    crisisKeywords: string[];
    angerThreshold: number;
    missesBeforeEscalation: number;
    /** A customer waiting in the queue is told where they stand at most this often (0: at every message). */
    queueNoticeMinutes: number;
    /** How long a request for the customer's data stays open for a later message. */
    dataRequestMinutes: number;
  };
  /** Cases the bot closes and satisfaction surveys (docs/reports.md, "Follow-ups"). */
  followUps: {
    /** A case the bot answered, quiet this long, is closed as resolved by the bot (0: never). */
    botCloseMs: number;
    /** Satisfaction surveys are sent at all. */
    surveys: boolean;
    /** How long after the resolution a survey goes. */
    surveyDelayMs: number;
    /** The delay counts business hours only. */
    surveyBusinessTime: boolean;
    /** Cases the bot closed get a survey too. */
    surveyAfterBot: boolean;
    /** A score at or below this opens a follow-up in the queue (0: never). */
    lowScore: number;
    /** How often each instance looks for due work. */
    intervalMs: number;
  };
  /**
   * Retention (handoff/retention.ts, docs/data-protection.md): customer records inactive longer
   * than their channel's days are anonymised like an erasure. `days` by channel (null: kept), else
   * `otherDays` (absent: kept); `anonymousDays` for nameless visitors of `anonymousChannels` instead.
   */
  retention: { days: Readonly<Record<string, number | null>>; otherDays?: number; anonymousDays?: number; anonymousChannels: readonly string[]; intervalMs: number };
  sessionSecret?: string;
  /** Outbound events: the subscriptions of WEBHOOKS_FILE, their secrets read from the environment. */
  webhooks: Subscriptions;
  /** The listening file (docs/listening.md): brand names, exclusions, the spike detector's tuning; unset: the defaults. */
  listeningFile?: string;
  /** The proxies whose X-Forwarded-For is believed (undefined: none; the socket's peer is the client). */
  trustProxy: TrustProxy;
  /** `/metrics` asks for `Authorization: Bearer <token>`; without it, only internal addresses may read it. */
  metricsToken?: string;
  /** Custom actions: the folder they are loaded from, and the secrets HTTP actions are signed with (several during a rotation). */
  actions: { dir: string; secrets: string[] };
  /**
   * The settings of each channel the environment turns on, by channel name (a channel that is
   * off is absent). Each channel's definition reads its variables and hands these to its factory.
   */
  channels: Readonly<Record<string, unknown>>;
  /** Listening's spike alerts by e-mail: the SMTP server, sender, recipients, language (undefined: no SMTP server, no mail). */
  alertMail?: AlertMailSettings;
}

/** Options of `loadConfig`. */
export interface LoadConfigOptions {
  /** A brand's own channels (defineChannel), read from the environment like the registry's. */
  channels?: readonly AnyChannelDefinition[];
}

/** Reads and validates the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env, options: LoadConfigOptions = {}): Readonly<Config> {
  const definitions = options.channels?.length ? checkChannels([...CHANNELS, ...options.channels]) : CHANNELS;
  const given = (shape: object) =>
    Object.fromEntries(Object.entries(env).filter(([k, v]) => k in shape && v !== undefined && v !== ''));
  const problems: string[] = [];
  const report = (issues: readonly { path: readonly PropertyKey[]; message: string }[], values: Record<string, unknown>) => {
    for (const issue of issues) {
      const name = String(issue.path[0] ?? '?');
      // A secret's value is not repeated in the message (it ends up in terminals and logs).
      const got = /SECRET|PASSWORD|TOKEN|SMTP_URL/i.test(name) ? 'a value that is not shown' : JSON.stringify(values[name]);
      problems.push(`${name}: ${issue.message} (got ${got})`);
    }
  };
  const cleaned = given(envSchema.shape);
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) report(parsed.error.issues, cleaned);
  const channels: Record<string, unknown> = {};
  for (const channel of definitions) {
    const values = given(channel.env.shape);
    const read = channel.env.safeParse(values);
    if (!read.success) {
      report(read.error.issues, values);
      continue;
    }
    const outcome = channel.settings(read.data);
    if (outcome.on) channels[channel.name] = outcome.settings;
    else problems.push(...(outcome.problems ?? []));
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  // Replaced by SEND_SLOTS: refused with a message saying so (a setting must not be silently ignored).
  if (env.OUTBOX_CONCURRENCY !== undefined && env.OUTBOX_CONCURRENCY !== '') {
    problems.push(`OUTBOX_CONCURRENCY: replaced by SEND_SLOTS, send slots per channel (SEND_SLOTS=CHANNEL=N,…; channels: ${CHANNELS.map((c) => c.name).join(', ')}); remove it`);
  }
  const sendSlots = parseSendSlots(e.SEND_SLOTS, definitions, problems);
  const retentionDays = parseRetentionDays(e.RETENTION_DAYS, definitions, problems);
  if (e.OUTBOUND_CONNECT_TIMEOUT_MS > e.OUTBOUND_TIMEOUT_MS) {
    problems.push('OUTBOUND_CONNECT_TIMEOUT_MS: must not be above OUTBOUND_TIMEOUT_MS');
  }
  if (e.CLARIFY_THRESHOLD > e.ANSWER_THRESHOLD) {
    problems.push('CLARIFY_THRESHOLD: must not be above ANSWER_THRESHOLD');
  }
  let webhooks = NO_SUBSCRIPTIONS;
  try {
    webhooks = loadSubscriptions(e.WEBHOOKS_FILE, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const alertMail = readAlertMail(e, e.DEFAULT_LOCALE, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    dataFile: e.SPORTELLO_DATA,
    databaseUrl: e.DATABASE_URL,
    sendSlots,
    outbound: { connectTimeoutMs: e.OUTBOUND_CONNECT_TIMEOUT_MS, timeoutMs: e.OUTBOUND_TIMEOUT_MS },
    understandingThreads: e.UNDERSTANDING_THREADS,
    faqDir: e.FAQ_DIR,
    intentsDir: e.INTENTS_DIR,
    watchCorpus: e.FAQ_WATCH,
    defaultLocale: e.DEFAULT_LOCALE,
    brandName: e.BRAND_NAME,
    publicUrl: e.PUBLIC_URL,
    nlu: {
      answerThreshold: e.ANSWER_THRESHOLD,
      clarifyThreshold: e.CLARIFY_THRESHOLD,
      orderNumberPattern: e.ORDER_NUMBER_PATTERN,
    },
    handoff: {
      timezone: e.TIMEZONE,
      businessHours: e.BUSINESS_HOURS,
      holidays: e.HOLIDAYS,
      slaMinutes: e.SLA_MINUTES,
      vipFollowers: e.VIP_FOLLOWERS,
      vipHandles: e.VIP_HANDLES.map((h) => h.replace(/^@/, '').toLowerCase()),
      crisisKeywords: e.CRISIS_KEYWORDS,
      angerThreshold: e.ANGER_THRESHOLD,
      missesBeforeEscalation: e.MISSES_BEFORE_ESCALATION,
      queueNoticeMinutes: e.QUEUE_NOTICE_MINUTES,
      dataRequestMinutes: e.DATA_REQUEST_MINUTES,
    },
    followUps: {
      botCloseMs: e.BOT_CLOSE_HOURS * 3_600_000,
      surveys: e.SURVEYS,
      surveyDelayMs: e.SURVEY_DELAY,
      surveyBusinessTime: e.SURVEY_BUSINESS_TIME,
      surveyAfterBot: e.SURVEY_AFTER_BOT,
      lowScore: e.SURVEY_LOW_SCORE,
      intervalMs: e.FOLLOW_UP_INTERVAL_SECONDS * 1000,
    },
    retention: {
      days: retentionDays.days,
      ...(retentionDays.all !== undefined ? { otherDays: retentionDays.all } : {}),
      ...(e.RETENTION_DAYS_ANONYMOUS !== undefined ? { anonymousDays: e.RETENTION_DAYS_ANONYMOUS } : {}),
      anonymousChannels: definitions.filter((c) => c.anonymousVisitors === true).map((c) => c.name),
      intervalMs: e.RETENTION_INTERVAL_MINUTES * 60_000,
    },
    sessionSecret: e.SESSION_SECRET,
    webhooks,
    listeningFile: e.LISTENING_FILE,
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN,
    actions: { dir: e.ACTIONS_DIR, secrets: e.ACTIONS_SECRET ?? [] },
    channels,
    ...(alertMail ? { alertMail } : {}),
  };
  return deepFreeze(config);
}

/** Each channel's send slots: its definition's, then SEND_SLOTS (`name=N,…`, names of the known channels). */
function parseSendSlots(spec: string | undefined, definitions: readonly AnyChannelDefinition[], problems: string[]): Record<string, number> {
  const slots: Record<string, number> = Object.fromEntries(definitions.flatMap((c) => (c.sendSlots === undefined ? [] : [[c.name, c.sendSlots]])));
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9_-]*)\s*[=:]\s*(\d+)$/i.exec(part);
    const channel = m && definitions.find((c) => c.name === m[1]!.toLowerCase());
    if (!m) problems.push(`SEND_SLOTS: "${part}" is not CHANNEL=NUMBER`);
    else if (!channel) problems.push(`SEND_SLOTS: no channel named "${m[1]}" (channels: ${definitions.map((c) => c.name).join(', ')})`);
    else if (Number(m[2]) < 1 || Number(m[2]) > 1000) problems.push(`SEND_SLOTS: ${channel.name} needs 1 to 1000 slots (got ${m[2]})`);
    else slots[channel.name] = Number(m[2]);
  }
  return slots;
}

/**
 * RETENTION_DAYS: `N` (every channel), `CHANNEL=N` entries, or both (`730,webchat=90`); `CHANNEL=keep`
 * keeps one channel when a number is given for all. Days by channel name (null: kept), and the
 * number for every other channel (a brand's own included).
 */
function parseRetentionDays(spec: string | undefined, definitions: readonly AnyChannelDefinition[], problems: string[]): { days: Record<string, number | null>; all?: number } {
  let all: number | undefined;
  const own: Record<string, number | 'keep'> = {};
  const count = (v: string, what: string): number | undefined => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > 36500) problems.push(`RETENTION_DAYS: ${what} needs 1 to 36500 days or "keep" (got ${JSON.stringify(v)})`);
    else return n;
    return undefined;
  };
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9_-]*)\s*[=:]\s*(\S+)$/i.exec(part);
    if (!m) {
      if (all !== undefined) problems.push(`RETENTION_DAYS: "${part}": one number for every channel at most, then CHANNEL=DAYS`);
      else all = count(part, 'every channel');
      continue;
    }
    const channel = definitions.find((c) => c.name === m[1]!.toLowerCase());
    if (!channel) problems.push(`RETENTION_DAYS: no channel named "${m[1]}" (channels: ${definitions.map((c) => c.name).join(', ')})`);
    else if (m[2]!.toLowerCase() === 'keep') own[channel.name] = 'keep';
    else {
      const n = count(m[2]!, channel.name);
      if (n !== undefined) own[channel.name] = n;
    }
  }
  const days: Record<string, number | null> = {};
  for (const [name, d] of Object.entries(own)) days[name] = d === 'keep' ? null : d;
  return { days, ...(all !== undefined ? { all } : {}) };
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
