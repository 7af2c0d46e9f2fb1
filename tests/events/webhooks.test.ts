/**
 * Outbound events end to end in one process: a real instance (lowdb store, pipeline, desk,
 * operator API) sends to a receiver on 127.0.0.1 that verifies each request with the
 * `standardwebhooks` library, as a brand's CRM would.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { eventBodyV1Schema, loadSubscriptions } from '../../src/events/index.js';
import { closeSharedKnowledge, login, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';
import { ROOT } from '../helpers/app.js';
import { newSecret, startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver/webhook-receiver.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';

const cleanups = cleanupsAfterEach();
afterAll(() => closeSharedKnowledge());

/** Writes a webhooks file and returns its path. */
function webhooksFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-webhooks-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'webhooks.yaml');
  writeFileSync(file, yaml);
  return file;
}

interface Setup {
  t: ApiApp;
  crm: WebhookReceiver;
}

/** An instance with one subscription `crm` to a fresh receiver; `extra` adds YAML keys to it. */
async function setUp(options: { events?: string; extra?: string; secrets?: string; concurrency?: number; env?: Record<string, string> } = {}): Promise<Setup> {
  const secret = newSecret();
  const crm = await startWebhookReceiver(secret);
  cleanups.push(() => crm.close());
  const file = webhooksFile(`concurrency: ${options.concurrency ?? 4}
subscriptions:
  - name: crm
    url: ${crm.url}
    events: ${options.events ?? '["*"]'}
    secret_env: CRM_WEBHOOK_SECRET
${options.extra ?? ''}`);
  const t = await startApiApp({ WEBHOOKS_FILE: file, CRM_WEBHOOK_SECRET: options.secrets ?? secret, ...options.env });
  cleanups.push(() => t.close());
  return { t, crm };
}

/** Moves the instance's clock on and lets the dispatcher claim what came due. */
async function later(t: ApiApp, ms: number): Promise<void> {
  t.clock.advance(ms);
  t.app.webhooks.kick();
  await t.app.webhooks.drain();
}

describe('outbound events (webhooks)', () => {
  it('sends a turn\'s events in order, each signed by the Standard Webhooks specification and matching the version-1 schema', async () => {
    const { t, crm } = await setUp();
    await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    await crm.waitFor(4);
    await t.app.webhooks.drain();
    const got = crm.accepted();
    expect(got.map((r) => `${r.payload.type}:${r.payload.data.message?.direction ?? r.payload.data.reason}`)).toEqual([
      'message.created:in',
      'message.created:out',
      'message.created:in',
      'conversation.escalated:human_request',
      'message.created:out',
    ]);
    for (const r of got) {
      expect(r.verified).toBe(true);
      expect(r.id).toMatch(/^msg_/);
      expect(r.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(60);
      expect(eventBodyV1Schema.safeParse(r.payload).error).toBeUndefined();
    }
    const escalated = got[3]!.payload;
    expect(escalated.data.conversation).toMatchObject({ channel: 'chat', visibility: 'private', state: 'queued', customerId: 'chat:cust-1' });
    expect(new Set(got.map((r) => r.id)).size).toBe(got.length);
  });

  it('signs with every secret during a rotation, so a receiver on either secret verifies', async () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const { t, crm } = await setUp({ secrets: `${newOne} ${oldSecret}` });
    crm.secret = oldSecret;
    await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    await crm.waitFor(2);
    crm.secret = newOne;
    await t.app.pipeline.receive(t.message('grazie'));
    await crm.waitFor(4);
    expect(crm.received.map((r) => r.verified)).toEqual([true, true, true, true]);
    expect(crm.received[0]!.signature.split(' ')).toHaveLength(2);
    // A receiver with a secret that is not among them refuses every request.
    crm.secret = newSecret();
    await t.app.pipeline.receive(t.message('ciao'));
    await crm.waitFor(5);
    expect(crm.received[4]!.verified).toBe(false);
  });

  it('retries after 500s with the same webhook-id until the receiver accepts, and logs each attempt', async () => {
    const { t, crm } = await setUp({ events: '[conversation.escalated]' });
    crm.script({ status: 500 }, { status: 503 });
    await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    await crm.waitFor(1);
    await t.app.webhooks.drain();
    await later(t, 6_500); // first backoff: 5 s (+ up to 20 %)
    await crm.waitFor(2);
    await t.app.webhooks.drain();
    await later(t, 5_000); // not yet: the second backoff is 10 s
    expect(crm.received).toHaveLength(2);
    await later(t, 8_000);
    await crm.waitFor(3);
    await t.app.webhooks.drain();
    expect(crm.received.map((r) => r.answered)).toEqual([500, 503, 204]);
    expect(new Set(crm.received.map((r) => r.id)).size).toBe(1);
    expect(crm.received.every((r) => r.verified && r.body === crm.received[0]!.body)).toBe(true);
    const [delivery] = await t.app.store.deliveries.list({ limit: 10 });
    expect(delivery).toMatchObject({ id: crm.received[0]!.id, status: 'delivered', attempts: 3, lastStatus: 204 });
  });

  it('waits as long as Retry-After says', async () => {
    const { t, crm } = await setUp({ events: '[conversation.escalated]' });
    crm.script({ status: 429, headers: { 'retry-after': '120' } });
    await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    await crm.waitFor(1);
    await t.app.webhooks.drain();
    await later(t, 60_000); // past the backoff (5 s), not past Retry-After
    expect(crm.received).toHaveLength(1);
    await later(t, 61_000);
    await crm.waitFor(2);
    expect(crm.received.map((r) => r.id)).toEqual([crm.received[0]!.id, crm.received[0]!.id]);
  });

  it('keeps each conversation\'s events in order while its first one is retried; other conversations go on', async () => {
    const { t, crm } = await setUp({ events: '[message.created]' });
    crm.script({ status: 500 });
    await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    await t.app.pipeline.receive(t.message('come posso pagare?'));
    await t.app.pipeline.receive(t.message('quali sono i vostri orari?', { customer: { platformId: 'cust-2' } }));
    await crm.waitFor(3);
    await t.app.webhooks.drain();
    // cust-1's first event failed: its other three wait behind it; cust-2's two went out.
    const texts = (rs: typeof crm.received) => rs.map((r) => `${r.payload.data.conversation.customerId}:${r.payload.data.message.direction}:${r.answered}`);
    expect(texts(crm.received)).toEqual(['chat:cust-1:in:500', 'chat:cust-2:in:204', 'chat:cust-2:out:204']);
    await later(t, 7_000);
    await crm.waitFor(7);
    await t.app.webhooks.drain();
    const first = crm.accepted().filter((r) => r.payload.data.conversation.customerId === 'chat:cust-1');
    expect(first.map((r) => `${r.payload.data.message.direction}:${r.payload.data.message.text.slice(0, 12)}`)).toEqual([
      'in:quali sono i',
      'out:' + first[1]!.payload.data.message.text.slice(0, 12),
      'in:come posso p',
      'out:' + first[3]!.payload.data.message.text.slice(0, 12),
    ]);
  });

  it('replaces private data with placeholders unless the subscription allows it', async () => {
    const [crm, vault] = [await startWebhookReceiver(newSecret()), await startWebhookReceiver(newSecret())];
    cleanups.push(() => crm.close(), () => vault.close());
    const file = webhooksFile(`subscriptions:
  - name: crm
    url: ${crm.url}
    events: [message.created]
    secret_env: CRM_WEBHOOK_SECRET
  - name: vault
    url: ${vault.url}
    events: [message.created]
    secret_env: VAULT_SECRET
    private_data: true
`);
    const t = await startApiApp({ WEBHOOKS_FILE: file, CRM_WEBHOOK_SECRET: crm.secret, VAULT_SECRET: vault.secret });
    cleanups.push(() => t.close());
    await t.app.pipeline.receive(t.message('il mio ordine BR-1234567 non è arrivato, scrivetemi a mario.rossi+shop@example.com o al 347 123 4567'));
    await crm.waitFor(1);
    await vault.waitFor(1);
    expect(crm.received[0]!.payload.data.message.text).toBe('il mio ordine {order_number} non è arrivato, scrivetemi a {email} o al {phone}');
    expect(crm.received[0]!.body).not.toMatch(/mario|1234567|347 123/);
    expect(vault.received[0]!.payload.data.message.text).toContain('mario.rossi+shop@example.com');
    // The delivery log shows what was sent: the crm's without the data.
    const stored = await t.app.store.deliveries.list({ limit: 10, subscription: 'crm' });
    expect(JSON.stringify(stored)).not.toMatch(/mario|1234567/);
  });

  it('never delays a customer\'s reply while the receiver hangs', async () => {
    const { t, crm } = await setUp({ concurrency: 1, extra: '    timeout_seconds: 60\n' });
    crm.fallback = 'hang';
    const started = Date.now();
    for (let i = 0; i < 5; i += 1) await t.app.pipeline.receive(t.message(i % 2 ? 'come posso pagare?' : 'quali sono i vostri orari?', { customer: { platformId: `c-${i}` } }));
    await t.app.sender.drain();
    const elapsed = Date.now() - started;
    expect(t.channel.sent).toHaveLength(5);
    // The receiver holds the one send slot; every reply went out meanwhile, at the pipeline's own pace.
    expect(elapsed).toBeLessThan(5_000);
    expect(crm.received).toHaveLength(1);
    expect(crm.received[0]!.answered).toBeUndefined();
    // Each message and its reply: ten events, all kept for when the receiver is back.
    const waiting = await t.app.store.deliveries.list({ limit: 50 });
    expect(waiting).toHaveLength(10);
    expect(waiting.filter((d) => d.status === 'delivered')).toHaveLength(0);
    crm.fallback = { status: 204 };
    crm.release();
    await crm.waitFor(10);
    await t.app.webhooks.drain();
    const after = await t.app.store.deliveries.list({ limit: 50 });
    expect(after.map((d) => d.status)).toEqual(Array(10).fill('delivered'));
    expect(new Set(crm.received.map((r) => r.id)).size).toBe(10);
  });

  it('sends faq.approved with the approval, and shows admins the delivery log a page at a time', async () => {
    // Approving writes the FAQ: a copy of the project's.
    const dir = mkdtempSync(join(tmpdir(), 'sportello-webhooks-faq-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(ROOT, 'faq'), join(dir, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
    const { t, crm } = await setUp({ events: '[faq.approved, conversation.escalated]', env: { FAQ_DIR: join(dir, 'faq'), INTENTS_DIR: join(dir, 'intents') } });
    await t.app.store.suggestions.add({
      id: 'sg-1',
      caseId: 'case-x',
      kind: 'add_question',
      entryId: 'orari-apertura',
      locale: 'it',
      questions: ['siete aperti anche la domenica mattina?'],
      status: 'pending',
      createdAt: t.clock.now().toISOString(),
      createdBy: 'op-marta',
    });
    const anna = await login(t.base, 'Anna', PASSWORDS.anna);
    const approved = await anna.post('/suggestions/sg-1/approve', {});
    expect([approved.status, approved.body.error]).toEqual([200, undefined]);
    await crm.waitFor(1);
    expect(crm.received[0]!.payload).toMatchObject({ type: 'faq.approved', version: 1, data: { suggestion: { id: 'sg-1', entryId: 'orari-apertura', questions: ['siete aperti anche la domenica mattina?'] }, reviewedBy: 'op-anna' } });
    for (let i = 0; i < 3; i += 1) await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: `c-${i}` } }));
    await crm.waitFor(4);
    await t.app.webhooks.drain();

    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    expect((await marta.get('/webhooks/deliveries')).status).toBe(403);
    const page1 = await anna.get('/webhooks/deliveries?limit=3');
    expect(page1.status).toBe(200);
    const deliveries = page1.body.deliveries as Array<{ id: string; type: string; status: string }>;
    expect(deliveries.map((d) => d.type)).toEqual(['conversation.escalated', 'conversation.escalated', 'conversation.escalated']);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    expect(page1.body.subscriptions).toEqual([{ name: 'crm', events: ['conversation.escalated', 'faq.approved'], privateData: false, payloadVersion: 1 }]);
    expect(JSON.stringify(page1.body)).not.toContain(crm.secret.slice(6));
    const page2 = await anna.get(`/webhooks/deliveries?limit=3&before=${page1.body.next as string}`);
    expect((page2.body.deliveries as Array<{ type: string }>).map((d) => d.type)).toEqual(['faq.approved']);
    expect(page2.body.next).toBeUndefined();
    expect((await anna.get('/webhooks/deliveries?limit=0')).status).toBe(400);
  }, 180_000); // a FAQ of its own is trained for this instance
});

describe('the webhooks file', () => {
  const good = newSecret();
  it('sends crisis.alert when listening finds a spike, with the post that raised it, private data as placeholders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sportello-webhooks-listening-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'listening.yaml'), 'detector:\n  cold_start_hours: 0\n');
    const { t, crm } = await setUp({ events: '["crisis.alert"]', env: { LISTENING_FILE: join(dir, 'listening.yaml') } });
    for (let i = 0; i < 9; i++) {
      t.clock.advance(60_000);
      await t.app.listening.hear({
        ...t.message(`Il sito è bloccato, vergogna! scrivetemi a mario.rossi${i}@example.com`, { customer: { platformId: `f${i}`, handle: `fan${i}`, followers: i * 10 } }),
        visibility: 'public',
        listening: true,
        heard: true,
      });
    }
    await crm.waitFor(1);
    await t.app.webhooks.drain();
    const [got] = crm.accepted();
    expect(crm.accepted()).toHaveLength(1);
    expect(got!.verified).toBe(true);
    expect(eventBodyV1Schema.parse(got!.payload)).toMatchObject({ type: 'crisis.alert', data: { alert: { update: false, volume: 6, windowMinutes: 20 } } });
    const alert = (got!.payload.data as { alert: { topic: string; samples: string[]; topAuthors: Array<{ handle?: string }> }; text: string });
    expect(alert.alert.topic).toMatch(/sito|bloccato/);
    expect(alert.alert.samples.join(' ')).not.toMatch(/@example\.com/);
    expect(alert.alert.topAuthors[0]).toMatchObject({ handle: 'fan5' });
    expect(alert.text).toMatch(/^Spike on ".+": 6 posts in 20 min/);
    // The delivery log shows it like any other.
    expect((await t.app.store.deliveries.list({ limit: 10 })).map((d) => d.type)).toEqual(['crisis.alert']);
  });

  it('reads subscriptions and their secrets', () => {
    const file = webhooksFile(`subscriptions:\n  - name: crm\n    url: https://crm.example/hooks\n    events: [conversation.resolved]\n    secret_env: CRM_SECRET\n`);
    const subs = loadSubscriptions(file, { CRM_SECRET: `${good} ${newSecret()}` });
    expect(subs.list[0]).toMatchObject({ name: 'crm', privateData: false, payloadVersion: 1, timeoutMs: 10_000, connectTimeoutMs: 3_000 });
    expect(subs.list[0]!.secrets).toHaveLength(2);
    expect([...subs.list[0]!.events]).toEqual(['conversation.resolved']);
  });

  it('reports every mistake with file, line and column, and never a secret\'s value', () => {
    const file = webhooksFile(`subscriptions:
  - name: crm
    url: ftp://crm.example/hooks
    events: [conversation.exploded]
    secret_env: CRM_SECRET
`);
    const err = (() => {
      try {
        loadSubscriptions(file, {});
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual([expect.stringMatching(/webhooks\.yaml:3:10: subscriptions\.0\.url: must be an http\(s\) URL/), expect.stringMatching(/webhooks\.yaml:4:14: subscriptions\.0\.events\.0: /)]);
    const secretless = webhooksFile(`subscriptions:\n  - name: crm\n    url: https://crm.example/hooks\n    events: ["*"]\n    secret_env: CRM_SECRET\n`);
    expect(() => loadSubscriptions(secretless, {})).toThrow(/webhooks\.yaml:5:17: CRM_SECRET \(the secret of subscription crm\) is not set/);
    expect(() => loadSubscriptions(secretless, { CRM_SECRET: 'not-a-secret-value' })).toThrow(/CRM_SECRET must hold whsec_ secrets/);
    expect(() => loadSubscriptions(secretless, { CRM_SECRET: 'not-a-secret-value' })).not.toThrow(/not-a-secret-value/);
    expect(() => loadSubscriptions(join(tmpdir(), 'no-such-webhooks.yaml'), {})).toThrow(/WEBHOOKS_FILE: cannot read .*ENOENT/);
  });
});
