/**
 * Alerts by e-mail (src/listening/alert-mail.ts) against a real SMTP server on 127.0.0.1 (the
 * `smtp-server` package, tests/fakes/smtp): the mail arrives with the alert's facts in Italian or
 * English, private data masked; an update is marked and answers the first mail's thread; a server
 * that refuses for now, hangs or is down is tried again with a delay and the mail arrives once it
 * answers; a refusal for good is not tried again; each outcome is logged and counted; `send`
 * never waits for the server.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { composeAlertMail, createAlertMailer, type AlertMailer, type MailOutcome } from '../../src/listening/alert-mail.js';
import type { SpikeAlert } from '../../src/listening/detector.js';
import { createLogger } from '../../src/util/logger.js';
import { createFakeSmtp, createSilentServer, type FakeSmtp } from '../fakes/smtp/fake-smtp.js';

jest.setTimeout(60_000);

const ALERT: SpikeAlert = {
  spikeId: 'spike_app_1',
  at: '2026-03-09T09:22:00.000Z',
  topic: 'app bloccata',
  windowMinutes: 20,
  volume: 18,
  baseline: 2,
  negativeShare: 0.83,
  update: false,
  samples: [
    'app bloccata da stamattina, vergogna',
    "la app non si apre e l'ordine BR-1234567 è fermo, scrivetemi a mario.rossi@example.com",
    'pagamento rifiutato, chiamatemi al 347 123 4567',
  ],
  topAuthors: [
    { id: 'u1', handle: 'angry_giulia', followers: 22516 },
    { id: 'u2', followers: 900 },
  ],
  windowStart: '2026-03-09T09:02:00.000Z',
};
const UPDATE: SpikeAlert = { ...ALERT, at: '2026-03-09T09:40:00.000Z', volume: 41, update: true };

/** A logger whose JSON lines the test reads (written synchronously). */
function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } as unknown as NodeJS.WritableStream;
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** Polls a condition (the machine may be loaded: no fixed sleeps). */
async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(options: { url?: string; smtp?: FakeSmtp; timeoutMs?: number; retryDelaysMs?: number[]; language?: 'it' | 'en'; login?: boolean } = {}) {
  const smtp = options.smtp ?? (options.url ? undefined : await createFakeSmtp(options.login ? { login: { user: 'alerts', pass: 's3cret-pass' } } : {}));
  if (smtp && !options.smtp) cleanup.push(() => smtp.close());
  const { logger, lines } = captureLogger();
  const outcomes: MailOutcome[] = [];
  const url = options.url ?? smtp!.url;
  const mailer: AlertMailer = createAlertMailer({
    settings: {
      smtp: options.login ? { host: '127.0.0.1', port: smtp!.port, secure: false, auth: { user: 'alerts', pass: 's3cret-pass' } } : { url },
      from: 'Sportello <alerts@bottegarossi.example>',
      to: ['ceo@bottegarossi.example', 'pr@bottegarossi.example'],
      language: options.language ?? 'it',
      timeoutMs: options.timeoutMs ?? 5000,
    },
    brandName: 'Bottega Rossi',
    timezone: 'Europe/Rome',
    consoleUrl: 'https://care.bottegarossi.example/console',
    orderNumberPattern: '\\bBR-?\\d{5,10}\\b',
    logger,
    retryDelaysMs: options.retryDelaysMs ?? [50, 100, 150],
    onOutcome: (o) => void outcomes.push(o),
  });
  cleanup.push(() => mailer.close(0));
  return { smtp, mailer, lines, outcomes };
}

describe('the alert mail', () => {
  it('names the topic, window, volume against baseline, negative share, masked samples, top authors and the console, in Italian', () => {
    const mail = composeAlertMail(ALERT, { language: 'it', brandName: 'Bottega Rossi', timezone: 'Europe/Rome', consoleUrl: 'https://care.example/console', orderNumberPattern: '\\bBR-?\\d{5,10}\\b' });
    expect(mail.subject).toBe('[Bottega Rossi] Picco su «app bloccata»: 18 post in 20 minuti, 83% negativi');
    expect(mail.text).toContain('picco sul tema «app bloccata»');
    // 09:02–09:22 UTC is 10:02–10:22 in Rome.
    expect(mail.text).toMatch(/Finestra: 20 minuti, dalle 9 mar 2026, 10:02 alle 10:22 \(Europe\/Rome\)/);
    expect(mail.text).toContain('Volume: 18 post (di solito 2 in una finestra così: 9 volte tanto)');
    expect(mail.text).toContain('Negativi: 83%');
    expect(mail.text).toContain('- «app bloccata da stamattina, vergogna»');
    expect(mail.text).toContain('@angry_giulia (22.516 follower)');
    expect(mail.text).toContain('- u2 (900 follower)');
    expect(mail.text).toContain('Console: https://care.example/console');
    // Private data of the samples is masked by the classifier's masker, with the brand's order numbers.
    for (const secret of ['BR-1234567', 'mario.rossi@example.com', '347 123 4567', '3471234567']) expect(mail.text).not.toContain(secret);
    expect(mail.text).toContain('la app non si apre');
    expect(mail.inReplyTo).toBeUndefined();
  });

  it('marks an update, in English, and answers the first mail so readers keep one thread a spike', () => {
    const first = composeAlertMail(ALERT, { language: 'en', brandName: 'Bottega Rossi', timezone: 'Europe/Rome' });
    const update = composeAlertMail(UPDATE, { language: 'en', brandName: 'Bottega Rossi', timezone: 'Europe/Rome' });
    expect(first.subject).toBe('[Bottega Rossi] Spike on “app bloccata”: 18 posts in 20 minutes, 83% negative');
    expect(update.subject).toBe('[Bottega Rossi] Update: the spike on “app bloccata” is growing: 41 posts in 20 minutes, 83% negative');
    expect(update.text).toMatch(/^UPDATE: the spike on the topic “app bloccata” is growing\./);
    expect(update.text).toContain('The spike started: 9 Mar 2026, 10:02');
    expect(update.text).toContain('Volume: 41 posts (usually 2 in such a window: 20.5 times as many)');
    expect(update.inReplyTo).toBe(first.messageId);
    expect(update.messageId).not.toBe(first.messageId);
    // No console address: the mail says where to look instead of a broken link.
    expect(first.text).toContain('Open Sportello’s console');
    expect(first.text).not.toContain('Console: ');
  });

  it('says a brand-new topic has no baseline, and names the crisis a rule opened', () => {
    const mail = composeAlertMail({ ...ALERT, baseline: 0 }, {
      language: 'it',
      brandName: 'Bottega Rossi',
      timezone: 'Europe/Rome',
      crisis: { rule: 'blocco app', crisis: { id: 'c1', topic: 'app bloccata', terms: [], openedBy: 'system', openedAt: ALERT.at, rule: 'blocco app' } },
    });
    expect(mail.text).toContain('di solito 0 in una finestra così: un tema nuovo');
    expect(mail.text).toContain('Crisi aperta automaticamente dalla regola «blocco app» sul tema «app bloccata»');
  });
});

describe('sending alert mails', () => {
  it('delivers one mail per alert and per update to every decision maker, with the login, and returns at once', async () => {
    const { smtp, mailer, outcomes } = await setup({ login: true });
    const started = Date.now();
    mailer.send(ALERT);
    mailer.send(UPDATE);
    // Queued: send() does not wait for the server.
    expect(Date.now() - started).toBeLessThan(200);
    expect(mailer.pending()).toBe(2);
    await smtp!.waitFor(2);
    await mailer.idle();
    const [first, second] = smtp!.received;
    expect(first!.from).toBe('alerts@bottegarossi.example');
    expect(first!.to).toEqual(['ceo@bottegarossi.example', 'pr@bottegarossi.example']);
    expect(first!.subject).toBe('[Bottega Rossi] Picco su «app bloccata»: 18 post in 20 minuti, 83% negativi');
    expect(first!.text).toContain('Volume: 18 post (di solito 2');
    expect(first!.text).toContain('@angry_giulia');
    expect(first!.text).toContain('Console: https://care.bottegarossi.example/console');
    expect(first!.raw).not.toContain('mario.rossi@example.com');
    expect(first!.headers['x-sportello-spike']).toBe('spike_app_1');
    expect(first!.headers['auto-submitted']).toBe('auto-generated');
    expect(second!.subject).toMatch(/^\[Bottega Rossi\] Aggiornamento: il picco su «app bloccata» cresce: 41 post/);
    expect(second!.headers['in-reply-to']).toBe(first!.headers['message-id']);
    expect(outcomes).toEqual(['sent', 'sent']);
  });

  it('tries again a server that refuses for now (451), and the mail arrives', async () => {
    const { smtp, mailer, outcomes, lines } = await setup();
    smtp!.script('refuse-for-now', 'refuse-for-now');
    mailer.send(ALERT);
    await smtp!.waitFor(1);
    await mailer.idle();
    expect(smtp!.attempts).toBe(3);
    expect(smtp!.received).toHaveLength(1);
    expect(outcomes).toEqual(['retried', 'retried', 'sent']);
    expect(lines.filter((l) => l.msg === 'alert e-mail not sent yet: trying again').map((l) => l.error)).toEqual([expect.stringContaining('451'), expect.stringContaining('451')]);
  });

  it('does not try again a refusal for good (550): given up, logged as an error with the topic, counted', async () => {
    const { smtp, mailer, outcomes, lines } = await setup();
    smtp!.script('refuse-for-good');
    mailer.send(ALERT);
    await until('the mail to be given up', () => outcomes.length === 1);
    expect(outcomes).toEqual(['failed']);
    expect(smtp!.attempts).toBe(1);
    const error = lines.find((l) => l.msg === 'alert e-mail given up: not sent');
    expect(error).toMatchObject({ level: 50, topic: 'app bloccata', tries: 1 });
    expect(String(error!.error)).toContain('550');
    // The next alert goes as usual.
    mailer.send(UPDATE);
    await smtp!.waitFor(1);
  });

  it('gives up a server that never answers the message after its tries, within its timeouts, and listening never waited', async () => {
    const { smtp, mailer, outcomes, lines } = await setup({ timeoutMs: 300, retryDelaysMs: [50, 50] });
    smtp!.fallback = 'hang';
    const started = Date.now();
    mailer.send(ALERT);
    expect(Date.now() - started).toBeLessThan(200);
    await until('three tries to fail', () => outcomes.includes('failed'));
    expect(outcomes).toEqual(['retried', 'retried', 'failed']);
    // Three tries reached the server; on a loaded machine a try's 300 ms may end before its data is handed over.
    expect(smtp!.connections).toBe(3);
    expect(smtp!.attempts).toBeGreaterThanOrEqual(1);
    expect(lines.find((l) => l.msg === 'alert e-mail given up: not sent')).toMatchObject({ topic: 'app bloccata', tries: 3 });
    expect(smtp!.received).toHaveLength(0);
  });

  it('gets past a server hanging before its greeting, and one that is down, once it answers', async () => {
    const silent = await createSilentServer();
    cleanup.push(() => silent.close());
    const hung = await setup({ url: silent.url, timeoutMs: 300, retryDelaysMs: [50] });
    hung.mailer.send(ALERT);
    await until('the hung server to be given up', () => hung.outcomes.includes('failed'));
    expect(hung.outcomes).toEqual(['retried', 'failed']);
    expect(silent.connections).toBe(2);

    // Down (connections refused), then back: the mail arrives at a later try.
    const smtp = await createFakeSmtp();
    cleanup.push(() => smtp.close());
    await smtp.stop();
    const down = await setup({ smtp, retryDelaysMs: [100, 200, 400, 800, 1600] });
    down.mailer.send(ALERT);
    await until('a refused connection', () => down.outcomes.includes('retried'));
    await smtp.start();
    await smtp.waitFor(1);
    await until('the mailer to see it sent', () => down.outcomes.at(-1) === 'sent');
    expect(smtp.received).toHaveLength(1);
    expect(down.lines.find((l) => l.msg === 'alert e-mail not sent yet: trying again')?.error).toMatch(/ECONNREFUSED|ECONNECTION/);
  });

  it('logs every mail still waiting at shutdown as not sent', async () => {
    const { smtp, mailer, outcomes, lines } = await setup({ retryDelaysMs: [60_000, 60_000] });
    smtp!.fallback = 'refuse-for-now';
    mailer.send(ALERT);
    await until('the first refusal', () => outcomes.includes('retried'));
    // Shutting down tries the waiting mail once more at once, within the grace, then gives up on it.
    const closing = Date.now();
    await mailer.close(300);
    expect(Date.now() - closing).toBeLessThan(10_000);
    expect(smtp!.attempts).toBe(2);
    expect(outcomes).toEqual(['retried', 'retried', 'failed']);
    await until('the log line', () => lines.some((l) => l.msg === 'alert e-mail not sent: shutting down'));
    expect(lines.find((l) => l.msg === 'alert e-mail not sent: shutting down')).toMatchObject({ topic: 'app bloccata' });
    expect(mailer.pending()).toBe(0);
  });

  it('keeps at most its queue: the oldest waiting mail is dropped, logged and counted', async () => {
    const silent = await createSilentServer();
    cleanup.push(() => silent.close());
    const { logger, lines } = captureLogger();
    const outcomes: MailOutcome[] = [];
    const mailer = createAlertMailer({
      settings: { smtp: { url: silent.url }, from: 'alerts@b.example', to: ['ceo@b.example'], language: 'en', timeoutMs: 5000 },
      brandName: 'B',
      timezone: 'Europe/Rome',
      logger,
      maxQueued: 2,
      onOutcome: (o) => void outcomes.push(o),
    });
    cleanup.push(() => mailer.close(0));
    mailer.send(ALERT);
    mailer.send({ ...UPDATE, topic: 'second' });
    mailer.send({ ...UPDATE, topic: 'third' });
    expect(outcomes).toEqual(['dropped']);
    // The one being sent stays; the oldest waiting one made room.
    expect(lines.find((l) => l.msg?.toString().startsWith('alert e-mail dropped'))).toMatchObject({ topic: 'second' });
    expect(mailer.pending()).toBe(2);
  });
});

describe('alert mails in a running instance', () => {
  it('never hold listening up: with a mail server that never answers, posts are heard at once and the failed try is counted', async () => {
    const { startTestApp } = await import('../helpers/app.js');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const silent = await createSilentServer();
    cleanup.push(() => silent.close());
    const dir = mkdtempSync(join(tmpdir(), 'sportello-mail-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    // No cold start: the stream here is minutes long.
    const file = join(dir, 'listening.yaml');
    writeFileSync(file, 'brand: [Bottega Rossi]\ndetector:\n  cold_start_hours: 0\n');
    const t = await startTestApp({ SMTP_URL: silent.url, SMTP_FROM: 'alerts@b.example', ALERT_EMAILS: 'ceo@b.example', SMTP_TIMEOUT_MS: '3000', LISTENING_FILE: file });
    cleanup.push(() => t.close());
    let alerted = false;
    t.app.bus.subscribe((e) => void (e.type === 'crisis.alert' && (alerted = true)));
    const took: number[] = [];
    for (let i = 0; i < 8; i++) {
      t.clock.advance(60_000);
      const started = Date.now();
      await t.app.listening.hear(t.message(`App bloccata di nuovo, vergogna (${i})`, { visibility: 'public', threadId: `p${i}`, customer: { platformId: `a${i}` } }));
      took.push(Date.now() - started);
    }
    expect(alerted).toBe(true);
    expect(t.app.alertMail!.pending()).toBe(1);
    // Hearing never waited for the server: its first try alone waits 3 s for a greeting that never comes.
    expect(Math.max(...took)).toBeLessThan(3000);
    // The failed try shows on /metrics.
    const base = await t.app.listen(0, '127.0.0.1');
    const end = Date.now() + 20_000;
    let retried = 0;
    while (retried === 0 && Date.now() < end) {
      const text = await (await fetch(`${base}/metrics`)).text();
      retried = Number(/sportello_alert_emails_total\{outcome="retried"\} (\d+)/.exec(text)?.[1] ?? 0);
      if (retried === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(retried).toBeGreaterThanOrEqual(1);
    expect(silent.connections).toBeGreaterThanOrEqual(1);
  });
});
