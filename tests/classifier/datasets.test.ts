import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kShotDataset, loadDataset, trainingExamples } from '../../src/classifier/datasets.js';
import { evaluateSystem, scorePredictions, sportelloSystem } from '../../src/classifier/evaluate.js';
import type { Dataset } from '../../src/classifier/datasets.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'sportello-datasets-'));
}

describe('loadDataset', () => {
  it('reads Banking77 CSV with quoted commas', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'train.csv'), 'text,category\n"Hi, where is my card?",card_arrival\nhow do I top up,top_up\n');
    await writeFile(path.join(dir, 'test.csv'), 'text,category\nmy card is late,card_arrival\n');
    const d = await loadDataset(dir);
    expect(d.train).toEqual([
      { text: 'Hi, where is my card?', label: 'card_arrival' },
      { text: 'how do I top up', label: 'top_up' },
    ]);
    expect(d.test).toHaveLength(1);
    expect(d.oosLabel).toBeUndefined();
    // No validation split: the classifier holds out a share of the training examples itself.
    expect(d.validation).toBeUndefined();
  });

  it('reads a CSV whose columns are named text/label or utterance/intent, and tells the language of its texts', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'train.csv'), 'utterance,intent\ndove si trova il mio ordine?,stato_ordine\nvorrei restituire le scarpe,reso\ncome posso pagare con la carta?,pagamento\n');
    await writeFile(path.join(dir, 'test.csv'), 'utterance,intent\nil pacco non è arrivato,stato_ordine\n');
    const d = await loadDataset(dir);
    expect(d.language).toBe('it');
    expect(d.train[1]).toEqual({ text: 'vorrei restituire le scarpe', label: 'reso' });
    expect(d.test).toEqual([{ text: 'il pacco non è arrivato', label: 'stato_ordine' }]);
    await writeFile(path.join(dir, 'train.csv'), 'words,class\nhello,greet\n');
    await expect(loadDataset(dir)).rejects.toThrow(/a text column \(text, utterance, sentence, query\) and a label column \(category, label, intent\); found words, class/);
  });

  it('reads a MASSIVE locale file: train on the train partition, the dev one as validation, test on the test one, the language from the locale', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'it-IT.jsonl');
    const line = (id: number, partition: string, intent: string, utt: string) => JSON.stringify({ id: String(id), locale: 'it-IT', partition, scenario: intent.split('_')[0], intent, utt, annot_utt: utt });
    await writeFile(file, [line(1, 'train', 'alarm_set', 'svegliami alle sette'), line(2, 'dev', 'alarm_set', 'sveglia alle otto'), line(3, 'train', 'weather_query', 'che tempo fa domani'), line(4, 'test', 'alarm_set', 'metti una sveglia alle nove'), ''].join('\n'));
    const d = await loadDataset(file);
    expect(d).toMatchObject({ name: 'it-IT', language: 'it' });
    expect(d.train).toEqual([
      { text: 'svegliami alle sette', label: 'alarm_set', language: 'it' },
      { text: 'che tempo fa domani', label: 'weather_query', language: 'it' },
    ]);
    expect(d.validation).toEqual([{ text: 'sveglia alle otto', label: 'alarm_set', language: 'it' }]);
    expect(d.test).toEqual([{ text: 'metti una sveglia alle nove', label: 'alarm_set' }]);
    await writeFile(file, `${line(1, 'train', 'alarm_set', 'x')}\n{"utt": 1}\n`);
    await expect(loadDataset(file)).rejects.toThrow(/it-IT.jsonl:2: expected a MASSIVE line with utt, intent and partition/);
  });

  it('reads CLINC150 JSON and makes its out-of-scope items one more label', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'data_full.json');
    await writeFile(
      file,
      JSON.stringify({
        train: [['what time is it', 'time']],
        val: [['what is the time now', 'time']],
        test: [['tell me the time', 'time']],
        oos_train: [['how tall is everest', 'oos']],
        oos_val: [['who wrote hamlet', 'oos']],
        oos_test: [['sing a song', 'oos']],
      }),
    );
    const d = await loadDataset(file);
    expect(d.oosLabel).toBe('oos');
    expect(d.train.map((e) => e.label)).toEqual(['time', 'oos']);
    expect(d.test.map((e) => e.label)).toEqual(['time', 'oos']);
    // The validation split, out-of-scope items too: held out to calibrate, never learnt nor tested.
    expect(d.validation).toEqual([
      { text: 'what is the time now', label: 'time' },
      { text: 'who wrote hamlet', label: 'oos' },
    ]);
    expect(trainingExamples(d)).toEqual([
      { text: 'what time is it', label: 'time' },
      { text: 'how tall is everest', label: 'oos' },
      { text: 'what is the time now', label: 'time', heldOut: true },
      { text: 'who wrote hamlet', label: 'oos', heldOut: true },
    ]);
    // A few-shot setting has its k examples per label in all: no validation split.
    const few = kShotDataset(d, 1, 1);
    expect(few.validation).toBeUndefined();
    expect(trainingExamples(few).some((e) => e.heldOut)).toBe(false);
    // CLINC150 files without val keep the old shape (no validation).
    await writeFile(file, JSON.stringify({ train: [['what time is it', 'time']], test: [['tell me the time', 'time']] }));
    expect((await loadDataset(file)).validation).toBeUndefined();
  });

  it('reads xSID CoNLL, training on the valid split and testing on the test split', async () => {
    const dir = await tempDir();
    const block = (text: string, intent: string) => `# id = 1\n# text-en = x\n# text = ${text}\n# intent = ${intent}\n1\tx\t${intent}\tO\n\n`;
    await writeFile(path.join(dir, 'it.valid.conll'), block('Pioverà oggi?', 'weather/find') + block('sveglia alle 7', 'alarm/set_alarm'));
    await writeFile(path.join(dir, 'it.test.conll'), block('farà caldo domani?', 'weather/find'));
    const d = await loadDataset(dir);
    expect(d.language).toBe('it');
    expect(d.train).toEqual([
      { text: 'Pioverà oggi?', label: 'weather/find', language: 'it' },
      { text: 'sveglia alle 7', label: 'alarm/set_alarm', language: 'it' },
    ]);
    expect(d.test).toEqual([{ text: 'farà caldo domani?', label: 'weather/find' }]);
    expect(d.validation).toBeUndefined();
  });

  it('reads the seq.in/label folder format', async () => {
    const dir = await tempDir();
    for (const split of ['train', 'test']) {
      await mkdir(path.join(dir, split));
      await writeFile(path.join(dir, split, 'seq.in'), 'book a table\nplay jazz\n');
      await writeFile(path.join(dir, split, 'label'), 'BookRestaurant\nPlayMusic\n');
    }
    const d = await loadDataset(dir);
    expect(d.train.map((e) => e.label)).toEqual(['BookRestaurant', 'PlayMusic']);
    expect(d.test.map((e) => e.text)).toEqual(['book a table', 'play jazz']);
  });

  it('explains a seq.in/label mismatch and an unknown layout', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'train'));
    await writeFile(path.join(dir, 'train', 'seq.in'), 'a\nb\n');
    await writeFile(path.join(dir, 'train', 'label'), 'x\n');
    await expect(loadDataset(dir)).rejects.toThrow(/seq.in has 2 lines but label has 1/);
    await expect(loadDataset(await tempDir())).rejects.toThrow(/not a known dataset layout/);
    await expect(loadDataset(path.join(dir, 'missing'))).rejects.toThrow(/no such file or folder/);
  });
});

describe('scorePredictions', () => {
  it('counts low-confidence and oos-labelled answers as out of scope', () => {
    const s = scorePredictions(
      [
        { gold: 'a', predicted: 'a', confidence: 0.9 },
        { gold: 'a', predicted: 'a', confidence: 0.3 },
        { gold: 'oos', predicted: 'b', confidence: 0.2 },
        { gold: 'oos', predicted: 'oos', confidence: 0.9 },
        { gold: 'b', predicted: 'a', confidence: 0.8 },
      ],
      { oosLabel: 'oos', threshold: 0.5 },
    );
    expect(s.in_scope_accuracy).toBeCloseTo(1 / 3, 4);
    expect(s.oos_recall).toBe(1);
    expect(s.oos_precision).toBeCloseTo(2 / 3, 4);
    expect(s.accuracy).toBeCloseTo(3 / 5, 4);
    expect(s.confused).toEqual(expect.arrayContaining([{ gold: 'a', predicted: 'oos', count: 1 }, { gold: 'b', predicted: 'a', count: 1 }]));
  });
});

describe('evaluateSystem', () => {
  const dataset = (oosLabel?: string): Dataset => ({
    name: 'tiny',
    train: [
      { text: 'what time is it', label: 'time' },
      { text: 'tell me the time', label: 'time' },
      { text: 'will it rain today', label: 'weather' },
      { text: 'how tall is everest', label: 'oos' },
    ],
    test: [{ text: 'the time please', label: 'time' }],
    ...(oosLabel !== undefined ? { oosLabel } : {}),
  });

  it("tells the system the dataset's out-of-scope label, where it has one, and the classifier checks it", async () => {
    const seen: Array<{ outOfScopeLabel?: string }> = [];
    const create = (context: { outOfScopeLabel?: string }) => {
      seen.push(context);
      return sportelloSystem(context);
    };
    await evaluateSystem(dataset('oos'), create);
    await evaluateSystem(dataset(), create);
    expect(seen).toEqual([{ outOfScopeLabel: 'oos' }, {}]);
    // A label the training split does not have is refused by the classifier, not ignored.
    await expect(evaluateSystem(dataset('out_of_scope'), sportelloSystem)).rejects.toThrow(/the out-of-scope label "out_of_scope" is not a label of the training examples/);
  });
});
