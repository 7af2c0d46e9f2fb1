import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { trainUnderstander } from '../../src/classifier/index.js';
import type { Corpus } from '../../src/core/corpus.js';
import { CorpusError } from '../../src/core/errors.js';
import type { DomainEvent } from '../../src/core/events.js';
import { createKnowledgeSource, type LiveKnowledge } from '../../src/corpus/knowledge.js';
import { corpusToExamples } from '../../src/corpus/load.js';
import { tempCorpus } from './helpers.js';

const train = (corpus: Corpus) => trainUnderstander(corpusToExamples(corpus), { defaultLanguage: 'it' });

const FAQ = `# small FAQ for the live reload tests
locale: it
entries:
  - id: orari-apertura
    questions: [quali sono i vostri orari?, a che ora aprite?, siete aperti il sabato?, a che ora chiudete?]
    answer: Lun-ven 9-18.
  - id: resi
    questions: [come faccio un reso?, posso restituire un prodotto?, il reso è gratuito?, entro quanti giorni posso rendere?]
    answer: 30 giorni, gratis.
`;
const INTENTS = `locale: it
intents:
  - name: greeting
    action: greet
    examples: [ciao, buongiorno, salve, buonasera]
`;
const GIFT = `
  - id: buoni-regalo
    questions: [vendete buoni regalo?, come funziona la gift card?, posso regalare un buono?, il buono regalo scade?]
    answer: Buoni da 25 a 200 euro.
`;

/** A logger whose lines the test can read. */
function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const waitFor = async (condition: () => boolean, ms = 15000) => {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for the reload');
    await new Promise((r) => setTimeout(r, 25));
  }
};

const topLabel = (k: LiveKnowledge, text: string) => k.current().understander.understand(text).classification.ranked[0]?.label;

describe('the live knowledge source', () => {
  let corpus: ReturnType<typeof tempCorpus>;
  let knowledge: LiveKnowledge | undefined;
  beforeEach(() => {
    corpus = tempCorpus({ 'faq/negozio.yaml': FAQ, 'intents/it.yaml': INTENTS });
  });
  afterEach(async () => {
    await knowledge?.close();
    knowledge = undefined;
    corpus.cleanup();
  });

  it('answers from the new FAQ after a file under faq/ is edited', async () => {
    const events: DomainEvent[] = [];
    const { logger } = memoryLogger();
    knowledge = await createKnowledgeSource({ ...corpus, train, watch: true, logger, onEvent: (e) => events.push(e), debounceMs: 50 });
    const before = knowledge.current();
    expect(topLabel(knowledge, 'vendete buoni regalo?')).not.toBe('faq:buoni-regalo');

    writeFileSync(join(corpus.faqDir, 'negozio.yaml'), FAQ + GIFT);
    await waitFor(() => events.some((e) => e.type === 'corpus.reloaded'));

    expect(knowledge.current()).not.toBe(before);
    expect(knowledge.current().corpus.faq.map((e) => e.id)).toContain('buoni-regalo');
    expect(topLabel(knowledge, 'vendete buoni regalo?')).toBe('faq:buoni-regalo');
    expect(knowledge.lastError()).toBeUndefined();
  });

  it('keeps answering from the last good version when an edit is broken, and reports where', async () => {
    const events: DomainEvent[] = [];
    const { logger, lines } = memoryLogger();
    knowledge = await createKnowledgeSource({ ...corpus, train, watch: true, logger, onEvent: (e) => events.push(e), debounceMs: 50 });
    const good = knowledge.current();

    writeFileSync(join(corpus.faqDir, 'negozio.yaml'), FAQ.replace('    answer: 30 giorni, gratis.', '    answr: 30 giorni, gratis.') + GIFT);
    await waitFor(() => events.some((e) => e.type === 'corpus.failed'));

    const failed = events.find((e): e is Extract<DomainEvent, { type: 'corpus.failed' }> => e.type === 'corpus.failed')!;
    expect(failed.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/faq\/negozio\.yaml:9:5: entries\[1\]: unknown key "answr"/)]),
    );
    expect(knowledge.lastError()).toEqual(failed.problems);
    expect(knowledge.current()).toBe(good);
    expect(topLabel(knowledge, 'come faccio un reso?')).toBe('faq:resi');
    expect(lines.join('')).toContain('negozio.yaml:9:5');

    // Fixing the file recovers.
    writeFileSync(join(corpus.faqDir, 'negozio.yaml'), FAQ + GIFT);
    await waitFor(() => events.some((e) => e.type === 'corpus.reloaded'));
    expect(knowledge.lastError()).toBeUndefined();
    expect(topLabel(knowledge, 'vendete buoni regalo?')).toBe('faq:buoni-regalo');
  });

  it('sees an editor that replaces the file (write to a temporary file, then rename)', async () => {
    const events: DomainEvent[] = [];
    knowledge = await createKnowledgeSource({ ...corpus, train, watch: true, logger: memoryLogger().logger, onEvent: (e) => events.push(e), debounceMs: 50 });
    const temp = join(corpus.faqDir, '.negozio.yaml.swp');
    writeFileSync(temp, FAQ + GIFT);
    renameSync(temp, join(corpus.faqDir, 'negozio.yaml'));
    await waitFor(() => events.some((e) => e.type === 'corpus.reloaded'));
    expect(knowledge.current().corpus.faq).toHaveLength(3);
  });

  it('reloads on demand, retraining only when the content changed', async () => {
    let trainings = 0;
    knowledge = await createKnowledgeSource({ ...corpus, train: (c) => (trainings++, train(c)), watch: false, logger: memoryLogger().logger });
    const first = knowledge.current();
    const same = await knowledge.reload();
    expect(same).toEqual({ ok: true, version: first.corpus.version });
    expect(knowledge.current()).toBe(first);
    expect(trainings).toBe(1);

    writeFileSync(join(corpus.intentsDir, 'it.yaml'), INTENTS.replace('[ciao,', '[ciao, ehilà,'));
    const changed = await knowledge.reload();
    expect(changed.ok).toBe(true);
    expect(knowledge.current().corpus.version).not.toBe(first.corpus.version);
    expect(trainings).toBe(2);

    writeFileSync(join(corpus.intentsDir, 'it.yaml'), 'locale: it\nintents: [\n');
    const broken = await knowledge.reload();
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.problems[0]).toMatch(/intents\/it\.yaml:\d+:\d+: YAML syntax error/);
    expect(trainings).toBe(2);
  });

  it('refuses to start from a broken corpus, listing its problems', async () => {
    writeFileSync(join(corpus.faqDir, 'negozio.yaml'), readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8').replace('  - id: resi', '  - id: Resi'));
    await expect(createKnowledgeSource({ ...corpus, train, watch: false, logger: memoryLogger().logger })).rejects.toThrow(CorpusError);
    await expect(createKnowledgeSource({ ...corpus, train, watch: false, logger: memoryLogger().logger })).rejects.toThrow(/negozio\.yaml:7:9: entries\[1\]\.id: id must be kebab-case/);
  });
});
