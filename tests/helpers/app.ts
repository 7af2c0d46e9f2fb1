/**
 * Test helper: a real Sportello instance (real store, classifier, pipeline) on a temporary lowdb
 * file, with the project's FAQ and a recording channel standing in for a platform.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSportello, type Sportello } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type ChannelAdapter, type ChannelCapabilities, type FakeClock } from '../../src/core/ports.js';
import { createRecordingChannel, type RecordingChannel } from '../../src/channels/console/index.js';
import { createSilentLogger, type Logger } from '../../src/util/logger.js';
import type { InboundMessage } from '../../src/core/types.js';
import { createKnowledgeSource, type LiveKnowledge } from '../../src/corpus/knowledge.js';
import { corpusToExamples, corpusTwins } from '../../src/corpus/load.js';
import { trainUnderstander } from '../../src/classifier/index.js';
import type { Action } from '../../src/actions/index.js';

export const ROOT = resolve(import.meta.dirname ?? '.', '../..');

/** What every in-process test instance runs with: the project's FAQ and intents, unwatched, silent, on 127.0.0.1. */
export const TEST_ENV = {
  FAQ_DIR: join(ROOT, 'faq'),
  INTENTS_DIR: join(ROOT, 'intents'),
  FAQ_WATCH: 'false',
  LOG_LEVEL: 'silent',
  PORT: '0',
  HOST: '127.0.0.1',
};

/** Capabilities like Messenger's, for a private channel in tests. */
export const privateChatCapabilities: ChannelCapabilities = {
  publicReplies: true,
  privateMessages: true,
  maxLength: { public: 2000, private: 2000 },
  measure: (t) => [...t].length,
  quickReplies: 13,
  signsPublicReplies: true,
  maxThread: 1,
};

export interface TestApp {
  app: Sportello;
  clock: FakeClock;
  channel: RecordingChannel;
  dir: string;
  message(text: string, extra?: Partial<InboundMessage>): InboundMessage;
  close(): Promise<void>;
}

let counter = 0;
let sharedKnowledge: Promise<LiveKnowledge> | undefined;

/** The project corpus, trained once per test file as production trains it (training is the slow part of starting). */
export function projectKnowledge(): Promise<LiveKnowledge> {
  const defaults = loadConfig({});
  sharedKnowledge ??= createKnowledgeSource({
    faqDir: join(ROOT, 'faq'),
    intentsDir: join(ROOT, 'intents'),
    watch: false,
    logger: createSilentLogger(),
    train: (corpus) =>
      trainUnderstander(corpusToExamples(corpus), {
        orderNumberPattern: defaults.nlu.orderNumberPattern,
        defaultLanguage: defaults.defaultLocale,
        model: { twins: corpusTwins(corpus) },
      }),
  });
  return sharedKnowledge;
}

/** Closes the shared knowledge (call in afterAll where a file wants its watchers gone). */
export async function closeProjectKnowledge(): Promise<void> {
  if (sharedKnowledge) await (await sharedKnowledge).close();
  sharedKnowledge = undefined;
}

/** A private message of customer `cust-1` on the recording channel `chat`, sent now by `clock`. */
export function chatMessage(clock: FakeClock, text: string, extra: Partial<InboundMessage> = {}): InboundMessage {
  counter += 1;
  return {
    channel: 'chat',
    id: `m-${process.pid}-${counter}`,
    visibility: 'private',
    customer: { platformId: 'cust-1', handle: 'cliente' },
    text,
    sentAt: clock.now().toISOString(),
    ...extra,
  };
}

/**
 * Starts a real instance; `env` overrides configuration. `adapt` may wrap the recording channel
 * (to add what a platform's adapter has, e.g. `notify`) before the instance gets it.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  start = '2026-11-24T10:00:00+01:00',
  adapt: (channel: RecordingChannel) => ChannelAdapter = (channel) => channel,
  options: { outboxPollMs?: number; typingDelayMs?: number; actions?: Action[]; logger?: Logger } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-app-'));
  const config = loadConfig({ SPORTELLO_DATA: join(dir, 'store.json'), ...TEST_ENV, ...env });
  const clock = createFakeClock(start);
  const channel = createRecordingChannel('chat', privateChatCapabilities);
  // A FAQ folder of its own is trained for this instance (approving writes into it, and the bot answers from it).
  const knowledge = env.FAQ_DIR || env.INTENTS_DIR ? undefined : await projectKnowledge();
  const app = await createSportello({ config, clock, logger: options.logger ?? createSilentLogger(), channels: [adapt(channel)], outboxPollMs: options.outboxPollMs ?? 50, knowledge, typingDelayMs: options.typingDelayMs, actions: options.actions });
  return {
    app,
    clock,
    channel,
    dir,
    message: (text, extra) => chatMessage(clock, text, extra),
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
