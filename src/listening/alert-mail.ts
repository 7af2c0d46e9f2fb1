/**
 * @module listening/alert-mail
 * Listening's spike alerts by e-mail to decision makers (docs/listening.md, "Alerts by e-mail"):
 * one mail per alert, and one per update (marked as an update, in the same thread), in Italian or
 * English, naming the topic, the window, the volume against the baseline, the negative share, a few
 * sample posts (private data masked by the classifier's masker, with the brand's order numbers),
 * the top authors by reach, the crisis a rule opened, and a link to the console.
 *
 * Listening never waits for the mail server: `send` puts the mail in a queue and returns; one
 * worker sends the queue in order through nodemailer's SMTP transport, each step with a timeout
 * and the whole send with a deadline. A server that refuses for now (4xx), hangs or cannot be
 * reached is tried again with a growing delay; one that refuses for good (5xx: a wrong login, a
 * refused recipient) is not. Every outcome is logged and counted (`onOutcome`: the metrics), and
 * a mail given up, dropped from a full queue or still waiting at shutdown is logged as an error
 * with its topic: nothing is lost silently. The queue is in memory: a restart forgets what waited
 * (and says so in the log). A send that timed out after the message was handed over may arrive
 * twice: for an alert a duplicate is better than nothing.
 */
import nodemailer from 'nodemailer';
import type { AlertMailSettings } from '../config/alert-mail.js';
import { createMasker } from '../classifier/mask.js';
import type { Language } from '../core/types.js';
import type { Logger } from '../util/logger.js';
import type { RuleOutcome } from './crisis-rules.js';
import type { SpikeAlert } from './detector.js';

/** A mail ready to send. */
export interface AlertMail {
  subject: string;
  text: string;
  /** The spike's thread: the first alert's Message-ID; updates answer it. */
  messageId: string;
  inReplyTo?: string;
}

/** What a mail says besides the alert. */
export interface AlertMailContext {
  language: Language;
  brandName: string;
  /** The brand's time zone (the window's times are shown in it). */
  timezone: string;
  /** The console's address (PUBLIC_URL + /console); absent: no link. */
  consoleUrl?: string;
  /** The brand's order-number pattern (masking). */
  orderNumberPattern?: string;
  /** The crisis a rule opened on this alert's topic. */
  crisis?: RuleOutcome;
}

const TEXT = {
  it: {
    subject: '[{brand}] Picco su «{topic}»: {volume} post in {window} minuti, {share}% negativi',
    subjectUpdate: '[{brand}] Aggiornamento: il picco su «{topic}» cresce: {volume} post in {window} minuti, {share}% negativi',
    intro: 'L’ascolto dei social di {brand} ha trovato un picco sul tema «{topic}».',
    introUpdate: 'AGGIORNAMENTO: il picco sul tema «{topic}» cresce.',
    window: 'Finestra: {window} minuti, dalle {from} alle {to} ({tz})',
    started: 'Il picco è iniziato: {at}',
    volume: 'Volume: {volume} post (di solito {baseline} in una finestra così{ratio})',
    ratio: ': {ratio} volte tanto',
    newTopic: ': un tema nuovo',
    negative: 'Negativi: {share}%',
    crisis: 'Crisi aperta automaticamente dalla regola «{rule}» sul tema «{topic}»: i messaggi su questo tema ricevono la dichiarazione approvata e vanno in coda per primi. Un operatore può chiuderla dalla console.',
    samples: 'Messaggi di esempio (dati privati nascosti):',
    authors: 'Autori più seguiti:',
    followers: '{n} follower',
    console: 'Console: {url}',
    noConsole: 'Apri la console di Sportello per i dettagli e per aprire o chiudere una crisi.',
    footer: 'Messaggio automatico di Sportello: non rispondere a questa e-mail.',
  },
  en: {
    subject: '[{brand}] Spike on “{topic}”: {volume} posts in {window} minutes, {share}% negative',
    subjectUpdate: '[{brand}] Update: the spike on “{topic}” is growing: {volume} posts in {window} minutes, {share}% negative',
    intro: 'Social listening for {brand} found a spike on the topic “{topic}”.',
    introUpdate: 'UPDATE: the spike on the topic “{topic}” is growing.',
    window: 'Window: {window} minutes, from {from} to {to} ({tz})',
    started: 'The spike started: {at}',
    volume: 'Volume: {volume} posts (usually {baseline} in such a window{ratio})',
    ratio: ': {ratio} times as many',
    newTopic: ': a new topic',
    negative: 'Negative: {share}%',
    crisis: 'Crisis mode opened automatically by the rule “{rule}” on the topic “{topic}”: messages on this topic get the approved holding statement and are queued first. An operator can close it from the console.',
    samples: 'Sample posts (private data masked):',
    authors: 'Most followed authors:',
    followers: '{n} followers',
    console: 'Console: {url}',
    noConsole: 'Open Sportello’s console for the details and to open or close a crisis.',
    footer: 'An automatic message from Sportello: do not reply to this e-mail.',
  },
} as const;

type Key = keyof typeof TEXT.en;

function say(language: Language, key: Key, vars: Record<string, string | number> = {}): string {
  return TEXT[language][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** The thread id of a spike's mails. */
function threadId(alert: SpikeAlert): string {
  return `<${alert.spikeId.replace(/[^\w.-]/g, '_')}.alert@sportello.invalid>`;
}

/** The mail of one alert (pure). */
export function composeAlertMail(alert: SpikeAlert, ctx: AlertMailContext): AlertMail {
  const lang = ctx.language;
  const locale = lang === 'it' ? 'it-IT' : 'en-GB';
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const time = new Intl.DateTimeFormat(locale, { timeZone: ctx.timezone, dateStyle: 'medium', timeStyle: 'short' });
  const clockTime = new Intl.DateTimeFormat(locale, { timeZone: ctx.timezone, hour: '2-digit', minute: '2-digit' });
  const share = Math.round(alert.negativeShare * 100);
  const vars = { brand: ctx.brandName, topic: alert.topic, volume: alert.volume, window: alert.windowMinutes, share };
  const to = new Date(alert.at);
  const from = new Date(to.getTime() - alert.windowMinutes * 60_000);
  const ratio = alert.baseline > 0 ? say(lang, 'ratio', { ratio: number.format(alert.volume / alert.baseline) }) : say(lang, 'newTopic');
  const mask = createMasker(ctx.orderNumberPattern ? { orderNumberPattern: ctx.orderNumberPattern } : {});
  const lines = [
    say(lang, alert.update ? 'introUpdate' : 'intro', vars),
    '',
    say(lang, 'window', { window: alert.windowMinutes, from: time.format(from), to: clockTime.format(to), tz: ctx.timezone }),
    ...(alert.update ? [say(lang, 'started', { at: time.format(new Date(alert.windowStart)) })] : []),
    say(lang, 'volume', { volume: alert.volume, baseline: number.format(alert.baseline), ratio }),
    say(lang, 'negative', { share }),
  ];
  if (ctx.crisis) lines.push('', say(lang, 'crisis', { rule: ctx.crisis.rule, topic: ctx.crisis.crisis.topic }));
  if (alert.samples.length > 0) {
    lines.push('', say(lang, 'samples'));
    for (const sample of alert.samples) lines.push(`- «${mask(sample).replace(/\s+/g, ' ').trim()}»`);
  }
  if (alert.topAuthors.length > 0) {
    lines.push('', say(lang, 'authors'));
    for (const a of alert.topAuthors) lines.push(`- ${a.handle ? `@${a.handle}` : a.id} (${say(lang, 'followers', { n: new Intl.NumberFormat(locale).format(a.followers) })})`);
  }
  lines.push('', ctx.consoleUrl ? say(lang, 'console', { url: ctx.consoleUrl }) : say(lang, 'noConsole'), '', '-- ', say(lang, 'footer'));
  const id = threadId(alert);
  return {
    subject: say(lang, alert.update ? 'subjectUpdate' : 'subject', vars).replace(/\s+/g, ' '),
    text: `${lines.join('\n')}\n`,
    // Each mail has its own id; updates answer the first, so mail readers show one thread per spike.
    messageId: alert.update ? `<${alert.spikeId.replace(/[^\w.-]/g, '_')}.${Date.parse(alert.at).toString(36)}.alert@sportello.invalid>` : id,
    ...(alert.update ? { inReplyTo: id } : {}),
  };
}

/** What happened to a mail (metrics): sent, to be tried again, given up, dropped from a full queue. */
export type MailOutcome = 'sent' | 'retried' | 'failed' | 'dropped';

/** Sends alert mails in the background. */
export interface AlertMailer {
  /** Queues the mail of an alert and returns at once. */
  send(alert: SpikeAlert, crisis?: RuleOutcome): void;
  /** Mails waiting or being sent. */
  pending(): number;
  /** Resolves once the queue is empty (tests). */
  idle(): Promise<void>;
  /** Stops: waits up to `graceMs` for the queue, then gives up on what is left (logged). */
  close(graceMs?: number): Promise<void>;
}

/** Options of the mailer. */
export interface AlertMailerDeps {
  settings: Pick<AlertMailSettings, 'smtp' | 'from' | 'timeoutMs'> & { to: string[]; language: Language; updates?: boolean };
  brandName: string;
  timezone: string;
  consoleUrl?: string;
  orderNumberPattern?: string;
  logger: Logger;
  /** Delays before each new try (default 10 s, 1 min, 5 min, 15 min, 30 min: then given up). */
  retryDelaysMs?: number[];
  /** Mails that may wait at once; beyond, the oldest is dropped (logged). Default 200. */
  maxQueued?: number;
  onOutcome?(outcome: MailOutcome): void;
}

interface Queued {
  alert: SpikeAlert;
  mail: AlertMail;
  tries: number;
}

/** An SMTP refusal for good (5xx), not worth trying again. */
function permanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

function describe(err: unknown): string {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  return [e.code, e.responseCode, e.response ?? e.message].filter((v) => v !== undefined && v !== '').join(' ').slice(0, 300);
}

/** Creates the mailer over nodemailer's SMTP transport. */
export function createAlertMailer(deps: AlertMailerDeps): AlertMailer {
  const { settings, logger } = deps;
  const delays = deps.retryDelaysMs ?? [10_000, 60_000, 300_000, 900_000, 1_800_000];
  const maxQueued = deps.maxQueued ?? 200;
  const t = settings.timeoutMs;
  const transport = nodemailer.createTransport({
    // A copy: the configuration is frozen, and the transport may keep and change its options.
    ...structuredClone(settings.smtp),
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: t,
    dnsTimeout: t,
    socketCloseTimeout: 1000,
  });
  const queue: Queued[] = [];
  let running = false;
  let closed = false;
  let timer: { handle: NodeJS.Timeout; wake: () => void } | undefined;
  const stopping = new AbortController();
  let idleWaiters: Array<() => void> = [];

  const settle = () => {
    if (queue.length > 0 || running) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(handle);
        timer = undefined;
        resolve();
      };
      const handle = setTimeout(wake, ms);
      timer = { handle, wake };
    });

  async function attempt(item: Queued): Promise<void> {
    const info = await transport.sendMail({
      from: settings.from,
      to: settings.to,
      subject: item.mail.subject,
      text: item.mail.text,
      messageId: item.mail.messageId,
      ...(item.mail.inReplyTo ? { inReplyTo: item.mail.inReplyTo, references: [item.mail.inReplyTo] } : {}),
      headers: { 'X-Sportello-Spike': item.alert.spikeId, 'Auto-Submitted': 'auto-generated' },
      signal: AbortSignal.any([AbortSignal.timeout(2 * t), stopping.signal]),
    });
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) logger.error({ topic: item.alert.topic, rejected }, 'alert e-mail: some recipients were refused');
  }

  async function run(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0 && !closed) {
        const item = queue[0]!;
        try {
          await attempt(item);
          queue.shift();
          deps.onOutcome?.('sent');
          logger.info({ topic: item.alert.topic, update: item.alert.update, tries: item.tries + 1 }, 'alert e-mail sent');
        } catch (err) {
          if (closed) break;
          item.tries += 1;
          if (permanent(err) || item.tries > delays.length) {
            queue.shift();
            deps.onOutcome?.('failed');
            logger.error({ topic: item.alert.topic, update: item.alert.update, at: item.alert.at, tries: item.tries, error: describe(err) }, 'alert e-mail given up: not sent');
            continue;
          }
          const delay = delays[item.tries - 1]!;
          deps.onOutcome?.('retried');
          logger.warn({ topic: item.alert.topic, tries: item.tries, retryInMs: delay, error: describe(err) }, 'alert e-mail not sent yet: trying again');
          await wait(delay);
        }
      }
    } finally {
      running = false;
      settle();
    }
  }

  return {
    send(alert, crisis) {
      if (closed) {
        deps.onOutcome?.('failed');
        logger.error({ topic: alert.topic, at: alert.at }, 'alert e-mail not sent: shutting down');
        return;
      }
      if (alert.update && settings.updates === false) return;
      if (settings.to.length === 0) return;
      const mail = composeAlertMail(alert, {
        language: settings.language,
        brandName: deps.brandName,
        timezone: deps.timezone,
        ...(deps.consoleUrl ? { consoleUrl: deps.consoleUrl } : {}),
        ...(deps.orderNumberPattern ? { orderNumberPattern: deps.orderNumberPattern } : {}),
        ...(crisis ? { crisis } : {}),
      });
      queue.push({ alert, mail, tries: 0 });
      while (queue.length > maxQueued) {
        // The oldest waiting one (not the one being sent) makes room.
        const [dropped] = queue.splice(running ? 1 : 0, 1);
        deps.onOutcome?.('dropped');
        logger.error({ topic: dropped!.alert.topic, at: dropped!.alert.at }, 'alert e-mail dropped: too many waiting (the mail server is down?)');
      }
      void run().catch((err: unknown) => logger.error({ err }, 'alert e-mail worker failed'));
    },
    pending: () => queue.length,
    idle: () => (queue.length === 0 && !running ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    async close(graceMs = 5000) {
      if (closed) return;
      // A mail waiting for its next try is tried once more now, within the grace.
      timer?.wake();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([this.idle(), grace]);
      closed = true;
      stopping.abort(new Error('shutting down'));
      timer?.wake();
      for (const item of queue.splice(0)) {
        deps.onOutcome?.('failed');
        logger.error({ topic: item.alert.topic, update: item.alert.update, at: item.alert.at }, 'alert e-mail not sent: shutting down');
      }
      transport.close();
      settle();
    },
  };
}
