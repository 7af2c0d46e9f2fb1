/**
 * Property-based tests of the operator API's bodies, ids and query strings, over the real HTTP
 * routes of a real instance (tests/fuzz/harness.ts) with a logged-in admin session (cookie and
 * CSRF token, same origin), so every request reaches the body parser and the desk: login,
 * every conversation action, the suggestion review (edit, approve, reject) and the reads. The
 * conversations and suggestions are real (a customer asked for a person on Messenger; an operator
 * answered and resolved with "add to FAQ"), so generated actions move real state, and
 * approving writes YAML into this instance's own copy of the FAQ. Whatever comes: < 500, no
 * error log, nothing unhandled, /healthz answers. Seeded (`SEED=n`), bounded (`RUNS=n`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { pageWebhook, textEvent } from '../fakes/graph-api/payloads.js';
import { fuzzOptions, garbageBody, mutated, nastyString } from './arbitraries.js';
import { describeIncidents, META, OPERATOR_PASSWORD, startFuzzApp, type FuzzApp } from './harness.js';

let fuzz: FuzzApp;
let cookie = '';
let csrf = '';
const conversationIds: string[] = [];
const suggestionIds: string[] = [];

interface Answer {
  status: number;
  text: string;
}

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, raw?: string, extra: Record<string, string> = {}): Promise<Answer> {
  const headers: Record<string, string> = { cookie, 'x-csrf-token': csrf, origin: fuzz.base, ...extra };
  if (raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${fuzz.base}${path}`, { method, headers, ...(raw !== undefined ? { body: raw } : {}) }).catch((err: Error & { cause?: Error }) => {
    throw new Error(`the server dropped the request: ${err.message} (${err.cause?.message ?? ''})`);
  });
  return { status: res.status, text: await res.text() };
}

async function holds(answer: Answer): Promise<void> {
  await fuzz.settle();
  const incidents = fuzz.takeIncidents();
  if (answer.status >= 500 || incidents.length) throw new Error(`status ${answer.status} ${answer.text.slice(0, 300)}\n${describeIncidents(incidents)}`);
}

async function logIn(): Promise<void> {
  const res = await fetch(`${fuzz.base}/api/operator/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: fuzz.base },
    body: JSON.stringify({ name: 'Fuzz Admin', password: OPERATOR_PASSWORD }),
  });
  expect(res.status).toBe(200);
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
}

/** A customer asks for a person on Messenger; the conversation waits in the queue. */
async function queuedConversation(i: number): Promise<string> {
  const psid = `6199${String(i).padStart(8, '0')}`;
  fuzz.graph.userWrote(psid, fuzz.clock.now());
  const body = pageWebhook(META.pageId, { messaging: [textEvent(META.pageId, psid, 'Voglio parlare con un operatore, subito', { mid: `m_fuzz_${i}`, timestamp: fuzz.clock.now().getTime() })] });
  expect((await fuzz.graph.deliver(`${fuzz.base}/webhooks/messenger`, body)).status).toBe(200);
  await fuzz.settle();
  const conversation = await fuzz.app.store.conversations.findByKey(`messenger:private:${psid}`);
  if (!conversation) throw new Error('no conversation');
  return conversation.id;
}

beforeAll(async () => {
  fuzz = await startFuzzApp({ ownCorpus: true });
  await logIn();
  // Conversations to act on, and suggestions to review (claim, answer, resolve with "add to FAQ").
  for (let i = 0; i < 8; i += 1) conversationIds.push(await queuedConversation(i));
  for (const id of conversationIds.slice(0, 4)) {
    expect((await call('POST', `/api/operator/conversations/${id}/claim`, '{}')).status).toBe(200);
    expect((await call('POST', `/api/operator/conversations/${id}/reply`, JSON.stringify({ text: 'Le passo subito il reparto spedizioni: il numero è sul sito.' }))).status).toBe(200);
    expect((await call('POST', `/api/operator/conversations/${id}/resolve`, JSON.stringify({ addToFaq: true }))).status).toBe(200);
  }
  await fuzz.settle();
  suggestionIds.push(...(await fuzz.app.store.suggestions.list({ status: 'pending' })).map((s) => s.id));
  expect(suggestionIds.length).toBeGreaterThan(0);
  expect(describeIncidents(fuzz.takeIncidents())).toBe('');
}, 180_000);
afterAll(async () => {
  await fuzz.close();
});

/** Ids as they reach the routes: real ones, and hostile ones (encoded into the path). */
const conversationId = () => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...conversationIds) }, { weight: 1, arbitrary: nastyString.filter((s) => s.length < 3000) });
const suggestionId = () => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...suggestionIds) }, { weight: 1, arbitrary: nastyString.filter((s) => s.length < 3000) });

/** An id in a path: percent-encoded, or, where it cannot be (a lone surrogate), the bytes no decoder accepts. */
function inPath(id: string): string {
  try {
    return encodeURIComponent(id);
  } catch {
    return `%ED%A0%80${id.length}%`;
  }
}

const ACTIONS: Record<string, unknown> = {
  claim: { takeover: true },
  reply: { text: 'Gentile cliente, il pacco parte domani.', visibility: 'private' },
  note: { text: 'ha già scritto ieri' },
  'ask-private': {},
  transfer: { operatorId: 'op-fuzz' },
  resolve: { addToFaq: false, answer: 'Il pacco parte domani.' },
  'return-to-bot': {},
  typing: {},
};

describe('operator API with hostile bodies, ids and query strings', () => {
  it('login: never 5xx, whatever the body (only the right password logs in)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated({ name: 'Fuzz Admin', password: 'not-the-password' }), garbageBody.map((raw) => ({ raw }))), async (body) => {
        const raw = typeof body === 'object' && body !== null && 'raw' in body ? String((body as { raw: string }).raw) : (JSON.stringify(body) ?? 'null');
        const res = await fetch(`${fuzz.base}/api/operator/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: fuzz.base }, body: raw });
        const answer = { status: res.status, text: await res.text() };
        await holds(answer);
        expect(answer.status).not.toBe(200);
      }),
      fuzzOptions(80),
    );
  });

  it('conversation actions: never 5xx nor an error log, whatever the action, id and body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(ACTIONS)).chain((action) => fc.tuple(fc.constant(action), conversationId(), fc.oneof({ weight: 4, arbitrary: mutated(ACTIONS[action]).map((b) => JSON.stringify(b) ?? 'null') }, { weight: 1, arbitrary: garbageBody }))),
        async ([action, id, raw]) => {
          await holds(await call('POST', `/api/operator/conversations/${inPath(id)}/${action}`, raw));
        },
      ),
      fuzzOptions(200),
    );
  });

  it('suggestion review (edit, approve, reject): never 5xx, whatever the id and body', async () => {
    const edit = { questions: ['Come contatto le spedizioni?', 'numero spedizioni'], answer: 'Il numero è sul sito.', answerShort: 'Sul sito.', entryId: 'contatto-spedizioni', locale: 'it' };
    const approve = { questions: ['Come contatto le spedizioni?'], answer: 'Il numero è sul sito.', answerShort: 'Sul sito.', id: 'contatto-spedizioni-fuzz' };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 6, arbitrary: fc.tuple(fc.constant('edit'), suggestionId(), mutated(edit)) },
          { weight: 1, arbitrary: fc.tuple(fc.constant('approve'), suggestionId(), mutated(approve)) },
          { weight: 1, arbitrary: fc.tuple(fc.constant('reject'), suggestionId(), mutated({})) },
        ),
        async ([action, id, body]) => {
          await holds(await call('POST', `/api/operator/suggestions/${inPath(id)}/${action}`, JSON.stringify(body) ?? 'null'));
        },
      ),
      fuzzOptions(100),
    );
  });

  it('reads (queue, conversation, its suggestions, suggestion list): never 5xx, whatever the id and query string', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/queue', '/conversations/:id', '/conversations/:id/suggestions', '/suggestions', '/me', '/operators'),
        conversationId(),
        fc.array(fc.tuple(fc.constantFrom('status', 'channel', 'id', '__proto__'), fc.oneof(fc.constantFrom('pending', 'approved', 'rejected'), nastyString.filter((s) => s.length < 2000))), { maxLength: 3 }),
        async (path, id, query) => {
          const qs = new URLSearchParams(query).toString();
          await holds(await call('GET', `/api/operator${path.replace(':id', inPath(id))}${qs ? `?${qs}` : ''}`));
        },
      ),
      fuzzOptions(100),
    );
  });

  it('desk reads (search, customers, saved replies, presence, teams): never 5xx, whatever the id and query string', async () => {
    const customerId = fc.oneof({ weight: 3, arbitrary: fc.constant('messenger:619900000001') }, { weight: 1, arbitrary: nastyString.filter((s) => s.length < 2000) });
    const keys = ['view', 'q', 'channel', 'state', 'language', 'operator', 'tag', 'team', 'priority', 'reason', 'from', 'to', 'page', 'page_size', 'conversation_id', 'visibility', '__proto__'];
    const values = fc.oneof(
      fc.constantFrom('mine', 'all', 'waiting', 'queued,assigned', 'it', 'en', 'messenger', '2', '100', '101', '0', '2026-11-24', '2026-11-24T10:00:00Z', 'operatore', 'vip', conversationIds[0]!, 'public'),
      nastyString.filter((s) => s.length < 2000),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/conversations', '/customers/:cid', '/saved-replies', '/saved-replies/:id/render', '/presence', '/assignment', '/teams'),
        customerId,
        fc.array(fc.tuple(fc.constantFrom(...keys), values), { maxLength: 4 }),
        async (path, cid, query) => {
          const qs = new URLSearchParams(query).toString();
          await holds(await call('GET', `/api/operator${path.replace(':cid', inPath(cid)).replace(':id', 'sr_none')}${qs ? `?${qs}` : ''}`));
        },
      ),
      fuzzOptions(150),
    );
  });

  it('desk changes (notes, tags, links, saved replies, presence, settings, teams): never 5xx, whatever the id and body', async () => {
    const customer = 'messenger:619900000002';
    const samples: Array<['POST' | 'PUT' | 'DELETE', string, unknown]> = [
      ['POST', `/customers/${customer}/notes`, { text: 'preferisce la mail' }],
      ['PUT', `/customers/${customer}/tags`, { tags: ['vip', 'reso'] }],
      ['POST', `/customers/${customer}/links`, { customer_id: 'messenger:619900000003' }],
      ['DELETE', `/customers/${customer}/links/messenger:619900000003`, undefined],
      ['POST', '/saved-replies', { language: 'it', shortcut: 'orari', title: 'Orari', text: 'Ciao {customer_name}, siamo aperti {business_hours}.' }],
      ['PUT', '/saved-replies/sr_none', { text: 'x' }],
      ['DELETE', '/saved-replies/sr_none', undefined],
      ['POST', '/presence', { status: 'online' }],
      ['PUT', '/assignment', { auto_assign: true, capacity: 3, away_return_minutes: 30, skills: { 'op-fuzz': { languages: ['it'], channels: ['messenger'] } } }],
      ['POST', '/teams', { name: 'Team', members: ['op-fuzz'], channels: ['messenger'], languages: ['it'] }],
      ['PUT', '/teams/team_none', { name: 'x' }],
      ['DELETE', '/teams/team_none', undefined],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...samples).chain(([method, path, sample]) =>
          fc.tuple(fc.constant(method), fc.constant(path), sample === undefined ? fc.constant(undefined) : fc.oneof({ weight: 4, arbitrary: mutated(sample).map((b) => JSON.stringify(b) ?? 'null') }, { weight: 1, arbitrary: garbageBody })),
        ),
        async ([method, path, raw]) => {
          await holds(await call(method, `/api/operator${path}`, raw));
        },
      ),
      fuzzOptions(200),
    );
    // Auto-assignment may have been turned on above: the passes it runs must not fail either.
    await fuzz.app.assignment.run();
    await holds({ status: 200, text: '' });
  });

  it('after all of it, the server answers /healthz and nothing was left unhandled', async () => {
    expect(await fuzz.healthy()).toBe(true);
    expect(describeIncidents(fuzz.takeIncidents())).toBe('');
  });
});
