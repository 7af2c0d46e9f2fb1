/**
 * Test helper: a real Sportello instance listening on 127.0.0.1, with operators, and an HTTP
 * client that keeps one operator session (cookie + CSRF token) like the console does.
 */
import { expect } from '@jest/globals';
import type { Operator } from '../../src/core/types.js';
import { hashPassword } from '../../src/handoff/auth.js';
import type { Logger } from '../../src/util/logger.js';
import { closeProjectKnowledge, startTestApp, type TestApp } from '../helpers/app.js';

/** Cheap scrypt for tests: verification reads the parameters from the hash. */
const FAST = { N: 2 ** 12, r: 8, p: 1 };

export const PASSWORDS = { marta: 'marta-password-1', luca: 'luca-password-22', anna: 'anna-password-333' } as const;

/** Closes the shared knowledge (call in afterAll). */
export const closeSharedKnowledge = closeProjectKnowledge;

export interface ApiApp extends TestApp {
  base: string;
  marta: Operator;
  luca: Operator;
  anna: Operator;
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
  const t = await startTestApp(env, start, undefined, { logger: options.logger });
  const { app } = t;
  const base = await app.listen(0, '127.0.0.1');
  const make = async (id: string, name: string, initials: string, role: Operator['role'], password: string): Promise<Operator> => {
    const op: Operator = { id, name, initials, role, passwordHash: await hashPassword(password, FAST), createdAt: '2026-01-01T00:00:00.000Z' };
    await app.store.directory.addOperator(op);
    return op;
  };
  return {
    ...t,
    base,
    marta: await make('op-marta', 'Marta', 'MR', 'agent', PASSWORDS.marta),
    luca: await make('op-luca', 'Luca', 'LB', 'agent', PASSWORDS.luca),
    anna: await make('op-anna', 'Anna', 'AV', 'admin', PASSWORDS.anna),
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

export async function answer(res: Response): Promise<Answer> {
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

/**
 * Any method as the console sends it: the client's cookie and CSRF token and this site's origin
 * unless told otherwise (`null`: none), JSON content type when `json`.
 */
export function request(
  base: string,
  client: Client,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { body?: unknown; json?: boolean; csrf?: string | null; origin?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = options.json ? { 'content-type': 'application/json' } : {};
  if (client.cookie) headers.cookie = client.cookie;
  const origin = options.origin === undefined ? base : options.origin;
  if (origin) headers.origin = origin;
  const csrf = options.csrf === undefined ? client.csrf : options.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  return fetch(`${base}/api/operator${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
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

/** Logs the named operators of `startApiApp` in, one after another; their clients in the same order. */
export async function logins<Names extends Array<'Marta' | 'Luca' | 'Anna'>>(base: string, ...names: Names): Promise<{ [K in keyof Names]: Client }> {
  const clients: Client[] = [];
  for (const name of names) clients.push(await login(base, name, PASSWORDS[name.toLowerCase() as keyof typeof PASSWORDS]));
  return clients as { [K in keyof Names]: Client };
}

/** Customer `who` (more of the customer in `extra`) writes `text`, which the bot escalates; returns the conversation id. */
export async function escalateFrom(t: ApiApp, who: string, text = 'voglio parlare con un operatore', extra: Record<string, unknown> = {}): Promise<string> {
  const outcome = await t.app.pipeline.receive(t.message(text, { customer: { platformId: who, handle: who, ...extra }, id: `m-${who}-${Math.random()}` }));
  expect(outcome.action).toBe('escalate');
  return outcome.conversation!.id;
}
