/**
 * @module server/operator-api/schemas
 * The operator API's request bodies and ids, checked with zod at the boundary (400 with the fields when wrong).
 */
import { z } from 'zod';
import { MIN_PASSWORD_LENGTH } from '../../handoff/auth.js';

const text = z.string().trim().min(1, 'must not be empty').max(4000, 'at most 4000 characters');
/** POST login. */
export const loginSchema = z.object({ name: z.string().trim().min(1, 'required').max(80), password: z.string().min(1, 'required').max(1024) });
/** POST password: the operator's own password, then the new one. */
export const passwordChangeSchema = z.object({
  currentPassword: z.string().min(1, 'required').max(1024),
  newPassword: z.string().min(MIN_PASSWORD_LENGTH, `use at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
});
/** POST conversations/:id/claim. */
export const claimSchema = z.object({ takeover: z.boolean().optional() });
/** POST conversations/:id/reply. */
export const replySchema = z.object({ text, visibility: z.enum(['public', 'private']).optional() });
/** POST conversations/:id/note. */
export const noteSchema = z.object({ text });
/** POST conversations/:id/transfer. */
export const transferSchema = z.object({ operatorId: z.string().min(1, 'required').max(100), reason: z.string().trim().max(500, 'at most 500 characters').optional() });
/** POST conversations/:id/resolve. */
export const resolveSchema = z.object({ addToFaq: z.boolean().optional(), answer: text.optional() });
/** POST suggestions/:id/approve: the reviewer's edits, all optional. */
export const approveSchema = z.object({
  questions: z.array(text).min(1).max(50).optional(),
  answer: text.optional(),
  answerShort: text.optional(),
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case').max(80).optional(),
});
/** POST suggestions/:id/edit: the reviewer's changes before approving, all optional; an empty answer or answerShort removes it. */
export const editSuggestionSchema = z.object({
  questions: z.array(text).min(1, 'at least one question').max(50).optional(),
  answer: z.string().trim().max(4000, 'at most 4000 characters').optional(),
  answerShort: z.string().trim().max(1000, 'at most 1000 characters').optional(),
  entryId: z.string().trim().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be kebab-case').max(80).optional(),
  locale: z.enum(['it', 'en']).optional(),
});
export const emptySchema = z.object({});
/** FAQ suggestions below this confidence are not shown. */
export const MIN_SUGGESTION_CONFIDENCE = 0.05;
export const idSchema = z.string().regex(/^[A-Za-z0-9_:.-]{1,120}$/, 'not a valid id');
/** The `status` filter of GET suggestions. */
export const statusSchema = z.enum(['pending', 'approved', 'rejected']).optional();
