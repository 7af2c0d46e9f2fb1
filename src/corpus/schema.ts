/**
 * @module corpus/schema
 * zod schemas of the FAQ and intent files (docs/faq.md, FORMATS.md). Unknown keys are errors:
 * a typo must never be silently ignored. The loaded shapes are checked against core's types.
 */
import { z } from 'zod';
import { DATA_KINDS, INTENT_ACTIONS, type FaqEntry, type IntentDef } from '../core/corpus.js';

/** Languages a corpus file may declare. */
export const LOCALES = ['it', 'en'] as const;

/** kebab-case: lower-case letters and digits separated by single dashes. */
export const KEBAB_CASE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** snake_case: lower-case letters and digits separated by single underscores. */
export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

const text = (what: string) =>
  z.string({ error: `${what} must be text` }).trim().min(1, { error: `${what} must not be empty` });

const localeSchema = z.enum(LOCALES, { error: `locale must be one of: ${LOCALES.join(', ')}` });

/** Provenance of an entry learned from a resolved conversation. */
export const sourceSchema = z.strictObject({
  kind: z.literal('learned', { error: 'source.kind must be "learned"' }),
  case: text('source.case').optional(),
  approved_by: text('source.approved_by').optional(),
  at: text('source.at').optional(),
});

/** One entry of a FAQ file, as written. */
export const faqEntrySchema = z.strictObject({
  id: text('id').regex(KEBAB_CASE, { error: 'id must be kebab-case (e.g. tempi-spedizione)' }),
  locale: localeSchema.optional(),
  questions: z
    .array(text('a question'), { error: 'questions must be a list of questions' })
    .min(1, { error: 'at least one question is required' }),
  answer: text('answer'),
  answer_short: text('answer_short').optional(),
  private: z.boolean({ error: 'private must be true or false' }).default(false),
  escalate: z.boolean({ error: 'escalate must be true or false' }).default(false),
  asks_for: z
    .array(z.enum(DATA_KINDS, { error: `asks_for lists kinds of data: ${DATA_KINDS.join(', ')}` }), { error: 'asks_for must be a list' })
    .min(1, { error: 'asks_for needs at least one kind of data (or leave it out)' })
    .optional(),
  /** A custom action answers this entry (docs/formats.md, docs/extending.md). */
  handler: text('handler').regex(KEBAB_CASE, { error: 'handler must be the name of an action (kebab-case, e.g. order-status)' }).optional(),
  tags: z.array(text('a tag'), { error: 'tags must be a list' }).default([]),
  source: sourceSchema.optional(),
  /** Id of the entry that gives the same answer in the other language (docs/formats.md). */
  same_as: text('same_as').regex(KEBAB_CASE, { error: 'same_as must be the id of another entry (kebab-case)' }).optional(),
}).superRefine((entry, ctx) => {
  if (entry.handler !== undefined && entry.escalate) {
    ctx.addIssue({ code: 'custom', path: ['handler'], message: 'handler and escalate: true do not go together: the action hands the customer to a person itself when it must' });
  }
});

/**
 * A FAQ file: `locale` (default for its entries) and `entries`. Entries are checked one by one
 * (`faqEntrySchema`) so that one broken entry does not hide the problems of the others.
 */
export const faqFileSchema = z.strictObject(
  {
    locale: localeSchema.optional(),
    entries: z.array(z.unknown(), { error: 'entries must be a list of entries' }),
  },
  { error: 'a FAQ file must be a mapping with `locale` and `entries`' },
);

/** One intent, as written. */
export const intentSchema = z
  .strictObject({
    name: text('name').regex(SNAKE_CASE, { error: 'name must be snake_case (e.g. human_request)' }),
    locale: localeSchema.optional(),
    action: z.enum(INTENT_ACTIONS, { error: `action must be one of: ${INTENT_ACTIONS.join(', ')}` }),
    examples: z
      .array(text('an example'), { error: 'examples must be a list of examples' })
      .min(1, { error: 'at least one example is required' }),
    answer: text('answer').optional(),
    match: z.enum(['learn', 'exact'], { error: 'match must be "learn" (the default) or "exact"' }).optional(),
  })
  .superRefine((intent, ctx) => {
    if (intent.action === 'answer' && intent.answer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['action'], message: 'an intent with action "answer" needs an `answer`' });
    }
  });

/** An intent file: `locale` and `intents` (each checked with `intentSchema`). */
export const intentFileSchema = z.strictObject(
  {
    locale: localeSchema.optional(),
    intents: z.array(z.unknown(), { error: 'intents must be a list of intents' }),
  },
  { error: 'an intent file must be a mapping with `locale` and `intents`' },
);

/** A FAQ file as parsed. */
export type FaqFile = z.infer<typeof faqFileSchema>;
/** An intent file as parsed. */
export type IntentFile = z.infer<typeof intentFileSchema>;
/** A FAQ entry as parsed (before the file's locale and name are applied). */
export type ParsedFaqEntry = z.infer<typeof faqEntrySchema>;

// Compile-time check: a parsed entry plus locale and file is core's FaqEntry (and likewise intents).
type Check<T extends true> = T;
/** Fails to compile if a parsed FAQ entry stops matching core's `FaqEntry`. */
export type _FaqMatchesCore = Check<
  Omit<ParsedFaqEntry, 'locale'> & { locale: FaqEntry['locale']; file: string } extends FaqEntry ? true : false
>;
/** Fails to compile if a parsed intent stops matching core's `IntentDef`. */
export type _IntentMatchesCore = Check<
  Omit<z.infer<typeof intentSchema>, 'locale'> & { locale: IntentDef['locale']; file: string } extends IntentDef
    ? true
    : false
>;
