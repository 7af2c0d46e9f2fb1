/**
 * Cases the bot closes and satisfaction surveys (issue 20), on a real instance (project FAQ,
 * classifier, pipeline, desk, embedded store) with a fake clock and a recording channel that has
 * surveys. The jobs run when the test says (`followUps.runOnce()`), at known times.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { eventBodyV1Schema } from '../../src/events/index.js';
import { newSecret, startWebhookReceiver } from '../fakes/webhook-receiver/webhook-receiver.js';
import { login, PASSWORDS, startApiApp } from '../server/operator-api-helpers.js';
import type { ChannelAdapter } from '../../src/core/ports.js';
import type { Operator, OutboxItem } from '../../src/core/types.js';
import type { RecordingChannel } from '../../src/channels/console/index.js';
import { privateChatCapabilities, startTestApp, type TestApp } from '../helpers/app.js';

const HOUR = 3_600_000;
const operator: Operator = { id: 'op-marta', name: 'Marta', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-11-01T00:00:00.000Z' };
/** The recording channel with surveys (as Messenger, the web chat, Bot Framework and X have them). */
const withSurveys = (channel: RecordingChannel): ChannelAdapter => Object.assign(channel, { capabilities: { ...privateChatCapabilities, surveys: {} } });

let t: TestApp;
let n = 0;

async function start(env: Record<string, string> = {}, at = '2026-11-24T10:00:00+01:00'): Promise<void> {
  t = await startTestApp({ SURVEYS: 'true', SURVEY_DELAY: '2h', BOT_CLOSE_HOURS: '24', SURVEY_LOW_SCORE: '2', ...env }, at, withSurveys);
  await t.app.store.directory.addOperator(operator);
}
afterEach(async () => {
  await t.close();
});

/** Customer `who` writes `text` now; the replies are sent. */
async function writes(who: string, text: string, extra: { payload?: string } = {}) {
  n += 1;
  const outcome = await t.app.pipeline.receive(t.message(text, { id: `fu-${n}`, customer: { platformId: who }, ...extra }));
  await t.app.sender.drain();
  return outcome;
}

/** A case a person resolves now: the customer asks for a person, Marta answers and resolves. */
async function resolvedByPerson(who: string, language: 'it' | 'en' = 'it'): Promise<string> {
  const asked = await writes(who, language === 'it' ? 'vorrei parlare con un operatore per favore' : 'I want to talk to a human please');
  expect(asked.action).toBe('escalate');
  const id = asked.conversation!.id;
  await t.app.desk.claim(id, operator);
  await t.app.desk.reply(id, operator, language === 'it' ? 'Ciao, sono Marta: fatto!' : 'Hi, Marta here: done!');
  await t.app.sender.drain();
  await t.app.desk.resolve(id, operator);
  return asked.conversation!.caseId;
}

const surveysTo = (who: string): OutboxItem[] => t.channel.sent.filter((i) => i.recipient === who && i.reply.kind === 'survey');
const later = (ms: number) => t.clock.advance(ms);

describe('cases the bot closes', () => {
  beforeEach(() => start());

  it('closes a case the bot answered once the customer is quiet for the whole time, as resolved by the bot; a new message opens a new case', async () => {
    const answered = await writes('cust-a', 'si può pagare con satispay?');
    expect(answered.action).toBe('answer');
    const caseId = answered.conversation!.caseId;
    later(24 * HOUR - 60_000);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 0, closedIdle: 0 });
    expect((await t.app.store.conversations.getCase(caseId))?.status).toBe('open');
    later(60_000);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 1, closedIdle: 0 });
    expect(await t.app.store.conversations.getCase(caseId)).toMatchObject({ status: 'resolved', resolvedBy: 'bot', resolvedAt: t.clock.now().toISOString() });
    expect((await t.app.store.conversations.get(answered.conversation!.id))?.state).toBe('resolved');
    // Nothing left to do: a second run (another instance) finds it closed.
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 0, closedIdle: 0 });
    // No survey for a case the bot closed (SURVEY_AFTER_BOT is off): it is marked, not asked.
    later(2 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 1 });
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toEqual({ skipped: 'no_survey', channel: 'chat' });
    const again = await writes('cust-a', 'come faccio un reso?');
    expect(again.action).toBe('answer');
    expect(again.conversation!.caseId).not.toBe(caseId);
  });

  it('closes a conversation the bot did not answer as idle (not deflection), and leaves the queued and the held alone', async () => {
    const missed = await writes('cust-b', 'la lavatrice del vicino fa un rumore strano');
    expect(missed.action).toBe('clarify');
    const queued = await writes('cust-c', 'vorrei parlare con un operatore per favore');
    expect(queued.action).toBe('escalate');
    later(48 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 0, closedIdle: 1 });
    expect(await t.app.store.conversations.getCase(missed.conversation!.caseId)).toMatchObject({ status: 'resolved', resolvedBy: 'idle' });
    expect(await t.app.store.conversations.getCase(queued.conversation!.caseId)).toMatchObject({ status: 'open' });
    expect((await t.app.store.conversations.get(queued.conversation!.id))?.state).toBe('queued');
  });

  it('keeps a case whose public thread waits for the customer to come to DM (the DM continues it however late)', async () => {
    n += 1;
    const prompt = await t.app.pipeline.receive(
      t.message("my parcel still hasn't arrived, where is my order?", { id: `fu-${n}`, customer: { platformId: 'cust-dm' }, visibility: 'public', threadId: 'thread-dm' }),
    );
    await t.app.sender.drain();
    expect(prompt.action).toBe('dm_prompt');
    later(3 * 24 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 0, closedIdle: 0 });
    expect((await t.app.store.conversations.getCase(prompt.conversation!.caseId))?.status).toBe('open');
    const dm = await writes('cust-dm', "hi, it's order BR-1200331");
    expect(dm).toMatchObject({ action: 'escalate', reason: 'private_case' });
    expect(dm.conversation!.caseId).toBe(prompt.conversation!.caseId);
  });

  it('keeps a case whose customer wrote again within the quiet time', async () => {
    const first = await writes('cust-d', 'si può pagare con satispay?');
    later(20 * HOUR);
    await writes('cust-d', 'come faccio un reso?');
    later(5 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 0 });
    later(19 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 1 });
    expect((await t.app.store.conversations.getCase(first.conversation!.caseId))?.resolvedBy).toBe('bot');
  });
});

describe('satisfaction surveys', () => {
  it('go once, after the delay, in the customer\'s language, with the scores as options; the answer is recorded on the case, not taken as a question', async () => {
    await start();
    const caseId = await resolvedByPerson('cust-e', 'en');
    later(2 * HOUR - 60_000);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0 });
    later(60_000);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await t.app.sender.drain();
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 0 });
    const [survey, ...more] = surveysTo('cust-e');
    expect(more).toEqual([]);
    expect(survey!.reply).toMatchObject({ kind: 'survey', language: 'en', caseId, options: [1, 2, 3, 4, 5].map((s) => ({ title: String(s), payload: `csat:${s}` })) });
    expect(survey!.reply.text).toMatch(/How satisfied.*Reply with a number from 1/s);
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toEqual({ sentAt: t.clock.now().toISOString(), channel: 'chat' });

    later(10 * 60_000);
    const answer = await writes('cust-e', '5', { payload: 'csat:5' });
    expect(answer.action).toBe('survey_answer');
    expect(answer.replies.map((r) => r.reply.text)).toEqual(['Thank you for your answer! It helps us improve.']);
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toEqual({ sentAt: expect.any(String), channel: 'chat', answeredAt: t.clock.now().toISOString(), score: 5 });
    // The answer opened no case: the customer has the one, resolved.
    expect((await t.app.store.conversations.listCases('chat:cust-e')).map((c) => c.status)).toEqual(['resolved']);
    expect((await t.app.store.conversations.get(answer.conversation!.id))?.state).toBe('resolved');
    // A second "5" is a new message (the survey is answered): the bot handles it as usual.
    const after = await writes('cust-e', '5');
    expect(after.action).not.toBe('survey_answer');
    later(3 * HOUR);
    expect(surveysTo('cust-e')).toHaveLength(1);
  });

  it('are not sent after "stop", which the customer says once for all their cases', async () => {
    await start();
    await resolvedByPerson('cust-f');
    later(2 * HOUR);
    await t.app.followUps.runOnce();
    await t.app.sender.drain();
    expect(surveysTo('cust-f')).toHaveLength(1);
    const stop = await writes('cust-f', 'STOP');
    expect(stop.action).toBe('survey_stop');
    expect(stop.replies[0]!.reply.text).toBe('Va bene, non ti invieremo più domande sulla soddisfazione.');
    expect((await t.app.store.directory.getCustomer('chat:cust-f'))?.surveyOptOutAt).toBe(t.clock.now().toISOString());
    const second = await resolvedByPerson('cust-f');
    later(2 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 1 });
    expect((await t.app.store.conversations.getCase(second))?.survey).toEqual({ skipped: 'opted_out', channel: 'chat' });
    expect(surveysTo('cust-f')).toHaveLength(1);
  });

  it('are not sent after the customer asks, in their own words and outside a survey, not to be written to', async () => {
    await start();
    const first = await resolvedByPerson('cust-o');
    const stop = await writes('cust-o', 'per favore non scrivetemi più');
    expect(stop.action).toBe('thank');
    expect(stop.conversation?.state).toBe('resolved');
    expect(stop.replies[0]!.reply.text).toBe('Va bene: non ti scriveremo più per primi, e niente più domande sulla soddisfazione. Se ti serve aiuto, scrivici quando vuoi.');
    expect((await t.app.store.directory.getCustomer('chat:cust-o'))?.surveyOptOutAt).toBe(t.clock.now().toISOString());
    later(2 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0 });
    expect((await t.app.store.conversations.getCase(first))?.survey).toEqual({ skipped: 'opted_out', channel: 'chat' });
    expect(surveysTo('cust-o')).toHaveLength(0);
    // In English, on its own: the same.
    const en = await writes('cust-p', 'stop messaging me');
    expect(en.replies[0]!.reply.text).toMatch(/^All right: we won’t write to you first any more/);
    expect((await t.app.store.directory.getCustomer('chat:cust-p'))?.surveyOptOutAt).toBe(t.clock.now().toISOString());
  });

  it('a low score opens a follow-up in the queue with the case attached', async () => {
    await start();
    const caseId = await resolvedByPerson('cust-g');
    later(2 * HOUR);
    await t.app.followUps.runOnce();
    await t.app.sender.drain();
    const answer = await writes('cust-g', '1 - lentissimi e non hanno risolto');
    expect(answer.action).toBe('survey_answer');
    expect(answer.replies[0]!.reply.text).toMatch(/Un collega riprenderà il tuo caso/);
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toMatchObject({ score: 1, comment: 'lentissimi e non hanno risolto' });
    const conversation = answer.conversation!;
    expect(conversation.state).toBe('queued');
    expect(conversation.queue?.reason).toBe('low_satisfaction');
    expect(conversation.followUpOf).toBeUndefined();
    const followUp = await t.app.store.conversations.getCase(conversation.caseId);
    expect(followUp).toMatchObject({ status: 'open', followUpOf: caseId, conversationIds: [conversation.id] });
    const notes = (await t.app.store.conversations.listMessages({ caseId: followUp!.id })).filter((m) => m.direction === 'note');
    expect(notes.map((m) => m.text)).toEqual([`Soddisfazione 1/5 per il caso ${caseId} (“lentissimi e non hanno risolto”): da ricontattare.`]);
    expect((await t.app.store.conversations.list({ states: ['queued'] })).map((c) => c.id)).toContain(conversation.id);
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toMatchObject({ followUpCaseId: followUp!.id });
    expect((await t.app.store.conversations.getCase(caseId))?.survey?.followUpDue).toBeUndefined();
    // A score above the threshold opens nothing.
    const other = await resolvedByPerson('cust-h');
    later(2 * HOUR);
    await t.app.followUps.runOnce();
    await t.app.sender.drain();
    const fine = await writes('cust-h', '3');
    expect(fine.conversation!.state).toBe('resolved');
    expect(fine.conversation!.caseId).toBe(other);
  });

  it('a low score\'s follow-up left unopened by a process that stopped is opened by the survey job', async () => {
    await start();
    const caseId = await resolvedByPerson('cust-o');
    later(2 * HOUR);
    await t.app.followUps.runOnce();
    await t.app.sender.drain();
    // The process "stops" right after the answer's commit: the follow-up's commit never happens.
    const commit = t.app.store.conversations.commit.bind(t.app.store.conversations);
    let stopped = false;
    t.app.store.conversations.commit = async (turn, options) => {
      if (!stopped && turn.case?.followUpOf === caseId) {
        stopped = true;
        throw new Error('the process stopped here');
      }
      return commit(turn, options);
    };
    await expect(writes('cust-o', '2')).rejects.toThrow();
    expect(stopped).toBe(true);
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toMatchObject({ score: 2, followUpDue: expect.any(String) });
    expect((await t.app.store.conversations.findOpenCase('chat:cust-o'))).toBeUndefined();
    later(60_000);
    expect(await t.app.followUps.runOnce()).toMatchObject({ followUpsOpened: 1, surveysSent: 0 });
    const open = await t.app.store.conversations.findOpenCase('chat:cust-o');
    expect(open).toMatchObject({ followUpOf: caseId });
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toMatchObject({ followUpCaseId: open!.id });
    expect((await t.app.store.conversations.getCase(caseId))?.survey?.followUpDue).toBeUndefined();
    expect(await t.app.followUps.runOnce()).toMatchObject({ followUpsOpened: 0 });
  });

  it('never go while the customer has a new case open: the survey waits until it is closed', async () => {
    await start();
    const first = await resolvedByPerson('cust-i');
    later(HOUR);
    const asked = await writes('cust-i', 'come faccio un reso?');
    expect(asked.conversation!.caseId).not.toBe(first);
    later(HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 0 });
    expect((await t.app.store.conversations.getCase(first))?.survey).toBeUndefined();
    // The new case is closed by the bot a day later; then the first case's survey goes (and only it).
    later(23 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 1, surveysSent: 1 });
    await t.app.sender.drain();
    expect(surveysTo('cust-i').map((i) => i.reply.kind === 'survey' && i.reply.caseId)).toEqual([first]);
  });

  it('are not sent where the brand cannot write privately to the customer', async () => {
    await start();
    const caseId = await resolvedByPerson('cust-j');
    t.channel.setReach('cust-j', 'needs_follow');
    later(2 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 1 });
    expect((await t.app.store.conversations.getCase(caseId))?.survey).toEqual({ skipped: 'unreachable', channel: 'chat' });
    expect(surveysTo('cust-j')).toEqual([]);
  });

  it('count the delay in business hours when told to (Friday evening → Saturday morning)', async () => {
    // Friday 27 November 2026, 17:30 in Rome; open mon-fri 09–18, sat 09–13.
    await start({ SURVEY_BUSINESS_TIME: 'true', TIMEZONE: 'Europe/Rome', BUSINESS_HOURS: 'mon-fri=09:00-18:00,sat=09:00-13:00' }, '2026-11-27T17:30:00+01:00');
    const caseId = await resolvedByPerson('cust-k');
    t.clock.set('2026-11-27T21:00:00+01:00');
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0 });
    // 30 minutes on Friday, 90 on Saturday: due at 10:30.
    t.clock.set('2026-11-28T10:29:00+01:00');
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0 });
    t.clock.set('2026-11-28T10:30:00+01:00');
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    expect((await t.app.store.conversations.getCase(caseId))?.survey?.sentAt).toBe(new Date('2026-11-28T10:30:00+01:00').toISOString());
  });

  it('follow cases the bot closed too when configured, and are off by default', async () => {
    await start({ SURVEY_AFTER_BOT: 'true' });
    const answered = await writes('cust-l', 'si può pagare con satispay?');
    later(24 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ closedByBot: 1, surveysSent: 0 });
    later(2 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    expect((await t.app.store.conversations.getCase(answered.conversation!.caseId))?.survey?.sentAt).toBeDefined();
    await t.close();
    await start({ SURVEYS: 'false' });
    await resolvedByPerson('cust-m');
    later(3 * HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 0 });
  });
});

describe('what answers tell the outside', () => {
  it('a csat.received event (private data in the comment masked) and sportello_surveys_total sent/answered per channel', async () => {
    const secret = newSecret();
    const crm = await startWebhookReceiver(secret);
    const dir = mkdtempSync(join(tmpdir(), 'sportello-csat-'));
    const file = join(dir, 'webhooks.yaml');
    writeFileSync(file, `subscriptions:\n  - name: crm\n    url: ${crm.url}\n    events: [csat.received]\n    secret_env: CRM_WEBHOOK_SECRET\n`);
    try {
      await start({ WEBHOOKS_FILE: file, CRM_WEBHOOK_SECRET: secret });
      const url = await t.app.listen(0, '127.0.0.1');
      const metric = async (event: string) =>
        Number(new RegExp(`^sportello_surveys_total\\{channel="chat",event="${event}"\\} (\\d+)$`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
      expect([await metric('sent'), await metric('answered')]).toEqual([0, 0]);
      const caseId = await resolvedByPerson('cust-n');
      later(2 * HOUR);
      await t.app.followUps.runOnce();
      await t.app.sender.drain();
      expect([await metric('sent'), await metric('answered')]).toEqual([1, 0]);
      await writes('cust-n', '4 ottimo, scrivetemi pure a mario.rossi@example.com');
      expect([await metric('sent'), await metric('answered')]).toEqual([1, 1]);
      await crm.waitFor(1);
      await t.app.webhooks.drain();
      const [got, ...more] = crm.accepted();
      expect(more).toEqual([]);
      expect(got!.verified).toBe(true);
      expect(eventBodyV1Schema.safeParse(got!.payload).error).toBeUndefined();
      expect(got!.payload).toMatchObject({
        type: 'csat.received',
        data: { caseId, channel: 'chat', score: 4, comment: 'ottimo, scrivetemi pure a {email}', conversation: { customerId: 'chat:cust-n' } },
      });
    } finally {
      await crm.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operators see the follow-up', () => {
  it('in the queue with its reason, and the surveyed case attached with its score and comment', async () => {
    const a = await startApiApp({ SURVEYS: 'true', SURVEY_DELAY: '2h', BOT_CLOSE_HOURS: '0' });
    Object.assign(a.channel, { capabilities: { ...privateChatCapabilities, surveys: {} } });
    try {
      const marta = await login(a.base, 'Marta', PASSWORDS.marta);
      const asked = await a.app.pipeline.receive(a.message('vorrei parlare con un operatore per favore', { customer: { platformId: 'cust-r' } }));
      const surveyed = asked.conversation!.caseId;
      expect((await marta.post(`/conversations/${asked.conversation!.id}/claim`, {})).status).toBe(200);
      expect((await marta.post(`/conversations/${asked.conversation!.id}/resolve`, {})).status).toBe(200);
      a.clock.advance(2 * HOUR);
      expect(await a.app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
      await a.app.sender.drain();
      const answer = await a.app.pipeline.receive(a.message('1, nessuno mi ha aiutato', { customer: { platformId: 'cust-r' } }));
      const id = answer.conversation!.id;
      const queue = (await marta.get('/queue')).body.rows as Array<{ conversationId: string; reason?: string }>;
      expect(queue.find((c) => c.conversationId === id)).toMatchObject({ reason: 'low_satisfaction' });
      const detail = await marta.get(`/conversations/${id}`);
      expect(detail.body.case).toMatchObject({ status: 'open', followUpOf: surveyed });
      expect(detail.body.earlierCases).toEqual([expect.objectContaining({ id: surveyed, score: 1, comment: 'nessuno mi ha aiutato', followedUp: true })]);
    } finally {
      await a.close();
    }
  });
});
