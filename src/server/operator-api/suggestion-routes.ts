/**
 * @module server/operator-api/suggestion-routes
 * FAQ suggestions learned from resolved cases: list (each with what approving it would change),
 * edit, approve (written to the FAQ YAML, then reloaded), reject.
 */
import type { z } from 'zod';
import { CorpusError } from '../../core/errors.js';
import type { FaqSuggestion } from '../../core/types.js';
import { approveSuggestion, editSuggestion, previewChange, SuggestionError } from '../../corpus/suggestions.js';
import { recordApproval } from '../../events/recorder.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';
import { approveSchema, editSuggestionSchema, emptySchema, statusSchema } from './schemas.js';

/** Registers the suggestion routes. */
export function registerSuggestionRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, clock, config, logger } = deps;
  const { route } = router;

  // ── FAQ suggestions learned from resolved cases ──

  route('get', '/suggestions', {}, async ({ req }) => {
    const status = statusSchema.parse(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? undefined);
    const suggestions = await store.suggestions.list(status ? { status } : undefined);
    const corpus = deps.knowledge.current().corpus;
    // What approving each pending one would change (an existing entry's answer before and after).
    return { suggestions: suggestions.map((s) => (s.status === 'pending' ? { ...s, change: previewChange(s, corpus) } : s)) };
  });
  route('post', '/suggestions/:id/edit', { admin: true, body: editSuggestionSchema, audit: 'faq.edit' }, async ({ id, operator, body }) => {
    const suggestion = await mustBePending(id);
    const edits = body as z.infer<typeof editSuggestionSchema>;
    const corpus = deps.knowledge.current().corpus;
    let change: Partial<FaqSuggestion>;
    try {
      change = editSuggestion(suggestion, edits, corpus);
    } catch (err) {
      if (err instanceof SuggestionError) throw new HttpError(409, err.message);
      throw err;
    }
    const updated = await store.suggestions.update(id, change);
    if (!updated) throw new HttpError(404, `suggestion ${id} does not exist`);
    logger.info({ suggestionId: id, operatorId: operator.id, fields: Object.keys(edits) }, 'FAQ suggestion edited');
    return { suggestion: { ...updated, change: previewChange(updated, corpus) } };
  });
  route('post', '/suggestions/:id/approve', { admin: true, body: approveSchema, audit: 'faq.approve' }, async ({ id, operator, body }) => {
    const suggestion = await mustBePending(id);
    const edits = body as z.infer<typeof approveSchema>;
    let written: { file: string };
    try {
      written = await approveSuggestion(suggestion, { faqDir: config.faqDir, intentsDir: config.intentsDir, reviewer: operator.name, clock, edits });
    } catch (err) {
      if (err instanceof SuggestionError) throw new HttpError(409, err.message);
      if (err instanceof CorpusError) throw new HttpError(409, `the FAQ would not load with this change: ${err.message}`, { problems: err.problems });
      throw err;
    }
    const updated = await recordApproval(store, deps.recorder, suggestion, {
      status: 'approved',
      reviewedBy: operator.id,
      reviewedAt: clock.now().toISOString(),
      ...(edits.questions !== undefined ? { questions: edits.questions } : {}),
      ...(edits.answer !== undefined ? { answer: edits.answer } : {}),
      ...(edits.answerShort !== undefined ? { answerShort: edits.answerShort } : {}),
      ...(edits.id !== undefined ? { entryId: edits.id } : {}),
    });
    logger.info({ suggestionId: id, operatorId: operator.id, file: written.file }, 'FAQ suggestion approved');
    // The watcher reloads too; reloading now makes the bot answer with it at once.
    const reload = await deps.knowledge.reload?.();
    return { suggestion: updated, file: written.file, reload };
  });
  route('post', '/suggestions/:id/reject', { admin: true, body: emptySchema, audit: 'faq.reject' }, async ({ id, operator }) => {
    await mustBePending(id);
    const updated = await store.suggestions.update(id, { status: 'rejected', reviewedBy: operator.id, reviewedAt: clock.now().toISOString() });
    return { suggestion: updated };
  });

  async function mustBePending(id: string): Promise<FaqSuggestion> {
    const found = (await store.suggestions.list()).find((s) => s.id === id);
    if (!found) throw new HttpError(404, `suggestion ${id} does not exist`);
    if (found.status !== 'pending') throw new HttpError(409, `suggestion ${id} was already ${found.status}`);
    return found;
  }

}
