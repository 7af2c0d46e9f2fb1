/**
 * @module server/operator-api/queue-routes
 * The queue, a conversation with its whole case and the customer's earlier cases, and the FAQ
 * answers suggested for the customer's last message.
 */
import type { Case, Conversation, Customer, StoredMessage } from '../../core/types.js';
import { describeWhen } from '../../handoff/business-hours.js';
import { personOf } from '../../handoff/people.js';
import { queueView, QUEUE_STATES } from '../../handoff/queue.js';
import { suggestAnswers } from '../../handoff/suggested-answers.js';
import type { OperatorApiDeps } from './index.js';
import type { Router } from './routing.js';
import { MIN_SUGGESTION_CONFIDENCE } from './schemas.js';

/** Registers the reading routes of the queue and of conversations. */
export function registerQueueRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, clock, config, logger, hours } = deps;
  const { route, mustGetConversation, operatorNames } = router;

  // ── queue ──

  route('get', '/queue', {}, async () => {
    const now = clock.now();
    const conversations = await store.conversations.list({ states: [...QUEUE_STATES] });
    const rows = queueView(conversations, clock, hours, config);
    const names = await operatorNames();
    const customers = new Map<string, Customer | undefined>();
    const enriched = await Promise.all(
      rows.map(async (row) => {
        if (!customers.has(row.customerId)) customers.set(row.customerId, await store.directory.getCustomer(row.customerId));
        const customer = customers.get(row.customerId);
        const messages = await store.conversations.listMessages({ conversationId: row.conversationId });
        const lastIn = [...messages].reverse().find((m) => m.direction === 'in');
        return {
          ...row,
          customer: customer ? { id: customer.id, handle: customer.handle, name: customer.name, followers: customer.followers } : { id: row.customerId },
          assigneeName: row.assignee ? names.get(row.assignee) ?? row.assignee : undefined,
          preview: lastIn ? lastIn.text.slice(0, 160) : undefined,
        };
      }),
    );
    let nextOpening: Date | undefined;
    try {
      nextOpening = hours.nextOpening(now);
    } catch (err) {
      logger.warn({ err }, 'business hours never open');
    }
    const tz = config.handoff.timezone;
    return {
      now: now.toISOString(),
      open: hours.isOpen(now),
      nextOpening: nextOpening?.toISOString(),
      reopens: nextOpening ? { it: describeWhen(nextOpening, now, 'it', tz), en: describeWhen(nextOpening, now, 'en', tz) } : undefined,
      rows: enriched,
      corpusProblems: deps.knowledge.lastError?.(),
    };
  });

  // ── a conversation and its case ──

  // The console reads the open conversation again on each of its events: one opening is audited
  // per operator and conversation every 10 minutes, not every re-read.
  route('get', '/conversations/:id', { audit: 'conversation.open', auditOnceWithinMs: 10 * 60_000 }, async ({ id }) => {
    const conversation = await mustGetConversation(id);
    const [customer, kase, names] = await Promise.all([store.directory.getCustomer(conversation.customerId), store.conversations.getCase(conversation.caseId), operatorNames()]);
    const linkedIds = [...new Set([conversation.id, ...(kase?.conversationIds ?? [])])];
    const linked = (await Promise.all(linkedIds.map((cid) => store.conversations.get(cid)))).filter((c): c is Conversation => c !== undefined);
    const messages = (await store.conversations.listMessages({ caseId: conversation.caseId }))
      .concat(
        // Messages of linked conversations recorded under another case id (a DM joined later).
        ...(await Promise.all(linked.filter((c) => c.caseId !== conversation.caseId).map((c) => store.conversations.listMessages({ conversationId: c.id })))),
      )
      .filter((m, i, all) => all.findIndex((x) => x.id === m.id) === i)
      .sort((a, b) => a.at.localeCompare(b.at));
    const byId = new Map(linked.map((c) => [c.id, c]));
    // The earlier cases of the person: this customer record's and its linked records' (one history).
    const { ids: records } = await personOf(store, conversation.customerId);
    const earlier = (await Promise.all(records.map((r) => store.conversations.listCases(r)))).flat().filter((c) => c.id !== conversation.caseId);
    const earlierCases = await Promise.all(
      earlier
        .sort((a, b) => b.openedAt.localeCompare(a.openedAt))
        .slice(0, 20)
        .map(async (c: Case) => {
          const first = (await store.conversations.listMessages({ caseId: c.id })).find((m) => m.direction === 'in');
          return {
            id: c.id,
            customerId: c.customerId,
            status: c.status,
            openedAt: c.openedAt,
            resolvedAt: c.resolvedAt,
            resolvedBy: c.resolvedBy ? names.get(c.resolvedBy) ?? c.resolvedBy : undefined,
            firstMessage: first?.text.slice(0, 200),
            conversationIds: c.conversationIds,
            // The satisfaction survey's answer (a low score's follow-up names this case in `case.followUpOf`).
            ...(c.survey?.score !== undefined ? { score: c.survey.score, ...(c.survey.comment ? { comment: c.survey.comment.slice(0, 300) } : {}) } : {}),
            ...(kase?.followUpOf === c.id ? { followedUp: true } : {}),
          };
        }),
    );
    const now = clock.now();
    const [queueRow] = queueView([conversation], clock, hours, config);
    return {
      now: now.toISOString(),
      conversation: { ...conversation, ref: undefined, assigneeName: conversation.assignee ? names.get(conversation.assignee) ?? conversation.assignee : undefined },
      queue: queueRow,
      customer: customer ?? { id: conversation.customerId },
      case: kase,
      conversations: linked.map((c) => ({ id: c.id, channel: c.channel, visibility: c.visibility, state: c.state, flags: c.flags, assignee: c.assignee })),
      messages: messages.map((m: StoredMessage) => ({
        ...m,
        channel: byId.get(m.conversationId)?.channel ?? conversation.channel,
        conversationVisibility: byId.get(m.conversationId)?.visibility ?? m.visibility,
        flagged: (m.flags ?? []).includes('private_data'),
      })),
      earlierCases,
    };
  });

  route('get', '/conversations/:id/suggestions', {}, async ({ id }) => {
    const conversation = await mustGetConversation(id);
    const messages = await store.conversations.listMessages({ caseId: conversation.caseId });
    // The whole customer side of the case (handoff/suggested-answers), not only its last message.
    const customer = messages.filter((m) => m.direction === 'in' && m.text.trim().length > 0);
    const last = customer[customer.length - 1];
    if (!last) return { message: undefined, suggestions: [] };
    const { language, suggestions } = suggestAnswers(customer, deps.knowledge.current(), { previousLanguage: conversation.language, minConfidence: MIN_SUGGESTION_CONFIDENCE });
    return { message: { id: last.id, at: last.at }, language, suggestions };
  });

}
