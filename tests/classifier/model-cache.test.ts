/**
 * The model cache: a restart with the same corpus reads the model instead of training, and the
 * answers are exactly those of a freshly trained model; a changed corpus or changed options train
 * again; a corrupt, truncated, foreign or misshapen file is ignored, reported and replaced.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { trainUnderstander, trainUnderstanding, understanderFromModel } from '../../src/classifier/index.js';
import { modelFile, modelKey } from '../../src/classifier/model-cache.js';
import type { TrainingExample } from '../../src/core/ports.js';
import { corpusToExamples, loadCorpus, sameAnswerGroups } from '../../src/corpus/load.js';
import { ROOT } from '../helpers/app.js';

const OPTIONS = { defaultLanguage: 'it' as const, orderNumberPattern: '\\b\\d{7}\\b' };

/** Every training question, and messages no example has word for word, in both languages. */
function probes(examples: readonly TrainingExample[]): string[] {
  return [
    ...examples.map((e) => e.text),
    'ciao, a che ora aprite domani mattina?',
    'my parcel 1234567 is late, write me at luca@example.com',
    'vorrei parlare con un operatore umano!!!',
    'do you sell bicycles on mars',
    'SIETE DEI LADRI 😡 rimborsatemi subito',
    'hiya',
    '',
  ];
}

describe('model cache', () => {
  let examples: TrainingExample[];
  let dir: string;
  const problems: string[] = [];
  const cache = () => ({ dir, onProblem: (m: string) => problems.push(m) });

  beforeAll(async () => {
    const corpus = await loadCorpus({ faqDir: join(ROOT, 'faq'), intentsDir: join(ROOT, 'intents') });
    examples = corpusToExamples(corpus);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-model-cache-'));
    problems.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the model on a restart with the same corpus and answers exactly as a freshly trained model', async () => {
    const fresh = await trainUnderstander(examples, OPTIONS);
    const first = await trainUnderstanding(examples, OPTIONS, cache());
    expect(first.fromCache).toBe(false);
    expect(readdirSync(dir)).toEqual([`model-${modelKey(examples, OPTIONS)}.bin`]);
    const second = await trainUnderstanding(examples, OPTIONS, cache());
    expect(second.fromCache).toBe(true);
    const texts = probes(examples);
    const expected = texts.map((t) => fresh.understand(t, { previousLanguage: 'en' }));
    expect(texts.map((t) => second.understander.understand(t, { previousLanguage: 'en' }))).toEqual(expected);
    expect(texts.map((t) => first.understander.understand(t, { previousLanguage: 'en' }))).toEqual(expected);
    // A worker's copy (the model as data, restored) answers alike too.
    const copy = understanderFromModel(structuredClone(second.model), OPTIONS);
    expect(texts.map((t) => copy.understand(t, { previousLanguage: 'en' }))).toEqual(expected);
    expect(problems).toEqual([]);
  });

  it('keeps the twins of a corpus linked by same_as (each answers under its own language\'s label after a restart)', async () => {
    const corpus = await loadCorpus({ faqDir: join(ROOT, 'faq'), intentsDir: join(ROOT, 'intents') });
    const withTwins = { ...OPTIONS, model: { twins: Object.fromEntries(sameAnswerGroups(corpus)) } };
    const first = await trainUnderstanding(examples, withTwins, cache());
    const second = await trainUnderstanding(examples, withTwins, cache());
    expect([first.fromCache, second.fromCache]).toEqual([false, true]);
    expect(second.model.twinLabels?.filter(Boolean).length).toBeGreaterThan(0);
    const texts = probes(examples);
    expect(texts.map((t) => second.understander.understand(t))).toEqual(texts.map((t) => first.understander.understand(t)));
    expect(second.understander.understand('Quali sono i vostri orari?').classification.ranked[0]?.label).toBe('faq:orari-apertura');
    expect(second.understander.understand('What are your opening hours?').classification.ranked[0]?.label).toBe('faq:opening-hours');
    // Twins are part of the key: without them the model is trained again.
    expect((await trainUnderstanding(examples, OPTIONS, cache())).fromCache).toBe(false);
  });

  it('trains again when the corpus or the options change (another key), keeping the few newest files', async () => {
    await trainUnderstanding(examples, OPTIONS, cache());
    const fewer = examples.filter((e) => !e.label.includes('orari'));
    const edited = await trainUnderstanding(fewer, OPTIONS, cache());
    expect(edited.fromCache).toBe(false);
    expect(edited.understander.understand('quali sono i vostri orari?').classification.ranked[0]?.label ?? '').not.toMatch(/orari/);
    const otherOptions = await trainUnderstanding(examples, { ...OPTIONS, orderNumberPattern: '\\b[A-Z]{2}\\d{6}\\b' }, cache());
    expect(otherOptions.fromCache).toBe(false);
    const reordered = await trainUnderstanding([...examples].reverse(), OPTIONS, cache());
    expect(reordered.fromCache).toBe(false);
    expect(readdirSync(dir)).toHaveLength(4);
    const another = await trainUnderstanding(examples.slice(1), OPTIONS, cache());
    expect(another.fromCache).toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith('.bin'))).toHaveLength(4);
    expect((await trainUnderstanding(examples.slice(1), OPTIONS, cache())).fromCache).toBe(true);
    expect(problems).toEqual([]);
  });

  /** Writes the cache, spoils its file with `spoil`, and checks that it is ignored, reported and replaced. */
  async function spoiled(spoil: (file: string, bytes: Buffer) => void | Promise<void>, reason: RegExp): Promise<void> {
    const expected = (await trainUnderstanding(examples, OPTIONS, cache())).understander.understand('come posso pagare?');
    const file = modelFile(dir, modelKey(examples, OPTIONS));
    await spoil(file, readFileSync(file));
    const again = await trainUnderstanding(examples, OPTIONS, cache());
    expect(again.fromCache).toBe(false);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(reason);
    expect(again.understander.understand('come posso pagare?')).toEqual(expected);
    // Replaced: the next start reads it.
    const next = await trainUnderstanding(examples, OPTIONS, cache());
    expect(next.fromCache).toBe(true);
    expect(next.understander.understand('come posso pagare?')).toEqual(expected);
    expect(problems).toHaveLength(1);
  }

  it('ignores and replaces a file with a flipped byte', () =>
    spoiled((file, bytes) => {
      bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
      writeFileSync(file, bytes);
    }, /checksum/));

  it('ignores and replaces a truncated file', () => spoiled((file, bytes) => writeFileSync(file, bytes.subarray(0, bytes.length >> 1)), /truncated/));

  it('ignores and replaces a file that is not a model file', () => spoiled((file) => writeFileSync(file, 'hello\n'), /not a model file/));

  it('ignores and replaces a file written for another corpus under this corpus’s name', () =>
    spoiled(async (file) => {
      const other = join(dir, 'other');
      await trainUnderstanding(examples.slice(2), OPTIONS, { dir: other });
      copyFileSync(join(other, readdirSync(other)[0]!), file);
      rmSync(other, { recursive: true });
    }, /another corpus/));

  it('ignores and replaces a well-formed file whose content is not a model of the right sizes', () =>
    spoiled((file, bytes) => {
      const header = JSON.parse(bytes.subarray(0, bytes.indexOf(10)).toString('utf8')) as { key: string; format: string };
      const payload = serialize({ labels: ['a'], weights: new Float32Array(3) });
      const forged = { format: header.format, key: header.key, bytes: payload.length, sha256: createHash('sha256').update(payload).digest('hex') };
      writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify(forged)}\n`), payload]));
    }, /not a model/));
});
