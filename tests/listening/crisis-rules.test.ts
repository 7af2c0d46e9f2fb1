/**
 * Crisis by rule (src/listening/crisis-rules.ts): the listening file's `crisis_rules`, checked with
 * file:line:column errors; which alerts meet a rule; and end to end in a running instance with a
 * fake clock: a burst of negative posts raises an alert, the rule opens a crisis on its topic as
 * `system` (audit trail, `crisis.opened` event with the rule), the next message on the topic gets
 * the holding statement and is queued tagged, an unrelated question gets its FAQ answer, and the
 * decision makers' mail (a real SMTP server on 127.0.0.1) names the rule. Also through `sportello
 * replay`: the alert line says which rule opened a crisis.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DomainEvent } from '../../src/core/events.js';
import { createFakeClock, type Clock } from '../../src/core/ports.js';
import { createLocalEventBus } from '../../src/core/events.js';
import { createCrisisDesk } from '../../src/listening/crisis.js';
import { createCrisisRules, matchCrisisRule, type CrisisRule } from '../../src/listening/crisis-rules.js';
import { ListeningFileError, listeningSettings, loadListeningFile } from '../../src/listening/config.js';
import type { SpikeAlert } from '../../src/listening/detector.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { runCli } from '../../src/cli/run.js';
import { capture } from '../helpers/capture.js';
import { startTestApp, closeProjectKnowledge, type TestApp } from '../helpers/app.js';
import { calmDays, merge, spike, toJsonl } from '../helpers/listening-streams.js';
import { createFakeSmtp, type FakeSmtp } from '../fakes/smtp/fake-smtp.js';

jest.setTimeout(300_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sportello-crisis-rules-'));
});
afterAll(async () => {
  await closeProjectKnowledge();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const ALERT: SpikeAlert = {
  spikeId: 's1',
  at: '2026-03-09T09:22:00.000Z',
  topic: 'app bloccata',
  windowMinutes: 20,
  volume: 18,
  baseline: 2,
  negativeShare: 0.8,
  update: false,
  samples: ['app bloccata, vergogna', 'la app non si apre, chiamo un avvocato'],
  topAuthors: [],
  windowStart: '2026-03-09T09:02:00.000Z',
};

describe('the rules in listening.yaml', () => {
  it('reads rules, and reports a rule without a condition, a bad value, an unknown key and a second name as file:line:column', () => {
    const good = file(
      'good.yaml',
      ['crisis_rules:', '  - name: outage', '    min_ratio: 5', '    min_negative_share: 0.7', '  - name: legale', '    keywords: [avvocato, class action]', '    on_updates: false', ''].join('\n'),
    );
    const settings = listeningSettings(loadListeningFile(good), { brandName: 'B', timezone: 'Europe/Rome' });
    expect(settings.crisisRules).toEqual([
      { name: 'outage', minRatio: 5, minNegativeShare: 0.7, onUpdates: true },
      { name: 'legale', keywords: ['avvocato', 'class action'], onUpdates: false },
    ]);
    // No rules: none (nothing opens a crisis by itself).
    expect(listeningSettings(loadListeningFile(file('none.yaml', 'brand: [B]\n')), { brandName: 'B', timezone: 'Europe/Rome' }).crisisRules).toEqual([]);

    const bad = file(
      'bad.yaml',
      [
        'brand: [B]',
        'crisis_rules:',
        '  - name: everything',
        '  - name: share',
        '    min_negative_share: 1.5',
        '  - name: typo',
        '    min_volum: 10',
        '  - name: share',
        '    min_volume: 10',
        '',
      ].join('\n'),
    );
    let error: unknown;
    try {
      loadListeningFile(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ListeningFileError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${bad}:3:\\d+: crisis_rules\\.0: a rule needs at least one condition`)),
        expect.stringMatching(new RegExp(`^${bad}:5:\\d+: crisis_rules\\.1\\.min_negative_share: `)),
        expect.stringMatching(new RegExp(`^${bad}:\\d+:\\d+: crisis_rules\\.2: .*min_volum`)),
      ]),
    );
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });

  it('a second rule of the same name is refused at its name', () => {
    const twice = file('twice.yaml', ['crisis_rules:', '  - name: a', '    min_volume: 5', '  - name: a', '    min_volume: 9', ''].join('\n'));
    expect(() => loadListeningFile(twice)).toThrow(new RegExp(`${twice}:4:\\d+: crisis_rules\\.1\\.name: a second rule named "a"`));
  });
});

describe('which alerts meet a rule', () => {
  const rules: CrisisRule[] = [
    { name: 'outage', minRatio: 5, minNegativeShare: 0.7, onUpdates: true },
    { name: 'big', minVolume: 40, onUpdates: false },
    { name: 'legale', keywords: ['avvocato', 'class action'], onUpdates: true },
  ];
  it('needs every condition of a rule, takes the first rule met, and folds accents and case in keywords', () => {
    expect(matchCrisisRule(ALERT, rules)?.name).toBe('outage');
    // 18 posts against a baseline of 4: 4.5 times, not 5; the samples name a lawyer.
    expect(matchCrisisRule({ ...ALERT, baseline: 4 }, rules)?.name).toBe('legale');
    expect(matchCrisisRule({ ...ALERT, baseline: 4, samples: ['app bloccata'] }, rules)).toBeUndefined();
    // Negative share below 0.7: not an outage.
    expect(matchCrisisRule({ ...ALERT, negativeShare: 0.6, samples: [] }, rules)).toBeUndefined();
    // A brand-new topic (baseline 0) meets any ratio.
    expect(matchCrisisRule({ ...ALERT, baseline: 0 }, rules)?.name).toBe('outage');
    // Whole words, accents and case folded: "Avvocato" yes, "avvocatone" no; phrases too.
    expect(matchCrisisRule({ ...ALERT, baseline: 9, samples: ['Ho chiamato l’AVVOCATO'] }, rules)?.name).toBe('legale');
    expect(matchCrisisRule({ ...ALERT, baseline: 9, samples: ['un avvocatone'] }, rules)).toBeUndefined();
    expect(matchCrisisRule({ ...ALERT, baseline: 9, samples: ['pronti per una Class-Action'] }, rules)?.name).toBe('legale');
    // `on_updates: false`: only the first alert of a spike.
    expect(matchCrisisRule({ ...ALERT, baseline: 9, negativeShare: 0.1, samples: [], volume: 50 }, rules)?.name).toBe('big');
    expect(matchCrisisRule({ ...ALERT, baseline: 9, negativeShare: 0.1, samples: [], volume: 50, update: true }, rules)).toBeUndefined();
  });

  it('opens the crisis as system with the rule, writes the audit trail, and never replaces an open crisis', async () => {
    const store = createLowdbStore({ file: join(dir, `rules-${Date.now()}.json`) });
    await store.init();
    const bus = createLocalEventBus();
    const events: DomainEvent[] = [];
    bus.subscribe((e) => void events.push(e));
    const clock: Clock = createFakeClock(ALERT.at);
    const logger = createSilentLogger();
    const desk = createCrisisDesk({ values: store.values, bus, clock, logger, settings: { holdingStatements: [] } });
    const runner = createCrisisRules({ rules, desk, audit: store.audit, clock, logger });

    expect(await runner.onAlert({ ...ALERT, negativeShare: 0.1, samples: [] })).toBeUndefined();
    expect(desk.current()).toBeUndefined();
    const outcome = await runner.onAlert(ALERT);
    expect(outcome).toMatchObject({ rule: 'outage', crisis: { topic: 'app bloccata', openedBy: 'system', rule: 'outage' } });
    expect(desk.current()).toMatchObject({ topic: 'app bloccata', openedBy: 'system', rule: 'outage' });
    expect(await store.audit.list({ limit: 10 })).toEqual([
      expect.objectContaining({ operatorId: 'system', action: 'crisis.open', target: 'app bloccata', from: 'rule:outage', at: ALERT.at }),
    ]);
    expect(events).toEqual([expect.objectContaining({ type: 'crisis.opened', topic: 'app bloccata', operatorId: 'system', rule: 'outage' })]);

    // Another alert meeting a rule while a crisis is open: the open one stays.
    expect(await runner.onAlert({ ...ALERT, topic: 'pagamenti', spikeId: 's2' })).toBeUndefined();
    expect(desk.current()?.topic).toBe('app bloccata');
    expect(await store.audit.list({ limit: 10 })).toHaveLength(1);
    await store.close();
  });
});

describe('a rule in a running instance', () => {
  let t: TestApp;
  let smtp: FakeSmtp;
  const events: DomainEvent[] = [];

  beforeAll(async () => {
    smtp = await createFakeSmtp({ login: { user: 'sportello', pass: 'mail-pass-123' } });
    const listening = file(
      'running.yaml',
      [
        'brand: [Bottega Rossi]',
        'detector:',
        '  cold_start_hours: 0',
        'holding_statements:',
        '  - language: it',
        '    text: "Sappiamo del problema con la app e ci stiamo lavorando. Ci scusiamo per il disagio."',
        '  - language: en',
        '    text: "We know about the problem with the app and are working on it. Sorry for the trouble."',
        'crisis_rules:',
        '  - name: guasto',
        '    min_ratio: 3',
        '    min_negative_share: 0.6',
        'alerts:',
        '  email:',
        '    to: [direzione@bottegarossi.example]',
        '',
      ].join('\n'),
    );
    t = await startTestApp({
      LISTENING_FILE: listening,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_USER: 'sportello',
      SMTP_PASSWORD: 'mail-pass-123',
      SMTP_FROM: 'Sportello <alerts@bottegarossi.example>',
      ALERT_EMAILS: 'ignored@bottegarossi.example',
      PUBLIC_URL: 'https://care.bottegarossi.example',
    });
    t.app.bus.subscribe((e) => void events.push(e));
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('opens a crisis on the alert topic by itself: audited, announced, holding statement for the topic, FAQ answers for the rest, and the mail names it', async () => {
    const texts = ['App bloccata da stamattina, vergogna', 'app bloccata!!! incompetenti', 'Ennesimo disservizio: app bloccata', 'La app bloccata proprio durante i saldi, ridicoli', 'App bloccata, non funziona niente. Che schifo', 'Ma è possibile che la app sia bloccata di nuovo? Pessimi', 'app bloccata, che vergogna'];
    for (const [i, text] of texts.entries()) {
      t.clock.advance(60_000);
      await t.app.listening.hear(t.message(text, { visibility: 'public', threadId: `post-${i}`, customer: { platformId: `angry-${i}`, handle: `angry${i}`, followers: 100 * (i + 1) } }));
    }
    const alert = events.find((e) => e.type === 'crisis.alert');
    expect(alert).toMatchObject({ topic: expect.stringMatching(/app|bloccata/) });
    const topic = (alert as Extract<DomainEvent, { type: 'crisis.alert' }>).topic;

    // Opened by the rule, as system, in the audit trail and on the bus (the console's bar listens to it).
    expect(t.app.crisis.current()).toMatchObject({ topic, openedBy: 'system', rule: 'guasto' });
    expect(events.find((e) => e.type === 'crisis.opened')).toMatchObject({ topic, operatorId: 'system', rule: 'guasto' });
    expect(await t.app.store.audit.list({ limit: 10 })).toEqual([expect.objectContaining({ operatorId: 'system', action: 'crisis.open', target: topic, from: 'rule:guasto' })]);
    expect(events.filter((e) => e.type === 'crisis.alert')).toHaveLength(1);

    // A customer writing about the app now gets the holding statement and is queued, tagged.
    const before = t.channel.sent.length;
    await t.app.pipeline.receive(t.message('La app è bloccata e non riesco a pagare, potete aiutarmi?', { visibility: 'public', threadId: 'care-1', customer: { platformId: 'cliente-1', handle: 'cliente1' } }));
    await t.app.sender.drain();
    const replies = t.channel.sent.slice(before);
    expect(replies.map((r) => r.reply.text).join('\n')).toContain('Sappiamo del problema con la app e ci stiamo lavorando. Ci scusiamo per il disagio.');
    const conversation = (await t.app.store.conversations.list({})).find((c) => c.customerId.endsWith('cliente-1'));
    expect(conversation).toMatchObject({ state: 'queued', queue: { reason: 'crisis', priority: 1 } });
    expect(conversation!.flags).toContain(`crisis:${topic}`);

    // An unrelated question gets its FAQ answer, as usual.
    const { action } = await t.app.pipeline.receive(t.message('Quali sono gli orari del negozio?', { visibility: 'public', threadId: 'faq-1', customer: { platformId: 'cliente-2' } }));
    expect(action).toBe('answer');

    // The decision makers' mail (the file's recipients replace ALERT_EMAILS) says a rule opened the crisis.
    await smtp.waitFor(1);
    const mail = smtp.received[0]!;
    expect(mail.to).toEqual(['direzione@bottegarossi.example']);
    expect(mail.subject).toContain(`Picco su «${topic}»`);
    expect(mail.text).toContain(`Crisi aperta automaticamente dalla regola «guasto» sul tema «${topic}»`);
    expect(mail.text).toContain('Console: https://care.bottegarossi.example/console');
    expect(mail.text).toContain('@angry');

    // /metrics counts the mail.
    const base = await t.app.listen(0, '127.0.0.1');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/sportello_alert_emails_total\{outcome="sent"\} 1/);
    expect(metrics).toMatch(/sportello_alert_emails_total\{outcome="failed"\} 0/);
  });
});

describe('a rule in sportello replay', () => {
  it('says on the alert line which rule opened a crisis, and the care requests after it are queued', async () => {
    const start = '2026-03-04T15:00:00+01:00';
    const lines = merge(calmDays('2026-03-02T00:00:00+01:00', 2, { perDay: 60 }), spike(start, { minutes: 30 }));
    const stream = file('spike.jsonl', toJsonl(lines));
    // alerts.email without an SMTP server: a replay sends no mail, so it is no problem here.
    const config = file('replay.yaml', ['brand: [Bottega Rossi]', 'alerts:', '  email:', '    to: [ceo@bottegarossi.example]', 'crisis_rules:', '  - name: guasto', '    min_ratio: 3', '    min_negative_share: 0.6', ''].join('\n'));
    const c = capture();
    const code = await runCli(['replay', stream, '--json', '--config', config], c.io);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    const objects = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const alerts = objects.filter((o) => o.type === 'alert');
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    expect(alerts[0]).toMatchObject({ topic: 'app bloccata', crisis_opened: { topic: 'app bloccata', rule: 'guasto' } });
    // Only one crisis: later alerts (updates) open none.
    expect(alerts.filter((a) => a.crisis_opened)).toHaveLength(1);
    // The care requests after the alert, on the topic: a person takes them (escalated, or silent while queued).
    const alertIndex = objects.indexOf(alerts[0]!);
    const after = objects.slice(alertIndex).filter((o) => o.type === 'item' && String(o.id).startsWith('spike-care-'));
    expect(after.length).toBeGreaterThan(0);
    for (const item of after) expect(['escalate', 'silent', 'queue_notice']).toContain(item.action);

    // The readable output says it too; a rule the alert does not meet opens nothing.
    const text = capture();
    expect(await runCli(['replay', stream, '--config', config], text.io)).toBe(0);
    expect(text.out()).toContain('crisis opened on "app bloccata" by the rule "guasto"');
    const strict = file('strict.yaml', ['brand: [Bottega Rossi]', 'crisis_rules:', '  - name: enorme', '    min_volume: 500', ''].join('\n'));
    const none = capture();
    expect(await runCli(['replay', stream, '--json', '--config', strict], none.io)).toBe(0);
    expect(none.out()).not.toContain('crisis_opened');
  });
});
