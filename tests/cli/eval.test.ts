import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runEval } from '../../src/cli/eval.js';
import { capture } from '../helpers/capture.js';


async function folderDataset(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sportello-eval-'));
  const train = [
    ['book a table for two tonight', 'BookRestaurant'],
    ['reserve a restaurant in rome', 'BookRestaurant'],
    ['i want to eat sushi at eight', 'BookRestaurant'],
    ['play some jazz music', 'PlayMusic'],
    ['put on the new album by adele', 'PlayMusic'],
    ['play my workout playlist', 'PlayMusic'],
    ['will it rain tomorrow', 'Weather'],
    ['how hot is it today', 'Weather'],
    ['is it going to snow this weekend', 'Weather'],
  ];
  const test = [
    ['book a table for four', 'BookRestaurant'],
    ['play jazz please', 'PlayMusic'],
    ['will it snow tomorrow', 'Weather'],
  ];
  for (const [split, rows] of [['train', train], ['test', test]] as const) {
    await mkdir(path.join(dir, split));
    await writeFile(path.join(dir, split, 'seq.in'), rows.map((r) => r[0]).join('\n') + '\n');
    await writeFile(path.join(dir, split, 'label'), rows.map((r) => r[1]).join('\n') + '\n');
  }
  return dir;
}

describe('sportello eval', () => {
  it('prints one JSON object with every figure, null where it does not apply', async () => {
    const c = capture();
    const code = await runEval([await folderDataset(), '--json'], c.io);
    expect(code).toBe(0);
    const report = JSON.parse(c.out()) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(
      ['accuracy', 'classify_per_second', 'dataset', 'in_scope_accuracy', 'macro_f1', 'oos_precision', 'oos_recall', 'peak_rss_mb', 'train_seconds', 'train_size'].sort(),
    );
    expect(report.accuracy).toBe(1);
    expect(report.oos_recall).toBeNull();
    expect(report.oos_precision).toBeNull();
    expect(report.classify_per_second).toBeGreaterThan(0);
  });

  it('prints a readable report without --json', async () => {
    const c = capture();
    expect(await runEval([await folderDataset()], c.io)).toBe(0);
    expect(c.out()).toMatch(/accuracy\s+100\.0%/);
    expect(c.out()).toMatch(/classifications\/s/);
  });

  it('holds a CLINC150 validation split out of training, and says so', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sportello-eval-'));
    const file = path.join(dir, 'data_full.json');
    await writeFile(
      file,
      JSON.stringify({
        train: [['what time is it', 'time'], ['tell me the time', 'time'], ['will it rain today', 'weather'], ['is it sunny outside', 'weather']],
        val: [['what is the time now', 'time'], ['is it going to rain', 'weather']],
        test: [['the time please', 'time'], ['rain tomorrow?', 'weather']],
        oos_train: [['how tall is everest', 'oos']],
        oos_val: [['who wrote hamlet', 'oos']],
        oos_test: [['sing a song', 'oos']],
      }),
    );
    const c = capture();
    expect(await runEval([file], c.io)).toBe(0);
    expect(c.out()).toMatch(/\(train 5, validation 3 held out to calibrate, test 3\)/);
    const k = capture();
    expect(await runEval([file, '--kshot', '1'], k.io)).toBe(0);
    expect(k.out()).toMatch(/\(train 3, test 3\)/);
  });

  it('trains on K examples per label with --kshot, the same ones for the same --seed', async () => {
    const dataset = await folderDataset();
    const run = async (...args: string[]) => {
      const c = capture();
      expect(await runEval([dataset, '--json', ...args], c.io)).toBe(0);
      return JSON.parse(c.out()) as { train_size: number; dataset: string; accuracy: number };
    };
    const two = await run('--kshot', '2', '--seed', '5');
    expect(two.train_size).toBe(6);
    expect(two.dataset).toMatch(/2-shot, seed 5/);
    expect(await run('--kshot=2', '--seed=5')).toMatchObject({ train_size: 6, accuracy: two.accuracy });
    // A label with fewer than K keeps all of its examples.
    expect((await run('--kshot', '50')).train_size).toBe(9);
  });

  it('cross-validates the sample corpus per language', async () => {
    const c = capture();
    expect(await runEval(['--json', '--kshot', '3'], c.io)).toBe(0);
    const report = JSON.parse(c.out()) as { by_language: Record<string, { accuracy: number; test_size: number }>; train_size: number };
    expect(Object.keys(report.by_language).sort()).toEqual(['en', 'it']);
    expect(report.by_language.it!.test_size).toBeGreaterThan(150);
    expect(report.by_language.en!.accuracy).toBeGreaterThan(0.3);
  });

  it('refuses a bad --kshot, and --seed without --kshot', async () => {
    const zero = capture();
    expect(await runEval(['--kshot', '0'], zero.io)).toBe(2);
    expect(zero.err()).toMatch(/--kshot: /);
    const seedOnly = capture();
    expect(await runEval(['--seed', '3'], seedOnly.io)).toBe(2);
    expect(seedOnly.err()).toMatch(/--seed needs --kshot/);
    const missing = capture();
    expect(await runEval(['--kshot'], missing.io)).toBe(2);
    expect(missing.err()).toMatch(/--kshot needs a value/);
  });

  it('fails with a clear message on a missing dataset and on an unknown option', async () => {
    const missing = capture();
    expect(await runEval(['/nonexistent/dataset'], missing.io)).toBe(1);
    expect(missing.err()).toMatch(/cannot read dataset \/nonexistent\/dataset/);
    const bad = capture();
    expect(await runEval(['--frobnicate'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/unknown option --frobnicate/);
  });
});
