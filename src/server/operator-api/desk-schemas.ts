/**
 * @module server/operator-api/desk-schemas
 * The desk routes' queries and bodies (issue 21), checked with zod (400 naming the fields).
 * Query parameters are strings; unknown ones are refused, so a misspelt filter is not ignored.
 */
import { z } from 'zod';
import { CONVERSATION_STATES, type ConversationState } from '../../core/state.js';
import { ESCALATION_REASONS } from '../../core/types.js';
import { idSchema } from './schemas.js';

export { idSchema };

/** The views of the desk and the states each one shows (undefined: every state). */
export const VIEW_STATES: Record<View, readonly ConversationState[] | undefined> = {
  mine: ['assigned'],
  unassigned: ['queued'],
  open: CONVERSATION_STATES.filter((s) => s !== 'resolved'),
  // Waiting on the customer: a person's conversation whose last message is an operator's reply.
  waiting: ['queued', 'assigned'],
  resolved: ['resolved'],
  all: undefined,
};
export const VIEWS = ['mine', 'unassigned', 'open', 'waiting', 'resolved', 'all'] as const;
export type View = (typeof VIEWS)[number];

/** YYYY-MM-DD (a day in the team's time zone) or an ISO instant with its offset. */
const instantOrDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'use YYYY-MM-DD or an ISO time with its offset' });
const whole = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** GET /conversations. */
export const searchQuerySchema = z
  .strictObject({
    view: z.enum(VIEWS).default('all'),
    q: z.string().trim().max(200, 'at most 200 characters').optional(),
    channel: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'not a channel name').optional(),
    state: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()))
      .pipe(z.array(z.enum(CONVERSATION_STATES)).min(1))
      .optional(),
    language: z.enum(['it', 'en']).optional(),
    operator: idSchema.optional(),
    tag: z.string().trim().min(1).max(40).optional(),
    team: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/, 'not a team id').optional(),
    priority: whole(1, 9).optional(),
    reason: z.enum(ESCALATION_REASONS).optional(),
    from: instantOrDate.optional(),
    to: instantOrDate.optional(),
    page: whole(1, 100_000).default(1),
    page_size: whole(1, 100).default(25),
  })
  .transform((q) => ({ ...q, q: q.q === '' ? undefined : q.q }));
export type SearchQuery = z.output<typeof searchQuerySchema>;

/** POST /customers/:id/links. */
export const customerLinkSchema = z.strictObject({ customer_id: idSchema });
/** POST /customers/:id/notes. */
export const customerNoteSchema = z.strictObject({ text: z.string().trim().min(1, 'must not be empty').max(4000, 'at most 4000 characters') });
const tag = z.string().trim().min(1, 'must not be empty').max(40, 'at most 40 characters').regex(/^[\p{L}\p{N}][\p{L}\p{N} _-]*$/u, 'letters, digits, spaces, - and _ only');
/** PUT /customers/:id/tags: the whole list. */
export const customerTagsSchema = z.strictObject({ tags: z.array(tag).max(30, 'at most 30 tags') });

const shortcut = z.string().trim().min(1, 'must not be empty').max(40, 'at most 40 characters').regex(/^[\p{L}\p{N}_-]+$/u, 'one word: letters, digits, - and _');
const replyText = z.string().trim().min(1, 'must not be empty').max(4000, 'at most 4000 characters');
/** POST /saved-replies. */
export const savedReplySchema = z.strictObject({
  language: z.enum(['it', 'en']),
  shortcut: shortcut.transform((s) => s.toLowerCase()),
  title: z.string().trim().min(1).max(120).optional(),
  text: replyText,
});
/** PUT /saved-replies/:id: the fields to change. */
export const savedReplyChangeSchema = z
  .strictObject({
    language: z.enum(['it', 'en']).optional(),
    shortcut: shortcut.transform((s) => s.toLowerCase()).optional(),
    title: z.string().trim().min(1).max(120).optional(),
    text: replyText.optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'nothing to change');
/** GET /saved-replies. */
export const savedReplyListSchema = z.strictObject({ language: z.enum(['it', 'en']).optional(), q: z.string().trim().max(100).optional() });
/** GET /saved-replies/:id/render. */
export const renderQuerySchema = z.strictObject({ conversation_id: idSchema, visibility: z.enum(['public', 'private']).optional() });
