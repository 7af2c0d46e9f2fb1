/**
 * Outbound events survive a crash: a real `sportello start` answers Messenger messages while its
 * event receiver fails (503), is killed with SIGKILL with every event still undelivered, and
 * restarted; once the receiver is back, every event of every acknowledged message arrives,
 * verified with the `standardwebhooks` library, in order per conversation.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSecret, startWebhookReceiver } from '../fakes/webhook-receiver/webhook-receiver.js';
import { allReplies, createTestDatabase, deliver, postgresAvailable, signedDelivery, startGraph, startInstance, tempDataDir, waitUntil, type DeploymentEnv } from './harness.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';

const MESSAGES = 12;
const QUESTIONS = ['come posso pagare?', 'quali sono i vostri orari?', 'come faccio a fare un reso?'];
const pgAvailable = await postgresAvailable();

const cleanups = cleanupsAfterEach(30_000);

describe.each([
  ['lowdb', true],
  ['postgres', pgAvailable],
] as const)('webhook deliveries across a SIGKILL (%s)', (store, available) => {
  (available ? it : it.skip)('delivers every event after the restart, each once accepted, in order per conversation', async () => {
    const graph = await startGraph();
    cleanups.push(() => graph.close());
    const secret = newSecret();
    const receiver = await startWebhookReceiver(secret);
    cleanups.push(() => receiver.close());
    receiver.fallback = { status: 503 };
    const dir = mkdtempSync(join(tmpdir(), 'sportello-e2e-webhooks-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'webhooks.yaml');
    writeFileSync(file, `subscriptions:\n  - name: crm\n    url: ${receiver.url}\n    events: [message.created]\n    secret_env: CRM_WEBHOOK_SECRET\n`);
    const extra = { WEBHOOKS_FILE: file, CRM_WEBHOOK_SECRET: secret };
    let deployment: DeploymentEnv;
    if (store === 'lowdb') {
      const data = tempDataDir();
      cleanups.push(() => data.cleanup());
      deployment = { dataFile: data.dataFile, graphOrigin: graph.origin, extra };
    } else {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      deployment = { databaseUrl: db.url, graphOrigin: graph.origin, extra };
    }
    const first = await startInstance('first', deployment);
    cleanups.push(() => first.kill());

    const psids = Array.from({ length: MESSAGES }, (_, i) => `65${store === 'lowdb' ? 1 : 2}000000${String(i).padStart(5, '0')}`);
    for (const [i, psid] of psids.entries()) {
      graph.userWrote(psid, new Date());
      expect(await deliver(first.url, signedDelivery(psid, QUESTIONS[i % QUESTIONS.length]!, `m_hook_${psid}`))).toBe(200);
    }
    // Every message answered (its turn, and so its events, committed); the receiver refuses them all.
    expect(await waitUntil(() => allReplies(graph).length >= MESSAGES, 60_000)).toBe(true);
    expect(await waitUntil(() => receiver.received.length >= 1, 30_000)).toBe(true);
    await first.kill();
    expect(receiver.accepted()).toHaveLength(0);

    receiver.fallback = { status: 204 };
    const second = await startInstance('second', deployment);
    cleanups.push(() => second.stop());
    // Two events per message (the customer's and the reply); retries wait out their backoff (5–12 s).
    const expected = MESSAGES * 2;
    const distinct = () => new Set(receiver.accepted().map((r) => r.id)).size;
    expect(await waitUntil(() => distinct() >= expected, 90_000, 200)).toBe(true);
    expect(distinct()).toBe(expected);
    const accepted = receiver.accepted();
    expect(accepted.every((r) => r.verified)).toBe(true);
    for (const psid of psids) {
      const mine = accepted.filter((r) => r.payload.data.conversation.customerId === `messenger:${psid}`);
      expect(mine.map((r) => r.payload.data.message.direction)).toEqual(['in', 'out']);
    }
  }, 240_000);
});
