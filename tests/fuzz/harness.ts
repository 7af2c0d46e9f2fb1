/**
 * @module tests/fuzz/harness
 * A real Sportello (createSportello: lowdb store, classifier, pipeline, outbox sender, HTTP server
 * on 127.0.0.1) with every platform channel on, each talking to its fake platform server: X (fake
 * X API over TLS), Messenger (fake Graph API), Bot Framework (local-only, fake Connector). It
 * records what must never happen while it is fed hostile input: unhandled rejections, uncaught
 * exceptions, and error-level log lines (a message that crashed its turn, a route that failed).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createSportello, type Sportello } from '../../src/app.js';
import type { TwitterSettings } from '../../src/channels/twitter/index.js';
import { createTwitterChannel } from '../../src/channels/twitter/twitter-channel.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type FakeClock } from '../../src/core/ports.js';
import type { Operator } from '../../src/core/types.js';
import { hashPassword } from '../../src/handoff/auth.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createLogger } from '../../src/util/logger.js';
import { createFakeBotConnector, type FakeBotConnector } from '../fakes/bot-connector/fake-bot-connector.js';
import { createFakeGraphApi, type FakeGraphApi } from '../fakes/graph-api/fake-graph-api.js';
import { createFakeXApi, type FakeXApi } from '../fakes/x-api/fake-x-api.js';
import { projectKnowledge, ROOT } from '../helpers/app.js';

export const X = {
  apiKey: 'xvz1evFS4wEEPTGEFPHBog',
  apiSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
  accessToken: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
  accessSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
  brand: { id: '2244994945', username: 'BottegaRossi' },
};
export const META = { appSecret: 'app-secret-for-tests', pageToken: 'EAAG-page-token', verifyToken: 'verify-me-please', pageId: '104857600000001' };
export const OPERATOR_PASSWORD = 'fuzz-operator-password';

/** One problem the watcher saw. */
export interface Incident {
  kind: 'unhandledRejection' | 'uncaughtException' | 'error log';
  detail: string;
}

export interface FuzzApp {
  app: Sportello;
  base: string;
  clock: FakeClock;
  x: FakeXApi;
  graph: FakeGraphApi;
  connector: FakeBotConnector;
  admin: Operator;
  /** What went wrong since the last `takeIncidents()`. */
  takeIncidents(): Incident[];
  /** Every accepted message processed and every due reply attempted. */
  settle(): Promise<void>;
  /** GET /healthz answers 200 `{status: ok}`. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Starts the instance; operator "Fuzz Admin" (admin) has OPERATOR_PASSWORD. `ownCorpus`: the
 * instance gets a copy of faq/ and intents/ (approving a suggestion writes into it) and trains it
 * itself, instead of sharing the project's.
 */
export async function startFuzzApp(options: { ownCorpus?: boolean } = {}): Promise<FuzzApp> {
  const incidents: Incident[] = [];
  const onRejection = (reason: unknown) => incidents.push({ kind: 'unhandledRejection', detail: String((reason as Error)?.stack ?? reason) });
  const onException = (err: Error) => incidents.push({ kind: 'uncaughtException', detail: String(err?.stack ?? err) });
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  // Error-level lines (pino level 50+) are incidents; the rest is dropped.
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const entry = JSON.parse(line) as { level: number; msg?: string; error?: string; err?: { message?: string; stack?: string } };
          // A platform's refusal of a reply (the fake platform answered 4xx: unknown user...) is reported, not a crash.
          const refusedByPlatform = entry.msg === 'send failed; giving up' && /\(HTTP \d{3}/.test(entry.error ?? '');
          if (entry.level >= 50 && !refusedByPlatform) incidents.push({ kind: 'error log', detail: `${entry.msg ?? ''}: ${entry.err?.stack ?? entry.err?.message ?? line.slice(0, 2000)}` });
        } catch {
          incidents.push({ kind: 'error log', detail: line.slice(0, 2000) });
        }
      }
      done();
    },
  });
  const logger = createLogger({ level: 'error', destination: sink });

  const clock = createFakeClock('2026-11-24T09:00:00.000Z');
  const x = await createFakeXApi({ clock, brand: X.brand, apiKey: X.apiKey, accessToken: X.accessToken });
  const graph = await createFakeGraphApi({ appSecret: META.appSecret, pageToken: META.pageToken, pageId: META.pageId, clock });
  const connector = await createFakeBotConnector();
  const dir = mkdtempSync(join(tmpdir(), 'sportello-fuzz-'));
  const corpus = options.ownCorpus ? dir : ROOT;
  if (options.ownCorpus) {
    cpSync(join(ROOT, 'faq'), join(dir, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
  }
  const config = loadConfig({
    SPORTELLO_DATA: join(dir, 'data.json'),
    FAQ_DIR: join(corpus, 'faq'),
    INTENTS_DIR: join(corpus, 'intents'),
    FAQ_WATCH: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    WEBCHAT: 'false',
    X_API_KEY: X.apiKey,
    X_API_SECRET: X.apiSecret,
    X_ACCESS_TOKEN: X.accessToken,
    X_ACCESS_SECRET: X.accessSecret,
    X_BRAND_USER_ID: X.brand.id,
    X_BRAND_HANDLE: X.brand.username,
    X_POLL_SECONDS: '0',
    X_API_ORIGIN: x.origin,
    MESSENGER_APP_SECRET: META.appSecret,
    MESSENGER_PAGE_TOKEN: META.pageToken,
    MESSENGER_VERIFY_TOKEN: META.verifyToken,
    MESSENGER_PAGE_ID: META.pageId,
    MESSENGER_GRAPH_ORIGIN: graph.origin,
    BOTFRAMEWORK_LOCAL_ONLY: 'true',
  });
  const store = createLowdbStore({ file: config.dataFile, now: () => clock.now().getTime() });
  // The configured X channel, trusting the fake's self-signed certificate; the others as configured.
  const twitter = createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: config.outbound, tls: { ca: x.ca } });
  const app = await createSportello({ config, clock, logger, store, channels: [twitter], outboxPollMs: 50, knowledge: options.ownCorpus ? undefined : await projectKnowledge() });
  const base = await app.listen(0, '127.0.0.1');
  const admin: Operator = {
    id: 'op-fuzz',
    name: 'Fuzz Admin',
    initials: 'FA',
    role: 'admin',
    passwordHash: await hashPassword(OPERATOR_PASSWORD, { N: 2 ** 12, r: 8, p: 1 }),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  await app.store.directory.addOperator(admin);

  return {
    app,
    base,
    clock,
    x,
    graph,
    connector,
    admin,
    takeIncidents: () => incidents.splice(0),
    async settle() {
      await app.pipeline.idle();
      await app.sender.drain();
    },
    async healthy() {
      const res = await fetch(`${base}/healthz`);
      const body = (await res.json()) as { status?: string };
      return res.status === 200 && body.status === 'ok';
    },
    async close() {
      await app.close();
      await Promise.all([x.close(), graph.close(), connector.close()]);
      rmSync(dir, { recursive: true, force: true });
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** A readable summary of incidents for an assertion message. */
export function describeIncidents(incidents: Incident[]): string {
  return incidents.map((i) => `${i.kind}: ${i.detail.slice(0, 600)}`).join('\n---\n');
}
