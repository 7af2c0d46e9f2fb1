import path from 'node:path';
import { createClassifier, maskPrivateData, trainUnderstander } from '../../src/classifier/index.js';
import { labelNameText } from '../../src/classifier/model.js';
import { kShotDataset, loadDataset, sampleKShot } from '../../src/classifier/datasets.js';
import { crossValidate } from '../../src/classifier/evaluate.js';
import type { TrainingExample, Understander } from '../../src/core/ports.js';
import { corpusToExamples, loadCorpus, sameAnswerGroups } from '../../src/corpus/load.js';

const ANSWER_THRESHOLD = 0.5; // src/config/config.ts default
const ORDER_PATTERN = '\\b(?:BR|ORD)-?\\d{5,10}\\b'; // config's ORDER_NUMBER_PATTERN default

let examples: TrainingExample[];
let understander: Understander;
beforeAll(async () => {
  const corpus = await loadCorpus({ faqDir: path.resolve('faq'), intentsDir: path.resolve('intents') });
  examples = corpusToExamples(corpus);
  understander = await trainUnderstander(examples, { orderNumberPattern: ORDER_PATTERN });
});

describe('sampleKShot', () => {
  const data = [
    ...Array.from({ length: 12 }, (_, i) => ({ text: `a${i}`, label: 'a' })),
    ...Array.from({ length: 2 }, (_, i) => ({ text: `b${i}`, label: 'b' })),
    ...Array.from({ length: 7 }, (_, i) => ({ text: `o${i}`, label: 'oos' })),
  ];

  it('draws K per label (the out-of-scope label too), all of a smaller label, reproducibly', () => {
    const drawn = sampleKShot(data, 5, 3);
    const count = (l: string) => drawn.filter((e) => e.label === l).length;
    expect([count('a'), count('b'), count('oos')]).toEqual([5, 2, 5]);
    expect(sampleKShot(data, 5, 3)).toEqual(drawn);
    expect(sampleKShot(data, 5, 4)).not.toEqual(drawn);
    // The training set's order is kept.
    expect(drawn.map((e) => data.indexOf(e))).toEqual([...drawn.map((e) => data.indexOf(e))].sort((x, y) => x - y));
  });

  it('refuses a K that is not a whole number of at least 1', () => {
    expect(() => sampleKShot(data, 0)).toThrow(/k must be/);
    expect(() => sampleKShot(data, 2.5)).toThrow(/k must be/);
  });

  it('cuts a dataset read from disk (xSID-it, 16 intents) to K per label', async () => {
    const d = kShotDataset(await loadDataset(path.resolve('bench/datasets/xsid_it')), 3, 1);
    const labels = new Set(d.train.map((e) => e.label));
    for (const l of labels) expect(d.train.filter((e) => e.label === l).length).toBeLessThanOrEqual(3);
    expect(d.train.length).toBeGreaterThan(labels.size * 2);
    expect(d.test.length).toBe(500);
  });
});

describe('private data does not change what a message means', () => {
  // Data in a sentence of its own: understood as the question alone.
  const own = {
    it: [
      (q: string) => `${q}. La mia email è mario.rossi@example.com e il mio cell è 333 123 4567`,
      (q: string) => `${q}, il mio ordine è BR-123456`,
      (q: string) => `${q}. Scrivetemi a giulia.bianchi@example.it`,
      (q: string) => `Ordine BR-1234567. ${q}`,
      (q: string) => `${q} (IBAN IT60X0542811101000000123456)`,
    ],
    en: [
      (q: string) => `${q}. My email is john.smith@example.com and my phone is +44 20 7946 0958`,
      (q: string) => `${q}, my order number is BR-123456`,
      (q: string) => `${q}. You can reach me at 347 123 4567`,
      (q: string) => `Order ORD-98765432. ${q}`,
      (q: string) => `${q} (card 4111 1111 1111 1111)`,
    ],
  };
  // Data run into the question: understood as the same words without the values.
  const runIn = {
    it: [(q: string, v = true) => `${q} la mia email è ${v ? 'mario.rossi@example.com' : ''} e il mio cell è ${v ? '333 123 4567' : ''}`],
    en: [(q: string, v = true) => `${q} my email is ${v ? 'john.smith@example.com' : ''} and my phone is ${v ? '+44 20 7946 0958' : ''}`],
  };

  it('gives every FAQ question with data inserted the answer it has without the data, as confidently', () => {
    const worse: string[] = [];
    let checked = 0;
    const top = (text: string) => understander.understand(text).classification.ranked[0];
    const confidenceOf = (text: string, label: string | undefined) =>
      understander.understand(text).classification.ranked.find((r) => r.label === label)?.confidence ?? 0;
    // `without`: the same message with the values taken out (for data in its own sentence, the question alone).
    const compare = (text: string, question: string, without: string) => {
      const got = top(text);
      const want = top(question);
      const floor = Math.min(want?.confidence ?? 0, confidenceOf(without, want?.label));
      checked++;
      // Within 0.06: run into the question, "la mia email è" stays (only the value goes, mask.ts),
      // and since the corpus has the off_topic intent the calibration is softer (temperature 0.38 →
      // 0.75), so that residue costs up to 0.05 (worst measured: 0.986 → 0.933; it was 0.02).
      if (got?.label !== want?.label || (got?.confidence ?? 0) < floor - 0.06) {
        worse.push(`${text}: ${got?.label} ${got?.confidence} (without the data: ${want?.label} ${floor})`);
      }
    };
    // Phrases matched word for word ("ok", "bye": match exact) are not questions: left out.
    for (const e of examples.filter((x) => !x.exact)) {
      const language = e.language ?? 'it';
      for (const insert of own[language]) compare(insert(e.text), e.text, e.text);
      for (const insert of runIn[language]) compare(insert(e.text), e.text, insert(e.text, false));
    }
    expect(checked).toBeGreaterThan(2000);
    expect(worse).toEqual([]);
  });

  it('understands the message of the issue like the question alone', () => {
    const alone = understander.understand("dov'è il mio ordine?").classification.ranked[0]!;
    const withData = understander.understand("dov'è il mio ordine? la mia email è mario.rossi@example.com e il mio cell è 333 123 4567").classification.ranked[0]!;
    expect(withData.label).toBe('faq:stato-ordine');
    expect(withData.confidence).toBeGreaterThanOrEqual(ANSWER_THRESHOLD);
    expect(withData.confidence).toBeCloseTo(alone.confidence, 2);
  });

  it('cuts the value, and the clause that only announces it, but keeps the question', () => {
    expect(maskPrivateData('dov è il mio ordine? la mia email è a.b@example.com e il mio cell è 333 123 4567').trim()).toBe('dov è il mio ordine?');
    expect(maskPrivateData('where is my order? my email is john@example.com').trim()).toBe('where is my order?');
    expect(maskPrivateData('il mio ordine BR-123456 non è arrivato').replace(/\s+/g, ' ')).toBe('il mio ordine non è arrivato');
    expect(maskPrivateData('my card 4111 1111 1111 1111 was declined').replace(/\s+/g, ' ')).toBe('my card was declined');
    // A question about the data keeps its words: only the value goes.
    expect(maskPrivateData('hello, where is my order BR-5556667? it has not arrived').replace(/\s+/g, ' ')).toBe('hello, where is my order ? it has not arrived');
    expect(maskPrivateData("dov'è il mio ordine BR-1234567?").replace(/\s+/g, ' ')).toBe("dov'è il mio ordine ?");
    expect(maskPrivateData('Quali sono i vostri orari?')).toBe('Quali sono i vostri orari?');
  });

  it('drops the words that announce a value run into a question without punctuation ("… la mia email è …")', () => {
    const squeeze = (t: string) => t.replace(/\s+/g, ' ').trim();
    expect(squeeze(maskPrivateData('come faccio a disiscrivermi dal sito la mia email è mario.rossi@example.com e il mio cell è 333 123 4567'))).toBe('come faccio a disiscrivermi dal sito');
    expect(squeeze(maskPrivateData('how do I reset my password my email is john.smith@example.com'))).toBe('how do I reset my password');
    expect(squeeze(maskPrivateData('il mio numero di telefono è 333 1234567 mi richiamate?'))).toBe('mi richiamate?');
    expect(squeeze(maskPrivateData("posso cambiare l'indirizzo? il mio numero di telefono: 333 1234567"))).toBe("posso cambiare l'indirizzo?");
    expect(squeeze(maskPrivateData('can I change my address? my phone number: +44 20 7946 0958'))).toBe('can I change my address?');
    // A noun the question is about stays: "il mio ordine BR-…" is not an announcement.
    expect(squeeze(maskPrivateData("dov'è il mio ordine BR-1234567?"))).toBe("dov'è il mio ordine ?");
  });
});

/** The examples whose top answer is another label, or below the answer threshold, as readable lines. */
function misses(of: TrainingExample[], top: (text: string, language: TrainingExample['language']) => { label: string; confidence: number } | undefined): string[] {
  return of
    .map((e) => ({ e, top: top(e.text, e.language) }))
    .filter(({ e, top }) => top?.label !== e.label || top.confidence < ANSWER_THRESHOLD)
    .map(({ e, top }) => `${e.text}: ${top?.label} ${top?.confidence} (want ${e.label})`);
}

/** What a few-shot classifier trained on `few` alone misses of those same examples. */
async function missesOfOwnTraining(few: TrainingExample[]): Promise<string[]> {
  const classifier = createClassifier();
  await classifier.train(few);
  return misses(few, (text, language) => classifier.classify(text, { language: language! }).ranked[0]);
}

describe('the classifier on its own questions', () => {
  it('answers every exact FAQ question and intent example with its own label', () => {
    expect(misses(examples, (text) => understander.understand(text).classification.ranked[0])).toEqual([]);
  });

  it('trained on 3 questions per answer, still answers those questions', async () => {
    const few = sampleKShot(examples, 3, 7);
    expect(few.length).toBeLessThan(examples.length * 0.7);
    expect(await missesOfOwnTraining(few)).toEqual([]);
  });
});

describe("a second brand's corpus (Enerva, energy and fibre: tests/fixtures/utility/faq, with the project's intents)", () => {
  let utility: TrainingExample[];
  let utilityUnderstander: Understander;
  beforeAll(async () => {
    const corpus = await loadCorpus({ faqDir: path.resolve('tests/fixtures/utility/faq'), intentsDir: path.resolve('intents') });
    utility = corpusToExamples(corpus);
    utilityUnderstander = await trainUnderstander(utility, { orderNumberPattern: ORDER_PATTERN });
  });

  it('answers every exact FAQ question and intent example with its own label', () => {
    expect(utility.filter((e) => e.label.startsWith('faq:')).length).toBeGreaterThan(50);
    expect(misses(utility, (text) => utilityUnderstander.understand(text).classification.ranked[0])).toEqual([]);
  });

  it('trained on 3 questions per answer, still answers those questions', async () => {
    const few = sampleKShot(utility, 3, 11);
    expect(few.length).toBeLessThan(utility.length * 0.8);
    expect(await missesOfOwnTraining(few)).toEqual([]);
  });
});

describe('label names as examples', () => {
  it('turns a label into its words, and leaves out names that say nothing', () => {
    expect(labelNameText('faq:lavora-con-noi')).toBe('lavora con noi');
    expect(labelNameText('card_arrival')).toBe('card arrival');
    expect(labelNameText('alarm/set_alarm')).toBe('alarm set alarm');
    expect(labelNameText('PlayMusic')).toBe('play music');
    expect(labelNameText('oos')).toBeUndefined();
    expect(labelNameText('faq:a-1')).toBeUndefined();
  });

  it('a few-shot model learns from them: a question in the words of a name is answered by that label', async () => {
    const data: TrainingExample[] = [
      ...['when will it arrive', 'is it shipped yet', 'has it been sent'].map((text) => ({ text, label: 'delivery_time', language: 'en' as const })),
      ...['I want my money back', 'can you pay me back', 'give back what I paid'].map((text) => ({ text, label: 'refund_request', language: 'en' as const })),
      ...['hello there', 'good morning', 'hi'].map((text) => ({ text, label: 'greeting', language: 'en' as const })),
    ];
    const question = 'a refund request please';
    const named = createClassifier();
    await named.train(data);
    const unnamed = createClassifier({ labelNames: false });
    await unnamed.train(data);
    const withNames = named.classify(question, { language: 'en' }).ranked;
    const without = unnamed.classify(question, { language: 'en' }).ranked;
    expect(withNames[0]?.label).toBe('refund_request');
    expect(withNames[0]!.confidence).toBeGreaterThan(without.find((r) => r.label === 'refund_request')?.confidence ?? 0);
    // A name is not an exact question: it is not answered at confidence 1 for being the label's name.
    expect(named.classify('refund request', { language: 'en' }).ranked[0]?.confidence).toBeLessThan(1);
  });
});

describe('cross-validation of a bilingual corpus', () => {
  it('reports each language, and counts an answer of the linked twin as right', async () => {
    const data: TrainingExample[] = [
      ...['quali sono gli orari', 'a che ora aprite', 'siete aperti sabato', 'orari di apertura'].map((text) => ({ text, label: 'faq:orari', language: 'it' as const })),
      ...['come faccio un reso', 'posso restituire un articolo', 'reso gratuito', 'voglio fare il reso'].map((text) => ({ text, label: 'faq:resi', language: 'it' as const })),
      ...['what are your opening hours', 'when do you open', 'are you open on saturday', 'opening times'].map((text) => ({ text, label: 'faq:hours', language: 'en' as const })),
      ...['how do I return an item', 'can I send it back', 'free returns', 'I want to make a return'].map((text) => ({ text, label: 'faq:returns', language: 'en' as const })),
    ];
    // A system that always answers with the Italian label of the topic: right only through the twin link.
    const italianOnly = () => ({
      train: async () => {},
      predict: (text: string) => ({ label: /hour|open|orari|aprite|aperti/.test(text) ? 'faq:orari' : 'faq:resi', confidence: 1 }),
    });
    const plain = await crossValidate('t', data, italianOnly, { folds: 2 });
    expect(plain.by_language?.it?.accuracy).toBe(1);
    expect(plain.by_language?.en?.accuracy).toBe(0);
    const linked = await crossValidate('t', data, italianOnly, {
      folds: 2,
      sameAnswer: new Map([
        ['faq:orari', 'faq:orari'],
        ['faq:hours', 'faq:orari'],
        ['faq:resi', 'faq:resi'],
        ['faq:returns', 'faq:resi'],
      ]),
    });
    expect(linked.by_language?.en?.accuracy).toBe(1);
    expect(linked.by_language?.en?.test_size).toBe(8);
    expect(linked.accuracy).toBe(1);
  });
});

describe('twins (an FAQ entry and its translation, same_as) trained as one answer', () => {
  const data: TrainingExample[] = [
    ...['posso pagare a rate?', 'si può dividere il pagamento?', 'pagamento in tre rate'].map((text) => ({ text, label: 'faq:rate', language: 'it' as const })),
    ...['do you have klarna?', 'can I pay in installments?', 'is scalapay available?'].map((text) => ({ text, label: 'faq:installments', language: 'en' as const })),
    ...['quali metodi di pagamento accettate?', 'accettate la carta di credito?', 'si può pagare con bonifico?'].map((text) => ({ text, label: 'faq:pagamenti', language: 'it' as const })),
    ...['which payment methods do you accept?', 'do you take credit cards?', 'can I pay by bank transfer?'].map((text) => ({ text, label: 'faq:payments', language: 'en' as const })),
  ];
  const twins = { 'faq:rate': 'faq:rate', 'faq:installments': 'faq:rate', 'faq:pagamenti': 'faq:pagamenti', 'faq:payments': 'faq:pagamenti' };

  it('answers an Italian question with words only its English twin has, under the Italian label', async () => {
    const separate = createClassifier();
    await separate.train(data);
    const linked = createClassifier({ twins });
    await linked.train(data);
    const question = 'accettate klarna?';
    // Alone, the Italian entry never saw these names (and the English one is not an answer in Italian).
    expect(separate.classify(question, { language: 'it' }).ranked[0]?.label).toBe('faq:pagamenti');
    expect(linked.classify(question, { language: 'it' }).ranked[0]?.label).toBe('faq:rate');
    const both = 'avete klarna o scalapay?';
    expect(separate.classify(both, { language: 'it' }).ranked[0]?.confidence).toBeLessThan(ANSWER_THRESHOLD);
    expect(linked.classify(both, { language: 'it' }).ranked[0]).toMatchObject({ label: 'faq:rate', confidence: expect.any(Number) });
    expect(linked.classify(both, { language: 'it' }).ranked[0]!.confidence).toBeGreaterThan(ANSWER_THRESHOLD);
    // The same class speaks each language under its own label, the exact questions included.
    expect(linked.classify('is klarna ok?', { language: 'en' }).ranked[0]?.label).toBe('faq:installments');
    expect(linked.classify('do you have klarna?', { language: 'en' }).ranked[0]).toEqual({ label: 'faq:installments', confidence: 1 });
    expect(linked.classify('posso pagare a rate?', { language: 'it' }).ranked[0]).toEqual({ label: 'faq:rate', confidence: 1 });
    expect(linked.labels().map((l) => l.label).sort()).toEqual(['faq:installments', 'faq:pagamenti', 'faq:payments', 'faq:rate']);
    // A worker's copy (snapshot → restore) answers alike.
    const copy = createClassifier({ twins });
    copy.restore(structuredClone(linked.snapshot()));
    expect(copy.classify(question, { language: 'it' }).ranked).toEqual(linked.classify(question, { language: 'it' }).ranked);
  });

  it('keeps a corpus of twins few-shot: a question about something else is not answered (the sample FAQ)', async () => {
    const corpus = await loadCorpus({ faqDir: path.resolve('faq'), intentsDir: path.resolve('intents') });
    const linked = createClassifier({ twins: Object.fromEntries(sameAnswerGroups(corpus)), orderNumberPattern: ORDER_PATTERN });
    await linked.train(corpusToExamples(corpus));
    // 35 classes of 568 questions, but 65 labels as written: still nearest-example similarity and coverage.
    for (const text of ['do you repair bicycles?', 'vendete biciclette elettriche?']) {
      expect(linked.classify(text, { language: /you/.test(text) ? 'en' : 'it' }).ranked[0]?.confidence ?? 0).toBeLessThan(ANSWER_THRESHOLD);
    }
    for (const e of corpusToExamples(corpus)) expect(linked.classify(e.text, { language: e.language! }).ranked[0]?.label).toBe(e.label);
  });

  it('does not answer a message of function words and single letters ("and in L?"), which every corpus knows word for word', async () => {
    const corpus = await loadCorpus({ faqDir: path.resolve('faq'), intentsDir: path.resolve('intents') });
    const linked = createClassifier({ twins: Object.fromEntries(sameAnswerGroups(corpus)), orderNumberPattern: ORDER_PATTERN });
    await linked.train(corpusToExamples(corpus));
    // "and in L?" was click-and-collect at 0.52 ("in store", "in person", "in Milan").
    for (const [text, language] of [['and in L?', 'en'], ['and in the?', 'en'], ['e in L?', 'it'], ['e poi?', 'it']] as const) {
      expect(linked.classify(text, { language }).ranked[0]?.confidence ?? 0).toBeLessThan(ANSWER_THRESHOLD);
    }
    // A short question with a word of its own is still answered.
    expect(linked.classify('and returns?', { language: 'en' }).ranked[0]).toEqual(expect.objectContaining({ label: 'faq:returns' }));
    expect(linked.classify('and returns?', { language: 'en' }).ranked[0]!.confidence).toBeGreaterThanOrEqual(ANSWER_THRESHOLD);
  });
});

