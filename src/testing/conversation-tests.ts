/**
 * @module testing/conversation-tests
 * The conversation-test runner of FORMATS.md (`sportello test [PATHS]`): each YAML file is
 * played through the real pipeline — real classifier, FAQ, privacy guard, escalation rules,
 * store and operator desk — on a channel with the platform's limits, with a fake clock.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { createSportello } from '../app.js';
import { loadConfig, parseSchedule, type Config } from '../config/config.js';
import { createKnowledgeSource, type LiveKnowledge } from '../corpus/knowledge.js';
import { corpusToExamples, corpusTwins, locatePath } from '../corpus/load.js';
import { trainUnderstander } from '../classifier/index.js';
import { createFakeClock, type Store } from '../core/ports.js';
import { CONVERSATION_STATES } from '../core/state.js';
import { ESCALATION_REASONS, type Conversation, type Operator, type OutboxItem } from '../core/types.js';
import { createRecordingChannel } from '../channels/console/index.js';
import { CHANNELS, checkChannels, type AnyChannelDefinition } from '../channels/catalog.js';
import { createSilentLogger } from '../util/logger.js';
import { defineAction, loadActions, type Action } from '../actions/index.js';

const ACTIONS = ['answer', 'clarify', 'dm_prompt', 'privacy_warning', 'escalate', 'silent', 'queue_notice', 'greet', 'thank', 'none'] as const;

const expectSchema = z
  .object({
    action: z.enum(ACTIONS).optional(),
    faq: z.string().optional(),
    intent: z.string().optional(),
    visibility: z.enum(['public', 'private']).optional(),
    reason: z.enum(ESCALATION_REASONS).optional(),
    /** A regular expression some reply of the turn matches; a list: each matched by some reply (two answers in one turn). */
    reply_matches: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    reply_not_contains: z.array(z.string()).optional(),
    state: z.enum(CONVERSATION_STATES).optional(),
    /** The priority of the conversation's place in the queue (1 = most urgent). */
    priority: z.number().int().min(1).optional(),
    /** The custom action whose outcome the turn used (its reply, its handoff, or its failure). */
    handler: z.string().optional(),
  })
  .strict();

/** A stand-in for a custom action, by name: what it answers. */
const handlerStubSchema = z.union([
  z.object({ reply: z.string().min(1), quick_replies: z.array(z.string().min(1)).optional() }).strict(),
  z.object({ handoff: z.literal(true), reason: z.string().min(1).optional() }).strict(),
  z.object({ fail: z.literal(true) }).strict(),
]);
type HandlerStub = z.infer<typeof handlerStubSchema>;

/** A stub as an action: the real pipeline calls it as it would the brand's. */
function stubAction(name: string, stub: HandlerStub): Action {
  return defineAction({
    name,
    handle() {
      if ('fail' in stub) throw new Error('the stub fails, as the test asks');
      if ('handoff' in stub) return { handoff: true, reason: stub.reason };
      return { reply: stub.reply, quickReplies: stub.quick_replies };
    },
  });
}

const turnSchema = z.union([
  z.object({ say: z.string(), visibility: z.enum(['public', 'private']).optional(), expect: expectSchema.extend({ action: z.enum(ACTIONS) }) }).strict(),
  z
    .object({
      operator: z.union([
        z.object({ claim: z.literal(true) }).strict(),
        z.object({ reply: z.string().min(1), visibility: z.enum(['public', 'private']).optional() }).strict(),
        z.object({ resolve: z.literal(true), add_to_faq: z.boolean().optional() }).strict(),
        z.object({ note: z.string().min(1) }).strict(),
        z.object({ return_to_bot: z.literal(true) }).strict(),
      ]),
      expect: expectSchema.optional(),
    })
    .strict(),
  z.object({ wait: z.string().regex(/^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$/, 'an ISO 8601 duration like PT4H or P1DT2H') }).strict(),
]);

/** A conversation test file whose `channel` is one of `known` (the registry's, and a project's own). */
function testFileSchema(known: readonly AnyChannelDefinition[]) {
  return z
    .object({
      name: z.string().min(1),
      /** A channel of the registry or of the project: the test plays it with its capabilities and test settings. */
      channel: z.string().refine((name) => known.some((c) => c.name === name), {
        message: `not a channel (known: ${known.map((c) => c.name).join(', ')})`,
      }),
      faq: z.string().optional(),
      intents: z.string().optional(),
      /** Besides these, the settings the channel's definition understands (checked against it). */
      customer: z
        .looseObject({
          id: z.union([z.string(), z.number()]).transform(String),
          handle: z.string().optional(),
          followers: z.number().int().nonnegative().optional(),
        })
        .default({ id: 'customer-1' }),
      clock: z.union([z.string(), z.date()]).optional(),
      /** Custom actions stubbed by name (they replace the project's actions of that name). */
      handlers: z.record(z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a handler name is kebab-case'), handlerStubSchema).optional(),
      settings: z
        .object({
          timezone: z.string().optional(),
          business_hours: z.record(z.string(), z.string()).optional(),
          holidays: z.array(z.union([z.string(), z.date()])).optional(),
          vip_followers: z.number().int().optional(),
          vip_handles: z.array(z.string()).optional(),
          crisis_keywords: z.array(z.string()).optional(),
          answer_threshold: z.number().optional(),
          clarify_threshold: z.number().optional(),
          queue_notice_minutes: z.number().int().nonnegative().optional(),
          data_request_minutes: z.number().int().positive().optional(),
        })
        .strict()
        .optional(),
      turns: z.array(turnSchema).min(1),
    })
    .strict();
}

/** A conversation test file (on the channels of the registry). */
export const conversationTestSchema = testFileSchema(CHANNELS);
export type ConversationTest = z.infer<typeof conversationTestSchema>;

/** The customer fields every channel has; the rest belong to the test's channel. */
const COMMON_CUSTOMER = ['id', 'handle', 'followers'];

/** Checks the channel-specific customer settings of a test against its channel's definition. */
function channelCustomer(test: ConversationTest, definition: AnyChannelDefinition): { id: string } & Record<string, unknown> {
  const support = definition.conversationTests;
  const extra = Object.fromEntries(Object.entries(test.customer).filter(([k]) => !COMMON_CUSTOMER.includes(k)));
  const parsed = z.strictObject(support?.customer ?? {}).safeParse(extra);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `customer${i.path.length ? '.' : ''}${i.path.join('.')}: ${i.message} (channel ${test.channel})`).join('; '));
  }
  return { id: test.customer.id, ...parsed.data };
}

/** One failed expectation. */
export interface TestFailure {
  file: string;
  turn: number;
  message: string;
  /** Where in the file, for an invalid file (turn 0). */
  line?: number;
  column?: number;
}

/** An invalid test file, with where the problem is. */
class InvalidTestFile extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

/** The runner's result. */
export interface TestReport {
  passed: number;
  failed: number;
  failures: TestFailure[];
}

/** Finds the YAML files under the given paths (files or folders). */
export function findTestFiles(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (p: string) => {
    const stat = statSync(p);
    if (stat.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name));
    } else if (/\.ya?ml$/.test(p)) files.push(p);
  };
  for (const p of paths) walk(resolve(p));
  return files;
}

function parseDuration(text: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (!m) throw new Error(`bad duration ${text}`);
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000 + Number(m[4] ?? 0) * 1000;
}

function isoDate(value: string | Date): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value;
}

/** Options of `runConversationTests`. */
export interface ConversationTestOptions {
  /** The environment the settings are read from (default: process.env); channels' variables and DATABASE_URL are ignored. */
  env?: Record<string, string | undefined>;
  /** Where `faq/`, `intents/` and the actions folder are (default: the current folder). */
  projectRoot?: string;
  /** The project's own channels (`defineChannel`): tests may name them in `channel:`. */
  channels?: readonly AnyChannelDefinition[];
  /** Called on each failed expectation, as it happens. */
  onFailure?: (f: TestFailure) => void;
}

/** Runs conversation tests and reports each failed expectation. */
export async function runConversationTests(
  paths: string[],
  options: ConversationTestOptions = {},
): Promise<TestReport> {
  const root = options.projectRoot ?? process.cwd();
  const report: TestReport = { passed: 0, failed: 0, failures: [] };
  const knowledgeCache = new Map<string, Promise<LiveKnowledge>>();
  // The registry's channels and the project's own (checked as createSportello checks them).
  const known = options.channels?.length ? checkChannels([...CHANNELS, ...options.channels]) : CHANNELS;
  const schema = options.channels?.length ? testFileSchema(known) : conversationTestSchema;
  const definitionOf = (name: string) => known.find((c) => c.name === name)!;
  // No channel's variables (tests play channels with recording stand-ins), no database, no port.
  const channelVariables = new Set(known.flatMap((c) => Object.keys(c.env.shape)));
  const env = Object.fromEntries(
    Object.entries(options.env ?? process.env).filter(([k]) => !channelVariables.has(k) && k !== 'DATABASE_URL' && k !== 'PORT'),
  );
  const loaded = loadConfig({ ...env, FAQ_WATCH: 'false', LOG_LEVEL: 'silent' });
  const baseConfig: Config = { ...loaded, actions: { ...loaded.actions, dir: resolve(root, loaded.actions.dir) }, channels: {} };
  // The project's custom actions (a test's `handlers` stub some of them, or others).
  const projectActions = loadActions(baseConfig.actions.dir);
  projectActions.catch(() => undefined);

  const fail = (file: string, turn: number, message: string, failures: TestFailure[], at?: { line: number; column: number }) => {
    const failure: TestFailure = { file: relative(root, file) || file, turn, message, ...at };
    failures.push(failure);
    options.onFailure?.(failure);
  };

  for (const file of findTestFiles(paths)) {
    const failures: TestFailure[] = [];
    let test: ConversationTest;
    try {
      const lineCounter = new LineCounter();
      const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
      if (doc.errors.length > 0) {
        const first = doc.errors[0]!.linePos?.[0] ?? { line: 1, col: 1 };
        throw new InvalidTestFile(doc.errors.map((e) => e.message.split('\n')[0]).join('; '), first.line, first.col);
      }
      const parsed = schema.safeParse(doc.toJS());
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const at = locatePath(doc, lineCounter, issue.path.filter((k): k is string | number => typeof k !== 'symbol'));
        throw new InvalidTestFile(parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '), at.line, at.col);
      }
      test = parsed.data;
      // What the schema cannot see: the channel's own customer settings, the schedule, the date.
      const check = (keys: string[], run: () => void) => {
        try {
          run();
        } catch (err) {
          const at = locatePath(doc, lineCounter, keys);
          throw new InvalidTestFile(`${keys.join('.')}: ${(err as Error).message}`, at.line, at.col);
        }
      };
      check(['customer'], () => channelCustomer(test, definitionOf(test.channel)));
      check(['settings', 'business_hours'], () => test.settings?.business_hours && parseSchedule(test.settings.business_hours));
      check(['clock'], () => {
        if (test.clock !== undefined && Number.isNaN(new Date(test.clock).getTime())) throw new Error(`not a date: ${String(test.clock)}`);
      });
    } catch (err) {
      const at = err instanceof InvalidTestFile ? { line: err.line, column: err.column } : { line: 1, column: 1 };
      fail(file, 0, `invalid test file: ${(err as Error).message}`, failures, at);
      report.failed += 1;
      report.failures.push(...failures);
      continue;
    }

    const faqDir = test.faq ? resolve(dirname(file), test.faq) : resolve(root, baseConfig.faqDir);
    const intentsDir = test.intents ? resolve(dirname(file), test.intents) : resolve(root, baseConfig.intentsDir);
    const cacheKey = `${faqDir}\n${intentsDir}`;
    if (!knowledgeCache.has(cacheKey)) {
      knowledgeCache.set(
        cacheKey,
        createKnowledgeSource({
          faqDir,
          intentsDir,
          watch: false,
          logger: createSilentLogger(),
          train: (corpus) =>
            trainUnderstander(corpusToExamples(corpus), {
              orderNumberPattern: baseConfig.nlu.orderNumberPattern,
              defaultLanguage: baseConfig.defaultLocale,
              model: { twins: corpusTwins(corpus) },
            }),
        }),
      );
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'sportello-test-'));
    try {
      const knowledge = await knowledgeCache.get(cacheKey)!;
      // The corpus as it is on disk now, as this file alone would see it: the model is trained once
      // per corpus, not once per run, so an FAQ edited during a run (or between the files of a
      // project's own runner) is not answered from the version read at the first file. Unchanged,
      // the reload only reads the files again (no training).
      const fresh = await knowledge.reload();
      if (!fresh.ok) throw new Error(`the FAQ or the intents cannot be loaded: ${fresh.problems.join('; ')}`);
      // Each handler an entry names must be stubbed here or be one of the project's actions.
      const stubs = Object.entries(test.handlers ?? {}).map(([name, stub]) => stubAction(name, stub));
      const available = new Set([...stubs.map((a) => a.name), ...(await projectActions).names]);
      const missing = [...new Set(knowledge.current().corpus.faq.flatMap((e) => (e.handler && !available.has(e.handler) ? [e.handler] : [])))];
      if (missing.length > 0) {
        throw new Error(`the FAQ names handler${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: stub ${missing.length > 1 ? 'them' : 'it'} (handlers: {${missing[0]}: {reply: "…"}}) or add ${missing.length > 1 ? 'those actions' : 'that action'} to ${relative(root, baseConfig.actions.dir) || '.'}/`);
      }
      const s = test.settings ?? {};
      const config: Config = {
        ...baseConfig,
        dataFile: join(dataDir, 'store.json'),
        nlu: {
          ...baseConfig.nlu,
          answerThreshold: s.answer_threshold ?? baseConfig.nlu.answerThreshold,
          clarifyThreshold: s.clarify_threshold ?? baseConfig.nlu.clarifyThreshold,
        },
        handoff: {
          ...baseConfig.handoff,
          timezone: s.timezone ?? baseConfig.handoff.timezone,
          businessHours: s.business_hours ? parseSchedule(s.business_hours) : baseConfig.handoff.businessHours,
          holidays: s.holidays ? s.holidays.map(isoDate) : baseConfig.handoff.holidays,
          vipFollowers: s.vip_followers ?? baseConfig.handoff.vipFollowers,
          vipHandles: s.vip_handles ? s.vip_handles.map((h) => h.replace(/^@/, '').toLowerCase()) : baseConfig.handoff.vipHandles,
          crisisKeywords: s.crisis_keywords ?? baseConfig.handoff.crisisKeywords,
          queueNoticeMinutes: s.queue_notice_minutes ?? baseConfig.handoff.queueNoticeMinutes,
          dataRequestMinutes: s.data_request_minutes ?? baseConfig.handoff.dataRequestMinutes,
        },
      };
      const clock = createFakeClock(test.clock ? new Date(test.clock) : new Date());
      const definition = definitionOf(test.channel);
      const channel = createRecordingChannel(test.channel, definition.capabilities);
      definition.conversationTests?.apply?.(channelCustomer(test, definition), channel);
      const app = await createSportello({ config, clock, logger: createSilentLogger(), channels: [channel], knowledge, actions: stubs });
      const operator: Operator = {
        id: 'op-test',
        name: 'Operatore Test',
        initials: 'OT',
        role: 'agent',
        passwordHash: 'not-a-login',
        createdAt: clock.now().toISOString(),
      };
      await app.store.directory.addOperator(operator);
      let current: Conversation | undefined;
      let messageNo = 0;
      try {
        for (const [index, turn] of test.turns.entries()) {
          const turnNo = index + 1;
          const before = channel.sent.length;
          if ('wait' in turn) {
            clock.advance(parseDuration(turn.wait));
            continue;
          }
          let outcome: { action?: string; reason?: string; faqId?: string; intent?: string; handler?: string } = {};
          try {
            if ('say' in turn) {
              messageNo += 1;
              const visibility = turn.visibility ?? definition.conversationTests?.defaultVisibility ?? 'private';
              const result = await app.pipeline.receive({
                channel: test.channel,
                id: `${test.customer.id}-m${messageNo}`,
                visibility,
                customer: {
                  platformId: test.customer.id,
                  handle: test.customer.handle,
                  followers: test.customer.followers,
                },
                text: turn.say,
                sentAt: clock.now().toISOString(),
                threadId: visibility === 'public' ? `thread-${test.customer.id}` : undefined,
              });
              outcome = result;
              current = result.conversation;
            } else {
              if (!current) throw new Error('an operator turn needs a customer message first');
              const target = await heldConversation(app.store, current);
              const op = turn.operator;
              if ('claim' in op) current = await app.desk.claim(target.id, operator);
              else if ('reply' in op) await app.desk.reply(target.id, operator, op.reply, { visibility: op.visibility });
              else if ('resolve' in op) current = (await app.desk.resolve(target.id, operator, { addToFaq: op.add_to_faq })).conversation;
              else if ('note' in op) await app.desk.note(target.id, operator, op.note);
              else current = await app.desk.returnToBot(target.id, operator);
            }
            await app.sender.drain();
          } catch (err) {
            fail(file, turnNo, `the turn failed: ${(err as Error).message}`, failures);
            continue;
          }
          const expect = turn.expect;
          if (!expect) continue;
          const sent: OutboxItem[] = channel.sent.slice(before);
          const texts = sent.map((i) => i.reply.text);
          const shown = texts.length > 0 ? texts.map((t) => JSON.stringify(t)).join(' + ') : 'no reply';
          const check = (ok: boolean, message: string) => {
            if (!ok) fail(file, turnNo, message, failures);
          };
          if (expect.action) check(outcome.action === expect.action, `expected action ${expect.action}, got ${outcome.action ?? 'none'}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.faqId ? ` [${outcome.faqId}]` : ''}; replied ${shown}`);
          if (expect.faq) check(outcome.faqId === expect.faq, `expected FAQ ${expect.faq}, got ${outcome.faqId ?? 'none'}`);
          if (expect.intent) check(outcome.intent === expect.intent, `expected intent ${expect.intent}, got ${outcome.intent ?? 'none'}`);
          if (expect.handler) check(outcome.handler === expect.handler, `expected handler ${expect.handler}, got ${outcome.handler ?? 'none'}`);
          if (expect.reason) check(outcome.reason === expect.reason, `expected reason ${expect.reason}, got ${outcome.reason ?? 'none'}`);
          if (expect.visibility) check(sent.some((i) => i.visibility === expect.visibility), `expected a ${expect.visibility} reply, got ${sent.map((i) => i.visibility).join(', ') || 'no reply'}`);
          for (const pattern of typeof expect.reply_matches === 'string' ? [expect.reply_matches] : expect.reply_matches ?? []) {
            const re = new RegExp(pattern, 'i');
            check(texts.some((t) => re.test(t)), `expected a reply matching /${pattern}/i, got ${shown}`);
          }
          for (const forbidden of expect.reply_not_contains ?? []) {
            check(!texts.some((t) => t.includes(forbidden)), `a reply contains ${JSON.stringify(forbidden)}: ${shown}`);
          }
          if (expect.state) {
            const conv = current ? await app.store.conversations.get(current.id) : undefined;
            check(conv?.state === expect.state, `expected state ${expect.state}, got ${conv?.state ?? 'no conversation'}`);
          }
          if (expect.priority !== undefined) {
            const conv = current ? await app.store.conversations.get(current.id) : undefined;
            check(conv?.queue?.priority === expect.priority, `expected queue priority ${expect.priority}, got ${conv?.queue?.priority ?? 'not queued'}`);
          }
        }
      } finally {
        await app.close();
      }
    } catch (err) {
      fail(file, 0, `could not run: ${(err as Error).message}`, failures);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    if (failures.length === 0) report.passed += 1;
    else report.failed += 1;
    report.failures.push(...failures);
  }
  for (const k of knowledgeCache.values()) await (await k.catch(() => undefined))?.close();
  return report;
}

/** The conversation an operator acts on: the one that is queued or held in the current case. */
async function heldConversation(
  store: Pick<Store, 'conversations'>,
  current: Conversation,
): Promise<Conversation> {
  const fresh = (await store.conversations.get(current.id)) ?? current;
  if (fresh.state === 'queued' || fresh.state === 'assigned') return fresh;
  const kase = await store.conversations.getCase(fresh.caseId);
  for (const id of kase?.conversationIds ?? []) {
    const c = await store.conversations.get(id);
    if (c && (c.state === 'queued' || c.state === 'assigned')) return c;
  }
  return fresh;
}
