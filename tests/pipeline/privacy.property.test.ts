/**
 * The privacy guard end to end, on generated messages: private data in every common form, posted in
 * public, goes through the real pipeline (classifier, decision, store, outbox, recording channel).
 * Every such post gets the privacy warning first (and is queued for a person when it also asks for one), is flagged, and no reply repeats the data; posts with only
 * prices, dates, times, quantities and product codes are not taken for private data.
 */
import fc from 'fast-check';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { compose, FRAMES, lookAlike, privateCase } from '../helpers/entity-cases.js';

const SEED = 20261203;
const frame = fc.constantFrom(...FRAMES);

describe('privacy guard on generated public messages', () => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sends `text` as a public post in a thread of its own and waits for the replies to go out. */
  async function post(text: string) {
    n += 1;
    const before = t.channel.sent.length;
    const msg = t.message(text, { visibility: 'public', threadId: `th-prop-${n}`, customer: { platformId: `cust-prop-${n}`, handle: `cliente${n}` } });
    const outcome = await t.app.pipeline.receive(msg);
    await t.app.sender.drain();
    const replies = t.channel.sent.slice(before).map((item) => item.reply.text ?? '');
    const stored = await t.app.store.conversations.listMessages({ conversationId: outcome.conversation!.id });
    const inbound = stored.find((m) => m.direction === 'in' && m.platformId === msg.id);
    return { outcome, replies, inbound };
  }

  it('recognises the forms of the issue in public posts: "(02) 8765 4321" is no longer asked to be rephrased', async () => {
    for (const phone of ['(02) 8765 4321', '06-5551234', '0039 347 765 4321', '+39 347 7654321', '347.765.4321']) {
      const { outcome, replies, inbound } = await post(`buongiorno, potete richiamarmi al ${phone}? grazie`);
      // Warned first; asking to be called back is asking for a person, so the case is queued at once.
      expect(replies[0]).toMatch(/dati personali/);
      expect(outcome).toMatchObject({ action: 'escalate', reason: 'human_request' });
      for (const reply of replies) expect(reply.replace(/\D/g, '')).not.toContain(phone.replace(/\D/g, ''));
      expect(inbound?.flags).toContain('private_data');
    }
  });

  it('answers every public post with private data with privacy_warning, flags it and never repeats the data', async () => {
    await fc.assert(
      fc.asyncProperty(privateCase, frame, lookAlike, async (c, f, x) => {
        const { text } = compose(f, c.lead, c.value, x, c.tail);
        const { outcome, replies, inbound } = await post(text);
        // The warning comes first; a post that also asks for a person ("call me on …") is queued too.
        expect(['privacy_warning', 'escalate']).toContain(outcome.action);
        expect(replies[0]).toMatch(/dati personali|personal data/);
        const digits = c.value.replace(/\D/g, '');
        for (const reply of replies) {
          expect(reply.toLowerCase()).not.toContain(c.value.toLowerCase());
          if (digits.length >= 6) expect(reply.replace(/\D/g, '')).not.toContain(digits);
        }
        expect(inbound?.flags).toContain('private_data');
        expect(outcome.conversation!.flags).toContain('private_data_public');
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('does not take public posts with only look-alike numbers for private data', async () => {
    await fc.assert(
      fc.asyncProperty(frame, lookAlike, lookAlike, async (f, x1, x2) => {
        const { text } = compose(f, '', x1, x2);
        const { outcome, inbound } = await post(text);
        expect(outcome.action).not.toBe('privacy_warning');
        expect(inbound).toBeDefined();
        expect(inbound!.flags ?? []).not.toContain('private_data');
      }),
      { seed: SEED, numRuns: 40 },
    );
  });
});
