/**
 * @module channels/messenger/messenger-channel
 * Facebook Messenger and Page comments behind one ChannelAdapter. Sends through bottender's
 * MessengerClient with an explicit Graph API version; webhook checks are our own (signature.ts).
 */
import { MessengerClient } from 'bottender';
import { z } from 'zod';
import { ChannelApiError, type NetworkError } from '../../core/errors.js';
import type { DomainEvent } from '../../core/events.js';
import type {
  ChannelAdapter,
  ChannelCapabilities,
  ChannelRequest,
  ChannelResponse,
  Clock,
  PrivateReach,
  SendResult,
  Store,
} from '../../core/ports.js';
import type { MessengerSettings } from './settings.js';
import type { Conversation, Customer, InboundMessage, OutboxItem, QuickReplyOption } from '../../core/types.js';
import type { Logger } from '../../util/logger.js';
import { outboundHttpAgent, outboundHttpsAgent, type OutboundLimits } from '../../util/outbound.js';
import { toChannelError } from './graph-errors.js';
import { createSendBatcher, type BatchRequest } from './send-batcher.js';
import { answerHandshake, verifySignature } from './signature.js';
import { commentAuthorKey, messengerValues, privateReplyKey, sentPartsKey } from './store-keys.js';
import { createPsidLinks } from './psid-links.js';
import { parseWebhook } from './webhook.js';
import { MAX_COMMENT, MAX_QUICK_REPLIES, MAX_TEXT, MESSENGER_CAPABILITIES, MESSENGER_WINDOW } from './capabilities.js';

export { MESSENGER_CAPABILITIES, MESSENGER_WINDOW } from './capabilities.js';

const HOUR = 3_600_000;
/** Private replies to a comment: within 7 days of the comment. */
const PRIVATE_REPLY_MS = 7 * 24 * HOUR;
const MAX_QUICK_REPLY_TITLE = 20;
const MAX_QUICK_REPLY_PAYLOAD = 1000;
/** The Page Inbox (Meta Business Suite) app: handing a thread to it hands it to people there. */
export const PAGE_INBOX_APP_ID = 263902037430900;

/** Dependencies of the Messenger channel. */
export interface MessengerChannelDeps {
  config: MessengerSettings;
  /** Small named values (comment authors, PSID links, private replies sent) and, to hide a flagged comment, its messages. */
  store: Pick<Store, 'conversations' | 'values'>;
  clock: Clock;
  logger: Logger;
  /** Connect and total time limits of every Graph API call. */
  outbound: OutboundLimits;
}

const sendResponseSchema = z.looseObject({
  recipientId: z.string().optional(),
  messageId: z.string().optional(),
});
/** A batch answer's body (a JSON text): undefined when absent or unreadable. */
function readAnswerBody(text: string | null | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
const commentResponseSchema = z.looseObject({ id: z.string() });
const privateReplyRecordSchema = z.object({ recipientId: z.string().optional(), at: z.string() });

/** Comment ids are `<post or parent id>_<comment id>`; Messenger mids look like `m_…`. */
export function isCommentId(id: string): boolean {
  return /^\d+_\d+$/.test(id);
}

/** Cuts text into pieces of at most `max` characters, preferring whitespace boundaries. */
export function splitText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    const newline = rest.lastIndexOf('\n', max);
    cut = Math.max(cut, newline);
    if (cut < max / 2) cut = max;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

/** Meta's quick replies: at most 13, titles of at most 20 characters, payloads of at most 1000. */
export function toQuickReplies(options: readonly QuickReplyOption[]): Array<{ contentType: 'text'; title: string; payload: string }> {
  return options.slice(0, MAX_QUICK_REPLIES).map((o) => {
    const chars = [...o.title];
    const title = chars.length > MAX_QUICK_REPLY_TITLE ? `${chars.slice(0, MAX_QUICK_REPLY_TITLE - 1).join('')}…` : o.title;
    return { contentType: 'text', title, payload: o.payload.slice(0, MAX_QUICK_REPLY_PAYLOAD) };
  });
}

/** Plain text of a reply, for places without quick replies (comments). */
function plainText(item: OutboxItem): string {
  const reply = item.reply;
  if (reply.kind === 'quick_replies' && reply.options.length > 0) {
    return `${reply.text}\n${reply.options.map((o) => `• ${o.title}`).join('\n')}`;
  }
  return reply.text;
}

function refString(ref: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = ref?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The feedback template's labels in the customer's language. */
const FEEDBACK_LABELS = {
  it: { button: 'Valuta', comment: 'Vuoi dirci altro? (facoltativo)' },
  en: { button: 'Rate us', comment: 'Anything else to tell us? (optional)' },
} as const;

/**
 * The Customer Feedback Template of a survey: one CSAT question (1–5) with an optional free-text
 * follow-up. The question id carries no personal data; the answer finds the case through the
 * conversation, whose case is waiting for it.
 */
export function feedbackTemplate(reply: Extract<OutboxItem['reply'], { kind: 'survey' }>, privacyUrl: string, expiresInDays: number): Record<string, unknown> {
  const labels = FEEDBACK_LABELS[reply.language];
  const title = [...reply.question].slice(0, 65).join('');
  return {
    template_type: 'customer_feedback',
    title,
    subtitle: [...reply.question].slice(0, 80).join(''),
    button_title: labels.button,
    feedback_screens: [
      {
        questions: [
          {
            id: 'csat',
            type: 'csat',
            title,
            score_label: 'neg_pos',
            score_option: 'one_to_five',
            follow_up: { type: 'free_form', placeholder: labels.comment },
          },
        ],
      },
    ],
    business_privacy: { url: privacyUrl },
    expires_in_days: expiresInDays,
  };
}

/** A Send API text message in Graph's own field names (snake_case), as the API takes it. */
function textMessage(
  psid: string,
  text: string,
  options: { messagingType: string; tag?: string },
  quickReplies?: ReturnType<typeof toQuickReplies>,
): Record<string, string | object> {
  const message = {
    text,
    ...(quickReplies ? { quick_replies: quickReplies.map((q) => ({ content_type: q.contentType, title: q.title, payload: q.payload })) } : {}),
  };
  return { messaging_type: options.messagingType, recipient: { id: psid }, message, ...(options.tag ? { tag: options.tag } : {}) };
}

/** The same message as one call of a batch: form-encoded, objects as JSON. */
function batchCall(fields: Record<string, string | object>): BatchRequest {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) params.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  return { method: 'POST', relativeUrl: 'me/messages', body: params.toString() };
}

/** Creates the Messenger channel adapter. */
export function createMessengerChannel(deps: MessengerChannelDeps): ChannelAdapter {
  const { config, store, clock, logger } = deps;
  const values = messengerValues(store);
  const links = createPsidLinks(values, () => clock.now().getTime());
  const log = logger.child({ channel: 'messenger' });
  const client = new MessengerClient({
    accessToken: config.pageToken,
    appSecret: config.appSecret, // adds appsecret_proof to every call
    version: config.graphVersion.replace(/^v/, ''),
    origin: config.graphOrigin,
  });
  // The Graph API answers calls, it does not redirect them: plain HTTP (keep-alive) instead of
  // axios's redirect-following transport, which costs on every call.
  client.axios.defaults.maxRedirects = 0;
  // A Graph API that accepts connections and never answers must not hold a send slot for long:
  // connections that do not open in time are dropped (nothing sent), and every call is given up
  // after the total time limit, even one whose answer trickles in (its outcome is then unknown).
  const agents = { http: outboundHttpAgent(deps.outbound), https: outboundHttpsAgent(deps.outbound) };
  client.axios.defaults.httpAgent = agents.http;
  client.axios.defaults.httpsAgent = agents.https;
  client.axios.defaults.timeout = deps.outbound.timeoutMs;
  client.axios.interceptors.request.use((request) => (request.signal ? request : { ...request, signal: AbortSignal.timeout(deps.outbound.timeoutMs) }));

  // Replies that leave together share one batch request (see send-batcher.ts). The batch goes
  // through the client's own HTTP instance (base URL, version, appsecret_proof for the batch and
  // for each call), with bodies already in Graph's snake_case form, so no key is converted per call.
  const batchAnswers = z.array(
    z.union([z.null(), z.looseObject({ code: z.number(), headers: z.array(z.looseObject({ name: z.string(), value: z.string() })).optional(), body: z.string().nullish() })]),
  );
  const batcher = createSendBatcher({
    async sendBatch(batch: BatchRequest[]) {
      // Sent as JSON text, already in Graph's field names: the client's key conversion skips strings.
      const body = JSON.stringify({
        access_token: config.pageToken,
        include_headers: true,
        batch: batch.map((b) => ({ method: b.method, relative_url: b.relativeUrl, body: b.body })),
      });
      const res = await client.axios.post('/', body);
      return batchAnswers.parse(res.data).map((answer) => {
        if (!answer) return answer;
        // Each answer is read on its own: one body that is not JSON (cut short, a proxy's page)
        // must not fail the calls Meta did answer, or they would be sent again.
        const body = readAnswerBody(answer.body);
        const ok = answer.code >= 200 && answer.code < 300;
        // A sent message answers { recipient_id, message_id } (a 2xx whose body is unreadable was
        // sent all the same: its id is unknown); errors keep Graph's own shape.
        const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
        const sent = ok ? { recipientId: text(body?.recipient_id), messageId: text(body?.message_id) } : body;
        return { ...answer, body: sent };
      });
    },
  });

  const capabilities: ChannelCapabilities = { ...MESSENGER_CAPABILITIES, maxLength: { ...MESSENGER_CAPABILITIES.maxLength } };

  /** RESPONSE inside 24 h; HUMAN_AGENT for operators up to 7 days; otherwise refuse without calling Meta. */
  function messagingOptions(item: OutboxItem): { messagingType: 'RESPONSE' } | { messagingType: 'MESSAGE_TAG'; tag: 'HUMAN_AGENT' } {
    if (!item.customerLastMessageAt) return { messagingType: 'RESPONSE' };
    const age = clock.now().getTime() - new Date(item.customerLastMessageAt).getTime();
    if (age <= MESSENGER_WINDOW.standardMs) return { messagingType: 'RESPONSE' };
    const hours = Math.floor(age / HOUR);
    if (item.author.kind !== 'operator') {
      throw new ChannelApiError(
        `Messenger: not sent: the customer last wrote ${hours} h ago, and bot messages are allowed only within 24 h`,
        { channel: 'messenger', status: 0, code: 'outside_window', retryable: false },
      );
    }
    if (age <= MESSENGER_WINDOW.humanAgentMs) return { messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
    throw new ChannelApiError(
      `Messenger: not sent: the customer last wrote ${Math.floor(age / (24 * HOUR))} days ago; operators may answer only within 7 days (HUMAN_AGENT tag). Wait for the customer to write again.`,
      { channel: 'messenger', status: 0, code: 'outside_window', retryable: false },
    );
  }

  /**
   * A satisfaction survey: inside the 24-hour window a message with the scores as quick replies;
   * later, up to 7 days after the customer's last message, the Customer Feedback Template with the
   * CUSTOMER_FEEDBACK tag (its answer comes back as a `messaging_feedback` webhook); never after.
   */
  async function sendSurvey(item: OutboxItem, reply: Extract<OutboxItem['reply'], { kind: 'survey' }>): Promise<SendResult> {
    const age = item.customerLastMessageAt ? clock.now().getTime() - new Date(item.customerLastMessageAt).getTime() : 0;
    if (age <= MESSENGER_WINDOW.standardMs) return sendMessage({ ...item, reply: { kind: 'quick_replies', text: reply.text, options: reply.options } });
    if (age > MESSENGER_WINDOW.humanAgentMs) {
      throw new ChannelApiError(`Messenger: survey not sent: the customer last wrote ${Math.floor(age / (24 * HOUR))} days ago; surveys are allowed only within 7 days`, {
        channel: 'messenger',
        status: 0,
        code: 'outside_window',
        retryable: false,
      });
    }
    if (!config.privacyUrl) {
      throw new ChannelApiError('Messenger: survey not sent: after 24 hours it needs the Customer Feedback Template, which needs MESSENGER_PRIVACY_URL', {
        channel: 'messenger',
        status: 0,
        code: 'not_configured',
        retryable: false,
      });
    }
    const psid = refString(item.ref, 'psid') ?? (await links.psidOf(item.recipient)) ?? item.recipient;
    const daysLeft = Math.max(1, Math.min(7, Math.floor((MESSENGER_WINDOW.humanAgentMs - age) / (24 * HOUR))));
    const fields = {
      messaging_type: 'MESSAGE_TAG',
      tag: 'CUSTOMER_FEEDBACK',
      recipient: { id: psid },
      message: { attachment: { type: 'template', payload: feedbackTemplate(reply, config.privacyUrl, daysLeft) } },
    };
    try {
      const answer = await batcher.push(psid, batchCall(fields), async () => (await client.axios.post('me/messages', JSON.stringify(fields), { params: { access_token: config.pageToken } })).data);
      return { platformId: sendResponseSchema.parse(answer).messageId ?? '' };
    } catch (error) {
      throw toChannelError(error, 'send', clock.now().getTime());
    }
  }

  async function sendPrivateReply(item: OutboxItem, commentId: string): Promise<SendResult> {
    const already = await values.get(privateReplyKey(commentId));
    if (already) {
      throw new ChannelApiError(
        `Messenger: not sent: a private reply to comment ${commentId} was already sent, and Meta allows only one per comment`,
        { channel: 'messenger', status: 0, code: 'private_reply_used', retryable: false },
      );
    }
    if (item.customerLastMessageAt) {
      const age = clock.now().getTime() - new Date(item.customerLastMessageAt).getTime();
      if (age > PRIVATE_REPLY_MS) {
        throw new ChannelApiError(
          `Messenger: not sent: private replies are allowed only within 7 days of the comment`,
          { channel: 'messenger', status: 0, code: 'outside_window', retryable: false },
        );
      }
    }
    const text = splitText(plainText(item), MAX_TEXT)[0] ?? '';
    let response: z.infer<typeof sendResponseSchema>;
    try {
      response = sendResponseSchema.parse(
        await client.sendMessage({ commentId }, { text }, { messagingType: 'RESPONSE' }),
      );
    } catch (error) {
      throw toChannelError(error, 'private reply', clock.now().getTime());
    }
    const at = clock.now().toISOString();
    await values.set(privateReplyKey(commentId), JSON.stringify({ recipientId: response.recipientId, at }));
    const commenter = (await values.get(commentAuthorKey(commentId))) ?? item.recipient;
    if (response.recipientId) {
      await links.link(response.recipientId, commenter);
    }
    return { platformId: response.messageId ?? `private_reply:${commentId}` };
  }

  async function sendComment(item: OutboxItem): Promise<SendResult> {
    const target = item.inReplyTo ?? refString(item.ref, 'commentId');
    if (!target) {
      throw new ChannelApiError('Messenger: a public reply needs the comment it answers (inReplyTo)', {
        channel: 'messenger',
        status: 0,
        code: 'no_comment',
        retryable: false,
      });
    }
    const message = splitText(plainText(item), MAX_COMMENT)[0] ?? '';
    try {
      const res = await client.axios.post(`/${encodeURIComponent(target)}/comments`, { message }, { params: { access_token: config.pageToken } });
      return { platformId: commentResponseSchema.parse(res.data).id };
    } catch (error) {
      throw toChannelError(error, 'comment reply', clock.now().getTime());
    }
  }

  /**
   * A refusal of a message sent with the HUMAN_AGENT tag (an operator after 24 hours) names what
   * Meta needs for it: the tag is honoured only for an app granted the Human Agent permission.
   */
  function sendRefused(error: unknown, options: ReturnType<typeof messagingOptions>): ChannelApiError | NetworkError {
    const mapped = toChannelError(error, 'send', clock.now().getTime());
    if (options.messagingType !== 'MESSAGE_TAG' || !(mapped instanceof ChannelApiError) || (mapped.details.code !== 10 && mapped.details.code !== 200)) return mapped;
    return new ChannelApiError(
      `${mapped.message} (an operator reply more than 24 hours after the customer's last message goes with the HUMAN_AGENT tag, which Meta honours only within 7 days and for an app granted the Human Agent permission in App Review)`,
      mapped.details,
      { cause: error },
    );
  }

  /**
   * The message id of a send Meta answered 2xx (only those reach here). An answer that cannot be
   * read (cut short, not JSON) is still a message sent: its id is unknown. Failing it as "no
   * answer" had it sent again.
   */
  function sentId(answer: unknown, item: OutboxItem): string | undefined {
    const read = sendResponseSchema.safeParse(answer);
    if (read.success) return read.data.messageId;
    log.warn({ outboxId: item.id }, 'messenger: Meta took a message but its answer could not be read; counted as sent');
    return undefined;
  }

  async function sendMessage(item: OutboxItem): Promise<SendResult> {
    const options = messagingOptions(item);
    // A commenter's private conversation is reached through the PSID their private reply revealed.
    const psid = refString(item.ref, 'psid') ?? (await links.psidOf(item.recipient)) ?? item.recipient;
    const reply = item.reply;
    const parts = splitText(reply.text, MAX_TEXT);
    const quickReplies = reply.kind === 'quick_replies' && reply.options.length > 0 ? toQuickReplies(reply.options) : undefined;
    if (parts.length === 1) {
      try {
        const fields = textMessage(psid, parts[0]!, options, quickReplies);
        const answer = await batcher.push(psid, batchCall(fields), async () => (await client.axios.post('me/messages', JSON.stringify(fields), { params: { access_token: config.pageToken } })).data);
        return { platformId: sentId(answer, item) ?? '' };
      } catch (error) {
        throw sendRefused(error, options);
      }
    }
    // A long text goes out in parts; remember the parts already sent, so a retry after a failed
    // part sends only the rest.
    const progress = z
      .object({ sent: z.number().int().min(0), first: z.string().optional() })
      .catch({ sent: 0 })
      .parse(JSON.parse((await values.get(sentPartsKey(item.id))) ?? '{"sent":0}'));
    for (const [i, part] of parts.entries()) {
      if (i < progress.sent) continue;
      const last = i === parts.length - 1;
      try {
        const id = sentId(await client.sendText(psid, part, { ...options, ...(last && quickReplies ? { quickReplies } : {}) }), item);
        progress.first ??= id;
        progress.sent = i + 1;
      } catch (error) {
        await values.set(sentPartsKey(item.id), JSON.stringify(progress));
        throw sendRefused(error, options);
      }
    }
    if (progress.sent > 0) await values.set(sentPartsKey(item.id), JSON.stringify(progress));
    return { platformId: progress.first ?? '' };
  }

  /** Hides a comment from everyone but its author and their friends. */
  async function hideComment(commentId: string): Promise<void> {
    try {
      await client.axios.post(`/${encodeURIComponent(commentId)}`, { is_hidden: true }, { params: { access_token: config.pageToken } });
    } catch (error) {
      throw toChannelError(error, 'hide comment', clock.now().getTime());
    }
  }

  return {
    name: 'messenger',
    capabilities,

    async handshake(req: ChannelRequest): Promise<ChannelResponse | undefined> {
      return answerHandshake(config.verifyToken, req);
    },

    async stop(): Promise<void> {
      agents.http.destroy();
      agents.https.destroy();
    },

    async verify(req: ChannelRequest): Promise<boolean> {
      const ok = verifySignature(config.appSecret, req);
      if (!ok) log.debug({ remoteAddress: req.remoteAddress }, 'messenger: webhook signature missing or wrong');
      return ok;
    },

    async parse(req: ChannelRequest): Promise<InboundMessage[]> {
      return parseWebhook(req.rawBody, { values, links, logger: log, pageId: config.pageId, now: () => clock.now() });
    },

    async send(item: OutboxItem): Promise<SendResult> {
      if (item.visibility === 'public') return sendComment(item);
      if (item.inReplyTo && isCommentId(item.inReplyTo)) return sendPrivateReply(item, item.inReplyTo);
      if (item.reply.kind === 'survey') return sendSurvey(item, item.reply);
      return sendMessage(item);
    },

    async privateReach(_customer: Customer): Promise<PrivateReach> {
      // A Page may always answer a comment privately once (within 7 days), and Messenger users wrote to us.
      return 'open';
    },

    privateLink(_customer: Customer): string | undefined {
      return config.pageId ? `https://m.me/${config.pageId}` : undefined;
    },

    async typing(msg: InboundMessage): Promise<void> {
      if (msg.visibility !== 'private') return;
      try {
        await client.typingOn(msg.customer.platformId);
      } catch (error) {
        // Only a courtesy: the answer must still go out.
        log.warn({ err: toChannelError(error, 'typing indicator', clock.now().getTime()).message }, 'messenger: typing indicator failed');
      }
    },

    async hideMessage(_conversation: Conversation, platformId: string): Promise<void> {
      await hideComment(platformId);
    },

    async notify(event: DomainEvent, conversation: Conversation): Promise<void> {
      if (event.type === 'privacy.flagged' && conversation.channel === 'messenger' && conversation.visibility === 'public') {
        // A comment with private data: hide it (its author and their friends still see it).
        const flagged = (await store.conversations.listMessages({ conversationId: conversation.id })).find((m) => m.id === event.messageId);
        if (flagged?.platformId && isCommentId(flagged.platformId)) await hideComment(flagged.platformId);
        return;
      }
      if (!config.handover || conversation.channel !== 'messenger' || conversation.visibility !== 'private') return;
      if (event.type !== 'conversation.escalated' && event.type !== 'conversation.resolved' && event.type !== 'conversation.returned_to_bot') return;
      const psid = refString(conversation.ref, 'psid') ?? conversation.key.split(':').slice(2).join(':');
      try {
        if (event.type === 'conversation.escalated') {
          await client.passThreadControl(psid, PAGE_INBOX_APP_ID, `sportello:escalated:${event.reason}`);
        } else {
          await client.takeThreadControl(psid, event.type === 'conversation.resolved' ? 'sportello:resolved' : 'sportello:returned_to_bot');
        }
      } catch (error) {
        throw toChannelError(error, event.type === 'conversation.escalated' ? 'pass thread control' : 'take thread control', clock.now().getTime());
      }
    },
  };
}
