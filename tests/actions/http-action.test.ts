/**
 * HTTP actions against a brand's endpoint on 127.0.0.1 that verifies each call with the Standard
 * Webhooks library: the signature (and a secret rotation), retries with the same webhook-id,
 * Retry-After, timeouts, and replies that are not JSON or not a reply.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createActionRunner, httpAction, type ActionInput } from '../../src/actions/index.js';
import { createLogger, createSilentLogger } from '../../src/util/logger.js';
import { newSecret, startActionReceiver, type ActionReceiver } from '../fakes/action-receiver.js';

const input: ActionInput = {
  handler: 'order-status',
  faq: 'order-status',
  language: 'it',
  channel: 'messenger',
  visibility: 'private',
  data: { order_number: 'BR-4455889' },
};

describe('an HTTP action', () => {
  const secret = newSecret();
  let receiver: ActionReceiver;
  afterEach(async () => {
    await receiver?.close();
  });

  const runnerFor = (url: string, options: { secrets?: string[]; timeoutMs?: number; retries?: number } = {}) =>
    createActionRunner([httpAction({ name: 'order-status', url, timeoutMs: options.timeoutMs ?? 4000, retries: options.retries }, { secrets: options.secrets ?? [secret] })], {
      logger: createSilentLogger(),
    });

  it('posts the input as JSON, signed so that the standardwebhooks library verifies it, and uses the checked reply', async () => {
    receiver = await startActionReceiver(secret, { status: 200, json: { reply: 'Il tuo ordine BR-4455889 arriva domani.', quickReplies: ['Grazie', { title: 'Cambia indirizzo', payload: 'change-address' }] } });
    const outcome = await runnerFor(receiver.url).call(input);
    expect(outcome).toEqual({
      kind: 'reply',
      text: 'Il tuo ordine BR-4455889 arriva domani.',
      quickReplies: [
        { title: 'Grazie', payload: 'Grazie' },
        { title: 'Cambia indirizzo', payload: 'change-address' },
      ],
    });
    expect(receiver.calls).toHaveLength(1);
    const call = receiver.calls[0]!;
    expect(call.verifyError).toBeUndefined();
    expect(call.verified).toBe(true);
    expect(call.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(call.timestamp) - Date.now() / 1000)).toBeLessThan(10);
    expect(call.body).toEqual({ type: 'action.request', timestamp: expect.any(String), ...input });
  });

  it('is refused by a receiver holding another secret (the signature really depends on it)', async () => {
    receiver = await startActionReceiver(newSecret());
    const outcome = await runnerFor(receiver.url).call(input);
    expect(receiver.calls[0]!.verified).toBe(false);
    expect(outcome).toEqual({ kind: 'failed', error: 'HTTP 401' });
    // A 4xx is an answer: not retried.
    expect(receiver.calls).toHaveLength(1);
  });

  it('signs with every secret during a rotation: receivers holding the old or the new one both verify', async () => {
    const next = newSecret();
    for (const held of [secret, next]) {
      receiver = await startActionReceiver(held, { status: 200, json: { reply: 'ok' } });
      const outcome = await runnerFor(receiver.url, { secrets: [next, secret] }).call(input);
      expect(outcome.kind).toBe('reply');
      expect(receiver.calls[0]!.verified).toBe(true);
      expect(receiver.calls[0]!.signature.split(' ')).toHaveLength(2);
      await receiver.close();
    }
  });

  it('retries after 500s with the same webhook-id, each attempt signed afresh', async () => {
    receiver = await startActionReceiver(secret, { status: 500, json: { error: 'db down' } }, { status: 502, text: 'bad gateway' }, { status: 200, json: { reply: 'In consegna.' } });
    const outcome = await runnerFor(receiver.url, { retries: 2 }).call(input);
    expect(outcome).toMatchObject({ kind: 'reply', text: 'In consegna.' });
    expect(receiver.calls).toHaveLength(3);
    expect(new Set(receiver.calls.map((c) => c.id)).size).toBe(1);
    expect(receiver.calls.every((c) => c.verified)).toBe(true);
  });

  it('gives up after its retries, as a failure', async () => {
    receiver = await startActionReceiver(secret, { status: 503, json: {} });
    const outcome = await runnerFor(receiver.url, { retries: 1 }).call(input);
    expect(outcome).toEqual({ kind: 'failed', error: 'HTTP 503 (2 attempts)' });
    expect(receiver.calls).toHaveLength(2);
  });

  it('waits as long as a 429 Retry-After asks before retrying', async () => {
    receiver = await startActionReceiver(secret, { status: 429, json: {}, headers: { 'retry-after': '1' } }, { status: 200, json: { reply: 'ok' } });
    const started = Date.now();
    const outcome = await runnerFor(receiver.url).call(input);
    expect(outcome.kind).toBe('reply');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(receiver.calls).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond its time: it fails at once', async () => {
    receiver = await startActionReceiver(secret, { status: 429, json: {}, headers: { 'retry-after': '30' } });
    const started = Date.now();
    const outcome = await runnerFor(receiver.url, { timeoutMs: 3000 }).call(input);
    expect(outcome).toEqual({ kind: 'failed', error: 'HTTP 429; no time left to retry' });
    // It did not wait (for the 30 s asked, nor until its 3 s were up): one call's time, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('abandons an endpoint that hangs when its time is up', async () => {
    receiver = await startActionReceiver(secret, { hang: true });
    const started = Date.now();
    const outcome = await runnerFor(receiver.url, { timeoutMs: 400 }).call(input);
    const took = Date.now() - started;
    expect(outcome.kind).toBe('failed');
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(2000);
  });

  it('fails on a reply that is not JSON, without retrying', async () => {
    receiver = await startActionReceiver(secret, { status: 200, text: '<html>oops</html>' });
    const outcome = await runnerFor(receiver.url).call(input);
    expect(outcome).toEqual({ kind: 'failed', error: 'HTTP 200: the reply is not JSON' });
    expect(receiver.calls).toHaveLength(1);
  });

  it('fails on JSON that is neither a reply nor a handoff, naming what is wrong', async () => {
    receiver = await startActionReceiver(secret, { status: 200, json: { replly: 'typo' } });
    const outcome = await runnerFor(receiver.url).call(input);
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' && outcome.error).toMatch(/neither \{ reply \} nor \{ handoff: true \}/);
  });

  it('passes a handoff and its reason on', async () => {
    receiver = await startActionReceiver(secret, { status: 200, json: { handoff: true, reason: 'parcel lost by the courier' } });
    expect(await runnerFor(receiver.url).call(input)).toEqual({ kind: 'handoff', reason: 'parcel lost by the courier' });
  });

  it('retries a refused connection, then fails, and logs the failure without the customer data', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) });
    const runner = createActionRunner(
      [
        httpAction({ name: 'order-status', url: `http://127.0.0.1:${port}/x`, timeoutMs: 3000, retries: 2 }, { secrets: [secret] }),
        { name: 'leaky', handle: () => { throw new Error(`order ${input.data.order_number} not found for mario@example.com`); } },
      ],
      { logger },
    );
    const outcome = await runner.call(input);
    expect(outcome).toEqual({ kind: 'failed', error: 'request failed (ECONNREFUSED) (3 attempts)' });
    const leaky = await runner.call({ ...input, handler: 'leaky' });
    expect(leaky.kind).toBe('failed');
    await new Promise((r) => setImmediate(r));
    const log = lines.join('');
    expect(log).toMatch(/custom action failed/);
    expect(log).toMatch(/not found for \[redacted\]/);
    expect(log).not.toContain('BR-4455889');
    expect(log).not.toContain('mario@example.com');
  });
});
