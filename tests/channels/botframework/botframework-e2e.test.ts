/**
 * End to end: a real Sportello (createSportello) with the Bot Framework channel in local-only
 * mode, receiving activities over HTTP on /api/messages and answering through the fake Connector.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../../src/app.js';
import { createFakeClock } from '../../../src/core/ports.js';
import type { Operator } from '../../../src/core/types.js';
import { createFakeBotConnector, userMessage, type FakeBotConnector } from '../../fakes/bot-connector/fake-bot-connector.js';
import { startChannelApp, type ChannelApp } from '../../helpers/channel-app.js';
import { BOTFRAMEWORK_ENV, postUserMessage } from './helpers.js';

const START = '2026-11-24T09:00:00.000Z';
const operator: Operator = { id: 'op_lb', name: 'Luca Bianchi', initials: 'LB', role: 'agent', passwordHash: 'scrypt$unused', createdAt: START };

let connector: FakeBotConnector;
let running: ChannelApp;
let app: Sportello;
let endpoint: string;

// One instance for the file; every test uses its own conversation and user.
beforeAll(async () => {
  connector = await createFakeBotConnector();
  running = await startChannelApp({ env: BOTFRAMEWORK_ENV, clock: createFakeClock(START), prefix: 'sportello-bf-', operators: [operator] });
  app = running.app;
  endpoint = `${running.base}/api/messages`;
});
afterAll(async () => {
  await running.close();
  await connector.close();
});
beforeEach(() => {
  connector.calls.length = 0;
});

const settle = () => running.settle();

async function say(text: string, conversationId: string, userId: string): Promise<number> {
  const status = await postUserMessage(endpoint, { serviceUrl: connector.serviceUrl, text, conversationId, userId });
  await settle();
  return status;
}

/** Waits for notifications, which run on the event bus after the turn. */
async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Bot Framework through /api/messages', () => {
  it('answers a FAQ question through the Connector', async () => {
    expect(await say('Quali sono i vostri orari?', 'conv-faq', 'user-faq')).toBe(200);
    const messages = connector.calls.filter((c) => c.conversationId === 'conv-faq' && c.activity.type === 'message');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.activity.text).toMatch(/lunedì al venerdì dalle 9 alle 18/);
  });

  it('emits handoff.initiate on escalation and delivers the operator reply proactively', async () => {
    await say('vorrei parlare con un operatore per favore', 'conv-human', 'user-human');
    await eventually(() => connector.calls.some((c) => c.activity.name === 'handoff.initiate'));
    const initiate = connector.calls.find((c) => c.activity.name === 'handoff.initiate')!;
    expect(initiate).toMatchObject({ conversationId: 'conv-human', activity: { type: 'event', value: { reason: 'human_request' } } });

    const conversation = await app.store.conversations.findByKey('botframework:private:user-human');
    expect(conversation?.state).toBe('queued');
    await app.desk.claim(conversation!.id, operator);
    await app.desk.reply(conversation!.id, operator, 'Ciao, sono Luca del servizio clienti: come posso aiutarti?');
    await settle();
    await eventually(() => connector.calls.some((c) => c.activity.name === 'handoff.status'));
    const reply = connector.calls.filter((c) => c.activity.type === 'message').at(-1)!;
    expect(reply.conversationId).toBe('conv-human');
    expect(reply.activity.text).toMatch(/sono Luca del servizio clienti/);
    expect(connector.calls.find((c) => c.activity.name === 'handoff.status')?.activity.value).toMatchObject({ state: 'accepted' });
  });

  it('refuses an activity whose serviceUrl is not on this machine', async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(userMessage({ serviceUrl: 'https://attacker.example/', text: 'ciao', conversationId: 'conv-x', userId: 'user-x' })),
    });
    await settle();
    expect(res.status).toBe(403);
    expect(await app.store.conversations.findByKey('botframework:private:user-x')).toBeUndefined();
  });
});
