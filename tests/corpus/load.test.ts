import { detectEntities } from '../../src/classifier/entities.js';
import { CorpusError } from '../../src/core/errors.js';
import { corpusToExamples, loadCorpus } from '../../src/corpus/load.js';
import { SAMPLE_FAQ, SAMPLE_INTENTS, tempCorpus } from './helpers.js';

const INTENTS = `locale: it
intents:
  - name: greeting
    action: greet
    examples: [ciao]
`;

async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const corpus = tempCorpus(files);
  try {
    await loadCorpus(corpus);
  } catch (err) {
    expect(err).toBeInstanceOf(CorpusError);
    // Paths are shown as given; the tests compare from the folder name on.
    return (err as CorpusError).problems.map((p) => `${p.file.slice(p.file.indexOf(p.file.includes('/faq/') ? 'faq/' : 'intents/'))}:${p.line}:${p.column}: ${p.message}`);
  } finally {
    corpus.cleanup();
  }
  throw new Error('the corpus loaded, but it should have failed');
}

describe('loading the corpus', () => {
  it('loads the sample corpus with its entries, intents, locales and relative file names', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    expect(corpus.faq.filter((e) => e.locale === 'it').length).toBeGreaterThanOrEqual(25);
    expect(corpus.faq.filter((e) => e.locale === 'en').length).toBeGreaterThanOrEqual(25);
    const status = corpus.faq.find((e) => e.id === 'stato-ordine');
    expect(status).toMatchObject({ private: true, escalate: false, file: 'negozio.yaml', locale: 'it' });
    expect(corpus.faq.find((e) => e.id === 'rimborso-ritardo')).toMatchObject({ escalate: true });
    expect(corpus.faq.find((e) => e.id === 'returns')).toMatchObject({ file: 'shop.yaml', locale: 'en', tags: ['returns'] });
    const names = (locale: string) => corpus.intents.filter((i) => i.locale === locale).map((i) => `${i.name}:${i.action}`).sort();
    // "Where is my order?" is one answer, the private entry stato-ordine / order-status (it asks for the
    // number, a custom action may answer): no intent repeats it.
    const expected = ['acknowledgement:none', 'anyone_there:greet', 'bot_identity:answer', 'complaint:escalate', 'goodbye:thank', 'greeting:greet', 'help:greet', 'how_are_you:greet', 'human_request:escalate', 'languages:answer', 'move_to_private:dm_prompt', 'never_mind:withdraw', 'not_helpful:escalate', 'off_topic:answer', 'order_number_where:answer', 'solved:resolve', 'thanks:thank'];
    expect(names('it')).toEqual(expected);
    expect(names('en')).toEqual(expected);
    expect(corpus.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps the shared scenario entries with their ids', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    const ids = new Set(corpus.faq.map((e) => e.id));
    for (const id of ['orari-apertura', 'tempi-spedizione', 'resi', 'metodi-pagamento', 'stato-ordine', 'rimborso-ritardo', 'garanzia', 'opening-hours', 'shipping-times', 'returns', 'payment-methods', 'order-status', 'warranty']) {
      expect(ids).toContain(id);
    }
  });

  it('gives every entry 4 to 10 questions (a care team writes three to ten: issue 17) and every intent at least 8 examples', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    const offenders = corpus.faq.filter((e) => e.questions.length < 4 || e.questions.length > 10).map((e) => e.id);
    expect(offenders).toEqual([]);
    expect(corpus.intents.filter((i) => i.examples.length < 8).map((i) => i.name)).toEqual([]);
  });

  it('has no private data anywhere in the sample corpus (emails, phones, order numbers, IBANs, cards, CF)', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    const texts = [
      ...corpus.faq.flatMap((e) => [...e.questions, e.answer, e.answer_short ?? '']),
      ...corpus.intents.flatMap((i) => [...i.examples, i.answer ?? '']),
    ];
    const found = texts.flatMap((t) => detectEntities(t).filter((e) => e.private).map((e) => `${e.kind} in "${t}"`));
    expect(found).toEqual([]);
    expect(texts.join(' ')).not.toMatch(/@[a-z0-9.-]+\.[a-z]{2,}|\bBR-?\d/i);
  });

  it('turns the corpus into training examples labelled faq:<id> and intent:<name> with their language', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    const examples = corpusToExamples(corpus);
    expect(examples).toContainEqual({ text: 'Quali sono i vostri orari?', label: 'faq:orari-apertura', language: 'it' });
    expect(examples).toContainEqual({ text: 'I want to talk to a person', label: 'intent:human_request', language: 'en' });
    const total = corpus.faq.reduce((n, e) => n + e.questions.length, 0) + corpus.intents.reduce((n, i) => n + i.examples.length, 0);
    expect(examples).toHaveLength(total);
  });

  it('changes the version when any file changes, and only then', async () => {
    const c = tempCorpus();
    try {
      const a = await loadCorpus(c);
      const b = await loadCorpus(c);
      expect(b.version).toBe(a.version);
      c.write('intents/en.yaml', `${INTENTS.replace('locale: it', 'locale: en')}`);
      expect((await loadCorpus(c)).version).not.toBe(a.version);
    } finally {
      c.cleanup();
    }
  });

  it('reads entries in subfolders and lets an entry override the file locale', async () => {
    const c = tempCorpus({
      'faq/spedizioni/estero.yaml': `locale: it
entries:
  - id: estero
    questions: [spedite in Svizzera?]
    answer: Sì.
  - id: abroad
    locale: en
    questions: [do you ship to Switzerland?]
    answer: Yes.
`,
      'intents/it.yaml': INTENTS,
    });
    try {
      const corpus = await loadCorpus(c);
      expect(corpus.faq.map((e) => [e.id, e.locale, e.file])).toEqual([
        ['estero', 'it', 'spedizioni/estero.yaml'],
        ['abroad', 'en', 'spedizioni/estero.yaml'],
      ]);
    } finally {
      c.cleanup();
    }
  });
});

describe('corpus errors', () => {
  it('reports a YAML syntax error with its file, line and column', async () => {
    const problems = await problemsOf({
      'faq/a.yaml': `locale: it
entries:
  - id: orari
    questions: [ciao
    answer: x
`,
      'intents/it.yaml': INTENTS,
    });
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems[0]).toMatch(/^faq\/a\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('reports a quote never closed where it was opened, not where the file ends', async () => {
    const problems = await problemsOf({
      'faq/a.yaml': `locale: it
entries:
  - id: orari
    questions:
      - "quali sono gli orari?"
    answer: "Siamo aperti dalle 9 alle 18
  - id: resi
    questions:
      - come faccio il reso?
    answer: Entro 30 giorni.
`,
      'intents/it.yaml': INTENTS,
    });
    expect(problems[0]).toBe('faq/a.yaml:6:13: YAML syntax error: Missing closing "quote: the quote opened here is never closed');
  });

  it('reports an unknown key at the key itself, suggesting the right one', async () => {
    const problems = await problemsOf({
      'faq/a.yaml': `locale: it
entries:
  - id: orari
    questions: [ciao]
    answer: ok
    anwser_short: ok
`,
      'intents/it.yaml': INTENTS,
    });
    expect(problems).toEqual(['faq/a.yaml:6:5: entries[0]: unknown key "anwser_short" (did you mean "answer_short"?)']);
  });

  it('reports missing and empty questions', async () => {
    const problems = await problemsOf({
      'faq/a.yaml': `locale: it
entries:
  - id: senza-domande
    answer: ok
  - id: domande-vuote
    questions: []
    answer: ok
`,
      'intents/it.yaml': INTENTS,
    });
    expect(problems).toEqual([
      'faq/a.yaml:3:5: entries[0]: missing required "questions"',
      'faq/a.yaml:6:16: entries[1].questions: at least one question is required',
    ]);
  });

  it('reports a duplicate id across files, naming where it was first used', async () => {
    const problems = await problemsOf({
      'faq/a.yaml': `locale: it
entries:
  - id: resi
    questions: [come faccio un reso?]
    answer: ok
`,
      'faq/b.yaml': `locale: en
entries:
  - id: returns
    questions: [how do I return?]
    answer: ok
  - id: resi
    questions: [returns?]
    answer: ok
`,
      'intents/it.yaml': INTENTS,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^faq\/b\.yaml:6:9: duplicate id "resi": already used at .*faq\/a\.yaml:3:9$/);
  });

  it('lists every problem of every file at once', async () => {
    const problems = await problemsOf({
      'faq/a.yaml': `# broken on purpose
locale: it
entries:
  - id: Orari_Apertura
    questions: [a che ora aprite?]
    answer: 9-18
    escalate: maybe
  - id: resi
    answer: 30 giorni
`,
      'faq/b.yaml': `locale: en
entries:
  - id: resi
    questions: [returns?]
    answer: ok
    colour: red
`,
      'faq/c.yaml': `locale: it
entries: [ {id: x, questions: [a], answer: b
`,
      'intents/it.yaml': `locale: xx
intents:
  - name: Greeting
    action: wave
    examples: []
  - name: greeting
    action: greet
    examples: [ciao]
  - name: greeting
    action: greet
    examples: [salve]
`,
    });
    const syntax = problems.filter((p) => p.startsWith('faq/c.yaml'));
    expect(syntax.length).toBeGreaterThanOrEqual(1);
    expect(syntax.every((p) => /^faq\/c\.yaml:\d+:\d+: YAML syntax error: /.test(p))).toBe(true);
    expect(problems.filter((p) => !p.startsWith('faq/c.yaml'))).toEqual([
      'faq/a.yaml:4:9: entries[0].id: id must be kebab-case (e.g. tempi-spedizione)',
      'faq/a.yaml:7:15: entries[0].escalate: escalate must be true or false',
      'faq/a.yaml:8:5: entries[1]: missing required "questions"',
      expect.stringMatching(/^faq\/b\.yaml:3:9: duplicate id "resi": already used at .*faq\/a\.yaml:8:9$/),
      'faq/b.yaml:6:5: entries[0]: unknown key "colour"',
      'intents/it.yaml:1:9: locale: locale must be one of: it, en',
      'intents/it.yaml:3:11: intents[0].name: name must be snake_case (e.g. human_request)',
      'intents/it.yaml:4:13: intents[0].action: action must be one of: answer, escalate, dm_prompt, greet, thank, resolve, withdraw, none',
      'intents/it.yaml:5:15: intents[0].examples: at least one example is required',
      expect.stringMatching(/^intents\/it\.yaml:9:11: duplicate intent "greeting": already defined at .*intents\/it\.yaml:6:11$/),
    ]);
  });

  it('says when the FAQ folder does not exist', async () => {
    await expect(loadCorpus({ faqDir: '/nonexistent/faq', intentsDir: SAMPLE_INTENTS })).rejects.toThrow(/\/nonexistent\/faq:1:1: the FAQ folder cannot be read \(ENOENT\)/);
  });
});
