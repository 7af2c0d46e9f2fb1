/**
 * Satisfaction surveys on X, end to end against the fake X API with a fake clock: by DM when the
 * brand can DM the customer (v2 DMs have no quick replies: the text asks for a number, the
 * customer answers with one), and none when it cannot (never in public).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSportello, type Sportello } from '../../../src/app.js';
import { createTwitterChannel, type TwitterChannel } from '../../../src/channels/twitter/twitter-channel.js';
import type { TwitterSettings } from '../../../src/channels/twitter/index.js';
import { loadConfig } from '../../../src/config/config.js';
import { createFakeClock, type FakeClock } from '../../../src/core/ports.js';
import { createLowdbStore } from '../../../src/storage/lowdb/index.js';
import { trainUnderstander } from '../../../src/classifier/index.js';
import { createKnowledgeSource, type LiveKnowledge } from '../../../src/corpus/knowledge.js';
import { corpusToExamples } from '../../../src/corpus/load.js';
import { createSilentLogger } from '../../../src/util/logger.js';
import { createFakeXApi, createXWebhookCaller, ROUTES, type FakePost, type FakeUser, type FakeXApi, type XWebhookCaller } from '../../fakes/x-api/fake-x-api.js';
import type { Operator } from '../../../src/core/types.js';
import { xaaDmEvent, xaaPostEvent } from '../../fakes/x-api/payloads.js';
import { ACCESS_SECRET, ACCESS_TOKEN, API_KEY, API_SECRET, BRAND } from './helpers.js';
import { OUTBOUND } from '../../helpers/outbound.js';

/** The repository's own sample FAQ and intents (tests read nothing outside the repository). */
const CORPUS = join(import.meta.dirname ?? '.', '../../..');
/** A Tuesday morning in Rome: the care team is at work. */
const START = '2026-11-24T09:00:00.000Z';

let clock: FakeClock;
let x: FakeXApi;
let dir: string;
let app: Sportello;
let channel: TwitterChannel;
let hook: XWebhookCaller;
let userCounter = 0;
/** Trained once for the whole file (training is the slow part of starting Sportello). */
let knowledge: LiveKnowledge;

beforeAll(async () => {
  clock = createFakeClock(START);
  x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN });
  const defaults = loadConfig({ FAQ_DIR: `${CORPUS}/faq`, INTENTS_DIR: `${CORPUS}/intents` });
  knowledge = await createKnowledgeSource({
    faqDir: `${CORPUS}/faq`,
    intentsDir: `${CORPUS}/intents`,
    watch: false,
    logger: createSilentLogger(),
    // As createSportello trains it, with the configuration's defaults.
    train: (corpus) => trainUnderstander(corpusToExamples(corpus), { orderNumberPattern: defaults.nlu.orderNumberPattern, defaultLanguage: defaults.defaultLocale }),
  });
});
afterAll(async () => {
  await knowledge.close();
  await x.close();
});

/** Starts Sportello on `dataFile` with the X channel (polling every `pollSeconds`, 0 = webhooks only). */
async function startApp(dataFile: string, pollSeconds = 0): Promise<void> {
  const config = loadConfig({
    SPORTELLO_DATA: dataFile,
    FAQ_DIR: `${CORPUS}/faq`,
    INTENTS_DIR: `${CORPUS}/intents`,
    FAQ_WATCH: 'false',
    PORT: '0',
    LOG_LEVEL: 'silent',
    WEBCHAT: 'false',
    X_API_KEY: API_KEY,
    X_API_SECRET: API_SECRET,
    X_ACCESS_TOKEN: ACCESS_TOKEN,
    X_ACCESS_SECRET: ACCESS_SECRET,
    X_BRAND_USER_ID: BRAND.id,
    X_BRAND_HANDLE: BRAND.username,
    X_POLL_SECONDS: String(pollSeconds),
    X_API_ORIGIN: x.origin,
    SURVEYS: 'true',
    SURVEY_DELAY: '1h',
    BOT_CLOSE_HOURS: '0',
  });
  const store = createLowdbStore({ file: dataFile, now: () => clock.now().getTime() });
  const logger = createSilentLogger();
  // The configured channel, plus trust in the fake's self-signed certificate.
  channel = createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: OUTBOUND, tls: { ca: x.ca } });
  app = await createSportello({ config, clock, logger, store, channels: [channel], outboxPollMs: 20, knowledge });
  hook = createXWebhookCaller(`${await app.listen(0, '127.0.0.1')}/webhooks/twitter`, API_SECRET);
}

beforeEach(async () => {
  clock.set(START);
  x.calls.length = 0;
  x.posts.clear();
  x.dmEvents.length = 0;
  x.setRateLimit(ROUTES.postTweet, 100);
  dir = mkdtempSync(join(tmpdir(), 'sportello-x-'));
  await startApp(join(dir, 'data.json'));
});
afterEach(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until every accepted message is processed and every due reply is sent. */
async function settle(): Promise<void> {
  await app.pipeline.idle();
  await app.sender.drain();
}

function newCustomer(extra: Partial<FakeUser> = {}): FakeUser {
  userCounter += 1;
  return x.addUser({ id: String(3_100_000_000 + userCounter), username: `cliente${userCounter}`, name: `Cliente ${userCounter}`, ...extra });
}

/** The customer mentions the brand; X delivers the X Activity API event to our webhook. */
async function mentions(user: FakeUser, text: string, options: { inReplyTo?: string } = {}): Promise<FakePost> {
  const post = x.mention(user.id, `@${BRAND.username} ${text}`, options);
  const res = await hook.deliver(xaaPostEvent(post, user, BRAND.id));
  expect(res.status).toBe(200);
  await settle();
  return post;
}

async function sendsDm(user: FakeUser, text: string) {
  const event = x.dm(user.id, text);
  const res = await hook.deliver(xaaDmEvent(event, user, BRAND.id));
  expect(res.status).toBe(200);
  await settle();
  return event;
}

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
      'Quanto sei soddisfatto dell’aiuto di Bottega Rossi?\nRispondi con un numero da 1 (per niente) a 5 (moltissimo), e se vuoi aggiungi un commento. Scrivi "stop" per non ricevere più queste domande.',
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
    expect(dmsTo(user).map((d) => d.text)).toEqual([expect.stringMatching(/^Quanto sei soddisfatto/)]);
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
