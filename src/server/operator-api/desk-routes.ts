/**
 * @module server/operator-api/desk-routes
 * The desk of a team (issue 21): finding any conversation (views, filters, full-text search,
 * pages), customers as people (profile, tags, notes, links between records of one person, one
 * history), saved replies (admins manage them; everyone reads and renders them for a
 * conversation). Shapes: docs/operator-api.md.
 */
import type { z } from 'zod';
import type { Case, Conversation, Customer, Language, Operator, SavedReply, StoredMessage } from '../../core/types.js';
import type { ConversationQuery } from '../../core/ports.js';
import type { ConversationState } from '../../core/state.js';
import { addLocalDays, describeWhen, localMidnight } from '../../handoff/business-hours.js';
import { personOf } from '../../handoff/people.js';
import { describeSchedule, fillVariables, fitReply } from '../../handoff/saved-replies.js';
import { newId } from '../../util/ids.js';
import { foldText, queryWords, searchWords } from '../../util/fold.js';
import type { OperatorApiDeps } from './index.js';
import { HttpError, type Router } from './routing.js';
import {
  customerLinkSchema,
  customerNoteSchema,
  customerTagsSchema,
  idSchema,
  renderQuerySchema,
  savedReplyChangeSchema,
  savedReplyListSchema,
  savedReplySchema,
  searchQuerySchema,
  VIEW_STATES,
  type SearchQuery,
} from './desk-schemas.js';

/** The query string of a request, as an object of strings (a repeated parameter: the last one). */
export function queryOf(url: string | undefined): Record<string, string> {
  return Object.fromEntries(new URL(url ?? '/', 'http://x').searchParams.entries());
}

/**
 * Up to `max` characters of `text` around the first word a query word starts (folded as the
 * search folds), with "…" where it was cut: what a result shows of the message that matched.
 */
export function snippet(text: string, words: readonly string[], max = 200): string {
  if (text.length <= max) return text;
  let at = -1;
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const folded = foldText(m[0]);
    if (words.some((w) => folded.startsWith(w))) {
      at = m.index ?? 0;
      break;
    }
  }
  if (at < 0) return `${text.slice(0, max - 1).trimEnd()}…`;
  let start = Math.max(0, at - Math.floor(max / 3));
  const end = Math.min(text.length, start + max);
  start = Math.max(0, end - max);
  // Cut at a space where there is one near, not inside a word.
  if (start > 0) {
    const space = text.indexOf(' ', start);
    if (space >= 0 && space < at) start = space + 1;
  }
  return `${start > 0 ? '…' : ''}${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}

/** Who wrote a message, as a result list says it. */
function fromOf(m: StoredMessage): 'customer' | 'bot' | 'operator' | 'note' {
  if (m.direction === 'in') return 'customer';
  if (m.direction === 'note') return 'note';
  return m.author.kind === 'operator' ? 'operator' : 'bot';
}

/** Registers the desk routes. */
export function registerDeskRoutes(router: Router, deps: OperatorApiDeps): void {
  const { store, clock, config, hours } = deps;
  const { route, mustGetConversation, operatorNames } = router;
  const tz = config.handoff.timezone;

  // ── find anything ──

  /** The store query for a checked request query, seen by `operator`. */
  async function storeQuery(q: SearchQuery, operator: Operator): Promise<ConversationQuery | undefined> {
    const viewStates = VIEW_STATES[q.view];
    let states: ConversationState[] | undefined = viewStates ? [...viewStates] : undefined;
    if (q.state) states = states ? states.filter((s) => q.state!.includes(s)) : [...q.state];
    if (states && states.length === 0) return undefined;
    let customerIds: string[] | undefined;
    if (q.tag !== undefined) {
      customerIds = await store.customerFiles.withTag(q.tag);
      if (customerIds.length === 0) return undefined;
    }
    if (q.view === 'mine' && q.operator !== undefined && q.operator !== operator.id) return undefined;
    // A team's view: the conversations of its channels and languages (a team lists none: all).
    let channels = q.channel !== undefined ? [q.channel] : undefined;
    let languages: Language[] | undefined = q.language !== undefined ? [q.language] : undefined;
    if (q.team !== undefined) {
      const team = (await deps.assignment.settings()).teams.find((t) => t.id === q.team);
      if (!team) throw new HttpError(404, `team ${q.team} does not exist`);
      if (team.channels.length) channels = channels ? channels.filter((c) => team.channels.includes(c)) : team.channels;
      if (team.languages.length) languages = languages ? languages.filter((l) => team.languages.includes(l)) : team.languages;
      if (channels?.length === 0 || languages?.length === 0) return undefined;
    }
    const assignee = q.view === 'mine' ? operator.id : q.operator === 'me' ? operator.id : q.operator;
    const from = q.from === undefined ? undefined : q.from.length === 10 ? localMidnightIso(q.from) : q.from;
    // A date alone as the end means the whole of that day.
    const to = q.to === undefined ? undefined : q.to.length === 10 ? localMidnightIso(addLocalDays(q.to, 1)) : q.to;
    return {
      ...(q.q !== undefined ? { text: q.q } : {}),
      ...(states ? { states } : {}),
      ...(q.view === 'waiting' ? { waitingOnCustomer: true } : {}),
      ...(channels ? { channels } : {}),
      ...(languages ? { languages } : {}),
      ...(assignee !== undefined ? { assignee } : {}),
      ...(q.priority !== undefined ? { priority: q.priority } : {}),
      ...(q.reason !== undefined ? { reason: q.reason } : {}),
      ...(customerIds ? { customerIds } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      offset: (q.page - 1) * q.page_size,
      limit: q.page_size,
    };
  }

  route('get', '/conversations', {}, async ({ req, operator }) => {
    const q = searchQuerySchema.parse(queryOf(req.url));
    const query = await storeQuery(q, operator);
    const page = { page: q.page, page_size: q.page_size };
    if (!query) return { conversations: [], total: 0, ...page };
    const [{ hits, total }, names] = await Promise.all([store.search.find(query), operatorNames()]);
    return {
      conversations: hits.map(({ conversation: c, customer, lastMessage, match }) => ({
        id: c.id,
        customer: { id: c.customerId, name: customer?.name ?? null, handle: customer?.handle ?? null },
        channel: c.channel,
        visibility: c.visibility,
        state: c.state,
        language: c.language ?? null,
        priority: c.queue?.priority ?? null,
        reason: c.queue?.reason ?? null,
        assignee: c.assignee ? { id: c.assignee, name: names.get(c.assignee) ?? c.assignee } : null,
        last_message: lastMessage ? { text: lastMessage.text.slice(0, 280), at: lastMessage.at, from: fromOf(lastMessage) } : null,
        match: match ? { id: match.id, text: snippet(match.text, queryWords(query.text)), at: match.at, from: fromOf(match) } : null,
        updated_at: c.updatedAt,
      })),
      total,
      ...page,
    };
  });

  /** The start of a day (YYYY-MM-DD) in the team's time zone. */
  function localMidnightIso(date: string): string {
    return localMidnight(date, tz).toISOString();
  }

  // ── customers as people ──

  async function mustGetCustomer(id: string): Promise<Customer> {
    const customer = await store.directory.getCustomer(id);
    if (!customer) throw new HttpError(404, `customer ${id} does not exist`);
    return customer;
  }

  async function profile(id: string) {
    const customer = await mustGetCustomer(id);
    const { ids, files } = await personOf(store, id);
    const names = await operatorNames();
    const records = (await Promise.all(ids.map((cid) => (cid === id ? customer : store.directory.getCustomer(cid))))).filter((c): c is Customer => c !== undefined);
    const cases = (await Promise.all(records.map((r) => store.conversations.listCases(r.id)))).flat().sort((a, b) => b.openedAt.localeCompare(a.openedAt));
    const conversations = (await Promise.all(records.map((r) => store.conversations.list({ customerId: r.id })))).flat();
    const byId = new Map(conversations.map((c) => [c.id, c]));
    // The customer's language: that of their most recently updated conversation.
    const language = [...conversations].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).find((c) => c.language)?.language ?? null;
    const file = files.get(id)!;
    const caseRows = await Promise.all(
      cases.map(async (k: Case) => {
        const first = (await store.conversations.listMessages({ caseId: k.id })).find((m) => m.direction === 'in');
        const convs = k.conversationIds.map((cid) => byId.get(cid)).filter((c): c is Conversation => c !== undefined);
        return {
          id: k.id,
          customer_id: k.customerId,
          status: k.status,
          outcome: k.status === 'open' ? 'open' : k.resolvedBy === 'bot' ? 'resolved_by_bot' : 'resolved_by_operator',
          opened_at: k.openedAt,
          resolved_at: k.resolvedAt ?? null,
          resolved_by: k.resolvedBy ? (k.resolvedBy === 'bot' ? { id: 'bot', name: 'bot' } : { id: k.resolvedBy, name: names.get(k.resolvedBy) ?? k.resolvedBy }) : null,
          satisfaction: k.survey?.score !== undefined ? { score: k.survey.score, comment: k.survey.comment ?? null, answered_at: k.survey.answeredAt ?? null } : null,
          first_message: first ? first.text.slice(0, 200) : null,
          conversations: convs.map((c) => ({ id: c.id, channel: c.channel, visibility: c.visibility, state: c.state })),
        };
      }),
    );
    return {
      customer: {
        id: customer.id,
        name: customer.name ?? null,
        handle: customer.handle ?? null,
        channel: customer.channel,
        language,
        reach: customer.followers ?? null,
        first_seen_at: customer.firstSeenAt,
        last_seen_at: customer.lastSeenAt,
        tags: file.tags,
        links: file.links,
      },
      // Every record of the person: one handle per channel record (this one first).
      handles: records.map((r) => ({ customer_id: r.id, channel: r.channel, handle: r.handle ?? null, name: r.name ?? null, reach: r.followers ?? null, tags: files.get(r.id)?.tags ?? [] })),
      notes: records
        .flatMap((r) => (files.get(r.id)?.notes ?? []).map((n) => ({ id: n.id, customer_id: r.id, text: n.text, at: n.at, operator: { id: n.operatorId, name: names.get(n.operatorId) ?? n.operatorId } })))
        .sort((a, b) => a.at.localeCompare(b.at)),
      cases: caseRows,
    };
  }

  route('get', '/customers/:id', {}, async ({ id }) => profile(id));

  route('post', '/customers/:id/links', { body: customerLinkSchema, audit: 'customer.link' }, async ({ id, body, operator }) => {
    const { customer_id: other } = body as z.infer<typeof customerLinkSchema>;
    if (other === id) throw new HttpError(400, 'a customer record cannot be linked to itself');
    await mustGetCustomer(id);
    await mustGetCustomer(other);
    const at = clock.now().toISOString();
    await store.customerFiles.link(id, other, at);
    deps.logger.info({ operatorId: operator.id }, 'customer records linked');
    await deps.bus.publish({ type: 'customer.updated', customerIds: [id, other], at });
    return profile(id);
  });

  route('del', '/customers/:id/links/:other', { audit: 'customer.unlink' }, async ({ id, req, operator }) => {
    const parsed = idSchema.safeParse(String(req.params?.other ?? ''));
    if (!parsed.success) throw new HttpError(400, `"${String(req.params?.other).slice(0, 40)}" is not a valid id`);
    const other = parsed.data;
    await mustGetCustomer(id);
    const file = await store.customerFiles.get(id);
    if (!file.links.includes(other)) throw new HttpError(404, `customer ${id} is not linked to ${other}`);
    const at = clock.now().toISOString();
    await store.customerFiles.unlink(id, other, at);
    deps.logger.info({ operatorId: operator.id }, 'customer records unlinked');
    await deps.bus.publish({ type: 'customer.updated', customerIds: [id, other], at });
    return profile(id);
  });

  route('post', '/customers/:id/notes', { body: customerNoteSchema, audit: 'customer.note' }, async ({ id, body, operator }) => {
    await mustGetCustomer(id);
    const at = clock.now().toISOString();
    const note = { id: newId('cnote'), text: (body as z.infer<typeof customerNoteSchema>).text, operatorId: operator.id, at };
    await store.customerFiles.addNote(id, note);
    await deps.bus.publish({ type: 'customer.updated', customerIds: [id], at });
    return { note: { id: note.id, customer_id: id, text: note.text, at, operator: { id: operator.id, name: operator.name } } };
  });

  route('put', '/customers/:id/tags', { body: customerTagsSchema, audit: 'customer.tags' }, async ({ id, body }) => {
    await mustGetCustomer(id);
    const at = clock.now().toISOString();
    const file = await store.customerFiles.setTags(id, (body as z.infer<typeof customerTagsSchema>).tags, at);
    await deps.bus.publish({ type: 'customer.updated', customerIds: [id], at });
    return { customer_id: id, tags: file.tags };
  });

  // ── saved replies ──

  const publicReply = (r: SavedReply) => ({ id: r.id, language: r.language, shortcut: r.shortcut, title: r.title, text: r.text, created_by: r.createdBy, created_at: r.createdAt, updated_at: r.updatedAt });

  route('get', '/saved-replies', {}, async ({ req }) => {
    const q = savedReplyListSchema.parse(queryOf(req.url));
    let replies = await store.savedReplies.list(q.language ? { language: q.language } : undefined);
    if (q.q !== undefined) {
      // The "/" search: every word of the query starts a word of the shortcut, title or text.
      const words = searchWords(q.q);
      replies = replies.filter((r) => {
        const have = searchWords(`${r.shortcut} ${r.title} ${r.text}`);
        return words.every((w) => have.some((h) => h.startsWith(w)));
      });
    }
    return { saved_replies: replies.map(publicReply) };
  });

  route('post', '/saved-replies', { admin: true, body: savedReplySchema, audit: 'settings.saved_reply_add' }, async ({ body, operator }) => {
    const input = body as z.infer<typeof savedReplySchema>;
    const at = clock.now().toISOString();
    const reply: SavedReply = { id: newId('sr'), language: input.language, shortcut: input.shortcut, title: input.title ?? input.shortcut, text: input.text, createdBy: operator.id, createdAt: at, updatedAt: at };
    await store.savedReplies.put(reply);
    await deps.bus.publish({ type: 'saved_replies.changed', at });
    return { saved_reply: publicReply(reply) };
  });

  route('put', '/saved-replies/:id', { admin: true, body: savedReplyChangeSchema, audit: 'settings.saved_reply_change' }, async ({ id, body }) => {
    const current = await store.savedReplies.get(id);
    if (!current) throw new HttpError(404, `saved reply ${id} does not exist`);
    const change = body as z.infer<typeof savedReplyChangeSchema>;
    const updated: SavedReply = { ...current, ...change, updatedAt: clock.now().toISOString() };
    await store.savedReplies.put(updated);
    await deps.bus.publish({ type: 'saved_replies.changed', at: updated.updatedAt });
    return { saved_reply: publicReply(updated) };
  });

  route('del', '/saved-replies/:id', { admin: true, audit: 'settings.saved_reply_delete' }, async ({ id }) => {
    if (!(await store.savedReplies.delete(id))) throw new HttpError(404, `saved reply ${id} does not exist`);
    await deps.bus.publish({ type: 'saved_replies.changed', at: clock.now().toISOString() });
    return { ok: true };
  });

  // A read: the reply as it would be inserted into one conversation, fitted to its channel.
  route('get', '/saved-replies/:id/render', {}, async ({ id, req, operator }) => {
    const q = renderQuerySchema.parse(queryOf(req.url));
    const reply = await store.savedReplies.get(id);
    if (!reply) throw new HttpError(404, `saved reply ${id} does not exist`);
    const conversation = await mustGetConversation(q.conversation_id);
    const customer = await store.directory.getCustomer(conversation.customerId);
    const language: Language = reply.language;
    const now = clock.now();
    let reopens: string;
    try {
      reopens = hours.isOpen(now) ? (language === 'it' ? 'adesso' : 'now') : describeWhen(hours.nextOpening(now), now, language, tz);
    } catch {
      reopens = '';
    }
    const text = fillVariables(reply.text, {
      customer_name: customer?.name ?? customer?.handle ?? '',
      operator_name: operator.name,
      business_hours: describeSchedule(config.handoff.businessHours, language),
      reopens,
    });
    const visibility = q.visibility ?? conversation.visibility;
    const caps = deps.channels.get(conversation.channel)?.capabilities;
    const fitting = caps ? fitReply(text, caps, visibility, operator.initials) : undefined;
    return {
      id: reply.id,
      language,
      text,
      visibility,
      fitting: fitting ? { length: fitting.length, max_length: fitting.maxLength, fits: fitting.fits, thread: fitting.thread ?? null } : null,
    };
  });
}
