/**
 * @module tests/fakes/x-api/payloads
 * Webhook bodies as X delivers them: X Activity API events (v2 objects in an envelope) and
 * Account Activity API events (v1.1 objects with for_user_id), built from the fake's posts and DMs.
 */
import { escapedText, type FakeDmEvent, type FakePost, type FakeUser } from './fake-x-api.js';

const v2User = (u: FakeUser) => ({ id: u.id, name: u.name, username: u.username, public_metrics: { followers_count: u.followers } });

/** An X Activity API event around a post (event type as subscribed, e.g. `post.create`). */
export function xaaPostEvent(post: FakePost, author: FakeUser, filterUserId: string, eventType = 'post.create') {
  const { direct_message_deep_link: _l, hidden: _h, ...payload } = post;
  return {
    data: {
      event_uuid: `${post.id}0`,
      filter: { user_id: filterUserId },
      event_type: eventType,
      tag: 'sportello',
      payload: { ...payload, text: escapedText(post.text), lang: 'it', edit_history_tweet_ids: [post.id] },
      includes: { users: [v2User(author)] },
    },
  };
}

/** An X Activity API event around a DM event. */
export function xaaDmEvent(event: FakeDmEvent, sender: FakeUser, filterUserId: string, eventType = 'dm.received') {
  return {
    data: {
      event_uuid: `${event.id}1`,
      filter: { user_id: filterUserId },
      event_type: eventType,
      payload: event,
      includes: { users: [v2User(sender)] },
    },
  };
}

/** A v1.1 Tweet object as Account Activity `tweet_create_events` carry it. */
export function v1Tweet(post: FakePost, author: FakeUser, brand: FakeUser) {
  const replyTo = post.referenced_tweets?.find((r) => r.type === 'replied_to')?.id ?? null;
  const quoted = post.referenced_tweets?.find((r) => r.type === 'quoted')?.id;
  const retweeted = post.referenced_tweets?.find((r) => r.type === 'retweeted')?.id;
  return {
    created_at: new Date(post.created_at).toUTCString().replace(/GMT$/, '+0000'),
    id: Number(post.id),
    id_str: post.id,
    text: escapedText(post.text),
    truncated: false,
    in_reply_to_status_id: replyTo ? Number(replyTo) : null,
    in_reply_to_status_id_str: replyTo,
    in_reply_to_user_id_str: post.in_reply_to_user_id ?? (post.text.includes(`@${brand.username}`) ? brand.id : null),
    user: { id: Number(author.id), id_str: author.id, name: author.name, screen_name: author.username, followers_count: author.followers, protected: false },
    entities: { hashtags: [], urls: [], user_mentions: [{ id_str: brand.id, screen_name: brand.username, indices: [0, brand.username.length + 1] }] },
    is_quote_status: quoted !== undefined,
    ...(quoted ? { quoted_status_id_str: quoted } : {}),
    ...(retweeted ? { retweeted_status: { id_str: retweeted, text: 'the original' } } : {}),
    timestamp_ms: String(Date.parse(post.created_at)),
  };
}

/** An Account Activity delivery of one or more posts. */
export function aaaTweetCreate(forUserId: string, tweets: ReturnType<typeof v1Tweet>[], userHasBlocked = false) {
  return { for_user_id: forUserId, user_has_blocked: String(userHasBlocked), tweet_create_events: tweets };
}

/** An Account Activity delivery of a DM (the sender's profile in `users`). */
export function aaaDm(forUserId: string, event: FakeDmEvent, sender: FakeUser, recipientId: string) {
  return {
    for_user_id: forUserId,
    direct_message_events: [
      {
        type: 'message_create',
        id: event.id,
        created_timestamp: String(Date.parse(event.created_at)),
        message_create: {
          target: { recipient_id: recipientId },
          sender_id: event.sender_id,
          source_app_id: '13090192',
          message_data: { text: event.text, entities: { hashtags: [], symbols: [], urls: [], user_mentions: [] } },
        },
      },
    ],
    apps: { '13090192': { id: '13090192', name: 'X Web App', url: 'https://x.com' } },
    users: { [sender.id]: { id: sender.id, created_timestamp: '1422556069340', name: sender.name, screen_name: sender.username, followers_count: sender.followers, protected: false } },
  };
}
