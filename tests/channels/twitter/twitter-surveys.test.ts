/**
 * Satisfaction surveys on X, end to end against the fake X API with a fake clock: by DM when the
 * brand can DM the customer (v2 DMs have no quick replies: the text asks for a number, the
 * customer answers with one), and none when it cannot (never in public).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../../src/app.js';
import type { FakeClock } from '../../../src/core/ports.js';
import type { Operator } from '../../../src/core/types.js';
import type { FakeUser, FakeXApi } from '../../fakes/x-api/fake-x-api.js';
import { closeProjectKnowledge, projectKnowledge } from '../../helpers/app.js';
import { newXCustomer, resetFakeX, startFakeX, startXApp, type XApp } from './helpers.js';

/** A Tuesday morning in Rome: the care team is at work. */
const START = '2026-11-24T09:00:00.000Z';

let clock: FakeClock;
let x: FakeXApi;
let running: XApp;
let app: Sportello;

beforeAll(async () => {
  ({ clock, x } = await startFakeX(START));
});
afterAll(async () => {
  // Trained once for the whole file (training is the slow part of starting Sportello).
  await closeProjectKnowledge();
  await x.close();
});

beforeEach(async () => {
  clock.set(START);
  resetFakeX(x);
  running = await startXApp({
    x,
    clock,
    prefix: 'sportello-x-',
    env: { X_POLL_SECONDS: '0', SURVEYS: 'true', SURVEY_DELAY: '1h', BOT_CLOSE_HOURS: '0' },
    knowledge: await projectKnowledge(),
  });
  app = running.app;
});
afterEach(async () => {
  await running.close();
});

const settle = () => running.settle();
const newCustomer = (extra: Partial<FakeUser> = {}) => newXCustomer(x, extra);
const mentions = (user: FakeUser, text: string) => running.mentions(user, text);
const sendsDm = (user: FakeUser, text: string) => running.sendsDm(user, text);

const dmsTo = (user: FakeUser) => x.brandDms().filter((e) => e.participant_ids.includes(user.id));

const HOUR = 3_600_000;
const operator: Operator = { id: 'op_mr', name: 'Maria Rossi', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: START };

/** The customer's conversation goes to a person, who resolves it; returns its case. */
async function resolvedByPerson(key: string): Promise<string> {
  const conversation = (await app.store.conversations.findByKey(key))!;
  expect(conversation.state).toBe('queued');
  await app.store.directory.addOperator(operator).catch(() => undefined);
  await app.desk.claim(conversation.id, operator);
  await app.desk.resolve(conversation.id, operator);
  return conversation.caseId;
}

describe('X satisfaction surveys', () => {
  it('go by DM to a customer the brand can DM, asking for a number; the number answers it', async () => {
    const user = newCustomer({ followsBrand: true });
    await sendsDm(user, 'vorrei parlare con un operatore per favore');
    const caseId = await resolvedByPerson(`twitter:private:${user.id}`);
    const before = dmsTo(user).length;
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await settle();
    const dms = dmsTo(user).slice(before);
    expect(dms.map((d) => d.text)).toEqual([
      'Quanto ti ha soddisfatto l’aiuto di Bottega Rossi?\nRispondi con un numero da 1 (per niente) a 5 (moltissimo), e se vuoi aggiungi un commento. Scrivi "stop" per non ricevere più queste domande.',
    ]);
    clock.advance(10 * 60_000);
    await sendsDm(user, '5 grazie mille');
    expect((await app.store.conversations.getCase(caseId))?.survey).toMatchObject({ score: 5, comment: 'grazie mille' });
    expect(dmsTo(user).at(-1)!.text).toBe('Grazie per la tua risposta! Ci aiuta a migliorare.');
  });

  it('open a DM for a case held in public when the brand can DM the customer; the DM answer finds the case', async () => {
    const user = newCustomer({ followsBrand: true });
    const post = await mentions(user, 'vorrei parlare con un operatore per favore');
    const caseId = await resolvedByPerson(`twitter:public:${post.conversation_id}`);
    expect(await app.store.conversations.findByKey(`twitter:private:${user.id}`)).toBeUndefined();
    const posts = x.brandReplies().length;
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await settle();
    expect(dmsTo(user).map((d) => d.text)).toEqual([expect.stringMatching(/^Quanto ti ha soddisfatto/)]);
    expect(x.brandReplies()).toHaveLength(posts);
    const dm = (await app.store.conversations.findByKey(`twitter:private:${user.id}`))!;
    expect(dm).toMatchObject({ caseId, state: 'resolved', visibility: 'private' });
    expect((await app.store.conversations.getCase(caseId))?.conversationIds).toContain(dm.id);
    await sendsDm(user, '3');
    expect((await app.store.conversations.getCase(caseId))?.survey).toMatchObject({ score: 3 });
  });

  it('are not sent to a customer the brand cannot DM, and never in public', async () => {
    const user = newCustomer();
    const post = await mentions(user, 'vorrei parlare con un operatore per favore');
    const caseId = await resolvedByPerson(`twitter:public:${post.conversation_id}`);
    const posts = x.brandReplies().length;
    clock.advance(HOUR);
    expect(await app.followUps.runOnce()).toMatchObject({ surveysSent: 0, surveysSkipped: 1 });
    await settle();
    expect((await app.store.conversations.getCase(caseId))?.survey).toEqual({ skipped: 'unreachable', channel: 'twitter' });
    expect(dmsTo(user)).toEqual([]);
    expect(x.brandReplies()).toHaveLength(posts);
  });
});
