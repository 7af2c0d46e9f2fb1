/**
 * Web chat sessions cost the store nothing until their first message: a flood of new sessions
 * from many addresses (an IPv6 /64 each) writes no record; the first message writes the one
 * record, which the customer's export holds and the erasure removes. Sessions stay what they
 * were for the page: resumed, replayed on reload, limited per visitor; sessions stored before
 * (a record, an unsigned token) still work; instances sharing the store accept each other's.
 * A real instance on 127.0.0.1 on a lowdb file, whose files are read to count the records.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelValues } from '../../../src/channels/values.js';
import { createSessions, RECHECK_MS, sessionKey, UNUSED_MS } from '../../../src/channels/webchat/sessions.js';
import { createLocalEventBus } from '../../../src/core/events.js';
import { createEventRecorder } from '../../../src/events/recorder.js';
import { NO_SUBSCRIPTIONS } from '../../../src/events/subscriptions.js';
import { eraseCustomer } from '../../../src/handoff/customer-rights.js';
import { createConversationWriter } from '../../../src/pipeline/conversation-writer.js';
import { createSilentLogger } from '../../../src/util/logger.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { newSession, openEvents, parseEvents, postMessage } from './helpers.js';

/** The web chat session records in the store's files (snapshot and journal), by name. */
function storedSessions(t: TestApp): Set<string> {
  const text = ['store.json', 'store.json.journal']
    .map((f) => join(t.dir, f))
    .filter(existsSync)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  return new Set(text.match(/webchat:session:[A-Za-z0-9_-]+/g) ?? []);
}

const resume = (base: string, session: string) =>
  fetch(`${base}/chat/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session }) });

describe('web chat sessions and the store', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.app.pipeline.idle();
    await t?.close();
  });
  const start = async (env: Record<string, string> = {}) => {
    t = await startTestApp({ TRUST_PROXY: 'loopback', ...env });
    return t.app.listen(0, '127.0.0.1');
  };

  it('writes nothing for sessions that send no message, from however many addresses; the first message writes one record', async () => {
    const base = await start();
    const N = 200;
    const created: Array<{ session: string; visitor: string }> = [];
    for (let i = 0; i < N; i++) {
      // Each from its own IPv6 /64, as an attacker holding many prefixes would.
      created.push(await newSession(base, { 'x-forwarded-for': `2001:db8:${i.toString(16)}:1::1` }));
    }
    expect(new Set(created.map((c) => c.session)).size).toBe(N);
    expect(new Set(created.map((c) => c.visitor)).size).toBe(N);
    for (const c of created) expect(c.visitor).toMatch(/^v[A-Za-z0-9_-]{22}$/);
    // Every one is a session: resumed, its stream opened, still without a record.
    expect((await resume(base, created[0]!.session)).status).toBe(200);
    const stream = await openEvents(`${base}/chat/api/events?session=${created[1]!.session}`);
    stream.close();
    expect(storedSessions(t).size).toBe(0);

    const { session, visitor } = created[2]!;
    expect((await postMessage(base, { session, text: 'quali sono i vostri orari?' })).status).toBe(202);
    expect([...storedSessions(t)]).toEqual([`webchat:${sessionKey(session)}`]);
    expect(JSON.parse((await t.app.store.values.get('webchat', sessionKey(session)))!)).toMatchObject({ visitor });
    expect((await postMessage(base, { session, text: 'e il sabato?' })).status).toBe(202);
    expect(storedSessions(t).size).toBe(1);
  });

  it('replays a visitor’s conversation on reload, with their page ids, across a restart of the channel’s memory', async () => {
    const base = await start();
    const { session, visitor } = await newSession(base);
    expect((await postMessage(base, { session, id: 'reload-1', text: 'come posso pagare?' })).status).toBe(202);
    await t.app.pipeline.idle();
    const replay = parseEvents(await (await openEvents(`${base}/chat/api/events?session=${session}`)).until(/event: reply/));
    expect(replay.find((e) => e.event === 'mine')!.data).toMatchObject({ id: 'reload-1', text: 'come posso pagare?' });
    expect(replay.some((e) => e.event === 'reply')).toBe(true);
    // The session as a new instance sees it: from the store alone.
    const fresh = createSessions({ values: channelValues(t.app.store, 'webchat'), clock: t.clock, retentionMs: 30 * 86_400_000 });
    expect(await fresh.find(session)).toMatchObject({ visitor, stored: true });
  });

  it('a session that never wrote lapses an hour after it began (the page starts another); one that wrote lives on', async () => {
    const base = await start();
    const quiet = await newSession(base);
    const talker = await newSession(base);
    expect((await postMessage(base, { session: talker.session, text: 'ciao' })).status).toBe(202);
    t.clock.advance(UNUSED_MS - 60_000);
    expect((await resume(base, quiet.session)).status).toBe(200);
    t.clock.advance(60_000);
    expect((await postMessage(base, { session: quiet.session, text: 'ci sono' })).status).toBe(401);
    expect((await fetch(`${base}/chat/api/events?session=${quiet.session}`)).status).toBe(401);
    const again = await resume(base, quiet.session);
    expect(again.status).toBe(201);
    expect(((await again.json()) as { visitor: string }).visitor).not.toBe(quiet.visitor);
    expect((await postMessage(base, { session: talker.session, text: 'ci sono ancora' })).status).toBe(202);
    expect(storedSessions(t).size).toBe(1);
  });

  it('keeps the per-visitor message limit for a session not yet stored', async () => {
    const base = await start({ WEBCHAT_SESSION_MESSAGES_PER_MINUTE: '3' });
    const { session } = await newSession(base);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await postMessage(base, { session, text: `domanda ${i}` })).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });

  it('still accepts a session stored before tokens were signed (a record under a random token)', async () => {
    const base = await start();
    const token = randomBytes(32).toString('base64url');
    const now = t.clock.now().getTime();
    await t.app.store.values.set('webchat', sessionKey(token), JSON.stringify({ visitor: 'vOldVisitor0123456789ab', createdAt: now, seenAt: now }), { ttlMs: 30 * 86_400_000 });
    const resumed = await resume(base, token);
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual({ session: token, visitor: 'vOldVisitor0123456789ab' });
    expect((await postMessage(base, { session: token, text: 'ciao' })).status).toBe(202);
    await t.app.pipeline.idle();
    expect(await t.app.store.conversations.findByKey('webchat:private:vOldVisitor0123456789ab')).toBeDefined();
    // A made-up token of the same shape is still nobody's.
    expect((await postMessage(base, { session: randomBytes(32).toString('base64url'), text: 'ciao' })).status).toBe(401);
  });

  it('puts the session record in the customer’s export once they wrote, and their erasure removes it', async () => {
    const base = await start();
    const { session, visitor } = await newSession(base);
    expect((await postMessage(base, { session, text: 'ciao, sono Anna' })).status).toBe(202);
    await t.app.pipeline.idle();
    const records = await t.app.store.customerData.collect(`webchat:${visitor}`);
    expect(records!.values.map((v) => v.name)).toContain(`webchat:${sessionKey(session)}`);
    t.clock.advance(UNUSED_MS);
    const writer = createConversationWriter({ store: t.app.store, bus: createLocalEventBus(), logger: createSilentLogger(), recorder: createEventRecorder({ subscriptions: NO_SUBSCRIPTIONS, clock: t.clock }) });
    expect((await eraseCustomer(t.app.store, `webchat:${visitor}`, t.clock, writer))?.erased).toEqual([`webchat:${visitor}`]);
    expect(storedSessions(t).size).toBe(0);
    const fresh = createSessions({ values: channelValues(t.app.store, 'webchat'), clock: t.clock, retentionMs: 30 * 86_400_000 });
    expect(await fresh.find(session)).toBeUndefined();
  });

  it('ends the page’s session in the running instance once the customer’s data is erased, and never writes its record back', async () => {
    const base = await start();
    const { session, visitor } = await newSession(base);
    expect((await postMessage(base, { session, text: 'ciao, sono Anna' })).status).toBe(202);
    await t.app.pipeline.idle();
    expect(storedSessions(t).size).toBe(1);
    const writer = createConversationWriter({ store: t.app.store, bus: createLocalEventBus(), logger: createSilentLogger(), recorder: createEventRecorder({ subscriptions: NO_SUBSCRIPTIONS, clock: t.clock }) });
    // Erased within the hour the token was issued: its signature alone is still good.
    expect((await eraseCustomer(t.app.store, `webchat:${visitor}`, t.clock, writer))?.erased).toEqual([`webchat:${visitor}`]);
    t.clock.advance(RECHECK_MS);
    expect((await postMessage(base, { session, text: 'ci sono ancora?' })).status).toBe(401);
    expect((await resume(base, session)).status).not.toBe(200);
    // A day later (when a live session's record is refreshed) it is still over, and nothing was written back.
    t.clock.advance(86_400_000);
    expect((await postMessage(base, { session, text: 'e adesso?' })).status).toBe(401);
    await t.app.pipeline.idle();
    expect(storedSessions(t).size).toBe(0);
    expect(await t.app.store.conversations.findByKey(`webchat:private:${visitor}`)).toBeUndefined();
  });

  it('instances sharing the store accept each other’s sessions, also when both generated a secret at once', async () => {
    await start();
    const values = channelValues(t.app.store, 'webchat');
    const retentionMs = 30 * 86_400_000;
    const a = createSessions({ values, clock: t.clock, retentionMs });
    const fromA = await a.create();
    const b = createSessions({ values, clock: t.clock, retentionMs });
    expect(await b.find(fromA.token)).toMatchObject({ visitor: fromA.visitor, stored: false });
    // Another instance stored its secret after `a` read its own: `a` reads it again (at most once a minute).
    await values.set('token-secret', randomBytes(32).toString('base64url'));
    const c = createSessions({ values, clock: t.clock, retentionMs });
    const fromC = await c.create();
    t.clock.advance(60_000);
    expect(await a.find(fromC.token)).toMatchObject({ visitor: fromC.visitor });
    expect(await a.find(randomBytes(32).toString('base64url'))).toBeUndefined();
  });
});
