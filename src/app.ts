/**
 * @module app
 * The composition root: the only module that meets concrete stores, channels and the
 * classifier. `createSportello(options)` wires one running instance; `main.ts`/the CLI start it.
 */
import type { Server } from 'restify';
import type { Config } from './config/config.js';
import type { LiveKnowledge } from './corpus/knowledge.js';
import { createKnowledgeSource } from './corpus/knowledge.js';
import { corpusToExamples } from './corpus/load.js';
import { fitAnswer, clarifyOptions } from './corpus/fit.js';
import { suggestFromCase } from './corpus/suggestions.js';
import { Counter } from 'prom-client';
import { createUnderstandingPool } from './classifier/understanding-pool.js';
import { createLocalEventBus, type EventBus } from './core/events.js';
import { createActions, type Action } from './actions/index.js';
import { systemClock, type ActionRunner, type ChannelAdapter, type Clock, type Store } from './core/ports.js';
import type { Language } from './core/types.js';
import { createBusinessHours, describeWhen, type BusinessHours } from './handoff/business-hours.js';
import { computeQueueInfo, queueStatus } from './handoff/queue.js';
import { createOperatorDesk, type OperatorDesk } from './handoff/operator-desk.js';
import { createOutboxSender, type OutboxSender } from './pipeline/outbox-sender.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { createHttpServer, createMetrics } from './server/server.js';
import { registerOperatorApi } from './server/operator-api/index.js';
import { createStore } from './storage/index.js';
import { createPostgresEventBus } from './storage/postgres/index.js';
import { CHANNELS } from './channels/catalog.js';
import { createLogger, type Logger } from './util/logger.js';

/** One running Sportello instance. */
export interface Sportello {
  config: Readonly<Config>;
  server: Server;
  store: Store;
  bus: EventBus;
  knowledge: LiveKnowledge;
  pipeline: Pipeline;
  sender: OutboxSender;
  desk: OperatorDesk;
  hours: BusinessHours;
  channels: ReadonlyMap<string, ChannelAdapter>;
  /** The custom actions FAQ entries may name (`handler`). */
  actions: ActionRunner;
  logger: Logger;
  /** Starts listening (config.port unless given; 0 = any free port) and returns the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Finishes in-flight work, stops channels and the sender, closes the store. */
  close(): Promise<void>;
}

/** Options of `createSportello`; everything but `config` has a production default. */
export interface SportelloOptions {
  config: Readonly<Config>;
  clock?: Clock;
  logger?: Logger;
  /** Extra channel adapters, or replacements of the configured ones by name. */
  channels?: ChannelAdapter[];
  /** Custom actions given in code, besides (or replacing by name) those of the actions folder. */
  actions?: Action[];
  /** A ready store (tests); by default lowdb at config.dataFile, or PostgreSQL with DATABASE_URL. */
  store?: Store;
  bus?: EventBus;
  /** How often the outbox sender looks for due items. */
  outboxPollMs?: number;
  /** Already-trained knowledge to share (the conversation-test runner trains once per corpus). */
  knowledge?: LiveKnowledge;
  /** How long a turn may take before the channel shows a typing indicator (default 300 ms; tests: 0). */
  typingDelayMs?: number;
}

/** Wires one Sportello instance: store, knowledge, channels, pipeline, sender, desk, HTTP server. */
export async function createSportello(options: SportelloOptions): Promise<Sportello> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });

  // Custom actions first: a broken actions folder stops the start before anything is opened.
  const actions = await createActions({ dir: config.actions.dir, secrets: config.actions.secrets, extra: options.actions, logger });

  let store = options.store;
  let bus = options.bus;
  if (!store) {
    store = createStore(config, { onWarning: (message) => logger.warn(message) });
    if (config.databaseUrl) bus ??= createPostgresEventBus({ url: config.databaseUrl, onError: (err, context) => logger.warn({ err }, context) });
  }
  bus ??= createLocalEventBus();
  await store.init();
  const theStore = store;
  const theBus = bus;

  // Customer messages are understood in worker threads (the main thread keeps a copy of the model).
  const understandingPool = options.knowledge
    ? undefined
    : createUnderstandingPool({ threads: config.understandingThreads, onError: (err) => logger.error({ err }, 'understanding worker failed') });
  let knowledge: LiveKnowledge;
  try {
    knowledge = options.knowledge ?? await createKnowledgeSource({
      faqDir: config.faqDir,
      intentsDir: config.intentsDir,
      watch: config.watchCorpus,
      handlers: actions.names,
      logger,
      train: (corpus) =>
        understandingPool!.train(corpusToExamples(corpus), {
          orderNumberPattern: config.nlu.orderNumberPattern,
          defaultLanguage: config.defaultLocale,
        }),
      onEvent: (event) => void theBus.publish(event),
    });
  } catch (err) {
    // A start that fails (a broken FAQ) leaves nothing open: what it opened itself is closed.
    await understandingPool?.close();
    if (!options.bus) await theBus.close();
    if (!options.store) await theStore.close();
    throw err;
  }

  const hours = createBusinessHours({
    timezone: config.handoff.timezone,
    schedule: config.handoff.businessHours,
    holidays: config.handoff.holidays,
  });

  // channels: every channel of the registry the configuration turns on, then the caller's (which
  // replace same-named ones). Their routes are served by the HTTP server below.
  const channels = new Map<string, ChannelAdapter>();
  const replaced = new Set((options.channels ?? []).map((adapter) => adapter.name));
  for (const definition of CHANNELS) {
    const settings = config.channels[definition.name];
    if (settings === undefined || replaced.has(definition.name)) continue;
    channels.set(definition.name, definition.create(settings, { store: theStore, bus: theBus, clock, logger }));
  }
  for (const adapter of options.channels ?? []) channels.set(adapter.name, adapter);

  const sender = createOutboxSender({ store: theStore, bus: theBus, clock, logger, channels, pollMs: options.outboxPollMs, concurrency: config.outboxConcurrency });
  const pipeline = createPipeline({
    store: theStore,
    bus: theBus,
    clock,
    logger,
    knowledge,
    channels,
    actions,
    hours: {
      isOpen: (at) => hours.isOpen(at),
      nextOpening: (at) => hours.nextOpening(at),
      describe: (at, now, language: Language) => describeWhen(at, now, language, config.handoff.timezone),
    },
    settings: {
      brandName: config.brandName,
      defaultLocale: config.defaultLocale,
      answerThreshold: config.nlu.answerThreshold,
      clarifyThreshold: config.nlu.clarifyThreshold,
      rules: config.handoff,
      queueNoticeMinutes: config.handoff.queueNoticeMinutes,
      dataRequestMinutes: config.handoff.dataRequestMinutes,
    },
    fitAnswer,
    clarifyOptions: (labels, language, caps) => clarifyOptions(labels, knowledge.current().corpus, caps, language),
    queueInfo: ({ reason, enqueuedAt, vip }) => computeQueueInfo({ reason, enqueuedAt, vip }, hours, config),
    queueStatus: (conversation) => queueStatus(theStore, conversation, clock, hours, config),
    sender,
    typingDelayMs: options.typingDelayMs,
  });
  const desk = createOperatorDesk({
    store: theStore,
    bus: theBus,
    clock,
    logger,
    channels,
    knowledge,
    sender,
    suggest: async ({ caseId, customerMessages, operatorAnswer, operator, conversation }) =>
      suggestFromCase({
        caseId,
        customerMessages,
        operatorAnswer,
        operator,
        customer: await theStore.directory.getCustomer(conversation.customerId),
        knowledge: knowledge.current(),
        language: conversation.language ?? config.defaultLocale,
        clock,
        orderNumberPattern: config.nlu.orderNumberPattern,
      }),
  });

  let ready = false;
  const metrics = createMetrics();
  if (understandingPool) {
    const pool = understandingPool;
    new Counter({
      name: 'sportello_understood_total',
      help: 'Customer messages understood, by thread: the worker (the main thread was busy) or the main thread',
      labelNames: ['thread'],
      registers: [metrics.registry],
      collect() {
        const answered = pool.answered();
        this.reset();
        this.inc({ thread: 'worker' }, answered.worker);
        this.inc({ thread: 'main' }, answered.mainThread);
      },
    });
  }
  const server = createHttpServer({ channels, pipeline, logger, metrics, isReady: () => ready });
  const operatorApi = registerOperatorApi(server, { store: theStore, bus: theBus, desk, knowledge, clock, config, logger, hours });

  // Tell channels about their conversations' events (Bot Framework handoff events, Messenger handover).
  const CHANNEL_EVENTS = new Set(['conversation.escalated', 'conversation.assigned', 'conversation.resolved', 'conversation.returned_to_bot']);
  // Only the instance that published the event tells the platform: every instance receives it.
  const unsubscribe = theBus.subscribe((event, { local }) => {
    if (!local || !CHANNEL_EVENTS.has(event.type) || !('conversationId' in event)) return;
    void (async () => {
      const conversation = await theStore.conversations.get(event.conversationId);
      const adapter = conversation ? channels.get(conversation.channel) : undefined;
      if (conversation && adapter?.notify) await adapter.notify(event, conversation);
    })().catch((err: unknown) => logger.warn({ err, event: event.type }, 'channel notification failed'));
  });

  let closed = false;
  return {
    config,
    server,
    store: theStore,
    bus: theBus,
    knowledge,
    pipeline,
    sender,
    desk,
    hours,
    channels,
    actions,
    logger,
    async listen(port = config.port, host = config.host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const recovered = await pipeline.recover();
      if (recovered > 0) logger.info({ recovered }, 'processed messages accepted before a restart');
      sender.start();
      for (const adapter of channels.values()) await adapter.start?.({ receive: async (msg) => void (await pipeline.accept(msg)), store: theStore });
      ready = true;
      const address = server.address();
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      return `http://${shownHost}:${address.port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      for (const adapter of channels.values()) await adapter.stop?.();
      operatorApi.close();
      // Stop accepting; idle keep-alive sockets close now, open streams (SSE) after a short grace.
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.server.closeIdleConnections();
      const grace = setTimeout(() => server.server.closeAllConnections(), 1000);
      await closing;
      clearTimeout(grace);
      await pipeline.idle();
      await sender.drain().catch((err: unknown) => logger.warn({ err }, 'outbox drain at shutdown failed'));
      await sender.stop();
      unsubscribe();
      if (!options.knowledge) await knowledge.close();
      await understandingPool?.close();
      await theBus.close();
      await theStore.close();
    },
  };
}
