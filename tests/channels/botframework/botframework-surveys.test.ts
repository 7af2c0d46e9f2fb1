/**
 * Satisfaction surveys through Bot Framework, against the fake Bot Connector with a fake clock:
 * the survey is sent proactively (no messaging window) with the scores as suggested actions
 * (`messageBack`, payload in `value`); a pick answers it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../../src/app.js';
import { createFakeClock, type FakeClock } from '../../../src/core/ports.js';
import type { Operator } from '../../../src/core/types.js';
import { createFakeBotConnector, type FakeBotConnector } from '../../fakes/bot-connector/fake-bot-connector.js';
import { projectKnowledge } from '../../helpers/app.js';
import { startChannelApp, type ChannelApp } from '../../helpers/channel-app.js';
import { BOTFRAMEWORK_ENV, postUserMessage } from './helpers.js';

const START = '2026-11-24T09:00:00.000Z';
const operator: Operator = { id: 'op_lb', name: 'Luca Bianchi', initials: 'LB', role: 'agent', passwordHash: 'scrypt$unused', createdAt: START };

let connector: FakeBotConnector;
let running: ChannelApp;
let app: Sportello;
let clock: FakeClock;
let endpoint: string;

beforeAll(async () => {
  connector = await createFakeBotConnector();
  clock = createFakeClock(START);
  running = await startChannelApp({
    env: { ...BOTFRAMEWORK_ENV, SURVEYS: 'true', SURVEY_DELAY: '3d', BOT_CLOSE_HOURS: '0' },
    clock,
    prefix: 'sportello-bf-surveys-',
    knowledge: await projectKnowledge(),
    operators: [operator],
  });
  app = running.app;
  endpoint = `${running.base}/api/messages`;
});
afterAll(async () => {
  await running.close();
  await connector.close();
});

const settle = () => running.settle();

async function say(text: string, value?: unknown): Promise<void> {
  const status = await postUserMessage(endpoint, { serviceUrl: connector.serviceUrl, text, conversationId: 'conv-survey', userId: 'user-survey', ...(value ? { value } : {}) });
  expect(status).toBe(200);
  await settle();
}

describe('Bot Framework satisfaction surveys', () => {
  it('go proactively days later with the scores as suggested actions; a pick answers them', async () => {
    await say('vorrei parlare con un operatore per favore');
    const conversation = (await app.store.conversations.findByKey('botframework:private:user-survey'))!;
    await app.desk.claim(conversation.id, operator);
    await app.desk.resolve(conversation.id, operator);
    await settle();
    clock.advance(3 * 24 * 3_600_000);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await settle();
    const survey = connector.calls.filter((c) => c.conversationId === 'conv-survey' && c.activity.type === 'message').at(-1)!;
    expect(survey.activity.text).toMatch(/^Quanto ti ha soddisfatto/);
    const actions = (survey.activity.suggestedActions as { actions: Array<{ type: string; title: string; value: unknown }> }).actions;
    expect(actions.map((a) => [a.type, a.title])).toEqual([1, 2, 3, 4, 5].map((n) => ['messageBack', String(n)]));
    expect(JSON.stringify(actions[2]!.value)).toContain('csat:3');

    await say('3', actions[2]!.value);
    expect((await app.store.conversations.getCase(conversation.caseId))?.survey).toMatchObject({ score: 3 });
  });
});
