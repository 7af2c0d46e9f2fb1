/**
 * The follow-up jobs on two instances sharing one PostgreSQL database, running at the same time:
 * each case is closed once and each survey sent once (the conversation writer's revision checks:
 * the first commit wins, the other instance plans again on it and finds nothing to do).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChannelAdapter } from '../../src/core/ports.js';
import type { Operator } from '../../src/core/types.js';
import type { RecordingChannel } from '../../src/channels/console/index.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../e2e/harness.js';
import { privateChatCapabilities, startTestApp, type TestApp } from '../helpers/app.js';

const HOUR = 3_600_000;
const operator: Operator = { id: 'op-marta', name: 'Marta', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-11-01T00:00:00.000Z' };
const withSurveys = (channel: RecordingChannel): ChannelAdapter => Object.assign(channel, { capabilities: { ...privateChatCapabilities, surveys: {} } });
const ENV = { SURVEYS: 'true', SURVEY_DELAY: '2h', BOT_CLOSE_HOURS: '24' };

const run = (await postgresAvailable()) ? describe : describe.skip;

run('follow-ups on two instances of one PostgreSQL database', () => {
  let db: TestDatabase;
  let one: TestApp;
  let two: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('sportello_followups');
    one = await startTestApp({ DATABASE_URL: db.url, ...ENV }, undefined, withSurveys);
    two = await startTestApp({ DATABASE_URL: db.url, ...ENV }, undefined, withSurveys);
    await one.app.store.directory.addOperator(operator);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  const both = (ms: number) => {
    one.clock.advance(ms);
    two.clock.advance(ms);
  };

  it('close each quiet case once and send each survey once, however the runs interleave', async () => {
    const answered = await one.app.pipeline.receive(one.message('si può pagare con satispay?', { customer: { platformId: 'cust-p' } }));
    expect(answered.action).toBe('answer');
    const asked = await one.app.pipeline.receive(one.message('vorrei parlare con un operatore per favore', { customer: { platformId: 'cust-q' } }));
    expect(asked.action).toBe('escalate');
    await one.app.desk.claim(asked.conversation!.id, operator);
    await one.app.desk.resolve(asked.conversation!.id, operator);
    await one.app.sender.drain();

    both(24 * HOUR);
    const runs = await Promise.all([one.app.followUps.runOnce(), two.app.followUps.runOnce(), one.app.followUps.runOnce(), two.app.followUps.runOnce()]);
    expect(runs.reduce((n, r) => n + r.closedByBot, 0)).toBe(1);
    expect(runs.reduce((n, r) => n + r.surveysSent, 0)).toBe(1);
    // The survey goes out and is recorded as sent before the clock jumps two hours: a send whose
    // record is still on its way when its 30 s lease has long expired may be sent again (in doubt).
    await Promise.all([one.app.sender.drain(), two.app.sender.drain()]);
    // The bot-closed case is marked (no survey after the bot by default) once it is due: in a later run.
    both(2 * HOUR);
    const later = await Promise.all([one.app.followUps.runOnce(), two.app.followUps.runOnce()]);
    expect(later.reduce((n, r) => n + r.surveysSent, 0)).toBe(0);
    expect(later.reduce((n, r) => n + r.surveysSkipped, 0)).toBe(1);
    await Promise.all([one.app.sender.drain(), two.app.sender.drain()]);

    const surveys = [...one.channel.sent, ...two.channel.sent].filter((i) => i.reply.kind === 'survey');
    expect(surveys.map((i) => i.recipient)).toEqual(['cust-q']);
    expect(await one.app.store.conversations.getCase(answered.conversation!.caseId)).toMatchObject({ status: 'resolved', resolvedBy: 'bot', survey: { skipped: 'no_survey' } });

    // The answer reaches the other instance: recorded on the case there too (one store).
    const answer = await two.app.pipeline.receive(two.message('5', { customer: { platformId: 'cust-q' } }));
    expect(answer.action).toBe('survey_answer');
    expect((await one.app.store.conversations.getCase(asked.conversation!.caseId))?.survey).toMatchObject({ score: 5 });
  });
});
