/**
 * `sportello replay`: a recorded stream through listening and the bot's real decisions, with a
 * simulated clock and nothing sent (the project's FAQ, intents and settings).
 */
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { capture } from '../helpers/capture.js';
import { ROOT } from '../helpers/app.js';
import { calmDays, merge, spike, toJsonl, type StreamLine } from '../helpers/listening-streams.js';

jest.setTimeout(300_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sportello-replay-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function replay(args: string[]) {
  const c = capture();
  const code = await runCli(['replay', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('sportello replay', () => {
  it('raises one alert within 15 minutes of a negative Italian spike after seven calm days, and answers or queues its care requests', async () => {
    const start = '2026-03-09T10:00:00+01:00';
    const lines = merge(calmDays('2026-03-02T00:00:00+01:00', 7, { perDay: 150 }), spike(start, { minutes: 45 }));
    const path = file('spike.jsonl', toJsonl(lines));
    const { code, out, err } = await replay([path, '--json']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const objects = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const items = objects.filter((o) => o.type === 'item');
    const alerts = objects.filter((o) => o.type === 'alert');
    expect(items).toHaveLength(lines.length);
    expect(objects.at(-1)).toMatchObject({ type: 'summary', items: lines.length, alerts: 1 });
    const summary = objects.at(-1)!;
    expect((summary.care as number) + (summary.praise as number) + (summary.noise as number) + (summary.spam as number)).toBe(lines.length);

    // One alert, within 15 minutes of the spike's start, with the fields.
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert).toMatchObject({ type: 'alert', topic: 'app bloccata', update: false, window_minutes: 20 });
    const at = Date.parse(alert.at as string);
    expect(at).toBeGreaterThanOrEqual(Date.parse(start));
    expect(at - Date.parse(start)).toBeLessThanOrEqual(15 * 60_000);
    expect(alert.volume as number).toBeGreaterThan(alert.baseline as number);
    expect(alert.negative_share as number).toBeGreaterThan(0.5);

    // Every item: a class, a sentiment in [-1, 1]; an action only for care items.
    for (const item of items) {
      expect(['care', 'praise', 'noise', 'spam']).toContain(item.class);
      expect(item.sentiment as number).toBeGreaterThanOrEqual(-1);
      expect(item.sentiment as number).toBeLessThanOrEqual(1);
      expect(item.action !== undefined).toBe(item.class === 'care');
    }
    // The care requests in the spike: classed care, and answered or queued (never a clarification lost in the polemic).
    const byId = new Map(lines.map((l) => [l.id, l]));
    const spikeCare = items.filter((i) => (i.id as string).startsWith('spike-care-'));
    expect(spikeCare.length).toBeGreaterThanOrEqual(4);
    for (const item of spikeCare) {
      expect(item.class).toBe('care');
      expect(['answer', 'dm_prompt', 'escalate', 'silent', 'queue_notice']).toContain(item.action);
    }
    // Heard by search without a mention: never answered by the bot in public, a person takes it.
    const unmentioned = spikeCare.filter((i) => byId.get(i.id as string)!.kind === 'post');
    expect(unmentioned.length).toBeGreaterThan(0);
    for (const item of unmentioned) expect(['escalate', 'silent']).toContain(item.action);
    // The angry opinions are not answered one by one.
    const opinions = items.filter((i) => /^spike-\d+$/.test(i.id as string));
    expect(opinions.filter((i) => i.class === 'noise').length).toBeGreaterThan(opinions.length * 0.6);
  });

  it('prints a readable summary and the alerts without --json', async () => {
    const lines = merge(calmDays('2026-03-02T00:00:00+01:00', 2, { perDay: 60 }), spike('2026-03-03T15:00:00+01:00', { minutes: 15 }));
    const { code, out } = await replay([file('short.jsonl', toJsonl(lines))]);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^${lines.length} items: \\d+ care, \\d+ praise, \\d+ noise, \\d+ spam; 1 alert\\n`));
    expect(out).toMatch(/ALERT +2026-03-03T14:\d\d:\d\d\.\d+Z +"app bloccata": \d+ posts in 20 min \(baseline [\d.]+\), \d+% negative/);
  });

  it('reads the detector and the exclusions from --config, and reports a bad listening file by line', async () => {
    const lines: StreamLine[] = merge(calmDays('2026-03-02T00:00:00+01:00', 2, { perDay: 60 }), spike('2026-03-03T15:00:00+01:00', { minutes: 15 }));
    const path = file('cfg.jsonl', toJsonl(lines));
    // "bloccata" excludes every spike post: they are noise, not counted, and raise no alert.
    const quiet = file('quiet.yaml', 'brand: [Bottega Rossi]\nexclude: [bloccata]\ndetector:\n  sensitivity: low\n');
    const { code, out } = await replay([path, '--json', '--config', quiet]);
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({ type: 'summary', alerts: 0 });
    const bad = file('bad.yaml', 'brand: [Bottega Rossi]\ndetector:\n  sensitivity: extreme\n  windw_minutes: 10\n  long_window_minutes: 10\n');
    const failed = await replay([path, '--config', bad]);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/bad\.yaml:3:\d+: detector\.sensitivity: /);
    expect(failed.err).toMatch(/bad\.yaml:\d+:\d+: detector: .*windw_minutes/);
    // The slow rise's window: 30 to 240 minutes, or 0 (off).
    expect(failed.err).toMatch(/bad\.yaml:5:\d+: detector\.long_window_minutes: /);
  });

  it('stops at a malformed or out-of-order line with FILE:LINE: reason and exit 2, from the real binary', () => {
    const good = { at: '2026-03-02T10:00:00+01:00', channel: 'twitter', kind: 'mention', id: '1', author: { id: 'a' }, text: 'ciao' };
    const cases: Array<[string, RegExp]> = [
      [`${JSON.stringify(good)}\n{"at": "ieri", "channel": "twitter", "kind": "mention", "id": "2", "author": {"id": "a"}, "text": "x"}\n`, /:2: at: an ISO time with an offset/],
      [`${JSON.stringify(good)}\n\n${JSON.stringify({ ...good, id: '3', at: '2026-03-02T09:59:59+01:00' })}\n`, /:3: out of order: 2026-03-02T09:59:59\+01:00 is before the previous line's 2026-03-02T10:00:00\+01:00/],
      [`${JSON.stringify({ ...good, kind: 'retweet' })}\n`, /:1: kind: /],
      [`${JSON.stringify({ ...good, channel: 'fax' })}\n`, /:1: channel: not a listened channel/],
      [`${JSON.stringify({ ...good, author: {} })}\n`, /:1: author\.id: /],
      [`{"at": \n`, /:1: not JSON/],
    ];
    for (const [text, reason] of cases) {
      const path = file('bad.jsonl', text);
      const result = spawnSync(process.execPath, [join(ROOT, 'bin/sportello.js'), 'replay', path, '--json'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'silent', FAQ_WATCH: 'false' },
        timeout: 60_000,
      });
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${reason.source}`));
    }
  });

  it('is a usage error without a file', async () => {
    const { code, err } = await replay([]);
    expect(code).toBe(2);
    expect(err).toMatch(/the recorded stream \(FILE\.jsonl\) is missing/);
  });
});
