/**
 * @module tests/fakes/graph-api/payloads
 * Builders for Page webhook bodies in Meta's shapes (`object: "page"`, `entry[].messaging[]`,
 * `entry[].changes[]` for the `feed` field).
 */

/** A webhook body with one entry holding the given messaging events and feed changes. */
export function pageWebhook(
  pageId: string,
  parts: { messaging?: unknown[]; changes?: unknown[]; standby?: unknown[] },
  time = Date.now(),
): Record<string, unknown> {
  return { object: 'page', entry: [{ id: pageId, time, ...parts }] };
}

/** A customer's text message (optionally a quick-reply pick). */
export function textEvent(
  pageId: string,
  psid: string,
  text: string,
  options: { mid?: string; timestamp?: number; quickReplyPayload?: string } = {},
): Record<string, unknown> {
  return {
    sender: { id: psid },
    recipient: { id: pageId },
    timestamp: options.timestamp ?? Date.now(),
    message: {
      mid: options.mid ?? `m_${Math.random().toString(36).slice(2)}`,
      text,
      ...(options.quickReplyPayload ? { quick_reply: { payload: options.quickReplyPayload } } : {}),
    },
  };
}

/** A button / Get Started postback; `mid` is absent on old API versions. */
export function postbackEvent(
  pageId: string,
  psid: string,
  payload: string,
  options: { mid?: string; title?: string; timestamp?: number } = {},
): Record<string, unknown> {
  return {
    sender: { id: psid },
    recipient: { id: pageId },
    timestamp: options.timestamp ?? Date.now(),
    postback: { ...(options.mid ? { mid: options.mid } : {}), title: options.title ?? payload, payload },
  };
}

/**
 * A customer's answer to a Customer Feedback Template (`messaging_feedback`): per screen, the
 * questions by id, with the score as `payload` and the free text as `follow_up.payload`.
 */
export function feedbackEvent(
  pageId: string,
  psid: string,
  answer: { questionId?: string; score: number; comment?: string; timestamp?: number },
): Record<string, unknown> {
  return {
    sender: { id: psid },
    recipient: { id: pageId },
    timestamp: answer.timestamp ?? Date.now(),
    messaging_feedback: {
      feedback_screens: [
        {
          screen_id: 0,
          questions: {
            [answer.questionId ?? 'csat']: {
              type: 'csat',
              payload: String(answer.score),
              ...(answer.comment !== undefined ? { follow_up: { type: 'free_form', payload: answer.comment } } : {}),
            },
          },
        },
      ],
    },
  };
}

/** The echo of a message the Page sent (sender is the Page). */
export function echoEvent(pageId: string, psid: string, text: string, timestamp = Date.now()): Record<string, unknown> {
  return {
    sender: { id: pageId },
    recipient: { id: psid },
    timestamp,
    message: { is_echo: true, app_id: 1517776481860111, metadata: 'sportello', mid: `m_echo_${timestamp}`, text },
  };
}

/** A delivery receipt. */
export function deliveryEvent(pageId: string, psid: string, mids: string[], timestamp = Date.now()): Record<string, unknown> {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, delivery: { mids, watermark: timestamp } };
}

/** A read receipt. */
export function readEvent(pageId: string, psid: string, timestamp = Date.now()): Record<string, unknown> {
  return { sender: { id: psid }, recipient: { id: pageId }, timestamp, read: { watermark: timestamp } };
}

/** A `feed` change: someone commented on a Page post. */
export function commentChange(options: {
  postId: string;
  commentId: string;
  fromId: string;
  fromName?: string;
  message: string;
  createdTime?: number;
  verb?: 'add' | 'edited' | 'remove';
  parentId?: string;
}): Record<string, unknown> {
  return {
    field: 'feed',
    value: {
      from: { id: options.fromId, name: options.fromName ?? 'Mario Rossi' },
      post: { status_type: 'added_photos', is_published: true, updated_time: '2026-11-23T10:00:00+0000', permalink_url: 'https://www.facebook.com/', promotion_status: 'inactive', id: options.postId },
      message: options.message,
      post_id: options.postId,
      comment_id: options.commentId,
      created_time: options.createdTime ?? Math.floor(Date.now() / 1000),
      item: 'comment',
      parent_id: options.parentId ?? options.postId,
      verb: options.verb ?? 'add',
    },
  };
}

/** A `feed` change: someone posted on the Page (a visitor post), or the Page itself. */
export function visitorPostChange(options: { postId: string; fromId: string; fromName?: string; message: string; createdTime?: number; verb?: 'add' | 'edited' | 'remove'; item?: 'post' | 'status' | 'photo' }): Record<string, unknown> {
  return {
    field: 'feed',
    value: {
      from: { id: options.fromId, name: options.fromName ?? 'Mario Rossi' },
      post_id: options.postId,
      message: options.message,
      created_time: options.createdTime ?? Math.floor(Date.now() / 1000),
      item: options.item ?? 'post',
      published: 1,
      verb: options.verb ?? 'add',
    },
  };
}

/** A `feed` change that is not a message (a reaction). */
export function reactionChange(postId: string, fromId: string): Record<string, unknown> {
  return { field: 'feed', value: { from: { id: fromId, name: 'Anna' }, post_id: postId, item: 'reaction', reaction_type: 'like', verb: 'add', created_time: Math.floor(Date.now() / 1000) } };
}

/** A `mention` change: the Page was tagged in someone's post or comment (the shape parsers see). */
export function pageMentionChange(options: { postId: string; senderId: string; senderName?: string; message: string; item?: 'post' | 'comment'; commentId?: string; createdTime?: number }): Record<string, unknown> {
  return {
    field: 'mention',
    value: {
      post_id: options.postId,
      sender_id: options.senderId,
      sender_name: options.senderName ?? 'Luca Verdi',
      item: options.item ?? 'post',
      ...(options.commentId ? { comment_id: options.commentId } : {}),
      message: options.message,
      created_time: options.createdTime ?? Math.floor(Date.now() / 1000),
      verb: 'add',
    },
  };
}
