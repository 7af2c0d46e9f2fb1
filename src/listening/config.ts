/**
 * @module listening/config
 * `listening.yaml` (docs/formats.md, "Listening"): what to listen for (the brand's names,
 * keywords, handles without @, hashtags, misspellings, words that exclude a post) and the spike
 * detector's tuning. Checked with zod; problems are reported as `file:line:column: what`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { locatePath } from '../corpus/load.js';
import { fold } from '../classifier/normalise.js';
import { DEFAULT_DETECTOR, SENSITIVITIES, SENSITIVITY_PRESETS, type DetectorSettings } from './detector.js';
import { crisisRulesFrom, crisisRulesSchema, type CrisisRule } from './crisis-rules.js';

const words = z.array(z.string().trim().min(1)).default([]);

/** An approved holding statement: what the bot says during a crisis, per language and (optionally) channel. */
const holdingStatementSchema = z
  .object({
    language: z.enum(['it', 'en']),
    /** A channel's name; absent: every channel of that language without a statement of its own. */
    channel: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a channel name').optional(),
    text: z.string().trim().min(1).max(1000),
  })
  .strict();

/** The file's schema (snake_case keys, as the other YAML formats). */
export const listeningFileSchema = z
  .object({
    /**
     * Holding statements, reviewed like the FAQ: with any, each language needs one for every
     * channel (no `channel`), and a language and channel appear once.
     */
    holding_statements: z
      .array(holdingStatementSchema)
      .default([])
      .superRefine((list, ctx) => {
        if (list.length === 0) return;
        for (const language of ['it', 'en'] as const) {
          if (!list.some((s) => s.language === language && s.channel === undefined)) {
            ctx.addIssue({ code: 'custom', message: `no statement in "${language}" for every channel (one without \`channel\`)` });
          }
        }
        const seen = new Set<string>();
        list.forEach((s, i) => {
          const key = `${s.language}/${s.channel ?? '*'}`;
          if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `a second statement in "${s.language}"${s.channel ? ` for ${s.channel}` : ''}` });
          seen.add(key);
        });
      }),
    /** The brand's names: searched for, and never a topic. */
    brand: z.array(z.string().trim().min(1)).min(1).optional(),
    keywords: words,
    /** Handles without @ (a post naming the handle without a mention). */
    handles: z.array(z.string().trim().regex(/^@?\w{1,50}$/, 'a handle: letters, digits and _')).default([]),
    hashtags: z.array(z.string().trim().regex(/^#?[\p{L}\p{N}_]+$/u, 'a hashtag: letters, digits and _')).default([]),
    misspellings: words,
    /** A post with one of these words or phrases is not the brand's (e.g. a namesake): not counted, not answered. */
    exclude: words,
    detector: z
      .object({
        sensitivity: z.enum(SENSITIVITIES).default('medium'),
        window_minutes: z.number().int().min(5).max(240).optional(),
        long_window_minutes: z.union([z.literal(0), z.number().int().min(30).max(240)]).optional(),
        p_value: z.number().gt(0).lt(1).optional(),
        min_ratio: z.number().min(1).optional(),
        min_volume: z.number().int().min(2).optional(),
        min_negative_share: z.number().min(0).max(1).optional(),
        growth: z.number().gt(1).optional(),
        cooldown_minutes: z.number().int().min(5).optional(),
        cold_start_hours: z.number().min(0).optional(),
        timezone: z
          .string()
          .refine((tz) => {
            try {
              new Intl.DateTimeFormat('en', { timeZone: tz });
              return true;
            } catch {
              return false;
            }
          }, 'not an IANA time zone')
          .optional(),
      })
      .strict()
      .default({ sensitivity: 'medium' }),
    /** Where alerts go besides the console and the outbound events: e-mail to decision makers (the SMTP server is the environment's). */
    alerts: z
      .object({
        email: z
          .object({
            /** Replaces ALERT_EMAILS. */
            to: z.array(z.email('an e-mail address')).min(1).optional(),
            /** Replaces ALERT_EMAIL_LANGUAGE. */
            language: z.enum(['it', 'en']).optional(),
            /** Whether updates of a spike (it grew) are mailed too; default yes. */
            updates: z.boolean().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /**
     * Care requests heard without a mention where the platform allows no public reply (X): a person
     * answers them; with `dm: true` the bot also opens a DM where the customer accepts DMs.
     */
    unaddressed: z.object({ dm: z.boolean().default(false) }).strict().default({ dm: false }),
    /** Rules that open crisis mode on an alert's topic by themselves (listening/crisis-rules.ts). */
    crisis_rules: crisisRulesSchema,
  })
  .strict();
export type ListeningFile = z.infer<typeof listeningFileSchema>;

/** A listening file with problems: one `file:line:column: what` a line. */
export class ListeningFileError extends Error {
  override name = 'ListeningFileError';
}

/** What listening runs with. */
export interface ListeningSettings {
  brand: string[];
  keywords: string[];
  handles: string[];
  hashtags: string[];
  misspellings: string[];
  exclude: string[];
  detector: DetectorSettings;
  holdingStatements: Array<{ language: 'it' | 'en'; channel?: string; text: string }>;
  /** Rules that open a crisis on an alert's topic. */
  crisisRules: CrisisRule[];
  /** A care request heard without a mention (no public reply allowed) gets a DM where the customer accepts DMs. */
  unaddressedDm: boolean;
  /** The file's `alerts.email`: recipients and language replacing the environment's, and whether updates are mailed. */
  alertEmail: { to?: string[]; language?: 'it' | 'en'; updates: boolean };
}

/** Settings from a parsed file, with the brand name and time zone of the environment as defaults. */
export function listeningSettings(file: ListeningFile, defaults: { brandName: string; timezone: string }): ListeningSettings {
  const d = file.detector;
  const brand = file.brand ?? [defaults.brandName];
  const handles = file.handles.map((h) => h.replace(/^@/, ''));
  return {
    brand,
    keywords: file.keywords,
    handles,
    hashtags: file.hashtags.map((h) => h.replace(/^#/, '')),
    misspellings: file.misspellings,
    exclude: file.exclude,
    holdingStatements: file.holding_statements,
    crisisRules: crisisRulesFrom(file.crisis_rules),
    unaddressedDm: file.unaddressed.dm,
    alertEmail: {
      ...(file.alerts?.email?.to ? { to: file.alerts.email.to } : {}),
      ...(file.alerts?.email?.language ? { language: file.alerts.email.language } : {}),
      updates: file.alerts?.email?.updates ?? true,
    },
    detector: {
      ...DEFAULT_DETECTOR,
      ...SENSITIVITY_PRESETS[d.sensitivity],
      ...(d.window_minutes !== undefined && { windowMinutes: d.window_minutes }),
      ...(d.long_window_minutes !== undefined && { longWindowMinutes: d.long_window_minutes }),
      ...(d.p_value !== undefined && { pValue: d.p_value }),
      ...(d.min_ratio !== undefined && { minRatio: d.min_ratio }),
      ...(d.min_volume !== undefined && { minVolume: d.min_volume }),
      ...(d.min_negative_share !== undefined && { minNegativeShare: d.min_negative_share }),
      ...(d.growth !== undefined && { growth: d.growth }),
      ...(d.cooldown_minutes !== undefined && { cooldownMinutes: d.cooldown_minutes }),
      ...(d.cold_start_hours !== undefined && { coldStartHours: d.cold_start_hours }),
      timezone: d.timezone ?? defaults.timezone,
      brandNames: [...brand, ...handles, ...file.misspellings],
    },
  };
}

/** Reads and checks a listening file; throws ListeningFileError listing every problem as `file:line:column: what`. */
export function loadListeningFile(path: string): ListeningFile {
  const text = readFileSync(path, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    throw new ListeningFileError(
      doc.errors.map((e) => `${path}:${e.linePos?.[0]?.line ?? 1}:${e.linePos?.[0]?.col ?? 1}: ${e.message.split('\n')[0]}`).join('\n'),
    );
  }
  const parsed = listeningFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new ListeningFileError(
      parsed.error.issues
        .map((i) => {
          const keys = i.path.filter((k): k is string | number => typeof k !== 'symbol');
          const at = locatePath(doc, lineCounter, keys);
          return `${path}:${at.line}:${at.col}: ${keys.join('.') || '(file)'}: ${i.message}`;
        })
        .join('\n'),
    );
  }
  return parsed.data;
}

/** Whether a text has one of the excluding words or phrases (accents and case folded, whole words). */
export function isExcluded(text: string, exclude: readonly string[]): boolean {
  if (exclude.length === 0) return false;
  const folded = ` ${fold(text.toLowerCase()).replace(/[^\p{L}\p{N}#@]+/gu, ' ')} `;
  return exclude.some((w) => folded.includes(` ${fold(w.toLowerCase()).replace(/[^\p{L}\p{N}#@]+/gu, ' ').trim()} `));
}
