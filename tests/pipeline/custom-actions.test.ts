/**
 * Custom actions through the real pipeline (store, classifier, decision table, outbox): an FAQ
 * entry's `handler` answers with the data the customer gave, only where that data may be used;
 * a handoff it asks for is `escalate`/`handler`, a failure or timeout `escalate`/`handler_failed`;
 * it runs outside the conversation's lock, and the turn is planned again with its outcome.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello } from '../../src/app.js';
import { defineAction, type Action, type ActionInput, type ActionResult } from '../../src/actions/index.js';
import { loadConfig } from '../../src/config/config.js';
import { CorpusError } from '../../src/core/errors.js';
import type { Operator } from '../../src/core/types.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { ROOT, startTestApp, type TestApp } from '../helpers/app.js';
import { newSecret, startActionReceiver } from '../fakes/action-receiver.js';

const FIXTURE = join(ROOT, 'tests/fixtures/actions');
const env = { FAQ_DIR: join(FIXTURE, 'faq'), INTENTS_DIR: join(FIXTURE, 'intents'), UNDERSTANDING_THREADS: '0' };
const operator: Operator = { id: 'op-1', name: 'Marta Rossi', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };

/** An action that records what it was given and answers `result` (or runs `run`). */
function recording(name: string, result: ActionResult | ((input: ActionInput) => Promise<ActionResult>), extra: Partial<Action> = {}) {
  const calls: ActionInput[] = [];
  const action = defineAction({
    name,
    ...extra,
    handle: (input) => {
      calls.push(input);
      return typeof result === 'function' ? result(input) : result;
    },
  });
  return { action, calls };
}

describe('custom actions in the pipeline', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  async function start(actions: Action[]) {
    t = await startTestApp(env, '2026-11-24T10:00:00+01:00', undefined, { actions });
    await t.app.store.directory.addOperator(operator);
    return t;
  }

  const stock = () => recording('stock-check', { reply: 'In stock.' });

  it('answers a private entry with the data the customer gives for its request, in private', async () => {
    const orders = recording('order-status', { reply: 'Your order BR-1234567 left our warehouse yesterday and arrives on Thursday.' });
    await start([orders.action, stock().action]);
    const asked = await t.app.pipeline.receive(t.message('where is my order?'));
    expect(asked).toMatchObject({ action: 'answer', faqId: 'order-status' });
    expect(asked.handler).toBeUndefined();
    expect(orders.calls).toHaveLength(0);

    const given = await t.app.pipeline.receive(t.message('it is BR-1234567'));
    await t.app.sender.drain();
    expect(orders.calls).toEqual([{ handler: 'order-status', faq: 'order-status', language: 'en', channel: 'chat', visibility: 'private', data: { order_number: 'BR-1234567' } }]);
    expect(given).toMatchObject({ action: 'answer', faqId: 'order-status', handler: 'order-status' });
    expect(given.reason).toBeUndefined();
    expect(t.channel.sent.at(-1)!.reply).toEqual({ kind: 'text', text: 'Your order BR-1234567 left our warehouse yesterday and arrives on Thursday.' });
    const conversation = await t.app.store.conversations.get(given.conversation!.id);
    expect(conversation).toMatchObject({ state: 'bot' });
    expect(conversation!.dataRequest).toBeUndefined();
    const stored = await t.app.store.conversations.listMessages({ conversationId: conversation!.id });
    expect(stored.at(-2)).toMatchObject({ direction: 'in', action: 'answer', faqId: 'order-status' });
  });

  it('uses data given together with the question at once, in the customer\'s language', async () => {
    const orders = recording('order-status', { reply: 'Il tuo ordine è in consegna.' });
    await start([orders.action, stock().action]);
    const outcome = await t.app.pipeline.receive(t.message("dov'è il mio ordine? è BR-7654321"));
    expect(outcome).toMatchObject({ action: 'answer', faqId: 'stato-ordine', handler: 'order-status', language: 'it' });
    expect(orders.calls).toEqual([{ handler: 'order-status', faq: 'stato-ordine', language: 'it', channel: 'chat', visibility: 'private', data: { order_number: 'BR-7654321' } }]);
  });

  it('never runs a private entry\'s action in public: the bot moves the customer to private, and the action runs there with the data', async () => {
    const orders = recording('order-status', { reply: 'Arrives tomorrow.' });
    await start([orders.action, stock().action]);
    const publicly = { visibility: 'public' as const, threadId: 'post-1' };
    const prompt = await t.app.pipeline.receive(t.message('@shop where is my order?', publicly));
    expect(prompt).toMatchObject({ action: 'dm_prompt', faqId: 'order-status' });
    // Another customer posts their order number in public: warned and moved to private, no action.
    const leaked = await t.app.pipeline.receive(t.message('@shop where is my order BR-1234567', { visibility: 'public', threadId: 'post-2', customer: { platformId: 'cust-2' } }));
    expect(leaked.action).toBe('privacy_warning');
    expect(orders.calls).toHaveLength(0);

    const dm = await t.app.pipeline.receive(t.message('here it is: BR-1234567'));
    await t.app.sender.drain();
    expect(dm).toMatchObject({ action: 'answer', handler: 'order-status' });
    expect(orders.calls).toEqual([expect.objectContaining({ visibility: 'private', data: { order_number: 'BR-1234567' } })]);
    expect(t.channel.sent.at(-1)).toMatchObject({ visibility: 'private', reply: { text: 'Arrives tomorrow.' } });
    // The public thread that sent the customer to private is served there now.
    const thread = await t.app.store.conversations.findByKey('chat:public:post-1');
    expect(thread).toMatchObject({ state: 'bot' });
  });

  it('runs a public entry\'s action wherever it is asked, without data, with its quick replies', async () => {
    const stockCheck = recording('stock-check', { reply: 'The red jacket is in stock in S, M and L.', quickReplies: ['Size S', 'Size M', { title: 'Size L', payload: 'size-l' }] });
    await start([recording('order-status', { reply: 'x' }).action, stockCheck.action]);
    const outcome = await t.app.pipeline.receive(t.message('@shop is the red jacket in stock?', { visibility: 'public', threadId: 'post-9' }));
    await t.app.sender.drain();
    expect(outcome).toMatchObject({ action: 'answer', faqId: 'stock-check', handler: 'stock-check' });
    expect(stockCheck.calls).toEqual([{ handler: 'stock-check', faq: 'stock-check', language: 'en', channel: 'chat', visibility: 'public', data: {} }]);
    expect(t.channel.sent.at(-1)).toMatchObject({
      visibility: 'public',
      reply: { kind: 'quick_replies', text: 'The red jacket is in stock in S, M and L.', options: [{ title: 'Size S', payload: 'Size S' }, { title: 'Size M', payload: 'Size M' }, { title: 'Size L', payload: 'size-l' }] },
    });
  });

  it('hands the customer to a person when the action asks (reason handler), with its reason as a note for the operators', async () => {
    await start([recording('order-status', { handoff: true, reason: 'the courier reports the parcel lost' }).action, stock().action]);
    const outcome = await t.app.pipeline.receive(t.message('where is my order BR-1234567?'));
    await t.app.sender.drain();
    expect(outcome).toMatchObject({ action: 'escalate', reason: 'handler', handler: 'order-status', faqId: 'order-status' });
    const conversation = await t.app.store.conversations.get(outcome.conversation!.id);
    expect(conversation).toMatchObject({ state: 'queued', queue: { reason: 'handler', priority: 2 } });
    const stored = await t.app.store.conversations.listMessages({ conversationId: conversation!.id });
    expect(stored.filter((m) => m.direction === 'note')).toEqual([expect.objectContaining({ author: { kind: 'bot' }, text: 'order-status: the courier reports the parcel lost', visibility: 'private' })]);
    expect(t.channel.sent.at(-1)!.reply.text).toMatch(/colleague will check/);
    expect(t.channel.sent.every((s) => !s.reply.text.includes('lost'))).toBe(true);
  });

  it('hands the customer to a person when the action throws (reason handler_failed)', async () => {
    const broken = recording('order-status', async () => {
      throw new Error('orders database unreachable');
    });
    await start([broken.action, stock().action]);
    const outcome = await t.app.pipeline.receive(t.message('where is my order BR-1234567?'));
    await t.app.sender.drain();
    expect(broken.calls).toHaveLength(1);
    expect(outcome).toMatchObject({ action: 'escalate', reason: 'handler_failed', handler: 'order-status' });
    const stored = await t.app.store.conversations.listMessages({ conversationId: outcome.conversation!.id });
    expect(stored.find((m) => m.direction === 'note')!.text).toBe('order-status failed: orders database unreachable');
    expect(t.channel.sent.at(-1)!.reply.text).not.toMatch(/database/);
  });

  it('hands the customer to a person when the action takes longer than its time (handler_failed)', async () => {
    const slow = recording('order-status', () => new Promise<ActionResult>(() => undefined), { timeoutMs: 300 });
    await start([slow.action, stock().action]);
    const started = Date.now();
    const outcome = await t.app.pipeline.receive(t.message('where is my order BR-1234567?'));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome).toMatchObject({ action: 'escalate', reason: 'handler_failed' });
    const stored = await t.app.store.conversations.listMessages({ conversationId: outcome.conversation!.id });
    expect(stored.find((m) => m.direction === 'note')!.text).toBe('order-status failed: timed out after 300 ms');
  });

  it('runs outside the conversation\'s lock: an operator takes the conversation meanwhile, and the turn, planned again, stays silent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const gated = recording('order-status', async () => {
      started();
      await gate;
      return { reply: 'Arrives tomorrow.' };
    });
    await start([gated.action, stock().action]);
    const first = await t.app.pipeline.receive(t.message('where is my order?'));
    const turn = t.app.pipeline.receive(t.message('BR-1234567'));
    await running;
    // The action is still running: the claim takes the lock and commits.
    const claimed = await t.app.desk.claim(first.conversation!.id, operator);
    expect(claimed.state).toBe('assigned');
    release();
    const outcome = await turn;
    await t.app.sender.drain();
    expect(gated.calls).toHaveLength(1);
    expect(outcome.action).toBe('silent');
    expect(t.channel.sent.some((s) => s.reply.text === 'Arrives tomorrow.')).toBe(false);
  });

  it('calls an HTTP action of the actions folder, signed, and answers with its reply', async () => {
    const secret = newSecret();
    const receiver = await startActionReceiver(secret, { status: 200, json: { reply: 'Ordine BR-1234567: consegnato ieri alle 15.' } });
    const actionsDir = mkdtempSync(join(tmpdir(), 'sportello-actions-'));
    try {
      writeFileSync(join(actionsDir, 'order-status.yaml'), `name: order-status\nurl: ${receiver.url}\ntimeout_ms: 3000\n`);
      writeFileSync(join(actionsDir, 'stock.mjs'), "export default { name: 'stock-check', handle: () => ({ reply: 'Sì.' }) };\n");
      t = await startTestApp({ ...env, ACTIONS_DIR: actionsDir, ACTIONS_SECRET: secret });
      const outcome = await t.app.pipeline.receive(t.message("dov'è il mio ordine? BR-1234567"));
      await t.app.sender.drain();
      expect(outcome).toMatchObject({ action: 'answer', handler: 'order-status' });
      expect(receiver.calls).toHaveLength(1);
      expect(receiver.calls[0]).toMatchObject({ verified: true, body: { type: 'action.request', handler: 'order-status', faq: 'stato-ordine', language: 'it', visibility: 'private', data: { order_number: 'BR-1234567' } } });
      expect(t.channel.sent.at(-1)!.reply.text).toBe('Ordine BR-1234567: consegnato ieri alle 15.');
    } finally {
      await receiver.close();
      rmSync(actionsDir, { recursive: true, force: true });
    }
  });

  it('does not start, nor take an edit, when an FAQ entry names a handler that no action provides, naming the file, line and column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sportello-actions-start-'));
    try {
      cpSync(FIXTURE, join(dir, 'fixture'), { recursive: true });
      mkdirSync(join(dir, 'actions'));
      writeFileSync(join(dir, 'actions', 'stock.mjs'), "export default { name: 'stock-check', handle: () => ({ reply: 'ok' }) };\n");
      const config = loadConfig({
        SPORTELLO_DATA: join(dir, 'store.json'),
        FAQ_DIR: join(dir, 'fixture/faq'),
        INTENTS_DIR: join(dir, 'fixture/intents'),
        ACTIONS_DIR: join(dir, 'actions'),
        FAQ_WATCH: 'false',
        UNDERSTANDING_THREADS: '0',
      });
      const failure = await createSportello({ config, logger: createSilentLogger() }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(CorpusError);
      const problems = (failure as CorpusError).problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
      expect(problems).toEqual([
        expect.stringMatching(/negozio\.yaml:7:14: handler: no action named "order-status" \(actions: stock-check\)$/),
        expect.stringMatching(/shop\.yaml:7:14: handler: no action named "order-status" \(actions: stock-check\)$/),
      ]);

      // With the action there it starts; an edit naming an unknown action is refused while it runs.
      writeFileSync(join(dir, 'actions', 'orders.mjs'), "export default { name: 'order-status', handle: () => ({ reply: 'ok' }) };\n");
      const app = await createSportello({ config, logger: createSilentLogger() });
      try {
        const shop = join(dir, 'fixture/faq/shop.yaml');
        writeFileSync(shop, readFileSync(shop, 'utf8').replace('handler: stock-check', 'handler: stock-chek'));
        const reload = await app.knowledge.reload();
        expect(reload).toEqual({ ok: false, problems: [expect.stringMatching(/shop\.yaml:\d+:14: handler: no action named "stock-chek" \(actions: order-status, stock-check\)$/)] });
        expect(app.knowledge.current().corpus.faq.find((e) => e.id === 'stock-check')!.handler).toBe('stock-check');
      } finally {
        await app.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
