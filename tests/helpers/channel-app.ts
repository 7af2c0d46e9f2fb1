/**
 * Test helper: the start-up every channel's end-to-end test shares. A real Sportello
 * (createSportello: lowdb store, classifier, pipeline, sender, HTTP server on 127.0.0.1) with the
 * repository's own FAQ and intents (tests read nothing outside the repository), no web chat,
 * silent, plus the channel's own variables; its operators added; a temporary folder removed on close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello, type Sportello } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { ChannelAdapter, Clock, Store } from '../../src/core/ports.js';
import type { Operator } from '../../src/core/types.js';
import type { LiveKnowledge } from '../../src/corpus/knowledge.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createSilentLogger, type Logger } from '../../src/util/logger.js';
import { ROOT } from './app.js';

/** The environment of a channel's end-to-end instance on `dataFile`; `env` adds the channel's variables. */
export function channelAppEnv(dataFile: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    SPORTELLO_DATA: dataFile,
    FAQ_DIR: join(ROOT, 'faq'),
    INTENTS_DIR: join(ROOT, 'intents'),
    FAQ_WATCH: 'false',
    PORT: '0',
    LOG_LEVEL: 'silent',
    WEBCHAT: 'false',
    ...env,
  };
}

export interface ChannelAppOptions {
  /** The channel's variables (and anything else the test sets). */
  env: Record<string, string>;
  clock: Clock;
  /** The lowdb file; by default `data.json` in a temporary folder named after `prefix`, removed on close. */
  dataFile?: string;
  prefix?: string;
  /** Knowledge trained once for the file; without it the instance trains its own, as production does. */
  knowledge?: LiveKnowledge;
  /** Operators added to the store once the instance runs. */
  operators?: Operator[];
  /**
   * Channels the test builds itself (e.g. to trust a fake's certificate), on a lowdb store on the
   * test's clock that the instance then uses. Without it the instance builds the configured ones.
   */
  channels?: (config: Config, store: Store, logger: Logger) => ChannelAdapter[];
  outboxPollMs?: number;
}

export interface ChannelApp {
  app: Sportello;
  /** Where it listens, e.g. `http://127.0.0.1:PORT`. */
  base: string;
  config: Config;
  /** Waits until every accepted message is processed and every due reply is sent. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Waits until every accepted message is processed and every due reply is sent. */
export async function settle(app: Sportello): Promise<void> {
  await app.pipeline.idle();
  await app.sender.drain();
}

/** Starts a real instance with a channel's variables (see the module's comment). */
export async function startChannelApp(options: ChannelAppOptions): Promise<ChannelApp> {
  const dir = options.dataFile ? undefined : mkdtempSync(join(tmpdir(), options.prefix ?? 'sportello-channel-'));
  const dataFile = options.dataFile ?? join(dir!, 'data.json');
  const config = loadConfig(channelAppEnv(dataFile, options.env));
  const logger = createSilentLogger();
  const { clock, knowledge } = options;
  let app: Sportello;
  if (options.channels) {
    const store = createLowdbStore({ file: dataFile, now: () => clock.now().getTime() });
    app = await createSportello({ config, clock, logger, store, channels: options.channels(config, store, logger), outboxPollMs: options.outboxPollMs, knowledge });
  } else {
    app = await createSportello({ config, clock, logger, outboxPollMs: options.outboxPollMs, knowledge });
  }
  const base = await app.listen(0, '127.0.0.1');
  for (const operator of options.operators ?? []) await app.store.directory.addOperator(operator);
  return {
    app,
    base,
    config,
    settle: () => settle(app),
    async close() {
      await app.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
