/**
 * @module channels/messenger/psid-links
 * Which Facebook commenter a Messenger PSID belongs to. Meta gives a commenter a PSID only when
 * the Page sends a private reply to their comment (the send answers `recipient_id`): the channel
 * records the link then, and when that PSID writes, its DM joins the commenter's case
 * (`InboundMessage.linkTo`). A link never changes once made, so the ones this instance knows are
 * kept in memory and the store is read only for a PSID not seen linked here yet.
 */
import type { ChannelValues } from '../values.js';
import { commenterPsidKey, psidLinkKey } from './store-keys.js';

/** Links kept in memory (the store keeps every one). */
const REMEMBERED = 10_000;

/** The links between commenters and their PSIDs. */
export interface PsidLinks {
  /** The commenter (comment author id) a PSID answered for, if a private reply made the link. */
  commenterOf(psid: string): Promise<string | undefined>;
  /** The PSID of a commenter, once known. */
  psidOf(commenterId: string): Promise<string | undefined>;
  /** Records that `psid` is the Messenger identity of `commenterId`. */
  link(psid: string, commenterId: string): Promise<void>;
}

/** Links kept in `values`, with the known ones in memory. */
export function createPsidLinks(values: ChannelValues): PsidLinks {
  const commenters = new Map<string, string>();
  const remember = (psid: string, commenter: string) => {
    commenters.delete(psid);
    commenters.set(psid, commenter);
    if (commenters.size > REMEMBERED) commenters.delete(commenters.keys().next().value!);
  };
  return {
    async commenterOf(psid) {
      const known = commenters.get(psid);
      if (known !== undefined) return known;
      const stored = await values.get(psidLinkKey(psid));
      if (stored !== undefined) remember(psid, stored);
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
