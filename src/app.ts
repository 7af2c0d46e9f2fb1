/**
 * @module app
 * The composition root: the only module that meets concrete stores, channels and the
 * classifier. `createSportello(options)` wires one instance; `listen()` starts it, `close()`
 * stops it. It is the package's programmatic entry (src/index.ts) and what `sportello start` runs.
 */
import { dirname, join } from 'node:path';
import type { Server } from 'restify';
import { loadConfig, type Config } from './config/config.js';
import type { LiveKnowledge } from './corpus/knowledge.js';
import { createKnowledgeSource } from './corpus/knowledge.js';
import { corpusToExamples, corpusTwins } from './corpus/load.js';
import { fitAnswer, clarifyOptions } from './corpus/fit.js';
import { suggestFromCase } from './corpus/suggestions.js';
import { Counter } from 'prom-client';
import { createUnderstandingPool } from './classifier/understanding-pool.js';
import { createLocalEventBus, type EventBus } from './core/events.js';
import { createActions, type Action } from './actions/index.js';
import { systemClock, type ActionRunner, type ChannelAdapter, type Clock, type Store } from './core/ports.js';
import type { InboundMessage, Language } from './core/types.js';
import { createBusinessHours, describeWhen, type BusinessHours } from './handoff/business-hours.js';
import { computeQueueInfo, createQueueStatus } from './handoff/queue.js';
import { createOperatorDesk, type OperatorDesk } from './handoff/operator-desk.js';
import { createOutboxSender, type OutboxSender } from './pipeline/outbox-sender.js';
import { createConversationWriter } from './pipeline/conversation-writer.js';
import { isVip } from './handoff/escalation.js';
import { createFollowUpJobs, type FollowUpJobs } from './pipeline/follow-ups.js';
import { createEventRecorder, createWebhookDispatcher, type EventRecorder, type WebhookDispatcher } from './events/index.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { createHttpServer, createMetrics, observeTurn, registerSenderMetrics } from './server/server.js';
import { registerOperatorApi } from './server/operator-api/index.js';
import { createAssignment, type Assignment } from './handoff/assignment.js';
import { createRetentionJob, type RetentionJob } from './handoff/retention.js';
import { createStore } from './storage/index.js';
import { createPostgresEventBus } from './storage/postgres/index.js';
import { CHANNELS } from './channels/catalog.js';
import type { AnyChannelDefinition } from './channels/definition.js';
import { createLogger, type Logger } from './util/logger.js';
import { createListeningService, type ListeningService } from './listening/service.js';
import { privateEntryLabels } from './listening/index.js';
import { createCrisisDesk, type CrisisDesk } from './listening/crisis.js';
import { createPraiseDesk, type PraiseDesk } from './handoff/praise.js';
import { createCrisisRules, type CrisisRules } from './listening/crisis-rules.js';
import type { AlertMailer } from './listening/alert-mail.js';
import { ListeningFileError, listeningSettings, loadListeningFile, listeningFileSchema } from './listening/config.js';
import { ConfigError } from './core/errors.js';

/** One running Sportello instance. */
export interface Sportello {
  config: Readonly<Config>;
  server: Server;
  store: Store;
  bus: EventBus;
  knowledge: LiveKnowledge;
  pipeline: Pipeline;
  sender: OutboxSender;
  /** Sends outbound events (webhooks) to the subscriptions of WEBHOOKS_FILE. */
  webhooks: WebhookDispatcher;
  /** Makes changes' outbound event deliveries (the CLI's approvals use it too). */
  recorder: EventRecorder;
  /** Cases the bot closes and satisfaction surveys (scheduled; `runOnce` does what is due now). */
  followUps: FollowUpJobs;
  desk: OperatorDesk;
  /** Presence, teams and auto-assignment (issue 21). */
  assignment: Assignment;
  /** Anonymises customer records past their retention period (scheduled; `runOnce` does what is due now). */
  retention: RetentionJob;
  hours: BusinessHours;
  channels: ReadonlyMap<string, ChannelAdapter>;
  /** The custom actions FAQ entries may name (`handler`). */
  actions: ActionRunner;
  /** Listening: posts channels hear beyond @mentions (classes, spikes, alerts; docs/listening.md). */
  listening: ListeningService;
  /** Crisis mode: the crisis an operator opened on a topic, and its holding statements. */
  crisis: CrisisDesk;
  /** Praise heard by listening: the one-click thank-you and advocates (handoff/praise.ts). */
  praise: PraiseDesk;
  /** The listening file's crisis rules (a crisis opened on an alert's topic by itself). */
  crisisRules: CrisisRules;
  /** Alerts by e-mail to decision makers (undefined: no SMTP server, or no recipients). */
  alertMail?: AlertMailer;
  logger: Logger;
  /** Starts listening (config.port unless given; 0 = any free port) and returns the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Finishes in-flight work, stops channels and the sender, closes the store. */
  close(): Promise<void>;
}

/** Options of `createSportello`; each has a production default. */
export interface SportelloOptions {
  /** The configuration; by default `loadConfig(env, { channels })` with the channel definitions below. */
  config?: Readonly<Config>;
  /** The environment the configuration is read from when `config` is not given (default: process.env). */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  logger?: Logger;
  /**
   * A brand's own channels (`defineChannel`: read from the configuration, built when on), or
   * ready adapters, which are added or replace the configured channel of the same name.
   */
  channels?: ReadonlyArray<AnyChannelDefinition | ChannelAdapter>;
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
  /** No alert e-mails, whatever the configuration says (`sportello replay` sends nothing). */
  noAlertMail?: boolean;
}

/** Wires one Sportello instance: store, knowledge, channels, pipeline, sender, desk, HTTP server. */
export async function createSportello(options: SportelloOptions = {}): Promise<Sportello> {
  const definitions = (options.channels ?? []).filter(isDefinition);
  const adapters = (options.channels ?? []).filter((c): c is ChannelAdapter => !isDefinition(c));
  const config = options.config ?? loadConfig(options.env ?? process.env, { channels: definitions });
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });

  // Custom actions first: a broken actions folder stops the start before anything is opened.
  const actions = await createActions({ dir: config.actions.dir, secrets: config.actions.secrets, extra: options.actions, logger });
  // The listening file too (a problem is a configuration problem, file:line:column).
  const listeningFile = readListeningFile(config.listeningFile);
  const listeningSettingsNow = listeningSettings(listeningFile, { brandName: config.brandName, timezone: config.handoff.timezone });
  if (listeningFile.alerts?.email && !config.alertMail && !options.noAlertMail) {
    throw new ConfigError([`${config.listeningFile}: alerts.email: no SMTP server to send with (set SMTP_URL, or SMTP_HOST and SMTP_FROM)`]);
  }

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
  // Trained models are kept beside the data file (data/models/), so a restart with the same FAQ skips training.
  const understandingPool = options.knowledge
    ? undefined
    : createUnderstandingPool({
        threads: config.understandingThreads,
        onError: (err) => logger.error({ err }, 'understanding worker failed'),
        modelCache: { dir: join(dirname(config.dataFile), 'models'), onProblem: (message) => logger.warn(message) },
      });
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
          // An entry and its translation (same_as) learn as one answer from both languages' questions.
          model: { twins: corpusTwins(corpus) },
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
  const replaced = new Set(adapters.map((adapter) => adapter.name));
  try {
    for (const definition of [...CHANNELS, ...definitions]) {
      const settings = config.channels[definition.name];
      if (settings === undefined || replaced.has(definition.name)) continue;
      channels.set(
        definition.name,
        await definition.create(settings, {
          store: theStore,
          bus: theBus,
          clock,
          logger,
          outbound: config.outbound,
          // What to search platforms for: only when the team wrote a listening file (searching costs reads).
          ...(config.listeningFile ? { listening: listeningSettingsNow } : {}),
        }),
      );
    }
  } catch (err) {
    if (!options.knowledge) await knowledge.close();
    await understandingPool?.close();
    throw err;
  }
  for (const adapter of adapters) channels.set(adapter.name, adapter);

  // Outbound events: recorded in each change's commit, sent by their own dispatcher.
  const webhooks = createWebhookDispatcher({ store: theStore, subscriptions: config.webhooks, clock, logger });
  const recorder = createEventRecorder({ subscriptions: config.webhooks, clock, orderNumberPattern: config.nlu.orderNumberPattern, onRecorded: () => webhooks.kick() });
  const metrics = createMetrics({ store: theStore, clock, channels: channels.keys() });
  const sender = createOutboxSender({
    store: theStore,
    bus: theBus,
    clock,
    logger,
    channels,
    pollMs: options.outboxPollMs,
    sendSlots: config.sendSlots,
    // A send may make a few calls (a late check, a thread's parts), each within the outbound timeout.
    sendDeadlineMs: 2 * config.outbound.timeoutMs + 1000,
    metrics: metrics.sends,
  });
  // Crisis mode: the open crisis (shared through the store) and its holding statements.
  const crisis = createCrisisDesk({ values: theStore.values, bus: theBus, clock, logger, settings: listeningSettingsNow });
  await crisis.refresh();
  const crisisRules = createCrisisRules({ rules: listeningSettingsNow.crisisRules, desk: crisis, audit: theStore.audit, clock, logger });
  // Alerts by e-mail: nodemailer is loaded only when an SMTP server is given.
  let alertMail: AlertMailer | undefined;
  const mailTo = listeningSettingsNow.alertEmail.to ?? config.alertMail?.to ?? [];
  if (config.alertMail && !options.noAlertMail && mailTo.length === 0) logger.warn('SMTP is set but there are no recipients (ALERT_EMAILS, or alerts.email.to in the listening file): alerts are not mailed');
  if (config.alertMail && !options.noAlertMail && mailTo.length > 0) {
    const mails = new Counter({
      name: 'sportello_alert_emails_total',
      help: 'Alert e-mails to decision makers, by outcome: sent, retried (a try failed, another follows), failed (given up or unsent at shutdown), dropped (too many waiting)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    for (const outcome of ['sent', 'retried', 'failed', 'dropped']) mails.inc({ outcome }, 0);
    const { createAlertMailer } = await import('./listening/alert-mail.js');
    alertMail = createAlertMailer({
      settings: { ...config.alertMail, to: mailTo, language: listeningSettingsNow.alertEmail.language ?? config.alertMail.language, updates: listeningSettingsNow.alertEmail.updates },
      brandName: config.brandName,
      timezone: listeningSettingsNow.detector.timezone,
      ...(config.publicUrl ? { consoleUrl: `${config.publicUrl.replace(/\/+$/, '')}/console` } : {}),
      orderNumberPattern: config.nlu.orderNumberPattern,
      logger,
      onOutcome: (outcome) => mails.inc({ outcome }),
    });
  }
  const pipeline = createPipeline({
    crisis: (text, language, channel) => crisis.match(text, language, channel),
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
      surveys: { lowScore: config.followUps.lowScore },
      unaddressedDm: listeningSettingsNow.unaddressedDm,
    },
    fitAnswer,
    clarifyOptions: (labels, language, max) => clarifyOptions(labels, knowledge.current().corpus, max, language),
    queueInfo: (input) => computeQueueInfo(input, hours, config),
    queueStatus: createQueueStatus(theStore, clock, hours, config),
    sender,
    recorder,
    typingDelayMs: options.typingDelayMs,
    onSurveyAnswered: (channel) => metrics.surveys.inc({ channel, event: 'answered' }),
  });
  // Cases the bot closes and satisfaction surveys: scheduled jobs, through the conversation writer.
  const followUps = createFollowUpJobs({
    store: theStore,
    writer: createConversationWriter({ store: theStore, bus: theBus, logger, sender, recorder }),
    clock,
    logger,
    channels,
    hours,
    settings: { ...config.followUps, brandName: config.brandName, defaultLocale: config.defaultLocale },
    onSurveySent: (channel) => metrics.surveys.inc({ channel, event: 'sent' }),
    followUp: {
      defaultLocale: config.defaultLocale,
      queueInfo: (input) => computeQueueInfo(input, hours, config),
      isVip: (customer) => customer !== undefined && isVip(customer, config.handoff),
    },
  });
  const listening = createListeningService({
    settings: listeningSettingsNow,
    understander: () => knowledge.current().understander,
    careLabels: () => privateEntryLabels(knowledge.current().corpus),
    answerThreshold: config.nlu.answerThreshold,
    receive: async (msg) => {
      await pipeline.accept(msg);
    },
    bus: theBus,
    heard: theStore.heard,
    recorder,
    logger,
    orderNumberPattern: config.nlu.orderNumberPattern,
    onHeard: (channel, heardClass) => metrics.listening.inc({ channel, class: heardClass }),
    onAlert: (update) => metrics.alerts.inc({ kind: update ? 'update' : 'new' }),
    crisisRules,
    ...(alertMail ? { alertMail } : {}),
  });
  const desk = createOperatorDesk({
    store: theStore,
    bus: theBus,
    clock,
    logger,
    channels,
    knowledge,
    sender,
    recorder,
    orderNumberPattern: config.nlu.orderNumberPattern,
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

  const assignment = createAssignment({ store: theStore, desk, bus: theBus, clock, logger });
  const retention = createRetentionJob({ store: theStore, clock, logger, settings: config.retention });

  let ready = false;
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
  registerSenderMetrics(metrics.registry, sender);
  const server = createHttpServer({
    channels,
    pipeline,
    logger,
    metrics,
    isReady: () => ready,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    sending: () => sender.health(),
    hear: async (msg) => {
      await listening.hear(msg);
    },
  });
  // Praise heard by listening: thank-yous (through the writer and the outbox) and advocates.
  const praise = createPraiseDesk({ store: theStore, clock, channels, writer: createConversationWriter({ store: theStore, bus: theBus, logger, sender, recorder }) });
  const operatorApi = registerOperatorApi(server, { store: theStore, bus: theBus, desk, knowledge, clock, config, logger, hours, recorder, channels, assignment, crisis, praise });
  // Another instance opened or closed a crisis: read it again.
  const unsubscribeCrisis = theBus.subscribe((event, { local }) => {
    if (local || (event.type !== 'crisis.opened' && event.type !== 'crisis.closed')) return;
    crisis.refresh().catch((err: unknown) => logger.warn({ err }, 'could not read the open crisis'));
  });

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

  // An operator writes: every instance tells the customer's pages it serves (a web chat visitor
  // may be connected to an instance other than the operator's).
  const unsubscribeComposing = theBus.subscribe((event) => {
    if (event.type !== 'operator.composing') return;
    void (async () => {
      const conversation = await theStore.conversations.get(event.conversationId);
      const adapter = conversation ? channels.get(conversation.channel) : undefined;
      if (!conversation || !adapter?.composing) return;
      const operator = await theStore.directory.getOperator(event.operatorId);
      if (operator) await adapter.composing(conversation, { kind: 'operator', operatorId: operator.id, name: operator.name, initials: operator.initials });
    })().catch((err: unknown) => logger.warn({ err }, 'could not show an operator typing'));
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
    webhooks,
    recorder,
    followUps,
    desk,
    assignment,
    retention,
    hours,
    channels,
    actions,
    listening,
    crisis,
    praise,
    crisisRules,
    ...(alertMail ? { alertMail } : {}),
    logger,
    async listen(port = config.port, host = config.host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const recovered = await pipeline.recover();
      if (recovered > 0) logger.info({ recovered }, 'processed messages accepted before a restart');
      sender.start();
      webhooks.start();
      followUps.start();
      assignment.start();
      retention.start();
      // Messages a channel brings in itself (polling, web chat, Bot Framework) are counted as webhooks' are.
      const receive = async (msg: InboundMessage) => {
        const started = process.hrtime.bigint();
        observeTurn(metrics, msg.channel, (await pipeline.accept(msg)).done, started);
      };
      const hear = async (msg: InboundMessage) => {
        await listening.hear(msg);
      };
      for (const adapter of channels.values()) await adapter.start?.({ receive, hear, store: theStore });
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
      await followUps.stop();
      await alertMail?.close();
      await pipeline.idle();
      await sender.drain().catch((err: unknown) => logger.warn({ err }, 'outbox drain at shutdown failed'));
      await sender.stop();
      await webhooks.stop();
      await assignment.stop();
      await retention.stop();
      unsubscribe();
      unsubscribeCrisis();
      unsubscribeComposing();
      if (!options.knowledge) await knowledge.close();
      await understandingPool?.close();
      await theBus.close();
      await theStore.close();
    },
  };
}

/** A channel definition (defineChannel), as opposed to a ready adapter. */
function isDefinition(channel: AnyChannelDefinition | ChannelAdapter): channel is AnyChannelDefinition {
  return 'create' in channel && 'env' in channel;
}

/** The listening file's settings (LISTENING_FILE), or the defaults; a broken file is a ConfigError. */
function readListeningFile(path: string | undefined) {
  if (!path) return listeningFileSchema.parse({});
  try {
    return loadListeningFile(path);
  } catch (err) {
    if (err instanceof ListeningFileError) throw new ConfigError(err.message.split('\n'));
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError([`LISTENING_FILE: ${path}: no such file`]);
    throw err;
  }
}
