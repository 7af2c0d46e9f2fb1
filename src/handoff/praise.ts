/**
 * @module handoff/praise
 * Praise heard by listening, for proactive engagement (issue 19, docs/listening.md "Praise"):
 * the heard posts for the console (newest first, paged, with their authors' reach), a one-click
 * public thank-you, and advocates.
 *
 * - **Thank-you**: an operator's public reply to the post, signed with their initials where the
 *   channel signs operator replies, in the post's language, written like any reply: through the
 *   conversation writer into the outbox (the channel's normal sending: retries, rate limits,
 *   failures reported to operators). Its conversation is the post's own public thread
 *   (`channel:public:<post id>`): a new one is created resolved, with its own case (no survey),
 *   holding the post and the reply; an existing one (the pipeline answered the post) gets the reply.
 *   The conversation carries the `thanked` flag, so a second click (or a second operator, or a
 *   second instance: the writer's revision check) sends nothing and answers who thanked and when.
 *   Only where the platform lets the API reply: on a channel whose public replies need an address
 *   (X since February 2026) a post heard without a mention or quote is refused, with a link to
 *   open it on the platform instead.
 * - **Advocates**: a tag (`advocate`) on the author's customer file (customerFiles), so exports and
 *   erasures cover it like every tag; marking an author who never wrote to the brand first records
 *   them as a customer (from the heard post's author: id, handle, followers).
 */
import { ConflictError } from '../core/errors.js';
import type { ChannelAdapter, Clock, Store } from '../core/ports.js';
import { emptyRevisions } from '../core/ports.js';
import type { Case, Conversation, Customer, HeardRecord, Operator, OutboxItem, StoredMessage } from '../core/types.js';
import type { ConversationWriter } from '../pipeline/conversation-writer.js';
import { say } from '../pipeline/messages.js';
import { newId } from '../util/ids.js';
import { PSEUDONYM_PREFIX } from './customer-rights.js';

/** The customer-file tag that marks an advocate. */
export const ADVOCATE_TAG = 'advocate';
/** The conversation flag of a post thanked (its conversation is the post's own thread). */
export const THANKED_FLAG = 'thanked';
/** The flag of the thank-you message itself (who and when are its author and time). */
export const THANKS_MESSAGE_FLAG = 'praise_thanks';

/** Who thanked a post, when, and how the reply is doing. */
export interface ThankYou {
  operatorId: string;
  name: string;
  initials: string;
  at: string;
  text: string;
  /** The outbox item (the same id as the stored message). */
  outboxId: string;
  /** The reply's state in the outbox: pending, sending, sent, dead (it failed: operators were told). */
  status?: OutboxItem['status'];
}

/** Whether the platform lets the brand thank a post through its API, and where to open it. */
export type Thankable =
  | { allowed: true; link?: string }
  | {
      allowed: false;
      /** `not_addressed`: heard without a mention or quote where the platform allows API replies only to those (X). */
      reason: 'not_addressed' | 'no_public_replies' | 'private' | 'channel_off' | 'erased';
      /** The post on the platform, for a person to answer it there. */
      link?: string;
    };

/** A heard post as the console shows it. */
export interface HeardView extends HeardRecord {
  /** The author's customer id (`channel:author id`). */
  customerId: string;
  advocate: boolean;
  /** The author's data was erased: neither thanked nor marked any more. */
  erased: boolean;
  thank: Thankable;
  /** Set once thanked (praise only). */
  thanked?: ThankYou;
}

/** A thank-you refused because the platform does not allow it here (409, with the post's link). */
export class NotThankableError extends ConflictError {
  constructor(
    message: string,
    readonly reason: string,
    readonly link?: string,
  ) {
    super(message);
  }
}

/** The praise desk. */
export interface PraiseDesk {
  /** Heard posts newest first (`limit` of them after `before`, the last id of the previous page), `next` when there are more. */
  list(filter: { limit: number; before?: string; class?: HeardRecord['class']; topic?: string }): Promise<{ items: HeardView[]; next?: string }>;
  /** Thanks a praise post in public, once; a second call sends nothing and says who thanked. */
  thank(heardId: string, operator: Operator): Promise<{ thanked: ThankYou; already: boolean; conversationId: string }>;
  /** Marks (or unmarks) the author of a heard post as an advocate. */
  setAdvocate(heardId: string, advocate: boolean, at?: string): Promise<{ customerId: string; advocate: boolean }>;
}

const MESSAGES_OF_REFUSAL: Record<Exclude<Thankable, { allowed: true }>['reason'], string> = {
  not_addressed:
    'this post does not mention or quote the brand: the platform lets the brand reply to it only from the platform itself (open the post there). Nothing was sent.',
  no_public_replies: 'this channel has no public replies. Nothing was sent.',
  private: 'this is a private message, not a public post: answer it from its conversation. Nothing was sent.',
  channel_off: 'the channel of this post is not on here. Nothing was sent.',
  erased: 'the author of this post had their data erased. Nothing was sent.',
};

/** The author's data was erased (the post keeps a pseudonym instead of them). */
const erasedAuthor = (h: HeardRecord): boolean => h.author.id.startsWith(PSEUDONYM_PREFIX);

/** The thank-you's wordings (pipeline/messages.ts), one picked by the post. */
const THANKS_WORDINGS = ['praiseThanks', 'praiseThanks2', 'praiseThanks3'] as const;
/** Which wording a post gets: the same one every time for the same post. */
function wordingOf(platformId: string): number {
  let n = 0;
  for (const c of platformId) n = (n * 31 + c.charCodeAt(0)) % 997;
  return n % THANKS_WORDINGS.length;
}

/** The customer id of a heard post's author. */
export const authorCustomerId = (h: Pick<HeardRecord, 'channel' | 'author'>): string => `${h.channel}:${h.author.id}`;

/** The author of a heard post as a new customer, first and last seen when they posted. */
function authorAsCustomer(h: HeardRecord): Customer {
  return {
    id: authorCustomerId(h),
    channel: h.channel,
    platformId: h.author.id,
    ...(h.author.handle ? { handle: h.author.handle } : {}),
    ...(h.author.followers !== undefined ? { followers: h.author.followers } : {}),
    firstSeenAt: h.at,
    lastSeenAt: h.at,
  };
}
/** The conversation key of a post's own public thread (as the pipeline keys a post that starts one). */
export const postConversationKey = (h: Pick<HeardRecord, 'channel' | 'platformId'>): string => `${h.channel}:public:${h.platformId}`;

/** Whether (and how) a post may be thanked through its channel. */
export function thankability(h: HeardRecord, adapter: ChannelAdapter | undefined): Thankable {
  if (erasedAuthor(h)) return { allowed: false, reason: 'erased' };
  const link = adapter?.capabilities.postLink?.({ platformId: h.platformId, ...(h.author.handle ? { authorHandle: h.author.handle } : {}) });
  const withLink = link ? { link } : {};
  if (!adapter) return { allowed: false, reason: 'channel_off', ...withLink };
  if (h.kind === 'dm') return { allowed: false, reason: 'private' };
  if (!adapter.capabilities.publicReplies) return { allowed: false, reason: 'no_public_replies', ...withLink };
  if (adapter.capabilities.publicRepliesNeedAddress && h.kind === 'post') return { allowed: false, reason: 'not_addressed', ...withLink };
  return { allowed: true, ...withLink };
}

/** Creates the praise desk. */
export function createPraiseDesk(deps: { store: Store; clock: Clock; channels: ReadonlyMap<string, ChannelAdapter>; writer: ConversationWriter }): PraiseDesk {
  const { store, clock, channels, writer } = deps;

  async function mustGet(heardId: string): Promise<HeardRecord> {
    const h = await store.heard.get(heardId);
    if (!h) throw new ConflictError(`heard post ${heardId} does not exist`);
    return h;
  }

  /** Who thanked the post of this conversation, read from the thank-you message. */
  async function thankYouOf(conversationId: string): Promise<ThankYou | undefined> {
    const messages = await store.conversations.listMessages({ conversationId });
    const m = messages.find((x) => x.direction === 'out' && x.flags?.includes(THANKS_MESSAGE_FLAG));
    if (!m || m.author.kind !== 'operator') return undefined;
    const item = await store.outbox.get(m.id);
    return { operatorId: m.author.operatorId, name: m.author.name, initials: m.author.initials, at: m.at, text: m.text, outboxId: m.id, ...(item ? { status: item.status } : {}) };
  }

  async function thankedOf(h: HeardRecord): Promise<ThankYou | undefined> {
    const conversation = await store.conversations.findByKey(postConversationKey(h));
    if (!conversation?.flags.includes(THANKED_FLAG)) return undefined;
    return thankYouOf(conversation.id);
  }

  /** Records the author as a customer when they are not one yet (a customer-only write: no conversation changes). */
  async function ensureCustomer(h: HeardRecord): Promise<void> {
    if (await store.directory.getCustomer(authorCustomerId(h))) return;
    await store.conversations.commit({ expect: emptyRevisions(), customer: authorAsCustomer(h), conversations: [], messages: [], outbox: [], events: [] });
  }

  return {
    async list(filter) {
      const limit = Math.max(1, Math.min(100, filter.limit));
      const found = await store.heard.list({
        limit: limit + 1,
        ...(filter.before ? { before: filter.before } : {}),
        ...(filter.class ? { class: filter.class } : {}),
        ...(filter.topic ? { topic: filter.topic } : {}),
      });
      const page = found.slice(0, limit);
      const advocates = new Set(await store.customerFiles.withTag(ADVOCATE_TAG));
      const items: HeardView[] = [];
      for (const h of page) {
        const customerId = authorCustomerId(h);
        const thanked = h.class === 'praise' ? await thankedOf(h) : undefined;
        items.push({ ...h, customerId, advocate: advocates.has(customerId), erased: erasedAuthor(h), thank: thankability(h, channels.get(h.channel)), ...(thanked ? { thanked } : {}) });
      }
      return { items, ...(found.length > limit ? { next: page.at(-1)!.id } : {}) };
    },

    async thank(heardId, operator) {
      const h = await mustGet(heardId);
      if (h.class !== 'praise') throw new ConflictError(`this post is ${h.class}, not praise: only praise gets a thank-you from here. Nothing was sent.`);
      const adapter = channels.get(h.channel);
      const allowed = thankability(h, adapter);
      if (!allowed.allowed) throw new NotThankableError(MESSAGES_OF_REFUSAL[allowed.reason], allowed.reason, allowed.link);
      const key = postConversationKey(h);
      const customerId = authorCustomerId(h);
      const done = await writer.change({ key, customerId }, (context) => {
        const existing = context.conversation;
        if (existing?.flags.includes(THANKED_FLAG)) return { result: { already: true, conversationId: existing.id } };
        if (existing && (existing.state === 'queued' || (existing.state === 'assigned' && existing.assignee !== operator.id))) {
          throw new ConflictError('this post is in a conversation waiting for an operator: answer it from that conversation. Nothing was sent.');
        }
        const at = clock.now().toISOString();
        const author = { kind: 'operator' as const, operatorId: operator.id, name: operator.name, initials: operator.initials };
        const text0 = say(THANKS_WORDINGS[wordingOf(h.platformId)]!, h.language, { name: h.author.handle ? `, ${h.author.handle},` : '' });
        const text = adapter!.capabilities.signsPublicReplies ? `${text0} ^${operator.initials}` : text0;
        const conversationId = existing?.id ?? newId('cv');
        const caseId = existing?.caseId ?? newId('cs');
        const item: Omit<OutboxItem, 'seq'> = {
          id: newId('out'),
          conversationId,
          channel: h.channel,
          visibility: 'public',
          recipient: h.author.id,
          inReplyTo: h.platformId,
          reply: { kind: 'text', text },
          author,
          status: 'pending',
          attempts: 0,
          notBefore: clock.now().getTime(),
          createdAt: at,
          ...(existing?.ref ? { ref: existing.ref } : {}),
          customerLastMessageAt: existing?.lastInboundAt ?? h.at,
        };
        const reply: StoredMessage = { id: item.id, conversationId, caseId, direction: 'out', author, text, visibility: 'public', at, flags: [THANKS_MESSAGE_FLAG] };
        let conversation: Conversation;
        let kase: Case | undefined = context.case;
        const messages: StoredMessage[] = [];
        if (existing) {
          conversation = { ...existing, flags: [...existing.flags, THANKED_FLAG], updatedAt: at };
        } else {
          // The post's own thread, created resolved: nothing waits on anyone; the customer writing
          // in it again opens it to the bot as any resolved conversation. No survey for a thank-you.
          conversation = {
            id: conversationId,
            key,
            channel: h.channel,
            visibility: 'public',
            customerId,
            caseId,
            state: 'resolved',
            language: h.language,
            missStreak: 0,
            threadId: h.platformId,
            lastInboundId: h.platformId,
            lastInboundAt: h.at,
            flags: [THANKED_FLAG],
            createdAt: at,
            updatedAt: at,
          };
          kase = { id: caseId, customerId, status: 'resolved', conversationIds: [conversationId], openedAt: at, resolvedAt: at, resolvedBy: operator.id, survey: { skipped: 'no_survey' } };
          messages.push({ id: newId('msg'), conversationId, caseId, direction: 'in', author: { kind: 'customer' }, text: h.text, visibility: 'public', platformId: h.platformId, at: h.at, action: 'praise' });
        }
        messages.push(reply);
        const customer: Customer | undefined = context.customer ? undefined : authorAsCustomer(h);
        return {
          write: {
            ...(customer ? { customer } : {}),
            conversations: [conversation],
            ...(kase ? { case: kase } : {}),
            messages,
            outbox: [item],
            events: [{ type: 'conversation.updated' as const, conversationId, at }],
          },
          result: { already: false, conversationId },
        };
      });
      const thanked = await thankYouOf(done.conversationId);
      if (!thanked) throw new ConflictError('this post was thanked, but the thank-you could not be read back');
      return { thanked, already: done.already, conversationId: done.conversationId };
    },

    async setAdvocate(heardId, advocate, at = clock.now().toISOString()) {
      const h = await mustGet(heardId);
      if (erasedAuthor(h)) throw new ConflictError('the author of this post had their data erased: they cannot be marked. Nothing was changed.');
      const customerId = authorCustomerId(h);
      if (advocate) await ensureCustomer(h);
      else if (!(await store.directory.getCustomer(customerId))) return { customerId, advocate: false };
      const file = await store.customerFiles.get(customerId);
      const has = file.tags.includes(ADVOCATE_TAG);
      if (has !== advocate) await store.customerFiles.setTags(customerId, advocate ? [...file.tags, ADVOCATE_TAG] : file.tags.filter((t) => t !== ADVOCATE_TAG), at);
      return { customerId, advocate };
    },
  };
}
