import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createMessengerChannel, PAGE_INBOX_APP_ID } from '../../../src/channels/messenger/messenger-channel.js';
import { ChannelApiError, NetworkError } from '../../../src/core/errors.js';
import { createFakeClock, type ChannelAdapter, type FakeClock } from '../../../src/core/ports.js';
import type { Conversation } from '../../../src/core/types.js';
import { createLowdbStore, type LowdbStore } from '../../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../../src/util/logger.js';
import type { FakeGraphApi } from '../../fakes/graph-api/fake-graph-api.js';
import { commentChange, deliveryEvent, echoEvent, pageMentionChange, pageWebhook, postbackEvent, reactionChange, readEvent, textEvent, visitorPostChange } from '../../fakes/graph-api/payloads.js';
import { psidLinkKey } from '../../../src/channels/messenger/store-keys.js';
import { UNLINKED_MS } from '../../../src/channels/messenger/psid-links.js';
import { OUTBOUND } from '../../helpers/outbound.js';
import { PAGE_ID, VERIFY_TOKEN, messengerConfig, outboxItem, signedRequest, startFakeGraph } from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PSID = '6100000000000001';
const START = '2026-11-23T10:00:00.000Z';

let clock: FakeClock;
let graph: FakeGraphApi;
let store: LowdbStore;
let dir: string;
let channel: ChannelAdapter;

beforeAll(async () => {
  clock = createFakeClock(START);
  graph = await startFakeGraph(clock);
});
afterAll(async () => {
  await graph.close();
});
beforeEach(async () => {
  clock.set(START);
  graph.calls.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'sportello-messenger-unit-'));
  store = createLowdbStore({ file: join(dir, 'data.json') });
  await store.init();
  channel = createMessengerChannel({ config: messengerConfig(graph.origin), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function operator() {
  return { kind: 'operator' as const, operatorId: 'op_1', name: 'Maria Rossi', initials: 'MR' };
}

describe('webhook verification', () => {
  it('echoes hub.challenge as plain text when the verify token matches', async () => {
    const res = await channel.handshake!({
      method: 'GET',
      headers: {},
      query: { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' },
      rawBody: Buffer.alloc(0),
    });
    expect(res).toEqual({ status: 200, body: '1158201444', contentType: 'text/plain' });
  });

  it('answers 403 to a subscription check with the wrong verify token', async () => {
    const res = await channel.handshake!({
      method: 'GET',
      headers: {},
      query: { 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': '1158201444' },
      rawBody: Buffer.alloc(0),
    });
    expect(res?.status).toBe(403);
    expect(res?.body).not.toContain('1158201444');
  });

  it('treats a POST as a delivery, not a handshake', async () => {
    expect(await channel.handshake!(signedRequest(pageWebhook(PAGE_ID, { messaging: [] })))).toBeUndefined();
  });
});

describe('webhook signature', () => {
  const body = pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, PSID, 'Perché il mio ordine è in ritardo? 😡')] });

  it('accepts X-Hub-Signature-256 computed over the raw bytes Meta sent (escaped unicode)', async () => {
    const req = signedRequest(body);
    expect(req.rawBody.toString()).toContain('\\u00e8'); // the bytes are Meta's escaped form
    expect(await channel.verify(req)).toBe(true);
  });

  it('refuses a body changed after signing', async () => {
    const req = signedRequest(body);
    const tampered = { ...req, rawBody: Buffer.from(req.rawBody.toString().replace('ritardo', 'anticipo')) };
    expect(await channel.verify(tampered)).toBe(false);
  });

  it('refuses a signature made with another app secret', async () => {
    expect(await channel.verify(signedRequest(body, 'someone-elses-secret'))).toBe(false);
  });

  it('refuses a delivery carrying only the legacy SHA-1 header', async () => {
    const req = signedRequest(body);
    const { ['x-hub-signature-256']: _dropped, ...headers } = req.headers;
    expect(await channel.verify({ ...req, headers })).toBe(false);
  });

  it('refuses a malformed signature header', async () => {
    const req = signedRequest(body);
    expect(await channel.verify({ ...req, headers: { ...req.headers, 'x-hub-signature-256': 'sha256=xyz' } })).toBe(false);
  });
});

describe('parsing webhook events', () => {
  it('turns a text message into a private message keyed by its mid', async () => {
    const ts = Date.parse('2026-11-23T09:59:58.000Z');
    const [msg, ...rest] = await channel.parse(
      signedRequest(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, PSID, 'Quali sono i vostri orari?', { mid: 'm_abc123', timestamp: ts })] })),
    );
    expect(rest).toEqual([]);
    expect(msg).toEqual({
      channel: 'messenger',
      id: 'm_abc123',
      visibility: 'private',
      customer: { platformId: PSID },
      text: 'Quali sono i vostri orari?',
      sentAt: '2026-11-23T09:59:58.000Z',
      ref: { psid: PSID },
      // No linkTo: this PSID never answered a private reply to a comment.
    });
  });

  it('keeps the payload of a quick-reply pick', async () => {
    const [msg] = await channel.parse(
      signedRequest(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, PSID, 'Spedizioni', { quickReplyPayload: 'faq:spedizioni' })] })),
    );
    expect(msg?.payload).toBe('faq:spedizioni');
    expect(msg?.text).toBe('Spedizioni');
  });

  it('uses the postback mid as id, and a stable id when Meta sent none', async () => {
    const withMid = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [postbackEvent(PAGE_ID, PSID, 'AGENT', { mid: 'm_pb1', title: 'Parla con noi' })] })));
    expect(withMid[0]).toMatchObject({ id: 'm_pb1', payload: 'AGENT', text: 'Parla con noi', visibility: 'private' });

    const event = postbackEvent(PAGE_ID, PSID, 'GET_STARTED', { timestamp: 1763892000000 });
    const first = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [event] })));
    const retry = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [event] })));
    const other = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [postbackEvent(PAGE_ID, PSID, 'GET_STARTED', { timestamp: 1763892000001 })] })));
    expect(first[0]?.id).toMatch(/^pb_[0-9a-f]{32}$/);
    expect(retry[0]?.id).toBe(first[0]?.id);
    expect(other[0]?.id).not.toBe(first[0]?.id);
  });

  it('drops echoes, delivery and read receipts, and standby events', async () => {
    const msgs = await channel.parse(
      signedRequest(
        pageWebhook(PAGE_ID, {
          messaging: [echoEvent(PAGE_ID, PSID, 'our own answer'), deliveryEvent(PAGE_ID, PSID, ['m_1']), readEvent(PAGE_ID, PSID)],
          standby: [textEvent(PAGE_ID, PSID, 'written while the Page Inbox owns the thread')],
        }),
      ),
    );
    expect(msgs).toEqual([]);
  });

  it('describes attachments so a photo is not lost', async () => {
    const event = { sender: { id: PSID }, recipient: { id: PAGE_ID }, timestamp: Date.now(), message: { mid: 'm_img', attachments: [{ type: 'image', payload: { url: 'https://scontent.example/p.jpg' } }] } };
    const [msg] = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [event] })));
    expect(msg?.text).toBe('[image: https://scontent.example/p.jpg]');
  });

  it('reads the like button (a thumbs-up sticker) as 👍, and other stickers as the image they are', async () => {
    const sticker = (mid: string, id: number) => ({
      sender: { id: PSID },
      recipient: { id: PAGE_ID },
      timestamp: Date.now(),
      message: { mid, sticker_id: id, attachments: [{ type: 'image', payload: { url: `https://scontent.example/${id}.png`, sticker_id: id } }] },
    });
    const msgs = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [sticker('m_like', 369239263222822), sticker('m_big_like', 369239383222810), sticker('m_cat', 126362180881940)] })));
    expect(msgs.map((m) => m.text)).toEqual(['👍', '👍', '[image: https://scontent.example/126362180881940.png]']);
  });

  it('turns a Page comment into a public message of its own comment thread, and drops the Page own comments', async () => {
    const msgs = await channel.parse(
      signedRequest(
        pageWebhook(PAGE_ID, {
          changes: [
            commentChange({ postId: `${PAGE_ID}_555`, commentId: '555_1001', fromId: '7700000000000042', fromName: 'Giulia Bianchi', message: 'Fate spedizioni in Svizzera?', createdTime: 1763892000 }),
            commentChange({ postId: `${PAGE_ID}_555`, commentId: '555_1002', fromId: PAGE_ID, message: 'Grazie a tutti!' }),
            commentChange({ postId: `${PAGE_ID}_555`, commentId: '555_1003', fromId: '7700000000000043', message: 'edited', verb: 'edited' }),
          ],
        }),
      ),
    );
    expect(msgs).toEqual([
      {
        channel: 'messenger',
        id: '555_1001',
        visibility: 'public',
        customer: { platformId: '7700000000000042', name: 'Giulia Bianchi' },
        text: 'Fate spedizioni in Svizzera?',
        sentAt: new Date(1763892000 * 1000).toISOString(),
        threadId: '555_1001',
        ref: { commentId: '555_1001', postId: `${PAGE_ID}_555` },
      },
    ]);
  });

  it('hears visitor posts on the Page and tags of the Page (feed and mention fields) as messages for listening, signed as Meta signs them', async () => {
    const body = pageWebhook(PAGE_ID, {
      changes: [
        visitorPostChange({ postId: `${PAGE_ID}_901`, fromId: '7700000000000050', fromName: 'Sara Neri', message: 'La app è bloccata da stamattina', createdTime: 1763892000 }),
        visitorPostChange({ postId: `${PAGE_ID}_902`, fromId: PAGE_ID, message: 'Nuova collezione!' }),
        visitorPostChange({ postId: `${PAGE_ID}_903`, fromId: '7700000000000051', message: 'cambiato', verb: 'edited' }),
        reactionChange(`${PAGE_ID}_901`, '7700000000000052'),
        pageMentionChange({ postId: '1200_77', senderId: '7700000000000053', senderName: 'Luca Verdi', message: 'Ordinato da Bottega Rossi, mai arrivato', createdTime: 1763892060 }),
        pageMentionChange({ postId: '1200_78', senderId: '7700000000000054', item: 'comment', commentId: '78_5', message: 'chiedete a Bottega Rossi', createdTime: 1763892120 }),
      ],
    });
    // The raw bytes Meta sends (escaped unicode), signed with X-Hub-Signature-256: verified, then parsed.
    const request = signedRequest(body);
    expect(await channel.verify(request)).toBe(true);
    const msgs = await channel.parse(request);
    expect(msgs).toEqual([
      {
        channel: 'messenger',
        id: `${PAGE_ID}_901`,
        visibility: 'public',
        customer: { platformId: '7700000000000050', name: 'Sara Neri' },
        text: 'La app è bloccata da stamattina',
        sentAt: new Date(1763892000 * 1000).toISOString(),
        threadId: `${PAGE_ID}_901`,
        listening: true,
        ref: { postId: `${PAGE_ID}_901` },
      },
      {
        channel: 'messenger',
        id: '1200_77',
        visibility: 'public',
        customer: { platformId: '7700000000000053', name: 'Luca Verdi' },
        text: 'Ordinato da Bottega Rossi, mai arrivato',
        sentAt: new Date(1763892060 * 1000).toISOString(),
        threadId: '1200_77',
        listening: true,
        ref: { postId: '1200_77', tagged: true },
      },
      {
        channel: 'messenger',
        id: '78_5',
        visibility: 'public',
        customer: { platformId: '7700000000000054', name: 'Luca Verdi' },
        text: 'chiedete a Bottega Rossi',
        sentAt: new Date(1763892120 * 1000).toISOString(),
        threadId: '78_5',
        listening: true,
        ref: { postId: '1200_78', commentId: '78_5', tagged: true },
      },
    ]);
    // A malformed mention is skipped, the rest of the batch kept.
    const mixed = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { changes: [{ field: 'mention', value: { item: 'post' } }, pageMentionChange({ postId: '1200_79', senderId: '77009', message: 'ok' })] })));
    expect(mixed.map((m) => m.id)).toEqual(['1200_79']);
  });

  it('keeps a reply to a comment in the thread of the top-level comment', async () => {
    const post = `${PAGE_ID}_556`;
    const [top] = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { changes: [commentChange({ postId: post, commentId: '556_1', fromId: '77001', message: 'Avete la taglia M?' })] })));
    const [reply] = await channel.parse(
      signedRequest(pageWebhook(PAGE_ID, { changes: [commentChange({ postId: post, commentId: '556_2', fromId: '77001', parentId: '556_1', message: 'e la L?' })] })),
    );
    const [other] = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { changes: [commentChange({ postId: post, commentId: '556_3', fromId: '77002', message: 'Spedite in Francia?' })] })));
    expect(top?.threadId).toBe('556_1');
    expect(reply).toMatchObject({ threadId: '556_1', inReplyTo: '556_1' });
    expect(other?.threadId).toBe('556_3');
  });

  it('keeps the good events of a batch when one is malformed', async () => {
    const msgs = await channel.parse(
      signedRequest(pageWebhook(PAGE_ID, { messaging: [{ sender: {}, timestamp: 'yesterday' }, textEvent(PAGE_ID, PSID, 'ciao', { mid: 'm_ok' })] })),
    );
    expect(msgs.map((m) => m.id)).toEqual(['m_ok']);
  });

  it('rejects a body that is not JSON or not a Page batch with a clear error', async () => {
    await expect(channel.parse({ ...signedRequest({}), rawBody: Buffer.from('not json') })).rejects.toThrow('not JSON');
    await expect(channel.parse(signedRequest({ object: 'instagram', entry: [] }))).rejects.toThrow('"instagram" is not "page"');
  });
});

describe('sending private messages', () => {
  it('answers inside 24 hours with messaging_type RESPONSE on the configured Graph version', async () => {
    graph.userWrote(PSID, clock.now());
    const result = await channel.send(outboxItem({ customerLastMessageAt: START }));
    expect(result.platformId).toMatch(/^m_/);
    const [call] = graph.sentMessages();
    expect(call?.version).toBe('v23.0');
    expect(call?.body).toEqual({ messaging_type: 'RESPONSE', recipient: { id: PSID }, message: { text: 'Ciao!' } });
  });

  it('sends an operator reply on day 3 with the HUMAN_AGENT tag', async () => {
    graph.userWrote(PSID, clock.now());
    clock.advance(3 * DAY);
    await channel.send(outboxItem({ customerLastMessageAt: START, author: operator(), reply: { kind: 'text', text: 'Abbiamo verificato: il pacco parte oggi.' } }));
    expect(graph.sentMessages()[0]?.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  });

  it('says what Meta needs when it refuses an operator reply sent with the HUMAN_AGENT tag (an app without the Human Agent permission)', async () => {
    graph.userWrote(PSID, clock.now());
    clock.advance(3 * DAY);
    graph.grantHumanAgent(false);
    try {
      const error = (await channel.send(outboxItem({ customerLastMessageAt: START, author: operator(), reply: { kind: 'text', text: 'Abbiamo verificato: il pacco parte oggi.' } })).catch((e: unknown) => e)) as ChannelApiError;
      expect(error).toBeInstanceOf(ChannelApiError);
      expect(error.details).toMatchObject({ code: 10, retryable: false });
      expect(error.message).toMatch(/outside the allowed messaging window.*HUMAN_AGENT tag.*Human Agent permission/);
    } finally {
      graph.grantHumanAgent(true);
    }
  });

  it('never tags a bot reply HUMAN_AGENT: after 24 hours it is refused without calling Meta', async () => {
    graph.userWrote(PSID, clock.now());
    clock.advance(25 * HOUR);
    const error = await channel.send(outboxItem({ customerLastMessageAt: START })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details.retryable).toBe(false);
    expect((error as ChannelApiError).message).toMatch(/24 h/);
    expect(graph.calls).toEqual([]);
  });

  it('refuses an operator reply on day 8 with a clear message and no API call', async () => {
    graph.userWrote(PSID, clock.now());
    clock.advance(8 * DAY);
    const error = await channel.send(outboxItem({ customerLastMessageAt: START, author: operator() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details).toMatchObject({ retryable: false, code: 'outside_window' });
    expect((error as ChannelApiError).message).toMatch(/8 days ago.*within 7 days/);
    expect(graph.calls).toEqual([]);
  });

  it('renders quick replies: at most 13, titles cut to 20 characters', async () => {
    graph.userWrote(PSID, clock.now());
    const options = Array.from({ length: 15 }, (_, i) => ({ title: `Opzione numero ${i + 1} molto lunga`, payload: `faq:opt-${i + 1}` }));
    await channel.send(outboxItem({ customerLastMessageAt: START, reply: { kind: 'quick_replies', text: 'Intendevi…', options } }));
    const message = graph.sentMessages()[0]?.body.message as { quick_replies: Array<{ content_type: string; title: string; payload: string }> };
    expect(message.quick_replies).toHaveLength(13);
    expect(message.quick_replies[0]).toEqual({ content_type: 'text', title: 'Opzione numero 1 mo…', payload: 'faq:opt-1' });
    expect(message.quick_replies.every((q) => [...q.title].length <= 20)).toBe(true);
  });

  it('splits a text longer than 2,000 characters into several messages, in order', async () => {
    graph.userWrote(PSID, clock.now());
    const text = Array.from({ length: 500 }, (_, i) => `parola${i}`).join(' ');
    expect(text.length).toBeGreaterThan(2000);
    await channel.send(outboxItem({ customerLastMessageAt: START, reply: { kind: 'text', text } }));
    const parts = graph.sentMessages().map((c) => (c.body.message as { text: string }).text);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.length <= 2000)).toBe(true);
    expect(parts.join(' ')).toBe(text);
  });

  it('counts a message Meta took (200) as sent when its answer is cut short, alone or as one part of a long text, rather than sending it again', async () => {
    graph.userWrote(PSID, clock.now());
    graph.garbleNext({ path: '/me/messages' });
    // Before: "no answer from the Graph API", retried: the customer got it twice.
    expect(await channel.send(outboxItem({ id: 'out_short', customerLastMessageAt: START, reply: { kind: 'text', text: 'Siamo aperti dalle 9.' } }))).toEqual({ platformId: '' });
    expect(graph.sentMessages()).toHaveLength(1);
    const text = Array.from({ length: 500 }, (_, i) => `parola${i}`).join(' ');
    graph.garbleNext({ path: '/me/messages', skip: 1 });
    const result = await channel.send(outboxItem({ id: 'out_long', customerLastMessageAt: START, reply: { kind: 'text', text } }));
    expect(result.platformId).toMatch(/^m_/);
    const parts = graph.sentMessages().slice(1).map((c) => (c.body.message as { text: string }).text);
    expect(parts.join(' ')).toBe(text);
  });

  it('sends only the missing parts of a long text when a retry follows a failed part', async () => {
    graph.userWrote(PSID, clock.now());
    const text = Array.from({ length: 500 }, (_, i) => `parola${i}`).join(' ');
    const item = outboxItem({ id: 'out_long', customerLastMessageAt: START, reply: { kind: 'text', text } });
    graph.failNext({ status: 500, code: 1, message: 'An unknown error occurred', path: '/me/messages', skip: 1 });
    const error = await channel.send(item).catch((e: unknown) => e);
    expect((error as ChannelApiError).details).toMatchObject({ status: 500, retryable: true });
    expect(graph.sentMessages()).toHaveLength(2); // part 1 delivered, part 2 refused

    const result = await channel.send(item);
    const texts = graph.sentMessages().map((c) => (c.body.message as { text: string }).text);
    const delivered = [texts[0], ...texts.slice(2)];
    expect(delivered.join(' ')).toBe(text);
    expect(texts.filter((t) => t === texts[0])).toHaveLength(1); // part 1 was not repeated
    expect(result.platformId).toMatch(/^m_/);
  });

  it('shows the typing indicator with sender_action typing_on', async () => {
    graph.userWrote(PSID, clock.now());
    const [msg] = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, PSID, 'ciao')] })));
    await channel.typing!(msg!);
    expect(graph.calls.map((c) => c.body)).toEqual([{ recipient: { id: PSID }, sender_action: 'typing_on' }]);
  });
});

describe('Graph API errors', () => {
  async function sendError(): Promise<unknown> {
    graph.userWrote(PSID, clock.now());
    return channel.send(outboxItem({ customerLastMessageAt: START })).catch((e: unknown) => e);
  }

  it('maps "outside of allowed window" (code 10, subcode 2018278) to a final error', async () => {
    graph.userWrote(PSID, new Date(clock.now().getTime() - 2 * DAY)); // Meta knows better than our record
    const error = await channel.send(outboxItem({ customerLastMessageAt: START })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details).toMatchObject({ channel: 'messenger', status: 400, code: 10, subcode: 2018278, retryable: false });
    expect((error as ChannelApiError).message).toMatch(/outside the allowed messaging window/);
  });

  it('maps rate limits (code 613) to a retryable error honouring X-Business-Use-Case-Usage', async () => {
    const usage = JSON.stringify({ [PAGE_ID]: [{ type: 'messenger', call_count: 100, total_cputime: 30, total_time: 40, estimated_time_to_regain_access: 5 }] });
    graph.failNext({ status: 400, code: 613, message: '(#613) Calls to this api have exceeded the rate limit.', headers: { 'x-business-use-case-usage': usage } });
    const error = (await sendError()) as ChannelApiError;
    expect(error.details).toMatchObject({ code: 613, retryable: true, retryAt: clock.now().getTime() + 5 * 60_000 });
  });

  it.each([
    [500, 1, true],
    [503, 2, true],
    [400, 4, true],
    [400, 32, true],
    [400, 100, false],
    [400, 551, false],
    // An expired or revoked Page token: the channel is at fault, not the reply; it waits for a new token.
    [400, 190, true],
  ])('maps HTTP %i with code %i to retryable=%s', async (status, code, retryable) => {
    graph.failNext({ status, code, message: `(#${code}) boom` });
    const error = (await sendError()) as ChannelApiError;
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error.details).toMatchObject({ status, code, retryable });
    expect(error.details.credentials === true).toBe(code === 190);
  });

  it.each([
    [551, 1545041, /not available \(blocked the Page or deleted the account\)/],
    [100, 2018001, /no Messenger user matches this recipient/],
  ])('maps code %i / subcode %i (the person cannot be reached) to a final refusal operators can read', async (code, subcode, explained) => {
    graph.failNext({ status: 400, code, subcode, message: `(#${code}) This person isn't available right now.` });
    const error = (await sendError()) as ChannelApiError;
    expect(error.details).toMatchObject({ code, subcode, retryable: false });
    expect(error.message).toMatch(explained);
  });

  it('maps a refused connection to NetworkError', async () => {
    const offline = createMessengerChannel({ config: messengerConfig('http://127.0.0.1:1'), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
    await expect(offline.send(outboxItem({ customerLastMessageAt: START }))).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('batched sends', () => {
  const psids = Array.from({ length: 60 }, (_, i) => `61000000000${String(i).padStart(5, '0')}`);
  const items = psids.map((psid, i) =>
    outboxItem({ id: `out_${i}`, conversationId: `cv_${i}`, recipient: psid, reply: { kind: 'text', text: `Risposta ${i}` }, customerLastMessageAt: START }),
  );
  const batchCalls = () => graph.calls.filter((c) => c.path === '/' && c.method === 'POST');

  it('sends replies that leave together as Graph batch requests of at most 50 calls, each with its own message id', async () => {
    for (const psid of psids) graph.userWrote(psid, clock.now());
    const results = await Promise.all(items.map((item) => channel.send(item)));
    // 60 replies: one batch of 50 and one of 10, instead of 60 requests.
    expect(batchCalls().map((c) => (c.body.batch as unknown[]).length)).toEqual([50, 10]);
    const sent = graph.sentMessages();
    expect(sent).toHaveLength(60);
    expect(sent.map((c) => (c.body.recipient as { id: string }).id).sort()).toEqual([...psids].sort());
    expect(sent.every((c) => c.body.messaging_type === 'RESPONSE' && c.version === 'v23.0')).toBe(true);
    expect(new Set(results.map((r) => r.platformId)).size).toBe(60);
    expect(results.every((r) => r.platformId.startsWith('m_'))).toBe(true);
  });

  it('fails only the call Meta refused inside a batch, with that call\'s own error', async () => {
    for (const psid of psids.slice(0, 5)) graph.userWrote(psid, clock.now());
    const usage = JSON.stringify({ [PAGE_ID]: [{ type: 'messenger', call_count: 100, estimated_time_to_regain_access: 2 }] });
    graph.failNext({ status: 400, code: 613, path: '/me/messages', skip: 2, message: '(#613) Calls to this api have exceeded the rate limit.', headers: { 'x-business-use-case-usage': usage } });
    const outcomes = await Promise.allSettled(items.slice(0, 5).map((item) => channel.send(item)));
    expect(batchCalls()).toHaveLength(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const error = (outcomes[2] as PromiseRejectedResult).reason as ChannelApiError;
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error.details).toMatchObject({ status: 400, code: 613, retryable: true, retryAt: clock.now().getTime() + 2 * 60_000 });
    expect(graph.sentMessages()).toHaveLength(5); // the fake saw five calls; it refused one
  });

  it('keeps the other calls of a batch when one answer\'s body is not JSON: no reply already sent is sent again', async () => {
    for (const psid of psids.slice(0, 5)) graph.userWrote(psid, clock.now());
    // The third call answered 502 with a proxy's HTML page, the fourth 200 with its body cut short.
    graph.failNext({ status: 502, code: 0, path: '/me/messages', skip: 2, rawBody: '<html><body>Bad Gateway</body></html>' });
    graph.failNext({ status: 200, code: 0, path: '/me/messages', rawBody: '{"recipient_id":"61000000000000' });
    const outcomes = await Promise.allSettled(items.slice(0, 5).map((item) => channel.send(item)));
    expect(batchCalls()).toHaveLength(1);
    // Before: one unreadable body failed all five as "no answer" (retried: four replies twice).
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.platformId : undefined));
    expect(values.filter((v, i) => i !== 2 && i !== 3).every((v) => v?.startsWith('m_'))).toBe(true);
    // Meta said 200: sent, though its id is unknown (retrying would send it twice).
    expect(values[3]).toBe('');
    const error = (outcomes[2] as PromiseRejectedResult).reason as ChannelApiError;
    expect(error).toBeInstanceOf(ChannelApiError);
    expect(error.details).toMatchObject({ status: 502, retryable: true });
  });

  it('never puts two replies to one customer in the same batch (Meta runs a batch\'s calls in parallel)', async () => {
    graph.userWrote(psids[0]!, clock.now());
    graph.userWrote(psids[1]!, clock.now());
    const twice = [
      outboxItem({ id: 'a1', conversationId: 'cv_a', recipient: psids[0]!, reply: { kind: 'text', text: 'prima' }, customerLastMessageAt: START }),
      outboxItem({ id: 'b1', conversationId: 'cv_b', recipient: psids[1]!, reply: { kind: 'text', text: 'altro' }, customerLastMessageAt: START }),
      outboxItem({ id: 'a2', conversationId: 'cv_c', recipient: psids[0]!, reply: { kind: 'text', text: 'seconda' }, customerLastMessageAt: START }),
    ];
    await Promise.all(twice.map((item) => channel.send(item)));
    const batches = batchCalls().map((c) => (c.body.batch as Array<{ body: string }>).map((b) => new URLSearchParams(b.body).get('recipient')));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(2);
    expect(graph.sentMessages().map((c) => (c.body.message as { text: string }).text)).toEqual(['prima', 'altro', 'seconda']);
  });

  it('carries quick replies and the HUMAN_AGENT tag inside a batch exactly as a single call does', async () => {
    graph.userWrote(psids[0]!, clock.now());
    graph.userWrote(psids[1]!, new Date(clock.now().getTime() - 3 * DAY));
    const options = [
      { title: 'Spedizioni e consegne', payload: 'faq:spedizioni' },
      { title: 'Resi', payload: 'faq:resi' },
    ];
    await Promise.all([
      channel.send(outboxItem({ id: 'q1', conversationId: 'cv_q', recipient: psids[0]!, reply: { kind: 'quick_replies', text: 'Intendevi?', options }, customerLastMessageAt: START })),
      channel.send(
        outboxItem({ id: 'h1', conversationId: 'cv_h', recipient: psids[1]!, author: operator(), reply: { kind: 'text', text: 'Ciao, sono Maria' }, customerLastMessageAt: new Date(clock.now().getTime() - 3 * DAY).toISOString() }),
      ),
    ]);
    expect(batchCalls()).toHaveLength(1);
    const [quick, tagged] = graph.sentMessages();
    expect(quick!.body).toMatchObject({
      messaging_type: 'RESPONSE',
      recipient: { id: psids[0] },
      message: { text: 'Intendevi?', quick_replies: [{ content_type: 'text', title: 'Spedizioni e conseg…', payload: 'faq:spedizioni' }, { content_type: 'text', title: 'Resi', payload: 'faq:resi' }] },
    });
    expect(tagged!.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', recipient: { id: psids[1] }, message: { text: 'Ciao, sono Maria' } });
  });

  it('fails every call of a batch the Graph API could not be reached for, as a retryable network error', async () => {
    const offline = createMessengerChannel({ config: messengerConfig('http://127.0.0.1:1'), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
    const outcomes = await Promise.allSettled(items.slice(0, 3).map((item) => offline.send(item)));
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof NetworkError)).toBe(true);
  });
});

describe('Facebook comments', () => {
  const COMMENTER = '7700000000000042';
  const COMMENTER_PSID = '6100000000000777';
  const POST = `${PAGE_ID}_555`;
  const COMMENT = '555_2001';

  beforeEach(() => {
    graph.addComment({ commentId: COMMENT, postId: POST, fromId: COMMENTER, psid: COMMENTER_PSID, createdAt: clock.now(), message: 'Dov’è il mio ordine?' });
  });

  it('answers a public item as a comment reply under the comment', async () => {
    const result = await channel.send(outboxItem({ visibility: 'public', recipient: COMMENTER, inReplyTo: COMMENT, reply: { kind: 'text', text: 'Spediamo in tutta Europa.' } }));
    expect(graph.commentReplies).toContainEqual({ parentId: COMMENT, id: result.platformId, message: 'Spediamo in tutta Europa.' });
    expect(graph.calls.at(-1)?.path).toBe(`/${COMMENT}/comments`);
  });

  it('sends one private reply per comment and links the PSID it reveals to the commenter', async () => {
    await channel.parse(signedRequest(pageWebhook(PAGE_ID, { changes: [commentChange({ postId: POST, commentId: COMMENT, fromId: COMMENTER, message: 'Dov’è il mio ordine?' })] })));
    const item = outboxItem({ recipient: COMMENTER, inReplyTo: COMMENT, customerLastMessageAt: START, reply: { kind: 'text', text: 'Scrivici qui il numero d’ordine.' } });
    await channel.send(item);
    expect(graph.sentMessages()[0]?.body).toMatchObject({ recipient: { comment_id: COMMENT }, message: { text: 'Scrivici qui il numero d’ordine.' } });

    const again = await channel.send({ ...item, id: 'out_2' }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ChannelApiError);
    expect((again as ChannelApiError).message).toMatch(/already sent.*only one/);
    expect(graph.sentMessages()).toHaveLength(1);

    // The commenter answers in Messenger under their PSID: the message points at the commenter.
    graph.userWrote(COMMENTER_PSID, clock.now());
    const [msg] = await channel.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, COMMENTER_PSID, 'BR-123456')] })));
    // The channel resolves the link itself: the message names the commenter whose case it continues.
    expect(msg?.linkTo).toEqual({ customerPlatformId: COMMENTER });
    expect(await store.values.get('messenger', psidLinkKey(COMMENTER_PSID))).toBe(COMMENTER);
    // Another instance (or this one after a restart) knows it from the store.
    const other = createMessengerChannel({ config: messengerConfig(graph.origin), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
    const [again2] = await other.parse(signedRequest(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, COMMENTER_PSID, 'ci sei?')] })));
    expect(again2?.linkTo).toEqual({ customerPlatformId: COMMENTER });
    await other.stop?.();

    // Private messages addressed to the commenter now reach their PSID.
    await channel.send(outboxItem({ recipient: COMMENTER, customerLastMessageAt: clock.now().toISOString(), author: operator() }));
    expect(graph.sentMessages().at(-1)?.body).toMatchObject({ recipient: { id: COMMENTER_PSID }, messaging_type: 'RESPONSE' });
  });

  it('sees a link another instance made once its "no link" answer is older than UNLINKED_MS', async () => {
    const dm = (text: string) => signedRequest(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, COMMENTER_PSID, text)] }));
    // This instance hears from the PSID before any private reply: no link (remembered for a while).
    expect((await channel.parse(dm('ciao')))[0]?.linkTo).toBeUndefined();
    // Another instance on the same store sends the private reply and records the link.
    const comment = '555_2077';
    graph.addComment({ commentId: comment, postId: POST, fromId: COMMENTER, psid: COMMENTER_PSID, createdAt: clock.now(), message: 'Dov’è il mio ordine?' });
    const other = createMessengerChannel({ config: messengerConfig(graph.origin), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
    await other.parse(signedRequest(pageWebhook(PAGE_ID, { changes: [commentChange({ postId: POST, commentId: comment, fromId: COMMENTER, message: 'Dov’è il mio ordine?' })] })));
    await other.send(outboxItem({ recipient: COMMENTER, inReplyTo: comment, customerLastMessageAt: START, reply: { kind: 'text', text: 'Scrivici qui.' } }));
    expect((await other.parse(dm('eccomi')))[0]?.linkTo).toEqual({ customerPlatformId: COMMENTER });
    // This one trusts its "no link" for UNLINKED_MS, then asks the store again.
    expect((await channel.parse(dm('eccomi')))[0]?.linkTo).toBeUndefined();
    clock.advance(UNLINKED_MS);
    expect((await channel.parse(dm('eccomi')))[0]?.linkTo).toEqual({ customerPlatformId: COMMENTER });
    await other.stop?.();
  });

  it('refuses a private reply to a comment older than 7 days', async () => {
    clock.advance(8 * DAY);
    const error = await channel.send(outboxItem({ recipient: COMMENTER, inReplyTo: COMMENT, customerLastMessageAt: START })).catch((e: unknown) => e);
    expect((error as ChannelApiError).details?.retryable).toBe(false);
    expect(graph.calls).toEqual([]);
  });

  it('hides a comment with private data', async () => {
    await channel.hideMessage!({} as Conversation, COMMENT);
    expect(graph.hidden.has(COMMENT)).toBe(true);
    expect(graph.calls.at(-1)?.body).toEqual({ is_hidden: true });
  });
});

describe('handover to the Page Inbox', () => {
  const conversation: Conversation = {
    id: 'cv_9',
    key: `messenger:private:${PSID}`,
    channel: 'messenger',
    visibility: 'private',
    customerId: `messenger:${PSID}`,
    caseId: 'cs_9',
    state: 'queued',
    missStreak: 0,
    flags: [],
    ref: { psid: PSID },
    createdAt: START,
    updatedAt: START,
  };
  const escalated = { type: 'conversation.escalated' as const, conversationId: 'cv_9', caseId: 'cs_9', reason: 'human_request' as const, at: START };
  const resolved = { type: 'conversation.resolved' as const, conversationId: 'cv_9', caseId: 'cs_9', at: START };

  it('does nothing while MESSENGER_HANDOVER is off', async () => {
    await channel.notify!(escalated, conversation);
    expect(graph.calls).toEqual([]);
  });

  it('passes the thread to the Page Inbox on escalation and takes it back on resolution', async () => {
    const withHandover = createMessengerChannel({ config: messengerConfig(graph.origin, { handover: true }), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
    await withHandover.notify!(escalated, conversation);
    expect(graph.threadOwner.get(PSID)).toBe(PAGE_INBOX_APP_ID);
    expect(graph.calls.at(-1)).toMatchObject({ path: '/me/pass_thread_control', body: { recipient: { id: PSID }, target_app_id: PAGE_INBOX_APP_ID } });
    await withHandover.notify!(resolved, conversation);
    expect(graph.threadOwner.get(PSID)).toBe('page');
  });

  it('takes the thread back when an operator returns the conversation to the bot', async () => {
    const withHandover = createMessengerChannel({ config: messengerConfig(graph.origin, { handover: true }), store, clock, logger: createSilentLogger(), outbound: OUTBOUND });
    await withHandover.notify!(escalated, conversation);
    await withHandover.notify!({ type: 'conversation.returned_to_bot', conversationId: 'cv_9', at: START }, conversation);
    expect(graph.threadOwner.get(PSID)).toBe('page');
    expect(graph.calls.at(-1)).toMatchObject({ path: '/me/take_thread_control', body: { metadata: 'sportello:returned_to_bot' } });
  });
});
