/**
 * @module channels/messenger/psid-links
 * Which Facebook commenter a Messenger PSID belongs to. Meta gives a commenter a PSID only when
 * the Page sends a private reply to their comment (the send answers `recipient_id`): the channel
 * records the link then, and when that PSID writes, its DM joins the commenter's case
 * (`InboundMessage.linkTo`). Every DM asks, so the answers are kept in memory:
 * - a link never changes once made: kept until memory is full (the oldest go first);
 * - "no link" is kept for `UNLINKED_MS`: this instance records its own links at once, but a link
 *   recorded by another instance (PostgreSQL, several instances) is seen here only after that.
 *   Missing it needs a PSID that wrote here, then had a private reply sent by another instance
 *   and answered it, all within that time; its DM would then start a case of its own.
 */
import type { ChannelValues } from '../values.js';
import { commenterPsidKey, psidLinkKey } from './store-keys.js';

/** Answers kept in memory (the store keeps every link). */
const REMEMBERED = 10_000;
/** How long "this PSID has no link" is trusted without asking the store again. */
export const UNLINKED_MS = 30_000;

/** The links between commenters and their PSIDs. */
export interface PsidLinks {
  /** The commenter (comment author id) a PSID answered for, if a private reply made the link. */
  commenterOf(psid: string): Promise<string | undefined>;
  /** The PSID of a commenter, once known. */
  psidOf(commenterId: string): Promise<string | undefined>;
  /** Records that `psid` is the Messenger identity of `commenterId`. */
  link(psid: string, commenterId: string): Promise<void>;
}

/** Links kept in `values`, with what is known in memory; `now` in epoch ms. */
export function createPsidLinks(values: ChannelValues, now: () => number): PsidLinks {
  /** PSID → its commenter, or `{ unlinkedAt }` when the store had none then. */
  const known = new Map<string, string | { unlinkedAt: number }>();
  const remember = (psid: string, answer: string | { unlinkedAt: number }) => {
    known.delete(psid);
    known.set(psid, answer);
    if (known.size > REMEMBERED) known.delete(known.keys().next().value!);
  };
  return {
    async commenterOf(psid) {
      const answer = known.get(psid);
      if (typeof answer === 'string') return answer;
      if (answer && now() - answer.unlinkedAt < UNLINKED_MS) return undefined;
      const stored = await values.get(psidLinkKey(psid));
      remember(psid, stored ?? { unlinkedAt: now() });
      return stored;
    },
    psidOf: (commenterId) => values.get(commenterPsidKey(commenterId)),
    async link(psid, commenterId) {
      await values.set(psidLinkKey(psid), commenterId);
      await values.set(commenterPsidKey(commenterId), psid);
      remember(psid, commenterId);
    },
  };
}
