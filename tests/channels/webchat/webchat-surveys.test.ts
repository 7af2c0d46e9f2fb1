/**
 * Satisfaction surveys in the web chat: the survey is the scores as quick replies under its
 * question, shown at once on an open page and with the conversation at the visitor's next visit;
 * a pick answers it.
 */
import type { Operator } from '../../../src/core/types.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { newSession, openEvents, parseEvents, postMessage } from './helpers.js';

const HOUR = 3_600_000;
const operator: Operator = { id: 'op-marta', name: 'Marta', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-11-01T00:00:00.000Z' };

describe('web chat satisfaction surveys', () => {
  let t: TestApp;
  let base: string;
  beforeEach(async () => {
    t = await startTestApp({ SURVEYS: 'true', SURVEY_DELAY: '1h', BOT_CLOSE_HOURS: '0' });
    base = await t.app.listen(0, '127.0.0.1');
    await t.app.store.directory.addOperator(operator);
  });
  afterEach(async () => {
    await t.close();
  });

  it('shows the survey at once on an open page and again at the next visit; a quick reply answers it', async () => {
    const { session, visitor } = await newSession(base);
    expect((await postMessage(base, { session, id: 'c1', text: 'vorrei parlare con un operatore per favore' })).status).toBe(202);
    await t.app.pipeline.idle();
    const conversation = (await t.app.store.conversations.findByKey(`webchat:private:${visitor}`))!;
    expect(conversation.state).toBe('queued');
    await t.app.desk.claim(conversation.id, operator);
    await t.app.desk.resolve(conversation.id, operator);
    await t.app.sender.drain();

    // The visitor still has the page open: the survey shows at once.
    const page = await openEvents(`${base}/chat/api/events?session=${session}`);
    await page.until(/: keep-alive|event:/, 300);
    t.clock.advance(HOUR);
    expect(await t.app.followUps.runOnce()).toMatchObject({ surveysSent: 1 });
    await t.app.sender.drain();
    const live = parseEvents(await page.until(/csat:5/)).filter((e) => e.event === 'reply').at(-1)!;
    page.close();
    expect(live.data.reply).toEqual({
      kind: 'quick_replies',
      text: 'Quanto ti ha soddisfatto l’aiuto di Bottega Rossi?\nRispondi con un numero da 1 (per niente) a 5 (moltissimo), e se vuoi aggiungi un commento. Scrivi "stop" per non ricevere più queste domande.',
      options: [1, 2, 3, 4, 5].map((n) => ({ title: String(n), payload: `csat:${n}` })),
    });

    // The next visit replays the conversation, survey included.
    const next = await openEvents(`${base}/chat/api/events?session=${session}`);
    const replay = parseEvents(await next.until(/csat:5/)).filter((e) => e.event === 'reply');
    next.close();
    expect(replay.at(-1)!.data.id).toBe(live.data.id);

    expect((await postMessage(base, { session, id: 'c2', text: '4', payload: 'csat:4' })).status).toBe(202);
    await t.app.pipeline.idle();
    expect((await t.app.store.conversations.getCase(conversation.caseId))?.survey).toMatchObject({ score: 4 });
  });
});
