/**
 * @module cli/replay
 * `sportello replay FILE.jsonl [--json] [--config listening.yaml]`: a recorded stream of heard
 * items through listening (classes, topics, spike alerts) and the bot's decisions, with a
 * simulated clock, sending nothing (docs/listening.md, "Replay"). Care items go through the real
 * pipeline (FAQ, intents, settings of the environment, as `start`) on a throw-away embedded store
 * with recording channels of the platforms' capabilities; custom actions are not called (they
 * hand over to a person, as a failed one would not: the replay reports `escalate`).
 */
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { createFakeClock } from '../core/ports.js';
import type { InboundMessage } from '../core/types.js';
import type { HeardClass } from '../listening/index.js';
import { CHANNELS } from '../channels/catalog.js';
import { createRecordingChannel } from '../channels/console/index.js';
import { defineAction, loadActions } from '../actions/index.js';
import { createSilentLogger } from '../util/logger.js';
import { NO_SUBSCRIPTIONS } from '../events/subscriptions.js';
import { parseCommandArgs, UsageError } from './args.js';
import type { Io } from './run.js';

export const REPLAY_USAGE = `usage: sportello replay FILE.jsonl [--json] [--config listening.yaml]
  runs a recorded stream of heard posts through listening (class, topic, sentiment, spike alerts)
  and the bot's decisions for care requests, with a simulated clock; sends nothing.
  Each line: {"at": ISO time with offset, "channel": ${listenedChannels().map((c) => `"${c}"`).join('|')}, "kind": "mention"|"post"|"comment"|"dm",
              "id": string, "author": {"id": string, "handle"?: string, "followers"?: number}, "text": string}, in time order.
  --json     one JSON object a line: item, alert, and a summary last
  --config   the listening file (default LISTENING_FILE, else listening.yaml when there is one): brand, exclusions, detector
  A malformed or out-of-order line stops the replay: FILE:LINE: reason, exit 2. See docs/listening.md.
`;

/** Channels a recorded stream may name: those with public posts to hear. */
function listenedChannels(): string[] {
  return CHANNELS.filter((c) => c.capabilities.publicReplies && c.name !== 'console').map((c) => c.name);
}

/** One input line. */
export const replayLineSchema = z.looseObject({
  at: z.iso.datetime({ offset: true, message: 'an ISO time with an offset, like 2026-03-02T09:15:00+01:00' }),
  channel: z.string().refine((c) => listenedChannels().includes(c), { message: `not a listened channel (${listenedChannels().join(', ')})` }),
  kind: z.enum(['mention', 'post', 'comment', 'dm']),
  id: z.string().min(1),
  author: z.looseObject({
    id: z.string().min(1),
    handle: z.string().optional(),
    followers: z.number().int().nonnegative().optional(),
  }),
  text: z.string(),
});
export type ReplayLine = z.infer<typeof replayLineSchema>;

/** A line that stops the replay. */
class BadLine extends Error {}

/** Reads and checks the whole file first: a bad line stops the replay before anything is played. */
async function readLines(file: string): Promise<ReplayLine[]> {
  const out: ReplayLine[] = [];
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let previous: { at: number; text: string } | undefined;
  for await (const raw of rl) {
    n += 1;
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new BadLine(`${file}:${n}: not JSON (${(err as Error).message})`);
    }
    const parsed = replayLineSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
      throw new BadLine(`${file}:${n}: ${issues}`);
    }
    const at = Date.parse(parsed.data.at);
    if (previous && at < previous.at) throw new BadLine(`${file}:${n}: out of order: ${parsed.data.at} is before the previous line's ${previous.text}`);
    previous = { at, text: parsed.data.at };
    out.push(parsed.data);
  }
  return out;
}

/** Runs `sportello replay`; `config` is the environment's configuration (as `start` reads it). */
export async function runReplay(args: string[], io: Io, config: Readonly<Config>): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, config: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the recorded stream (FILE.jsonl) is missing' : 'one file at a time');
  const file = positionals[0]!;
  const json = values.json === true;
  const { loadListeningFile, listeningSettings, listeningFileSchema, createListener, privateEntryLabels, ListeningFileError } = await import('../listening/index.js');

  const configPath = typeof values.config === 'string' ? values.config : (config.listeningFile ?? (existsSync('listening.yaml') ? 'listening.yaml' : undefined));
  let settings;
  try {
    const parsed = configPath ? loadListeningFile(configPath) : listeningFileSchema.parse({});
    settings = listeningSettings(parsed, { brandName: config.brandName, timezone: config.handoff.timezone });
  } catch (err) {
    if (err instanceof ListeningFileError) {
      io.stderr.write(`sportello replay: the listening file has errors:\n${err.message}\n`);
      return 1;
    }
    throw err;
  }

  let lines: ReplayLine[];
  try {
    lines = await readLines(file);
  } catch (err) {
    if (err instanceof BadLine) {
      io.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }

  // A throw-away embedded store and recording channels: the real decisions, nothing sent.
  const dir = mkdtempSync(join(tmpdir(), 'sportello-replay-'));
  const clock = createFakeClock(lines[0]?.at ?? new Date(0).toISOString());
  const channels = [...new Set(lines.map((l) => l.channel))].map((name) => createRecordingChannel(name, CHANNELS.find((c) => c.name === name)!.capabilities));
  // The project's custom actions are not called (they may reach the brand's systems): each hands over to a person.
  const loaded = await loadActions(resolve(config.actions.dir));
  const stubs = [...loaded.modules.map((m) => m.action.name), ...loaded.http.map((h) => h.spec.name)].map((name) =>
    defineAction({ name, handle: () => ({ handoff: true, reason: 'not called in a replay' }) }),
  );
  const { createSportello } = await import('../app.js');
  const app = await createSportello({
    // The same listening file as the listener's (holding statements, crisis rules); no e-mail is sent.
    config: { ...config, databaseUrl: undefined, dataFile: join(dir, 'replay.json'), channels: {}, watchCorpus: false, webhooks: NO_SUBSCRIPTIONS, listeningFile: configPath },
    noAlertMail: true,
    logger: createSilentLogger(),
    channels,
    clock,
    actions: stubs,
    typingDelayMs: 0,
  });
  const listener = createListener({
    settings,
    understander: () => app.knowledge.current().understander,
    careLabels: () => privateEntryLabels(app.knowledge.current().corpus),
    answerThreshold: config.nlu.answerThreshold,
  });

  const counts = { items: 0, duplicates: 0, alerts: 0, care: 0, praise: 0, noise: 0, spam: 0 };
  // A post heard again (the same channel and id: redelivered, found by search and the stream) is not
  // counted again, as a running instance's store does not count it (listening/service.ts); a care
  // request among them goes to the pipeline again, whose inbox says `duplicate`.
  const heardBefore = new Map<string, { class: HeardClass; topic?: string; sentiment: number; spike?: string }>();
  const alertsText: string[] = [];
  const write = (o: unknown) => io.stdout.write(`${JSON.stringify(o)}\n`);
  try {
    for (const line of lines) {
      clock.set(line.at);
      const known = heardBefore.get(`${line.channel}:${line.id}`);
      const heard = known
        ? { ...known, alerts: [] }
        : await listener.hear({ id: line.id, at: line.at, channel: line.channel, kind: line.kind, author: line.author, text: line.text });
      if (!known) heardBefore.set(`${line.channel}:${line.id}`, { class: heard.class, sentiment: heard.sentiment, ...(heard.topic ? { topic: heard.topic } : {}), ...(heard.spike ? { spike: heard.spike } : {}) });
      // A crisis rule may open a crisis on an alert's topic: before the post goes on, as in a running instance.
      const opened = [];
      for (const alert of heard.alerts) opened.push(await app.crisisRules.onAlert(alert));
      let action: string | undefined;
      if (heard.class === 'care') {
        const msg: InboundMessage = {
          channel: line.channel,
          id: line.id,
          visibility: line.kind === 'dm' ? 'private' : 'public',
          customer: { platformId: line.author.id, ...(line.author.handle ? { handle: line.author.handle } : {}), ...(line.author.followers !== undefined ? { followers: line.author.followers } : {}) },
          text: line.text,
          sentAt: new Date(line.at).toISOString(),
          ...(line.kind === 'dm' ? {} : { threadId: line.id }),
          ...(line.kind === 'post' ? { heard: true } : {}),
          ...(heard.spike ? { spikeTopic: heard.spike } : {}),
        };
        action = (await app.pipeline.receive(msg)).action;
      }
      if (known) counts.duplicates += 1;
      else {
        counts.items += 1;
        counts[heard.class] += 1;
      }
      if (json) {
        write({ type: 'item', id: line.id, class: heard.class, ...(heard.topic ? { topic: heard.topic } : {}), sentiment: heard.sentiment, ...(action ? { action } : {}), ...(known ? { duplicate: true } : {}) });
      }
      for (const [i, alert] of heard.alerts.entries()) {
        counts.alerts += 1;
        const crisis = opened[i];
        if (json) {
          write({
            type: 'alert',
            at: alert.at,
            topic: alert.topic,
            window_minutes: alert.windowMinutes,
            volume: alert.volume,
            baseline: alert.baseline,
            negative_share: alert.negativeShare,
            update: alert.update,
            samples: alert.samples,
            top_authors: alert.topAuthors,
            ...(crisis ? { crisis_opened: { topic: crisis.crisis.topic, rule: crisis.rule } } : {}),
          });
        } else {
          alertsText.push(
            `${alert.update ? 'UPDATE' : 'ALERT '} ${alert.at}  "${alert.topic}": ${alert.volume} posts in ${alert.windowMinutes} min (baseline ${alert.baseline}), ${Math.round(alert.negativeShare * 100)}% negative` +
              (alert.topAuthors[0] ? `; top author ${alert.topAuthors[0].handle ?? alert.topAuthors[0].id} (${alert.topAuthors[0].followers} followers)` : ''),
          );
          if (crisis) alertsText.push(`       crisis opened on "${crisis.crisis.topic}" by the rule "${crisis.rule}"`);
        }
      }
    }
    await app.sender.drain();
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // In a stream's first hours (cold start) only a spike over the detector's cautious bar alerts: said,
  // so that a short stream's "0 alerts" is not read as "nothing to alert on" at the usual sensitivity.
  const first = lines[0] ? Date.parse(lines[0].at) : undefined;
  const coldUntil = first !== undefined && settings.detector.coldStartHours > 0 ? first + settings.detector.coldStartHours * 3_600_000 : undefined;
  const coldCovers = coldUntil !== undefined && Date.parse(lines.at(-1)!.at) < coldUntil;
  if (json) {
    write({ type: 'summary', ...counts, ...(coldUntil !== undefined ? { cold_start_until: new Date(coldUntil).toISOString() } : {}) });
  } else {
    io.stdout.write(
      `${counts.items} items: ${counts.care} care, ${counts.praise} praise, ${counts.noise} noise, ${counts.spam} spam` +
        (counts.duplicates ? ` (${counts.duplicates} heard again, not counted)` : '') +
        `; ${counts.alerts} alert${counts.alerts === 1 ? '' : 's'}\n`,
    );
    for (const a of alertsText) io.stdout.write(`${a}\n`);
    if (coldCovers) {
      io.stdout.write(
        `This stream is shorter than the detector's cold start: in its first ${settings.detector.coldStartHours} hours only a spike over the cautious bar alerts (the low sensitivity's numbers, half its posts negative: detector.cold_start_hours in the listening file).\n`,
      );
    }
  }
  return 0;
}
