/**
 * The web chat API on generated input: whatever body, content type or query an outsider sends to
 * `POST /chat/api/sessions`, `POST /chat/api/messages` and `GET /chat/api/events`, the answer is
 * never a 5xx, the server does not crash, and it still serves the visitor afterwards. Bodies are
 * raw bytes, any JSON, and near-valid messages (a real token among wrong ones, odd texts in every
 * script, prototype keys, wrong types). The limits are set high so bodies reach the parser.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startTestApp, type TestApp } from '../../helpers/app.js';

const SEED = 20261118;

describe('the web chat API on generated input', () => {
  let t: TestApp;
  let base: string;
  let token: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    t = await startTestApp({
      WEBCHAT_SESSION_MESSAGES_PER_MINUTE: '10000',
      WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE: '100000',
      WEBCHAT_ADDRESS_SESSIONS_PER_HOUR: '100000',
      WEBCHAT_ADDRESS_STREAMS: '100000',
    });
    base = await t.app.listen(0, '127.0.0.1');
    token = ((await (await fetch(`${base}/chat/api/sessions`, { method: 'POST' })).json()) as { session: string }).session;
  });
  afterAll(async () => {
    await t.app.pipeline.idle();
    await t.close();
    process.off('unhandledRejection', onUnhandled);
  });

  const anyText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.constant(''), fc.constant(' \n\t'));
  const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText);
  const session = fc.oneof(
    fc.constant('REAL'),
    fc.string(),
    fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    fc.constant('__proto__'),
    anyValue,
  );
  const message = fc.record(
    {
      session,
      text: fc.oneof(anyText, anyValue, fc.string({ minLength: 3990, maxLength: 4010 })),
      payload: fc.oneof(anyText, anyValue),
      name: fc.oneof(anyText, anyValue),
      id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), anyValue),
      __proto__: anyValue,
      constructor: anyValue,
    },
    { requiredKeys: [] },
  );
  /** Messages that pass the shape and test what comes after: the token, the length, the text. */
  const nearValid = fc.record(
    {
      session: fc.oneof(fc.constant('REAL'), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
      text: fc.oneof(anyText, fc.string({ minLength: 3995, maxLength: 4005 })),
      payload: fc.string({ maxLength: 200 }),
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    },
    { requiredKeys: ['session'] },
  );
  const body = fc.oneof(
    nearValid.map((m) => JSON.stringify(m).replaceAll('"REAL"', JSON.stringify(token))),
    message.map((m) => JSON.stringify(m).replaceAll('"REAL"', JSON.stringify(token))),
    fc.json({ maxDepth: 3 }),
    fc.uint8Array({ maxLength: 2000 }).map((bytes) => new Blob([new Uint8Array(bytes)])),
    anyText,
    fc.constant('{"session":'),
    fc.constant('null'),
    fc.constant('[]'),
  );
  const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '');

  async function hit(path: string, payload: string | Blob, type: string): Promise<number> {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body: payload });
    await res.arrayBuffer();
    return res.status;
  }

  it('POST /chat/api/messages and /chat/api/sessions never answer 5xx', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/chat/api/messages', '/chat/api/sessions'), body, contentType, async (path, payload, type) => {
        const status = await hit(path, payload, type);
        statuses.add(status);
        expect(status).toBeLessThan(500);
      }),
      { seed: SEED, numRuns: 300 },
    );
    // The generated input reached every answer: accepted, created, resumed, refused as wrong, unknown, too long.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 202, 400, 401, 413]));
  });

  it('GET /chat/api/events never answers 5xx, whatever the query', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant('REAL'), fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)), fc.boolean(), async (value, twice) => {
        const query = value === 'REAL' ? token : value;
        const search = twice ? `session=${encodeURIComponent(query)}&session=x` : `session=${encodeURIComponent(query)}`;
        const controller = new AbortController();
        const res = await fetch(`${base}/chat/api/events?${search}`, { signal: controller.signal });
        controller.abort();
        expect(res.status).toBeLessThan(500);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('still serves the visitor afterwards, and nothing was left unhandled', async () => {
    await t.app.pipeline.idle();
    const res = await fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: token, text: 'quali sono i vostri orari?' }) });
    expect(res.status).toBe(202);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(unhandled).toEqual([]);
  });
});
