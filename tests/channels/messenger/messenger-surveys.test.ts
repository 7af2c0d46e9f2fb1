/**
 * Satisfaction surveys on Messenger, end to end against the fake Graph API with a fake clock:
 * inside the 24-hour window a message with quick replies; later, up to 7 days after the
 * customer's last message, the Customer Feedback Template with the CUSTOMER_FEEDBACK tag, whose
 * answer comes as a `messaging_feedback` webhook; after 7 days no survey. The fake refuses what
 * Graph refuses (the tag after 7 days, the tag on a plain message, a template without a privacy URL).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../../src/app.js';
import { createFakeClock, type FakeClock } from '../../../src/core/ports.js';
import type { Operator } from '../../../src/core/types.js';
import type { FakeGraphApi, GraphCall } from '../../fakes/graph-api/fake-graph-api.js';
import { commentChange, feedbackEvent, pageWebhook, textEvent } from '../../fakes/graph-api/payloads.js';
import { projectKnowledge } from '../../helpers/app.js';
import { APP_SECRET, PAGE_ID, PAGE_TOKEN, startMessengerApp, type MessengerApp } from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = '2026-11-24T09:00:00.000Z';
const PRIVACY = 'https://bottega.example/privacy';

let clock: FakeClock;
let graph: FakeGraphApi;
let running: MessengerApp;
let app: Sportello;
let webhook: string;
let psidCounter = 0;
const operator: Operator = { id: 'op_mr', name: 'Maria Rossi', initials: 'MR', role: 'agent', passwordHash: 'scrypt$unused', createdAt: START };

beforeAll(async () => {
  clock = createFakeClock(START);
  running = await startMessengerApp({
    env: { MESSENGER_PRIVACY_URL: PRIVACY, SURVEYS: 'true', SURVEY_DELAY: '1h', SURVEY_LOW_SCORE: '1', BOT_CLOSE_HOURS: '0' },
    clock,
    prefix: 'sportello-messenger-surveys-',
    knowledge: await projectKnowledge(),
    operators: [operator],
  });
  ({ app, graph, webhook } = running);
});
afterAll(() => running.close());
beforeEach(() => {
  clock.set(START);
  graph.calls.length = 0;
});

const settle = () => running.settle();

async function deliver(events: unknown[]): Promise<void> {
  const res = await graph.deliver(webhook, pageWebhook(PAGE_ID, { messaging: events }));
  expect(res.status).toBe(200);
  await settle();
}

/** A new customer asks for a person now; Maria answers and resolves `resolveAfter` later. Returns the PSID and the case. */
async function resolvedCase(resolveAfter: number): Promise<{ psid: string; caseId: string }> {
  const psid = `61000000007${String(++psidCounter).padStart(5, '0')}`;
  graph.userWrote(psid, clock.now());
  await deliver([textEvent(PAGE_ID, psid, 'vorrei parlare con un operatore per favore', { mid: `m_${psid}_1`, timestamp: clock.now().getTime() })]);
  const conversation = (await app.store.conversations.findByKey(`messenger:private:${psid}`))!;
  expect(conversation.state).toBe('queued');
  await app.desk.claim(conversation.id, operator);
  clock.advance(resolveAfter);
  await app.desk.resolve(conversation.id, operator);
  return { psid, caseId: conversation.caseId };
}

const surveyCalls = (psid: string): GraphCall[] =>
  graph.sentMessages().filter((c) => (c.body.recipient as { id?: string }).id === psid && /satisf|soddisf/i.test(JSON.stringify(c.body.message)));

describe('Messenger satisfaction surveys', () => {
  it('inside the 24-hour window: a normal message with the scores as quick replies; a quick reply answers it', async () => {
    const { psid, caseId } = await resolvedCase(10 * 60_000);
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await settle();
    const [call, ...more] = surveyCalls(psid);
    expect(more).toEqual([]);
    expect(call!.body.messaging_type).toBe('RESPONSE');
    const message = call!.body.message as { text: string; quick_replies: Array<{ content_type: string; title: string; payload: string }> };
    expect(message.text).toMatch(/^Quanto ti ha soddisfatto/);
    expect(message.quick_replies).toEqual([1, 2, 3, 4, 5].map((n) => ({ content_type: 'text', title: String(n), payload: `csat:${n}` })));
    expect((await app.store.outbox.list({ status: 'dead' })).filter((i) => i.recipient === psid)).toEqual([]);

    clock.advance(5 * 60_000);
    graph.userWrote(psid, clock.now());
    await deliver([textEvent(PAGE_ID, psid, '4', { mid: `m_${psid}_2`, timestamp: clock.now().getTime(), quickReplyPayload: 'csat:4' })]);
    expect((await app.store.conversations.getCase(caseId))?.survey).toMatchObject({ score: 4, answeredAt: clock.now().toISOString() });
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 0 });
  });

  it('after 24 hours: the Customer Feedback Template with the CUSTOMER_FEEDBACK tag; the messaging_feedback webhook answers it', async () => {
    // The customer wrote on Tuesday at 09:00; Maria resolves 29 hours later; the survey goes an hour after that.
    const { psid, caseId } = await resolvedCase(29 * HOUR);
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await settle();
    const [call] = surveyCalls(psid);
    expect(call!.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'CUSTOMER_FEEDBACK', recipient: { id: psid } });
    const template = (call!.body.message as { attachment: { type: string; payload: Record<string, unknown> } }).attachment;
    expect(template.type).toBe('template');
    expect(template.payload).toMatchObject({
      template_type: 'customer_feedback',
      title: 'Quanto ti ha soddisfatto l’aiuto di Bottega Rossi?',
      button_title: 'Valuta',
      feedback_screens: [{ questions: [{ id: 'csat', type: 'csat', score_option: 'one_to_five', follow_up: { type: 'free_form' } }] }],
      business_privacy: { url: PRIVACY },
      // 30 hours of the 7 days are gone: 5 whole days left.
      expires_in_days: 5,
    });
    // Sent: the fake accepted it (no dead item).
    expect((await app.store.outbox.list({ status: 'dead' })).filter((i) => i.recipient === psid)).toEqual([]);

    clock.advance(2 * HOUR);
    // The answer is the customer writing to the Page (the fake opens the window when told so).
    graph.userWrote(psid, clock.now());
    await deliver([feedbackEvent(PAGE_ID, psid, { score: 2, comment: 'gentili ma lenti', timestamp: clock.now().getTime() })]);
    expect((await app.store.conversations.getCase(caseId))?.survey).toMatchObject({ score: 2, comment: 'gentili ma lenti', answeredAt: clock.now().toISOString() });
    // Not a new question: the customer has the one case, and no reply but the thanks.
    expect((await app.store.conversations.listCases(`messenger:${psid}`)).map((c) => c.status)).toEqual(['resolved']);
    const thanks = graph.sentMessages().filter((c) => (c.body.recipient as { id?: string }).id === psid).at(-1)!;
    expect((thanks.body.message as { text: string }).text).toBe('Grazie per la tua risposta! Ci aiuta a migliorare.');
  });

  it('a commenter who never wrote in Messenger gets none (the Page cannot write first)', async () => {
    const commenter = '10200000000777001';
    const commentId = '700000000_900000001';
    const res = await graph.deliver(
      webhook,
      pageWebhook(PAGE_ID, { changes: [commentChange({ postId: '700000000', commentId, fromId: commenter, message: 'vorrei parlare con un operatore per favore', createdTime: clock.now().getTime() / 1000 })] }),
    );
    expect(res.status).toBe(200);
    await settle();
    const conversation = (await app.store.conversations.list({ customerId: `messenger:${commenter}` }))[0]!;
    expect(conversation).toMatchObject({ visibility: 'public', state: 'queued' });
    await app.desk.claim(conversation.id, operator);
    await app.desk.resolve(conversation.id, operator);
    graph.calls.length = 0;
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 1 });
    expect((await app.store.conversations.getCase(conversation.caseId))?.survey).toEqual({ skipped: 'unreachable', channel: 'messenger' });
    await settle();
    expect(graph.sentMessages()).toEqual([]);
  });

  it('more than 7 days after the customer\'s last message: no survey at all', async () => {
    const { psid, caseId } = await resolvedCase(7 * DAY);
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 1 });
    expect((await app.store.conversations.getCase(caseId))?.survey).toEqual({ skipped: 'window_closed', channel: 'messenger' });
    await settle();
    expect(surveyCalls(psid)).toEqual([]);
  });
});

describe('the fake Graph API refuses what Graph refuses', () => {
  const post = async (body: unknown) => {
    const proof = createHmac('sha256', APP_SECRET).update(PAGE_TOKEN).digest('hex');
    const res = await fetch(`${graph.origin}/v23.0/me/messages?access_token=${PAGE_TOKEN}&appsecret_proof=${proof}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: number; message: string } } };
  };
  const template = (over: Record<string, unknown> = {}) => ({
    attachment: {
      type: 'template',
      payload: {
        template_type: 'customer_feedback',
        title: 'Rate us',
        feedback_screens: [{ questions: [{ id: 'csat', type: 'csat', title: 'Rate us' }] }],
        business_privacy: { url: PRIVACY },
        expires_in_days: 3,
        ...over,
      },
    },
  });

  it('the feedback template with CUSTOMER_FEEDBACK within 7 days only; never the tag on a plain message; never without a privacy URL', async () => {
    const psid = '6100000000777001';
    graph.userWrote(psid, clock.now());
    clock.advance(3 * DAY);
    const tagged = { messaging_type: 'MESSAGE_TAG', tag: 'CUSTOMER_FEEDBACK', recipient: { id: psid } };
    expect((await post({ ...tagged, message: template() })).status).toBe(200);
    expect(await post({ ...tagged, message: { text: 'how did we do?' } })).toMatchObject({ status: 400, body: { error: { code: 100 } } });
    expect(await post({ ...tagged, message: template({ business_privacy: undefined }) })).toMatchObject({ status: 400, body: { error: { code: 100 } } });
    expect(await post({ messaging_type: 'RESPONSE', recipient: { id: psid }, message: template() })).toMatchObject({ status: 400, body: { error: { code: 10 } } });
    clock.advance(4 * DAY + 60_000);
    expect(await post({ ...tagged, message: template() })).toMatchObject({ status: 400, body: { error: { code: 10 } } });
  });
});
