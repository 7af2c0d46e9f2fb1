/**
 * End to end: a real Sportello (createSportello) with the Messenger channel, talking to the fake
 * Graph API, with webhooks delivered over HTTP and signed as Meta signs them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../../src/app.js';
import { ConflictError } from '../../../src/core/errors.js';
import { createFakeClock, type FakeClock } from '../../../src/core/ports.js';
import type { Operator } from '../../../src/core/types.js';
import type { FakeGraphApi } from '../../fakes/graph-api/fake-graph-api.js';
import { commentChange, pageMentionChange, pageWebhook, textEvent, visitorPostChange } from '../../fakes/graph-api/payloads.js';
import { PAGE_ID, startMessengerApp, VERIFY_TOKEN, type MessengerApp } from './helpers.js';

const DAY = 86_400_000;
/** A Tuesday morning in Rome: the care team is at work. */
const START = '2026-11-24T09:00:00.000Z';

let clock: FakeClock;
let graph: FakeGraphApi;
let running: MessengerApp;
let app: Sportello;
let webhook: string;
let psidCounter = 0;

const operator: Operator = { id: 'op_mr', name: 'Maria Rossi', initials: 'MR', role: 'agent', passwordHash: 'scrypt$unused', createdAt: START };

// One instance for the file (training the classifier is the slow part); every test uses its own
// customers, so they do not see each other's conversations.
beforeAll(async () => {
  clock = createFakeClock(START);
  running = await startMessengerApp({ clock, prefix: 'sportello-messenger-', operators: [operator] });
  ({ app, graph, webhook } = running);
});
afterAll(() => running.close());
beforeEach(() => {
  clock.set(START);
  graph.calls.length = 0;
});

const settle = () => running.settle();

/** A new customer who writes `text` in Messenger now. */
async function customerWrites(text: string, options: { psid?: string; mid?: string } = {}): Promise<{ psid: string; mid: string; status: number }> {
  const psid = options.psid ?? `61000000000${String(++psidCounter).padStart(5, '0')}`;
  const mid = options.mid ?? `m_${psid}_${clock.now().getTime()}`;
  graph.userWrote(psid, clock.now());
  const res = await graph.deliver(webhook, pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, psid, text, { mid, timestamp: clock.now().getTime() })] }));
  await settle();
  return { psid, mid, status: res.status };
}

function textsTo(psid: string): Array<{ text: string; body: Record<string, unknown> }> {
  return graph
    .sentMessages()
    .filter((c) => (c.body.recipient as { id?: string }).id === psid)
    .map((c) => ({ text: (c.body.message as { text: string }).text, body: c.body }));
}

async function conversationOf(psid: string) {
  const conversation = await app.store.conversations.findByKey(`messenger:private:${psid}`);
  if (!conversation) throw new Error(`no conversation for ${psid}`);
  return conversation;
}

describe('Messenger webhook over HTTP', () => {
  it('answers Meta subscription check with the challenge, and refuses a wrong verify token', async () => {
    const good = await graph.verifySubscription(webhook, VERIFY_TOKEN, '8374651');
    expect(good).toMatchObject({ status: 200, text: '8374651' });
    expect(good.contentType).toMatch(/^text\/plain/);
    const bad = await graph.verifySubscription(webhook, 'not-the-token', '8374651');
    expect(bad.status).toBe(403);
    expect(bad.text).not.toContain('8374651');
  });

  it('refuses a delivery with a bad signature and processes nothing', async () => {
    const res = await graph.deliver(webhook, pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, '6100000000099999', 'Quali sono i vostri orari?')] }), {
      secret: 'forged',
    });
    await settle();
    expect(res.status).toBe(401);
    expect(await app.store.conversations.findByKey('messenger:private:6100000000099999')).toBeUndefined();
    expect(graph.calls).toEqual([]);
  });

  it('answers a FAQ question in Messenger with messaging_type RESPONSE', async () => {
    const { psid, status } = await customerWrites('Quali sono i vostri orari?');
    expect(status).toBe(200);
    const sent = textsTo(psid);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/lunedì al venerdì dalle 9 alle 18/);
    expect(sent[0]!.body.messaging_type).toBe('RESPONSE');
    // A typing indicator is shown only when a turn takes over 300 ms (how long it takes is the
    // machine's: a loaded one may show it); when it is, it comes before the answer, never after.
    const typing = graph.calls.findIndex((c) => c.body.sender_action === 'typing_on');
    const answer = graph.calls.findIndex((c) => c.body.message !== undefined);
    if (typing >= 0) expect(typing).toBeLessThan(answer);
  });

  it('answers a message Meta delivered twice (same mid) only once', async () => {
    const first = await customerWrites('Quanto ci mette ad arrivare un ordine?');
    await customerWrites('Quanto ci mette ad arrivare un ordine?', { psid: first.psid, mid: first.mid });
    expect(textsTo(first.psid)).toHaveLength(1);
  });
});

describe('operator replies and the messaging windows', () => {
  async function escalatedConversation() {
    const { psid } = await customerWrites('vorrei parlare con un operatore per favore');
    const conversation = await conversationOf(psid);
    expect(conversation.state).toBe('queued');
    await app.desk.claim(conversation.id, operator);
    return { psid, conversation };
  }

  it('sends an operator reply on day 3 with the HUMAN_AGENT tag', async () => {
    const { psid, conversation } = await escalatedConversation();
    clock.advance(3 * DAY);
    await app.desk.reply(conversation.id, operator, 'Buongiorno, sono Maria: il suo reso è stato accettato.');
    await settle();
    const last = textsTo(psid).at(-1)!;
    expect(last.text).toMatch(/reso è stato accettato/);
    expect(last.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  });

  it('refuses an operator reply on day 8 with a clear message, and sends nothing', async () => {
    const { psid, conversation } = await escalatedConversation();
    const before = textsTo(psid).length;
    clock.advance(8 * DAY);
    const error = await app.desk.reply(conversation.id, operator, 'Ci scusi il ritardo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/8 days ago.*7 days/);
    await settle();
    expect(textsTo(psid)).toHaveLength(before);
  });
});

describe('Facebook comments', () => {
  it('moves an order question from a comment to a private reply, and the case continues in Messenger', async () => {
    const commenter = '7700000000000042';
    const commenterPsid = '6100000000077777';
    const postId = `${PAGE_ID}_555`;
    const commentId = '555_3001';
    graph.addComment({ commentId, postId, fromId: commenter, psid: commenterPsid, createdAt: clock.now(), message: "Dov'è il mio ordine? aspetto da giorni" });
    const res = await graph.deliver(
      webhook,
      pageWebhook(PAGE_ID, {
        changes: [commentChange({ postId, commentId, fromId: commenter, message: "Dov'è il mio ordine? aspetto da giorni", createdTime: clock.now().getTime() / 1000 })],
      }),
    );
    expect(res.status).toBe(200);
    await settle();

    const privateReplies = graph.sentMessages().filter((c) => (c.body.recipient as { comment_id?: string }).comment_id === commentId);
    expect(privateReplies).toHaveLength(1);
    const publicConversation = await app.store.conversations.findByKey(`messenger:public:${commentId}`);
    expect(publicConversation).toBeDefined();
    for (const reply of graph.commentReplies) expect(reply.message).not.toMatch(/BR-\d/);
    expect(graph.commentReplies).toEqual([expect.objectContaining({ parentId: commentId, message: expect.stringMatching(/privat/i) })]);
    expect((privateReplies[0]!.body.message as { text: string }).text).toMatch(/numero d'ordine/);

    // The commenter answers the private reply in Messenger, with the order number.
    clock.advance(10 * 60_000);
    await customerWrites('ecco il numero: BR-448890', { psid: commenterPsid });
    const chat = await conversationOf(commenterPsid);
    expect(chat.caseId).toBe(publicConversation!.caseId);
    expect(chat.state).toBe('queued');
  });

  it('answers a comment with private data without repeating it, writes privately and hides the comment', async () => {
    const commenter = '7700000000000043';
    const postId = `${PAGE_ID}_556`;
    const commentId = '556_4001';
    const message = 'la mia email è mario.rossi@example.com, nessuno mi risponde!';
    graph.addComment({ commentId, postId, fromId: commenter, psid: '6100000000088888', createdAt: clock.now(), message });
    const res = await graph.deliver(webhook, pageWebhook(PAGE_ID, { changes: [commentChange({ postId, commentId, fromId: commenter, message, createdTime: clock.now().getTime() / 1000 })] }));
    expect(res.status).toBe(200);
    await settle();

    const publicReplies = graph.commentReplies.filter((r) => r.parentId === commentId);
    expect(publicReplies).toHaveLength(1);
    expect(publicReplies[0]!.message).not.toContain('mario.rossi');
    expect(graph.sentMessages().filter((c) => (c.body.recipient as { comment_id?: string }).comment_id === commentId)).toHaveLength(1);
    await eventually(() => graph.hidden.has(commentId));
    const conversation = await app.store.conversations.findByKey(`messenger:public:${commentId}`);
    expect(conversation?.flags).toContain('private_data_public');
  });
});

/** Waits for work that runs on the event bus after a turn (channel notifications). */
describe('listening on the Page (feed and mention webhooks)', () => {
  it('answers a visitor post that asks a question with a comment under it, and opens nothing for an opinion or a tag without a request', async () => {
    const question = `${PAGE_ID}_7001`;
    const opinion = `${PAGE_ID}_7002`;
    graph.addPost(question);
    graph.addPost(opinion);
    const now = Math.floor(clock.now().getTime() / 1000);
    const res = await graph.deliver(
      webhook,
      pageWebhook(PAGE_ID, {
        changes: [
          visitorPostChange({ postId: question, fromId: '7800000000000001', message: 'Quali sono gli orari del negozio?', createdTime: now }),
          visitorPostChange({ postId: opinion, fromId: '7800000000000002', message: 'Le vetrine di Natale sono carine', createdTime: now }),
          pageMentionChange({ postId: '1300_1', senderId: '7800000000000003', message: 'Passeggiata in centro con la Bottega Rossi', createdTime: now }),
        ],
      }),
    );
    expect(res.status).toBe(200);
    await settle();
    const replies = graph.commentReplies.filter((r) => r.parentId === question);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.message).toMatch(/luned|sabato|orari/i);
    expect(graph.commentReplies.filter((r) => r.parentId === opinion || r.parentId === '1300_1')).toHaveLength(0);
    const conversations = await app.store.conversations.list({});
    expect(conversations.some((c) => c.customerId.endsWith('7800000000000002') || c.customerId.endsWith('7800000000000003'))).toBe(false);
  });
});

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
