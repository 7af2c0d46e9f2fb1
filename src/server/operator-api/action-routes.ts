/**
 * @module server/operator-api/action-routes
 * The desk's actions on a conversation (claim, reply, note, ask to move private, transfer,
 * resolve, return to bot): each is one call of the operator desk, which plans it on the
 * conversation as read and commits it with a revision check.
 */
import type { z } from 'zod';
import type { OperatorApiDeps } from './index.js';
import type { Router } from './routing.js';
import { claimSchema, emptySchema, noteSchema, replySchema, resolveSchema, transferSchema } from './schemas.js';

/** Registers the action routes. */
export function registerActionRoutes(router: Router, deps: OperatorApiDeps): void {
  const { desk } = deps;
  const { route, mustGetConversation } = router;

  // ── actions ──

  route('post', '/conversations/:id/claim', { body: claimSchema, audit: 'conversation.claim' }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { takeover } = body as z.infer<typeof claimSchema>;
    return { conversation: await desk.claim(id, operator, { takeover }) };
  });
  route('post', '/conversations/:id/reply', { body: replySchema, audit: 'conversation.reply' }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { text: replyText, visibility } = body as z.infer<typeof replySchema>;
    const item = await desk.reply(id, operator, replyText, { visibility });
    return { outbox: { id: item.id, status: item.status, visibility: item.visibility, text: item.reply.text, createdAt: item.createdAt } };
  });
  route('post', '/conversations/:id/note', { body: noteSchema, audit: 'conversation.note' }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    return { note: await desk.note(id, operator, (body as z.infer<typeof noteSchema>).text) };
  });
  route('post', '/conversations/:id/ask-private', { body: emptySchema, audit: 'conversation.ask_private' }, async ({ id, operator }) => {
    await mustGetConversation(id);
    const items = await desk.askPrivate(id, operator);
    return { outbox: items.map((i) => ({ id: i.id, status: i.status, visibility: i.visibility, text: i.reply.text })) };
  });
  route('post', '/conversations/:id/transfer', { body: transferSchema, audit: 'conversation.transfer' }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { operatorId, reason } = body as z.infer<typeof transferSchema>;
    return { conversation: await desk.transfer(id, operator, operatorId, { reason: reason || undefined }) };
  });
  route('post', '/conversations/:id/resolve', { body: resolveSchema, audit: 'conversation.resolve' }, async ({ id, operator, body }) => {
    await mustGetConversation(id);
    const { addToFaq, answer } = body as z.infer<typeof resolveSchema>;
    return await desk.resolve(id, operator, { addToFaq, answer });
  });
  route('post', '/conversations/:id/return-to-bot', { body: emptySchema, audit: 'conversation.return_to_bot' }, async ({ id, operator }) => {
    await mustGetConversation(id);
    return { conversation: await desk.returnToBot(id, operator) };
  });
  route('post', '/conversations/:id/typing', { body: emptySchema }, async ({ id, operator }) => {
    await mustGetConversation(id);
    await desk.composing(id, operator);
    return { ok: true };
  });

}
