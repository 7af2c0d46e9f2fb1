/**
 * @module cli/run
 * `sportello start | chat | test | faq lint | faq review | eval | operator | migrate | export | import`.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError, CorpusError, StoreError } from '../core/errors.js';
import { loadConfig, type Config } from '../config/config.js';
import { createConsoleChannel } from '../channels/console/index.js';
import type { AnyStore } from '../storage/index.js';
import { systemClock, type Store } from '../core/ports.js';
import { createSilentLogger } from '../util/logger.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxItem } from '../core/types.js';
import { AdminUnreachableError } from './admin-socket.js';
import { packageVersion, parseCommandArgs, pathError, UsageError, wantsHelp } from './args.js';
import { applyProjectEnv, loadProject, type Project } from '../config/project.js';

/** Standard streams, passed in so commands can be driven from tests. */
export interface Io {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const HELP = `Sportello — social customer care bot

Usage: sportello <command> [options]

  start                     run the server (web chat at /chat, operator console at /console)
  chat [--explain]          talk to the bot in the terminal (reads lines from stdin when piped)
  test [PATHS...]           run conversation tests (default tests/conversations)
  faq lint                  validate faq/ and intents/, report problems as file:line:column
  faq review [list|show ID|edit ID|approve ID|reject ID]
                            review FAQ suggestions learned from resolved cases
  eval [PATH] [--json]      train and evaluate the classifier on a dataset (or cross-validate faq/+intents/)
  operator add --name NAME --initials MR --role agent|admin   (password from stdin)
  operator role --name NAME --role agent|admin
  operator remove --name NAME
  operator list
  customer find TEXT | export ID [--out FILE] | erase ID [--yes]
                            a customer's data: find them, export everything held, erase it
  audit [--from DATE] [--operator NAME]
                            the audit trail of operators' and admins' actions
  retention run [--dry-run] anonymise customer records past their retention period now (RETENTION_DAYS)
  migrate                   apply PostgreSQL migrations (DATABASE_URL)
  export [FILE]             write the whole store as JSON
  import FILE               read an export into the configured store
  report [--from DATE] [--to DATE] [--format json|csv|html] [--out FILE]
                            response rates, response times, escalations, satisfaction (dates
                            YYYY-MM-DD in TIMEZONE; default the last 7 days)
  replay FILE.jsonl [--json] [--config listening.yaml]
                            play a recorded stream of heard posts through listening and the
                            bot's decisions with a simulated clock, sending nothing

  --version                 print the version

\`sportello COMMAND --help\` shows a command's options. Exit codes: 0 done, 1 failed (a test, a
bad setting, a missing file), 2 the command line itself is wrong (unknown option or command).
Configuration comes from the environment (and a .env file): see .env.example.
`;

/** Usage of the commands without a help of their own (the others print theirs on --help). */
const USAGE: Record<string, string> = {
  start: `usage: sportello start
  runs the server: channels' webhooks, web chat at /chat, operator console at /console, /healthz, /metrics.
  Configuration comes from the environment (and a .env file): see .env.example. SIGTERM or Ctrl-C stops it.
  A project's own channels and default settings come from sportello.config.js in the current folder.
`,
  chat: `usage: sportello chat [--explain]
  talks to the bot in the terminal; reads lines from stdin when piped.
  --explain  shows the decision after each turn: [action entry confidence language]
`,
  test: `usage: sportello test [PATHS...]
  runs the conversation tests (YAML, docs/formats.md) in the given files and folders (default tests/conversations).
  Tests may name the project's own channels (sportello.config.js in the current folder).
  Ends with "N passed, N failed"; exits 1 when a test failed.
`,
  faq: `usage: sportello faq lint [--help] | faq review [list|show ID|edit ID|approve ID|reject ID] [--help]
`,
};

/** The usage \`sportello COMMAND --help\` prints, when the command does not print its own. */
async function usageOf(command: string | undefined, args: string[]): Promise<string | undefined> {
  if (command === 'operator') return (await import('./operator.js')).OPERATOR_USAGE;
  if (command === 'customer') return (await import('./customer.js')).CUSTOMER_USAGE;
  if (command === 'audit') return (await import('./audit.js')).AUDIT_USAGE;
  if (command === 'retention') return (await import('./retention.js')).RETENTION_USAGE;
  if (command === 'eval') return `${(await import('./eval.js')).EVAL_USAGE}
`;
  if (command === 'faq' && args[0] === 'review') return (await import('./faq.js')).REVIEW_USAGE;
  if (command === 'faq' && args[0] === 'lint') return undefined;
  if (command === 'replay') return (await import('./replay.js')).REPLAY_USAGE;
  return command === undefined ? undefined : USAGE[command];
}

function loadEnv(): Record<string, string | undefined> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}

/**
 * The project module of the current folder (sportello.config.js: docs/extending.md), its default
 * settings added where neither the environment nor .env sets them.
 */
async function loadProjectEnv(): Promise<Project> {
  loadEnv();
  const project = await loadProject();
  applyProjectEnv(project);
  return project;
}

function configOrExit(io: Io, overrides: Record<string, string> = {}, channels: Project['channels'] = []): Readonly<Config> | undefined {
  try {
    return loadConfig({ ...loadEnv(), ...overrides }, { channels });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`sportello: ${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

/** Opens the store for a CLI command (the embedded one under its file's lock, waiting up to 30 s for a short-lived holder). */
async function openStore(config: Readonly<Config>, command: string): Promise<AnyStore> {
  const { createStore } = await import('../storage/index.js');
  const store = createStore(config, { lock: { command, waitMs: 30_000 } });
  await store.init();
  return store;
}

async function start(args: string[], io: Io): Promise<number> {
  parseCommandArgs(args, {});
  const project = await loadProjectEnv();
  const config = configOrExit(io, {}, project.channels);
  if (!config) return 1;
  // The app, the store and the classifier are loaded by the commands that use them (--help stays quick).
  const { createSportello } = await import('../app.js');
  const app = await createSportello({ config, channels: project.channels });
  // The embedded store: CLI commands run meanwhile are sent here (one process per file).
  const admin = config.databaseUrl
    ? undefined
    : await (await import('./store-commands.js')).serveStoreCommands({ store: app.store, dataFile: config.dataFile, faqDir: config.faqDir, intentsDir: config.intentsDir, clock: systemClock, recorder: app.recorder, logger: app.logger, hours: app.hours, locale: config.defaultLocale, retention: config.retention, bus: app.bus }).catch(
        async (err: unknown) => {
          await app.close();
          throw err;
        },
      );
  const url = await app.listen();
  const on = [...app.channels.keys()].join(', ');
  app.logger.info({ url, channels: on, store: config.databaseUrl ? 'postgres' : config.dataFile }, 'Sportello is ready');
  io.stdout.write(`Sportello is listening on ${url} — web chat ${url}/chat, operator console ${url}/console (channels: ${on})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      app.logger.info({ signal }, 'shutting down: finishing in-flight work');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await admin?.close();
  await app.close();
  return 0;
}

function describe(item: OutboxItem): string {
  const r = item.reply;
  const options = r.kind === 'quick_replies' ? '\n' + r.options.map((o, i) => `  ${i + 1}. ${o.title}`).join('\n') : '';
  return `${r.text}${options}`;
}

async function chat(args: string[], io: Io): Promise<number> {
  const { explain: explainAsked } = parseCommandArgs(args, { explain: { type: 'boolean' } }).values;
  await loadProjectEnv();
  const dir = mkdtempSync(join(tmpdir(), 'sportello-chat-'));
  const config = configOrExit(io, { SPORTELLO_DATA: join(dir, 'chat.json'), DATABASE_URL: '' });
  if (!config) return 1;
  const interactive = Boolean(io.stdin.isTTY);
  const explain = explainAsked === true || interactive;
  const printed: string[] = [];
  const channel = createConsoleChannel((item) => printed.push(describe(item)));
  // Only the terminal: no channel of the environment is started.
  const { createSportello } = await import('../app.js');
  const app = await createSportello({ config: { ...config, databaseUrl: undefined, channels: {} }, logger: createSilentLogger(), channels: [channel] });
  const rl = createInterface({ input: io.stdin, terminal: false });
  if (interactive) io.stdout.write('Sportello chat — write a message (Ctrl-D to quit)\n> ');
  let n = 0;
  try {
    for await (const line of rl) {
      const text = line.trim();
      if (!text) continue;
      n += 1;
      const outcome = await app.pipeline.receive({
        channel: 'console',
        id: `console-${process.pid}-${n}`,
        visibility: 'private',
        customer: { platformId: 'console-user', name: 'Terminal' },
        text,
        sentAt: systemClock.now().toISOString(),
      });
      await app.sender.drain();
      for (const reply of printed.splice(0)) io.stdout.write(`${reply}\n`);
      if (explain) {
        const what = [outcome.action, outcome.reason ?? outcome.faqId ?? outcome.intent, outcome.confidence?.toFixed(2), outcome.language, outcome.handler && `handler ${outcome.handler}`].filter(Boolean).join(' ');
        io.stdout.write(`[${what}]\n`);
      }
      if (interactive) io.stdout.write('> ');
    }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

async function test(args: string[], io: Io): Promise<number> {
  const { positionals } = parseCommandArgs(args, {}, true);
  const paths = positionals.length > 0 ? positionals : ['tests/conversations'];
  const project = await loadProjectEnv();
  const { runConversationTests } = await import('../testing/conversation-tests.js');
  const report = await runConversationTests(paths, {
    channels: project.channels,
    onFailure: (f) => io.stdout.write(`FAIL ${f.file}${f.line ? `:${f.line}:${f.column ?? 1}` : ''}${f.turn ? ` turn ${f.turn}` : ''}: ${f.message}\n`),
  });
  io.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
  return report.failed > 0 ? 1 : 0;
}

/** A store command: in the server holding the embedded store, if one runs; here otherwise. */
async function onStore(argv: string[], io: Io, config: Readonly<Config>): Promise<number> {
  const { runStoreCommand, runStoreCommandFromCli } = await import('./store-commands.js');
  return runStoreCommandFromCli(argv, io, config.databaseUrl ? undefined : config.dataFile, async (localIo) => {
    const store = await openStore(config, `sportello ${argv.slice(0, 2).join(' ')}`);
    try {
      const where = config.databaseUrl ? 'PostgreSQL' : `lowdb file ${config.dataFile}`;
      // Events it records (an approval's faq.approved) are sent by the next server that runs.
      const { createEventRecorder } = await import('../events/recorder.js');
      const recorder = createEventRecorder({ subscriptions: config.webhooks, clock: systemClock, orderNumberPattern: config.nlu.orderNumberPattern });
      const { createBusinessHours } = await import('../handoff/business-hours.js');
      const hours = createBusinessHours({ timezone: config.handoff.timezone, schedule: config.handoff.businessHours, holidays: config.handoff.holidays });
      return await runStoreCommand(argv, localIo, { store, faqDir: config.faqDir, intentsDir: config.intentsDir, clock: systemClock, recorder, where, hours, locale: config.defaultLocale, retention: config.retention });
    } finally {
      await store.close();
    }
  });
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  if (command === '--version' || command === '-v') {
    io.stdout.write(`sportello ${packageVersion()}\n`);
    return 0;
  }
  const named = command && (command === 'faq' || command === 'operator' || command === 'customer') && args[0] && !args[0].startsWith('-') ? `${command} ${args[0]}` : command;
  try {
    if (wantsHelp(args)) {
      const usage = await usageOf(command, args);
      if (usage !== undefined) {
        io.stdout.write(usage);
        return 0;
      }
    }
    switch (command) {
      case 'start':
        return await start(args, io);
      case 'chat':
        return await chat(args, io);
      case 'test':
        return await test(args, io);
      case 'faq': {
        const { runFaqLint, runFaqReview } = await import('./faq.js');
        const env = loadEnv();
        if (args[0] === 'lint') return await runFaqLint(args.slice(1), io, env);
        if (args[0] === 'review') {
          const config = configOrExit(io);
          if (!config) return 1;
          return await onStore(argv, io, config);
        }
        io.stderr.write('usage: sportello faq lint | faq review [list|show ID|edit ID|approve ID|reject ID]\n');
        return 2;
      }
      case 'eval': {
        const { runEval } = await import('./eval.js');
        return await runEval(args, io);
      }
      case 'report':
      case 'customer':
      case 'audit':
      case 'retention':
      case 'operator': {
        const config = configOrExit(io);
        if (!config) return 1;
        return await onStore(argv, io, config);
      }
      case 'replay': {
        const config = configOrExit(io);
        if (!config) return 1;
        const { runReplay } = await import('./replay.js');
        return await runReplay(args, io, config);
      }
      case 'migrate': {
        const { runMigrate } = await import('./store-admin.js');
        return await runMigrate(args, io, loadEnv());
      }
      case 'export':
      case 'import': {
        const { readEnv, runExport, runImport } = await import('./store-admin.js');
        const env = loadEnv();
        const storeEnv = readEnv(env, io);
        if (!storeEnv) return 2;
        const run = command === 'export' ? runExport : runImport;
        const { runStoreCommandFromCli } = await import('./store-commands.js');
        return await runStoreCommandFromCli(argv, io, storeEnv.DATABASE_URL ? undefined : storeEnv.SPORTELLO_DATA, (localIo) => run(args, localIo, env));
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`sportello: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`sportello ${named}: ${err.message}\n${(await usageOf(command, args)) ?? ''}`);
      return 2;
    }
    const path = pathError(err);
    if (path) {
      io.stderr.write(`sportello ${named}: ${path}\n`);
      return 1;
    }
    if (err instanceof CorpusError) {
      io.stderr.write(`sportello: the FAQ or intents have errors:\n${err.message}\n`);
      return 1;
    }
    if (err instanceof ConfigError || err instanceof StoreError || err instanceof AdminUnreachableError) {
      // A store that cannot be opened (damaged journal, file in use) or a server that cannot be asked.
      io.stderr.write(`sportello${command && command !== 'start' ? ` ${command}` : ''}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
