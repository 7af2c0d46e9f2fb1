/**
 * Two instances on one PostgreSQL database both receive every event; a platform is told about a
 * conversation's handover (ChannelAdapter.notify) once, by the instance that published it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello, type Sportello } from '../../src/app.js';
import { createRecordingChannel } from '../../src/channels/console/index.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type ChannelAdapter } from '../../src/core/ports.js';
import type { DomainEvent } from '../../src/core/events.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { chatMessage, closeProjectKnowledge, privateChatCapabilities, projectKnowledge, ROOT } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from './harness.js';

describe('channel notifications with two instances', () => {
  let db: TestDatabase;
  let dir: string;
  const apps: Sportello[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sportello_notify');
    dir = mkdtempSync(join(tmpdir(), 'sportello-notify-'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await closeProjectKnowledge();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function instance(clock = createFakeClock('2026-11-24T10:00:00+01:00')) {
    const notified: DomainEvent['type'][] = [];
    const recording = createRecordingChannel('chat', privateChatCapabilities);
    const channel: ChannelAdapter = {
      ...recording,
      async notify(event) {
        notified.push(event.type);
      },
    };
    const config = loadConfig({
      DATABASE_URL: db.url,
      FAQ_DIR: join(ROOT, 'faq'),
      INTENTS_DIR: join(ROOT, 'intents'),
      FAQ_WATCH: 'false',
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      SPORTELLO_DATA: join(dir, 'unused.json'),
    });
    const app = await createSportello({ config, clock, logger: createSilentLogger(), channels: [channel], outboxPollMs: 50, knowledge: await projectKnowledge() });
    apps.push(app);
    return { app, clock, notified };
  }

  it('tells the platform once, from the instance that escalated', async () => {
    const a = await instance();
    const b = await instance();
    const outcome = await a.app.pipeline.receive(chatMessage(a.clock, 'voglio parlare con un operatore', { customer: { platformId: 'notify-1' } }));
    expect(outcome.action).toBe('escalate');
    // Both instances receive the event; give the other one time to (wrongly) act on it.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && a.notified.length === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(a.notified).toEqual(['conversation.escalated']);
    expect(b.notified).toEqual([]);
  });
});
