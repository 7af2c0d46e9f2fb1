/**
 * Test helper: a real Sportello instance listening on 127.0.0.1, with operators, and an HTTP
 * client that keeps one operator session (cookie + CSRF token) like the console does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello, type Sportello } from '../../src/app.js';
import { createRecordingChannel, type RecordingChannel } from '../../src/channels/console/index.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type FakeClock } from '../../src/core/ports.js';
import type { InboundMessage, Operator } from '../../src/core/types.js';
import { hashPassword } from '../../src/handoff/auth.js';
import { createSilentLogger, type Logger } from '../../src/util/logger.js';
import { chatMessage, closeProjectKnowledge, privateChatCapabilities, projectKnowledge, ROOT } from '../helpers/app.js';

/** Cheap scrypt for tests: verification reads the parameters from the hash. */
const FAST = { N: 2 ** 12, r: 8, p: 1 };

export const PASSWORDS = { marta: 'marta-password-1', luca: 'luca-password-22', anna: 'anna-password-333' } as const;

/** Closes the shared knowledge (call in afterAll). */
export const closeSharedKnowledge = closeProjectKnowledge;

export interface ApiApp {
  app: Sportello;
  clock: FakeClock;
  channel: RecordingChannel;
  dir: string;
  base: string;
  marta: Operator;
  luca: Operator;
  anna: Operator;
  message(text: string, extra?: Partial<InboundMessage>): InboundMessage;
  close(): Promise<void>;
}

/**
 * Starts a real instance (lowdb store in a temporary folder, real pipeline, desk and HTTP server
 * on 127.0.0.1) with a recording channel `chat` and three operators: Marta and Luca (agents),
 * Anna (admin). Tuesday 24 November 2026, 10:00 in Rome unless `start` says otherwise.
 */
export async function startApiApp(
  env: Record<string, string> = {},
  start = '2026-11-24T10:00:00+01:00',
  options: { logger?: Logger } = {},
): Promise<ApiApp> {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-api-'));
  const config = loadConfig({
    SPORTELLO_DATA: join(dir, 'store.json'),
    FAQ_DIR: join(ROOT, 'faq'),
    INTENTS_DIR: join(ROOT, 'intents'),
    FAQ_WATCH: 'false',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  });
  const clock = createFakeClock(start);
  const channel = createRecordingChannel('chat', privateChatCapabilities);
  const app = await createSportello({
    config,
    clock,
    logger: options.logger ?? createSilentLogger(),
    channels: [channel],
    outboxPollMs: 50,
    // A FAQ folder of its own is trained for this instance (approving writes into it, and the bot answers from it).
    knowledge: env.FAQ_DIR || env.INTENTS_DIR ? undefined : await projectKnowledge(),
  });
  const base = await app.listen(0, '127.0.0.1');
  const make = async (id: string, name: string, initials: string, role: Operator['role'], password: string): Promise<Operator> => {
    const op: Operator = { id, name, initials, role, passwordHash: await hashPassword(password, FAST), createdAt: '2026-01-01T00:00:00.000Z' };
    await app.store.directory.addOperator(op);
    return op;
  };
  return {
    app,
    clock,
    channel,
    dir,
    base,
    marta: await make('op-marta', 'Marta', 'MR', 'agent', PASSWORDS.marta),
    luca: await make('op-luca', 'Luca', 'LB', 'agent', PASSWORDS.luca),
    anna: await make('op-anna', 'Anna', 'AV', 'admin', PASSWORDS.anna),
    message: (text, extra) => chatMessage(clock, text, extra),
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: string };
}

/** One operator's session against the API. */
export interface Client {
  cookie?: string;
  csrf?: string;
  get(path: string): Promise<Answer>;
  post(path: string, body?: unknown, options?: { origin?: string | null; csrf?: string | null; site?: string }): Promise<Answer>;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

/** A client without a session. */
export function anonymous(base: string): Client {
  const client: Client = {
    async get(path) {
      return answer(await fetch(`${base}/api/operator${path}`, { headers: client.cookie ? { cookie: client.cookie } : {} }));
    },
    async post(path, body, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (client.cookie) headers.cookie = client.cookie;
      const origin = options.origin === undefined ? base : options.origin;
      if (origin) headers.origin = origin;
      const csrf = options.csrf === undefined ? client.csrf : options.csrf;
      if (csrf) headers['x-csrf-token'] = csrf;
      if (options.site) headers['sec-fetch-site'] = options.site;
      return answer(await fetch(`${base}/api/operator${path}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) }));
    },
  };
  return client;
}

/** Logs in and returns the client holding the session. */
export async function login(base: string, name: string, password: string): Promise<Client> {
  const client = anonymous(base);
  const res = await client.post('/login', { name, password });
  if (res.status !== 200) throw new Error(`login of ${name} failed: ${res.status} ${JSON.stringify(res.body)}`);
  client.cookie = res.headers.get('set-cookie')!.split(';')[0];
  client.csrf = res.body.csrfToken as string;
  return client;
}
