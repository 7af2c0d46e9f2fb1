import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { analyseSentiment, detectLanguage, normalise, trainUnderstander } from '../../src/classifier/index.js';
import type { Understander } from '../../src/core/ports.js';
import { corpusToExamples, loadCorpus } from '../../src/corpus/load.js';
import { createNormaliser } from '../../src/classifier/normalise.js';

const ANSWER_THRESHOLD = 0.5; // src/config/config.ts default
const sample = process.cwd(); // the repository's sample corpus (faq/, intents/)

describe('normalise', () => {
  it('drops mentions and URLs, opens hashtags and folds case and accents', () => {
    expect(normalise('@bottegarossi Perché la #SpedizioneGratis? https://t.co/abc', 'it')).toBe('perche la spedizione gratis');
  });

  it('collapses repeated letters and expands Italian chat abbreviations', () => {
    expect(normalise('nn ho capitooo xké cmq grazieeee', 'it')).toBe('non ho capito perche comunque grazie');
  });

  it('expands English contractions and chat abbreviations, keeping double letters', () => {
    expect(normalise("u haven't sent it pls, they're sooo goood", 'en')).toBe('you have not sent it please they are soo good');
  });

  it('splits the pronoun "mi" off Italian imperatives, not off plurals that end alike', () => {
    expect(normalise('trovami il film, ricordami di chiamare e mandatemi la fattura', 'it')).toBe(
      'trova mi il film ricorda mi di chiamare e mandate mi la fattura',
    );
    expect(normalise('dimmi, dammi, fammi sapere', 'it')).toBe('dire mi dare mi fare mi sapere');
    expect(normalise('reclami, problemi, ultimi, prossimi, sistemi, esami, mi chiami', 'it')).toBe(
      'reclami problemi ultimi prossimi sistemi esami mi chiami',
    );
    expect(createNormaliser().analyse('Trovami Phineas Redux', 'it').terms).toEqual(createNormaliser().analyse('trova mi phineas redux', 'it').terms);
    expect(normalise('give me my salami', 'en')).toBe('give me my salami');
  });

  it('handles empty text, emoji only and mixed scripts', () => {
    expect(normalise('', 'it')).toBe('');
    expect(normalise('😡😡👍', 'en')).toBe('');
    expect(normalise('заказ 注文 order', 'en')).toBe('заказ 注文 order');
  });
});

describe('a normaliser prepared with many texts at once (training)', () => {
  it('gives every word the analysis it gets alone: contractions, irregular roots, the sample corpus', async () => {
    const corpus = await loadCorpus({ faqDir: path.join(sample, 'faq'), intentsDir: path.join(sample, 'intents') });
    const texts = [
      ...corpus.faq.flatMap((e) => [...e.questions, e.answer]),
      "I hasn't went there, the children bought better boxes; she's shipping what we'd've wanted",
      "i'm y'all ain't gonna won't dr st mr ok us may will",
    ];
    const items = texts.flatMap((text) => [{ text, language: 'en' as const }, { text, language: 'it' as const }]);
    const prepared = createNormaliser();
    prepared.prepare(items);
    const alone = createNormaliser();
    for (const { text, language } of items) expect(prepared.analyse(text, language)).toEqual(alone.analyse(text, language));
    expect(prepared.analyse("hasn't went children", 'en').terms).toEqual(['have', 'not', 'go', 'child']);
  });
});

describe('detectLanguage', () => {
  it.each([
    ['ciao, ma il sabato siete aperti?', 'it'],
    ["dov'è il mio ordine??", 'it'],
    ['grazie mille', 'it'],
    ['come faccio un reso?', 'it'],
    ['nn mi è arrivato niente', 'it'],
    ['hello', 'en'],
    ['can i pay with paypal', 'en'],
    ['great thank you!', 'en'],
    ["my parcel still hasn't arrived", 'en'],
    ['where is my order?', 'en'],
  ] as const)('tells that "%s" is %s', (text, language) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('tells Italian from English on the 500 short requests of xSID (each in both languages)', async () => {
    const conll = await readFile(path.resolve(process.cwd(), 'bench/datasets/xsid_it/it.test.conll'), 'utf8');
    const lines = conll.split('\n');
    const italian = lines.filter((l) => l.startsWith('# text =')).map((l) => l.slice('# text ='.length).trim());
    const english = lines.filter((l) => l.startsWith('# text-en =')).map((l) => l.slice('# text-en ='.length).trim());
    expect(italian.length).toBeGreaterThan(400);
    const share = (texts: string[], language: 'it' | 'en') => texts.filter((t) => detectLanguage(t) === language).length / texts.length;
    // Some "Italian" items are English or mostly English titles ("Cerca The Sound of One Hand Clapping").
    expect(share(italian, 'it')).toBeGreaterThanOrEqual(0.95);
    expect(share(english, 'en')).toBeGreaterThanOrEqual(0.98);
  });

  it('keeps the conversation language when the text gives no clue', () => {
    expect(detectLanguage('ok', 'en')).toBe('en');
    expect(detectLanguage('ok', 'it')).toBe('it');
    expect(detectLanguage('BR-448890', 'en')).toBe('en');
  });

  it('keeps the conversation language on a courtesy customers of either language write ("thanks" after Italian, "grazie" after English), and reads it alone', () => {
    expect(detectLanguage('thanks', 'it')).toBe('it');
    expect(detectLanguage('thanks!!', 'it')).toBe('it');
    expect(detectLanguage('grazie', 'en')).toBe('en');
    expect(detectLanguage('thanks')).toBe('en');
    expect(detectLanguage('grazie', undefined, 'en')).toBe('it');
    expect(detectLanguage('thank you so much', 'it')).toBe('en');
    expect(detectLanguage('grazie mille, gentilissimi', 'en')).toBe('it');
  });

  it("leaves the brand's default language in place on a hint of a word or two (a misspelling, a word that ends like the other language)", () => {
    expect(detectLanguage('spedizone gratis?')).toBe('it');
    expect(detectLanguage('spedizone gratis?', undefined, 'en')).toBe('en');
    expect(detectLanguage('refund?', undefined, 'it')).toBe('en');
    expect(detectLanguage('rimborso?', undefined, 'en')).toBe('it');
  });

  it('switches language when the text is clearly the other one', () => {
    expect(detectLanguage('where is my order please?', 'it')).toBe('en');
    expect(detectLanguage('quando arriva il mio pacco?', 'en')).toBe('it');
  });
});

describe('analyseSentiment', () => {
  it('gives the angry customer of the scenarios anger above the escalation threshold', () => {
    const { anger, sentiment } = analyseSentiment('@bottegarossi SIETE DEI LADRI!!! 😡😡 nessuno risponde da una settimana, VERGOGNA', 'it');
    expect(anger).toBeGreaterThanOrEqual(0.6);
    expect(sentiment).toBeLessThan(-0.5);
  });

  it('finds English anger from swearing and caps', () => {
    expect(analyseSentiment('this is a SCAM, worst shop ever!!!', 'en').anger).toBeGreaterThanOrEqual(0.6);
  });

  it('keeps a plain question and a thank-you calm, the thank-you positive', () => {
    expect(analyseSentiment('a che ora aprite sabato?', 'it').anger).toBeLessThan(0.2);
    const thanks = analyseSentiment('great thank you!', 'en');
    expect(thanks.anger).toBeLessThan(0.3);
    expect(thanks.sentiment).toBeGreaterThan(0.3);
  });

  it('counts a long wait stated as one sign: with an insult it is anger, alone it is not', () => {
    for (const [text, language] of [
      ["your customer service is useless, I've been waiting for 2 weeks", 'en'],
      ['il vostro servizio clienti è inutile, aspetto da due settimane', 'it'],
      ['sono 10 giorni che aspetto, è ridicolo', 'it'],
      ['three weeks and still nothing, pathetic', 'en'],
    ] as const) {
      expect(analyseSentiment(text, language).anger).toBeGreaterThanOrEqual(0.6);
    }
    for (const [text, language] of [
      ["dov'è il mio ordine?? aspetto da giorni", 'it'],
      ["I've been waiting for 2 weeks, where is my parcel?", 'en'],
      ['your customer service is useless', 'en'],
    ] as const) {
      expect(analyseSentiment(text, language).anger).toBeLessThan(0.6);
    }
  });

  it('does not call one exclamation mark or one capitalised acronym anger', () => {
    expect(analyseSentiment('Accettate PayPal? Grazie!', 'it').anger).toBeLessThan(0.3);
  });

  it('calls an insult with "!!!" or capitals anger, one sign alone not, and happy shouting not', () => {
    expect(analyseSentiment('è una vergogna, ordine in ritardo di 2 settimane!!!', 'it').anger).toBeGreaterThanOrEqual(0.6);
    expect(analyseSentiment('this is unacceptable!!! my order is 2 weeks late', 'en').anger).toBeGreaterThanOrEqual(0.6);
    expect(analyseSentiment('che VERGOGNA, SERVIZIO PESSIMO', 'it').anger).toBeGreaterThanOrEqual(0.6);
    expect(analyseSentiment('vergogna, ordine in ritardo di 2 settimane', 'it').anger).toBeLessThan(0.6);
    expect(analyseSentiment('dove siete???!!!', 'it').anger).toBeLessThan(0.6);
    expect(analyseSentiment('GRAZIE MILLE!!!', 'it').anger).toBeLessThan(0.6);
    expect(analyseSentiment('THANK YOU SO MUCH!!!', 'en').anger).toBeLessThan(0.6);
  });

  it('takes a customer saying they are angry at their word, and not one saying they are not', () => {
    for (const [text, language] of [
      ['my parcel never arrived and im furious', 'en'],
      ['I’m so angry with you', 'en'],
      ['we are really pissed off', 'en'],
      ['il pacco non è mai arrivato e sono furioso', 'it'],
      ['sono davvero incazzata', 'it'],
    ] as const) expect({ text, angry: analyseSentiment(text, language).anger >= 0.6 }).toEqual({ text, angry: true });
    expect(analyseSentiment('non sono arrabbiato, volevo solo sapere', 'it').anger).toBeLessThan(0.6);
    expect(analyseSentiment("i'm mad about your new shoes", 'en').anger).toBeLessThan(0.6);
  });
});

describe('understander trained on the sample shop corpus', () => {
  let understander: Understander;
  beforeAll(async () => {
    const corpus = await loadCorpus({ faqDir: path.join(sample, 'faq'), intentsDir: path.join(sample, 'intents') });
    understander = await trainUnderstander(corpusToExamples(corpus));
  });

  const top = (text: string) => understander.understand(text).classification.ranked[0];

  it.each([
    ['@bottegarossi ciao, ma il sabato siete aperti?', 'faq:orari-apertura'],
    ['@bottegarossi e quanto ci mette ad arrivare un ordine a Napoli?', 'faq:tempi-spedizione'],
    ['hello', 'intent:greeting'],
    ['do you guys ship to Germany and how long does it take?', 'faq:shipping-times'],
    ['can i pay with paypal', 'faq:payment-methods'],
    ['great thank you!', 'intent:thanks'],
    ["@bottegarossi dov'è il mio ordine?? aspetto da giorni", 'faq:stato-ordine'],
    ["@bottegarossi my parcel still hasn't arrived, where is my order?", 'faq:order-status'],
    ['vorrei parlare con un operatore per favore', 'intent:human_request'],
    ['posso parlare con una persona?', 'intent:human_request'],
    ['voglio parlare con un operatore', 'intent:human_request'],
    ['come faccio un reso?', 'faq:resi'],
    ['ho fatto il reso due settimane fa ma il rimborso non mi è stato ancora accreditato', 'faq:rimborso-ritardo'],
  ])('answers "%s" with %s, confidently', (text, label) => {
    const best = top(text);
    expect(best?.label).toBe(label);
    expect(best?.confidence).toBeGreaterThanOrEqual(ANSWER_THRESHOLD);
  });

  it.each([
    ['la lavatrice del mio vicino fa un rumore strano quando centrifuga'],
    ['il vicino dice che è colpa del pavimento storto'],
    ['what is the capital of France?'],
  ])('gives no FAQ answer to out-of-scope "%s" (not confident, or the off_topic intent)', (text) => {
    const best = top(text);
    if (best?.label !== 'intent:off_topic') expect(best?.confidence ?? 0).toBeLessThan(ANSWER_THRESHOLD);
  });

  it('is less confident on out-of-scope text than on in-scope text', () => {
    const inScope = top('quali sono i vostri orari?')?.confidence ?? 0;
    const outOfScope = top('mio cugino colleziona francobolli rari')?.confidence ?? 0;
    expect(outOfScope).toBeLessThan(inScope);
  });

  it('gives an English question the English entry of a FAQ that exists in both languages', () => {
    expect(understander.understand('what are your opening hours?').classification.ranked[0]?.label).toBe('faq:opening-hours');
    expect(understander.understand('quali sono i vostri orari?').classification.ranked[0]?.label).toBe('faq:orari-apertura');
  });

  it('reports language, entities and anger together', () => {
    const u = understander.understand('@bottegarossi mi rimborsate sì o no? IBAN IT60X0542811101000000123456 mail luca.t@example.it');
    expect(u.language).toBe('it');
    expect(u.entities.map((e) => e.kind).sort()).toEqual(['email', 'iban']);
    expect(understander.understand('@bottegarossi SIETE DEI LADRI!!! 😡😡 nessuno risponde da una settimana, VERGOGNA').anger).toBeGreaterThanOrEqual(0.6);
  });

  it('uses the previous language when a message gives no clue', () => {
    expect(understander.understand('ok', { previousLanguage: 'en' }).language).toBe('en');
  });

  it('says when the text alone settles the language, so that no previous language could change it', () => {
    for (const text of ['quali sono i vostri orari di apertura?', 'what are your opening hours?', 'ok', 'grazie', 'thanks']) {
      const alone = understander.understand(text);
      const answers = (['it', 'en'] as const).map((previousLanguage) => understander.understand(text, { previousLanguage }).language);
      if (alone.languageSettled) expect(answers).toEqual([alone.language, alone.language]);
      else expect(answers).toEqual(['it', 'en']);
    }
    expect(understander.understand('quali sono i vostri orari di apertura?').languageSettled).toBe(true);
    expect(understander.understand('ok').languageSettled).toBe(false);
  });

  it('classifies empty text, emoji only, 10,000 characters and mixed scripts without error', () => {
    for (const text of ['', '😡😡😡', 'dove è il mio ordine '.repeat(500), 'заказ 注文 ordine ☃ مرحبا']) {
      const u = understander.understand(text);
      expect(Array.isArray(u.classification.ranked)).toBe(true);
      for (const r of u.classification.ranked) expect(r.confidence).toBeGreaterThanOrEqual(0);
    }
    expect(understander.understand('dove è il mio ordine '.repeat(500)).classification.ranked[0]?.label).toBe('faq:stato-ordine');
  });
});

describe('classifier with very many labels (nearest-centroid retrieval)', () => {
  it('answers paraphrases with their own label and stays unsure about unrelated text', async () => {
    const { createClassifier } = await import('../../src/classifier/index.js');
    const products = ['lampada Aurora', 'divano Brera', 'tavolo Ciclope', 'sedia Dafne', 'armadio Eolo', 'tappeto Fiore'];
    const examples = products.flatMap((p, i) => [
      { text: `quanto costa ${p}?`, label: `faq:prezzo-${i}`, language: 'it' as const },
      { text: `qual è il prezzo di ${p}`, label: `faq:prezzo-${i}`, language: 'it' as const },
      { text: `${p} è disponibile?`, label: `faq:disponibile-${i}`, language: 'it' as const },
      { text: `avete ${p} in magazzino?`, label: `faq:disponibile-${i}`, language: 'it' as const },
    ]);
    // Twelve labels are few, but a limit of 5 forces the retrieval model that catalogues of thousands get.
    const classifier = createClassifier({ maxSoftmaxLabels: 5 });
    await classifier.train(examples);
    const best = classifier.classify('mi dite il prezzo del divano Brera?', { language: 'it' }).ranked[0];
    expect(best?.label).toBe('faq:prezzo-1');
    expect(best?.confidence).toBeGreaterThanOrEqual(ANSWER_THRESHOLD);
    expect(classifier.classify('avete in magazzino il tappeto Fiore?', { language: 'it' }).ranked[0]?.label).toBe('faq:disponibile-5');
    expect(classifier.classify('mio cugino colleziona francobolli', { language: 'it' }).ranked[0]?.confidence ?? 0).toBeLessThan(ANSWER_THRESHOLD);
  });
});
