import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runEval } from '../../src/cli/eval.js';

function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}

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
      ['accuracy', 'classify_per_second', 'dataset', 'in_scope_accuracy', 'macro_f1', 'oos_precision', 'oos_recall', 'peak_rss_mb', 'train_seconds'].sort(),
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

  it('fails with a clear message on a missing dataset and on an unknown option', async () => {
    const missing = capture();
    expect(await runEval(['/nonexistent/dataset'], missing.io)).toBe(1);
    expect(missing.err()).toMatch(/cannot read dataset \/nonexistent\/dataset/);
    const bad = capture();
    expect(await runEval(['--frobnicate'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/unknown option --frobnicate/);
  });
});
