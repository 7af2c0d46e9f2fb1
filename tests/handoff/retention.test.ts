/**
 * Issue 22, Done means: the retention job with a fake clock, on both stores. A customer whose last
 * activity is older than their channel's period is anonymised (as an erasure does it); a recent
 * one and one whose case is still open are untouched; a web chat visitor who never gave a name
 * goes after the shorter anonymous period; the report for the period gives the same figures
 * before and after. And on two instances sharing one PostgreSQL database, running the job at the
 * same moment anonymises each record exactly once.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Operator } from '../../src/core/types.js';
import { computeReport } from '../../src/reports/report.js';
import type { SnapshotStore } from '../storage/store-contract.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../e2e/harness.js';
import { closeProjectKnowledge, startTestApp, type TestApp } from '../helpers/app.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = '2026-11-24T10:00:00+01:00';
const T0 = Date.parse(START);
const operator: Operator = { id: 'op-marta', name: 'Marta', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-11-01T00:00:00.000Z' };
const ENV = { RETENTION_DAYS: '30', RETENTION_DAYS_ANONYMOUS: '7', BOT_CLOSE_HOURS: '24' };

const pgUp = await postgresAvailable();
afterAll(closeProjectKnowledge);

/** A customer's case handed to a person, answered and resolved by Marta. */
async function servedCase(t: TestApp, platformId: string, name: string): Promise<string> {
  const asked = await t.app.pipeline.receive(t.message(`vorrei parlare con un operatore, sono ${name}`, { customer: { platformId, name } }));
  expect(asked.action).toBe('escalate');
  const id = asked.conversation!.id;
  t.clock.advance(5 * 60_000);
  await t.app.desk.claim(id, operator);
  await t.app.desk.reply(id, operator, `Ciao ${name}, ti aiuto io`);
  t.clock.advance(5 * 60_000);
  await t.app.desk.resolve(id, operator);
  return id;
}

/** A web chat visitor's FAQ question (the bot answers; the bot-close job closes it a day later). */
async function visitorQuestion(t: TestApp, visitor: string, name?: string): Promise<string> {
  const outcome = await t.app.pipeline.receive(t.message('si può pagare con satispay?', { channel: 'webchat', customer: { platformId: visitor, ...(name ? { name } : {}) } }));
  expect(outcome.action).toBe('answer');
  return outcome.conversation!.id;
}

const reportOf = async (t: TestApp, now: Date) => {
  const from = new Date(T0 - DAY);
  const to = new Date(T0 + 40 * DAY);
  const history = await t.app.store.conversations.history({ from: from.toISOString(), to: to.toISOString() });
  return computeReport({ history, from, to, now, hours: t.app.hours, operators: await t.app.store.directory.listOperators() });
};

describe.each(['lowdb', 'postgres'] as const)('the retention job on %s', (kind) => {
  const run = kind === 'postgres' && !pgUp ? it.skip : it;
  let t: TestApp | undefined;
  let db: TestDatabase | undefined;
  beforeEach(async () => {
    if (kind === 'postgres' && !pgUp) return;
    db = kind === 'postgres' ? await createTestDatabase('sportello_retention') : undefined;
    t = await startTestApp({ ...ENV, ...(db ? { DATABASE_URL: db.url } : {}) }, START);
    await t.app.store.directory.addOperator(operator);
  });
  afterEach(async () => {
    await t?.close();
    await db?.drop();
    t = undefined;
    db = undefined;
  });

  run('anonymises what is past its period, keeps recent and open cases, and the report still adds up', async () => {
    const app = t!.app;
    const old = await servedCase(t!, 'cust-old', 'Ottavia');
    const waiting = await app.pipeline.receive(t!.message('vorrei parlare con un operatore, sono Walter', { customer: { platformId: 'cust-wait', name: 'Walter' } }));
    expect(waiting.conversation?.state).toBe('queued');
    const anon = await visitorQuestion(t!, 'visitor-anon');
    const named = await visitorQuestion(t!, 'visitor-named', 'Giulia');
    await app.sender.drain();
    t!.clock.advance(25 * HOUR);
    expect((await app.followUps.runOnce()).closedByBot).toBe(2);

    // Day 10: only the nameless visitor is past a period (7 days).
    t!.clock.set(new Date(T0 + 10 * DAY));
    expect(await app.retention.runOnce({ dryRun: true })).toMatchObject({ records: 1, dryRun: true });
    expect(await app.store.directory.getCustomer('webchat:visitor-anon')).toBeDefined();
    expect(await app.retention.runOnce()).toMatchObject({ records: 1, conversations: 1, messages: 2 });
    expect(await app.store.directory.getCustomer('webchat:visitor-anon')).toBeUndefined();
    expect(await app.store.directory.getCustomer('webchat:visitor-named')).toBeDefined();
    expect(await app.store.directory.getCustomer('chat:cust-old')).toBeDefined();
    expect((await app.store.conversations.get(anon))!.customerId).toMatch(/^erased:/);

    // Day 20: a recent customer.
    t!.clock.set(new Date(T0 + 20 * DAY));
    const recent = await servedCase(t!, 'cust-recent', 'Rita');
    await app.sender.drain();
    const reportNow = new Date(T0 + 21 * DAY);
    const before = await reportOf(t!, reportNow);
    expect(before.inbound).toBe(5);

    // Day 35: the old customer and the named visitor are past 30 days; the recent one is not; the open case never.
    t!.clock.set(new Date(T0 + 35 * DAY));
    expect(await app.retention.runOnce({ dryRun: true })).toMatchObject({ records: 2 });
    const done = await app.retention.runOnce();
    expect(done).toMatchObject({ records: 2, conversations: 2, cases: 2 });
    expect(await app.retention.runOnce()).toMatchObject({ records: 0 });

    for (const id of ['chat:cust-old', 'webchat:visitor-named']) expect(await app.store.directory.getCustomer(id)).toBeUndefined();
    for (const id of [old, named]) {
      const c = (await app.store.conversations.get(id))!;
      expect(c.customerId).toMatch(/^erased:/);
      expect(c.state).toBe('resolved');
      const messages = await app.store.conversations.listMessages({ conversationId: id });
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.every((m) => m.text === '')).toBe(true);
    }
    // Recent and open: untouched, words and all.
    expect(await app.store.directory.getCustomer('chat:cust-recent')).toMatchObject({ name: 'Rita' });
    expect((await app.store.conversations.listMessages({ conversationId: recent })).map((m) => m.text)).toContain('Ciao Rita, ti aiuto io');
    expect(await app.store.conversations.get(waiting.conversation!.id)).toMatchObject({ state: 'queued', customerId: 'chat:cust-wait' });
    expect((await app.store.conversations.listMessages({ conversationId: waiting.conversation!.id })).map((m) => m.text)).toContain('vorrei parlare con un operatore, sono Walter');
    // Nothing names the anonymised ones any more: store, search index, outbox history.
    const all = JSON.stringify(await (app.store as SnapshotStore).exportAll());
    for (const text of ['cust-old', 'Ottavia', 'visitor-anon', 'visitor-named', 'Giulia']) expect(all).not.toContain(text);
    expect(all).toContain('Walter');
    expect((await app.store.search.find({ text: 'Ottavia', offset: 0, limit: 10 })).total).toBe(0);
    expect((await app.store.search.find({ text: 'Rita', offset: 0, limit: 10 })).total).toBe(1);

    // The report for the period gives the same figures.
    expect(await reportOf(t!, reportNow)).toEqual(before);

    // Each run that anonymised something is in the audit trail, by the system, with counts only.
    const audit = (await app.store.audit.list({ limit: 100 })).filter((a) => a.action === 'retention.anonymise');
    expect(audit.map((a) => [a.operatorId, a.target])).toEqual([
      ['system', 'records=1 conversations=1 cases=1 messages=2'],
      ['system', `records=2 conversations=2 cases=2 messages=${done.messages}`],
    ]);
  });
});

const pgOnly = pgUp ? describe : describe.skip;

pgOnly('the retention job on two instances of one PostgreSQL database at the same moment', () => {
  let db: TestDatabase;
  let one: TestApp;
  let two: TestApp;
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  it('anonymises each record exactly once', async () => {
    db = await createTestDatabase('sportello_retention2');
    one = await startTestApp({ ...ENV, DATABASE_URL: db.url }, START);
    two = await startTestApp({ ...ENV, DATABASE_URL: db.url }, START);
    await one.app.store.directory.addOperator(operator);
    const N = 40;
    const ids: string[] = [];
    for (let i = 0; i < N; i += 1) ids.push(await servedCase(i % 2 ? one : two, `cust-${i}`, `Cliente${i}`));
    const kept = await servedCase(one, 'cust-kept', 'Tenuto');
    await Promise.all([one.app.sender.drain(), two.app.sender.drain()]);
    // 31 days later for both instances; the customer kept wrote again yesterday.
    for (const t of [one, two]) t.clock.set(new Date(T0 + 30 * DAY));
    await servedCase(one, 'cust-kept', 'Tenuto');
    for (const t of [one, two]) t.clock.set(new Date(T0 + 31 * DAY));

    const runs = await Promise.all([one.app.retention.runOnce(), two.app.retention.runOnce(), one.app.retention.runOnce(), two.app.retention.runOnce()]);
    expect(runs.reduce((n, r) => n + r.records, 0)).toBe(N);
    expect(runs.reduce((n, r) => n + r.conversations, 0)).toBe(N);
    // Each record once: every conversation carries one pseudonym of its own, none twice.
    const pseudonyms = new Set<string>();
    for (const id of ids) {
      const c = (await one.app.store.conversations.get(id))!;
      expect(c.customerId).toMatch(/^erased:/);
      pseudonyms.add(c.customerId);
      expect(await one.app.store.directory.getCustomer(`chat:cust-${ids.indexOf(id)}`)).toBeUndefined();
    }
    expect(pseudonyms.size).toBe(N);
    expect((await one.app.store.conversations.get(kept))!.customerId).toBe('chat:cust-kept');
    // The audit's counts add up to the same, whichever instance did what.
    const audit = (await one.app.store.audit.list({ limit: 100 })).filter((a) => a.action === 'retention.anonymise');
    expect(audit.reduce((n, a) => n + Number(/records=(\d+)/.exec(a.target ?? '')![1]), 0)).toBe(N);
  });
});
