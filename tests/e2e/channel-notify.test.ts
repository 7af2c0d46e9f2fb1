/**
 * Two instances on one PostgreSQL database both receive every event; a platform is told about a
 * conversation's handover (ChannelAdapter.notify) once, by the instance that published it.
 */
import type { DomainEvent } from '../../src/core/events.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from './harness.js';

describe('channel notifications with two instances', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sportello_notify');
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await db.drop();
  });

  /** An instance whose channel records the notifications it is given. */
  async function instance() {
    const notified: DomainEvent['type'][] = [];
    const t = await startTestApp({ DATABASE_URL: db.url }, undefined, (recording) => ({
      ...recording,
      async notify(event) {
        notified.push(event.type);
      },
    }));
    apps.push(t);
    return { t, notified };
  }

  it('tells the platform once, from the instance that escalated', async () => {
    const a = await instance();
    const b = await instance();
    const outcome = await a.t.app.pipeline.receive(a.t.message('voglio parlare con un operatore', { customer: { platformId: 'notify-1' } }));
    expect(outcome.action).toBe('escalate');
    // Both instances receive the event; give the other one time to (wrongly) act on it.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && a.notified.length === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(a.notified).toEqual(['conversation.escalated']);
    expect(b.notified).toEqual([]);
  });
});
