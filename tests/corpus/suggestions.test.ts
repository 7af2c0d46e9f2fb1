import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectEntities, trainUnderstander } from '../../src/classifier/index.js';
import { CorpusError } from '../../src/core/errors.js';
import { createFakeClock } from '../../src/core/ports.js';
import type { Customer, Operator } from '../../src/core/types.js';
import { createKnowledgeSource, type LiveKnowledge } from '../../src/corpus/knowledge.js';
import { corpusToExamples, loadCorpus } from '../../src/corpus/load.js';
import { approveSuggestion, cleanForFaq, editSuggestion, previewChange, proposeId, suggestFromCase, SuggestionError } from '../../src/corpus/suggestions.js';
import { faqLabel } from '../../src/core/corpus.js';
import type { FaqSuggestion } from '../../src/core/types.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { SAMPLE_FAQ, SAMPLE_INTENTS, tempCorpus } from './helpers.js';

const clock = createFakeClock('2026-11-23T10:00:00Z');
const operator: Operator = { id: 'op-marta', name: 'Marta Russo', initials: 'MR', role: 'agent', passwordHash: 'scrypt$x', createdAt: '2026-01-01T00:00:00Z' };
const customer: Customer = { id: 'twitter:2001', channel: 'twitter', platformId: '2001', handle: 'elena_blu', name: 'Elena Bianchi', firstSeenAt: '2026-11-23T09:00:00Z', lastSeenAt: '2026-11-23T09:00:00Z' };

// Synthetic private data that passes the real checks (IBAN mod 97, Luhn, codice fiscale check character).
const EMAIL = 'elena.bianchi@example.it';
const PHONE = '347 123 4567';
const ORDER = 'BR-448890';
const IBAN = 'IT60X0542811101000000123456';
const CARD = '4111 1111 1111 1111';
const CF = 'RSSMRA80A01H501U';

let knowledge: LiveKnowledge;
beforeAll(async () => {
  knowledge = await createKnowledgeSource({
    faqDir: SAMPLE_FAQ,
    intentsDir: SAMPLE_INTENTS,
    watch: false,
    logger: createSilentLogger(),
    train: (c) => trainUnderstander(corpusToExamples(c), { defaultLanguage: 'it' }),
  });
});
afterAll(async () => {
  await knowledge.close();
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });
function gitRepo(root: string) {
  git(root, 'init', '-q');
  git(root, 'add', '.');
  git(root, '-c', 'user.email=test@invalid', '-c', 'user.name=test', 'commit', '-qm', 'sample');
}
/** Lines removed and added by the working-tree diff of one file. */
function diffLines(root: string, file: string): { added: string[]; removed: string[] } {
  const diff = git(root, 'diff', '--no-color', '-U0', '--', file).split('\n');
  return {
    added: diff.filter((l) => l.startsWith('+') && !l.startsWith('+++')).map((l) => l.slice(1)),
    removed: diff.filter((l) => l.startsWith('-') && !l.startsWith('---')).map((l) => l.slice(1)),
  };
}

describe('suggestions from resolved cases', () => {
  it('uses synthetic private data the entity detector really recognises', () => {
    const kinds = detectEntities(`${EMAIL} ${PHONE} ${ORDER} ${IBAN} ${CARD} ${CF}`).map((e) => e.kind);
    expect(kinds).toEqual(['email', 'phone', 'order_number', 'iban', 'card', 'codice_fiscale']);
  });

  it('removes private data, names, handles, mentions and the operator signature', () => {
    const s = suggestFromCase({
      caseId: 'case-1',
      customerMessages: [
        '@bottegarossi ciao',
        `@bottegarossi sono Elena, posso pagare il mio ordine ${ORDER} con bonifico? IBAN ${IBAN}, mail ${EMAIL}, tel ${PHONE}, carta ${CARD}, CF ${CF}`,
      ],
      operatorAnswer: `Ciao Elena, sono Marta: certo, il bonifico va bene per l'ordine ${ORDER}; ti scrivo a ${EMAIL}. ^MR`,
      operator,
      customer,
      knowledge: knowledge.current(),
      language: 'it',
      clock,
    });
    const text = JSON.stringify([s.questions, s.answer]);
    for (const secret of [EMAIL, PHONE, ORDER, IBAN, CARD, CF, '448890', 'Elena', 'elena_blu', 'Bianchi', 'Marta', '^MR', '@bottegarossi']) {
      expect(text).not.toContain(secret);
    }
    expect(s.questions).toHaveLength(1);
    expect(s.questions[0]).toContain('{order_number}');
    expect(s.questions[0]).toContain('{iban}');
    expect(s.questions[0]).toMatch(/^posso pagare il mio ordine/);
  });

  it('removes a signature written as "— Name" and an English self-introduction', () => {
    const s = suggestFromCase({
      caseId: 'case-2',
      customerMessages: ['do you gift wrap orders? it is for my mum'],
      operatorAnswer: "Hi Elena, I'm Marta: yes! Tick \"Gift wrap\" at checkout (2 euros) and add a card. — Marta",
      operator,
      customer,
      knowledge: knowledge.current(),
      language: 'en',
      clock,
    });
    expect(s.kind).toBe('new_entry');
    expect(s.answer).toBe('Hi, yes! Tick "Gift wrap" at checkout (2 euros) and add a card.');
  });

  it('removes signatures in linear time: long runs of spaces or new lines, with and without a signature after them', () => {
    const spaces = ' '.repeat(50_000);
    const answers = [
      // No signature after the spaces: every signature pattern tries them and fails.
      `Sì, il sabato dalle 9 alle 13.${spaces}a presto`,
      `Sì, il sabato dalle 9 alle 13.${spaces}— Marta`,
      `Sì, il sabato dalle 9 alle 13.${spaces}^MR${spaces}`,
      `Sì, il sabato dalle 9 alle 13. /${spaces}MR e a presto`,
      `Sì, il sabato dalle 9 alle 13.${' -'.repeat(25_000)} e a presto`,
      // New lines too (the tidying after the removals took 1.3 s per pattern on these).
      `Sì, il sabato dalle 9 alle 13.${'\n'.repeat(50_000)}a presto${'\n'.repeat(50_000)}— Marta`,
    ];
    const cleaned: string[] = [];
    const started = performance.now();
    for (const answer of answers) cleaned.push(cleanForFaq(answer, { knowledge: knowledge.current(), customer, operator }));
    const ms = performance.now() - started;
    expect(cleaned.slice(0, 4)).toEqual(['Sì, il sabato dalle 9 alle 13. a presto', 'Sì, il sabato dalle 9 alle 13.', 'Sì, il sabato dalle 9 alle 13.', 'Sì, il sabato dalle 9 alle 13. e a presto']);
    expect(cleaned[4]).toBe(answers[4]);
    expect(cleaned[5]).toBe(`Sì, il sabato dalle 9 alle 13.${'\n'.repeat(50_000)}a presto`);
    // Quadratic took about 1.3 s per pattern on one of these, cubic hours; linear takes milliseconds.
    expect(ms).toBeLessThan(10_000);
  });

  it('adds the question to the entry it confidently matches', () => {
    const s = suggestFromCase({
      caseId: 'case-3',
      customerMessages: ['a che ora aprite il sabato?'],
      operatorAnswer: 'Sì, il sabato dalle 9 alle 13. ^MR',
      operator,
      knowledge: knowledge.current(),
      language: 'it',
      clock,
    });
    expect(s).toMatchObject({ kind: 'add_question', entryId: 'orari-apertura', locale: 'it', questions: ['a che ora aprite il sabato?'], status: 'pending', caseId: 'case-3', createdBy: 'op-marta' });
    // The entry's answer is not replaced unless the reviewer says so, but the operator's answer is kept.
    expect(s.answer).toBeUndefined();
    expect(s.operatorAnswer).toBe('Sì, il sabato dalle 9 alle 13.');
  });

  it('keeps the operator\'s answer when the question is already in its entry: a proposed new answer, shown as before/after', () => {
    const s = suggestFromCase({
      caseId: 'case-5',
      customerMessages: ['Quali sono i vostri orari?'],
      operatorAnswer: 'Da dicembre siamo aperti anche la domenica, dalle 10 alle 18. ^MR',
      operator,
      knowledge: knowledge.current(),
      language: 'it',
      clock,
    });
    expect(s).toMatchObject({
      kind: 'update_answer',
      entryId: 'orari-apertura',
      questions: ['Quali sono i vostri orari?'],
      answer: 'Da dicembre siamo aperti anche la domenica, dalle 10 alle 18.',
      operatorAnswer: 'Da dicembre siamo aperti anche la domenica, dalle 10 alle 18.',
    });
    const entry = knowledge.current().corpus.faq.find((e) => e.id === 'orari-apertura')!;
    const change = previewChange(s, knowledge.current().corpus);
    expect(change).toMatchObject({
      entryId: 'orari-apertura',
      existing: true,
      addedQuestions: [],
      knownQuestions: ['Quali sono i vostri orari?'],
      answer: { before: entry.answer, after: 'Da dicembre siamo aperti anche la domenica, dalle 10 alle 18.' },
      empty: false,
    });
  });

  it('proposes a new entry with a kebab-case id when nothing matches', () => {
    const s = suggestFromCase({
      caseId: 'case-4',
      customerMessages: ['fate incisioni personalizzate sui prodotti?'],
      operatorAnswer: 'Sì, sulle borse in pelle: scrivilo nelle note dell\'ordine (5 euro). — Marta',
      operator,
      knowledge: knowledge.current(),
      language: 'it',
      clock,
    });
    expect(s.kind).toBe('new_entry');
    expect(s.entryId).toBe('incisioni-personalizzate-prodotti');
    expect(s.answer).toBe("Sì, sulle borse in pelle: scrivilo nelle note dell'ordine (5 euro).");
    expect(proposeId('Fate le confezioni regalo?', new Set(['confezioni-regalo']))).toBe('confezioni-regalo-2');
  });
});

describe('approving a suggestion', () => {
  let corpus: ReturnType<typeof tempCorpus>;
  beforeEach(() => {
    corpus = tempCorpus();
    gitRepo(corpus.root);
  });
  afterEach(() => corpus.cleanup());

  const pending = { id: 'sg-1', caseId: 'case-9', locale: 'it' as const, status: 'pending' as const, createdAt: '2026-11-23T10:00:00Z', createdBy: 'op-marta' };

  it('appends a question to its entry, and the diff is only that line', async () => {
    const { file } = await approveSuggestion(
      { ...pending, kind: 'add_question', entryId: 'orari-apertura', questions: ['ma il sabato mattina siete aperti?'] },
      { faqDir: corpus.faqDir, reviewer: 'Luca', clock },
    );
    expect(file).toBe(join(corpus.faqDir, 'negozio.yaml'));
    expect(diffLines(corpus.root, 'faq/negozio.yaml')).toEqual({ added: ['      - ma il sabato mattina siete aperti?'], removed: [] });
    const reloaded = await loadCorpus(corpus);
    expect(reloaded.faq.find((e) => e.id === 'orari-apertura')!.questions).toContain('ma il sabato mattina siete aperti?');
  });

  it('appends a new entry with its source, keeping every comment, and the diff is only the new entry', async () => {
    const before = readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8');
    await approveSuggestion(
      { ...pending, kind: 'new_entry', entryId: 'confezioni-regalo', questions: ['fate anche le confezioni regalo?'], answer: 'Sì, al checkout (2 euro).' },
      { faqDir: corpus.faqDir, reviewer: 'Luca', clock, edits: { answer: 'Sì: al checkout scegli "Confezione regalo" (2 euro).' } },
    );
    const { added, removed } = diffLines(corpus.root, 'faq/negozio.yaml');
    expect(removed).toEqual([]);
    expect(added).toEqual([
      '',
      '  - id: confezioni-regalo',
      '    questions:',
      '      - fate anche le confezioni regalo?',
      `    answer: 'Sì: al checkout scegli "Confezione regalo" (2 euro).'`,
      '    source: {kind: learned, case: case-9, approved_by: Luca, at: 2026-11-23T10:00:00.000Z}',
    ]);
    const after = readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8');
    for (const comment of before.split('\n').filter((l) => l.trim().startsWith('#'))) expect(after).toContain(comment);
    const entry = (await loadCorpus(corpus)).faq.find((e) => e.id === 'confezioni-regalo');
    expect(entry).toMatchObject({ locale: 'it', source: { kind: 'learned', case: 'case-9', approved_by: 'Luca', at: '2026-11-23T10:00:00.000Z' } });
  });

  it('creates learned-<locale>.yaml when no file has that locale', async () => {
    const c = tempCorpus({ 'faq/negozio.yaml': 'locale: it\nentries:\n  - id: resi\n    questions: [reso?]\n    answer: 30 giorni.\n', 'intents/it.yaml': 'locale: it\nintents: []\n' });
    try {
      const { file } = await approveSuggestion(
        { ...pending, locale: 'en', kind: 'new_entry', entryId: 'gift-wrap', questions: ['do you gift wrap?'], answer: 'Yes, at checkout.' },
        { faqDir: c.faqDir, reviewer: 'Luca', clock },
      );
      expect(file).toBe(join(c.faqDir, 'learned-en.yaml'));
      const loaded = await loadCorpus(c);
      expect(loaded.faq.find((e) => e.id === 'gift-wrap')).toMatchObject({ locale: 'en', file: 'learned-en.yaml', answer: 'Yes, at checkout.' });
    } finally {
      c.cleanup();
    }
  });

  it('never writes a file that would not load: a duplicate id is refused and nothing changes', async () => {
    const before = readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8');
    await expect(
      approveSuggestion({ ...pending, kind: 'new_entry', entryId: 'resi', questions: ['posso rendere?'], answer: 'Sì.' }, { faqDir: corpus.faqDir, reviewer: 'Luca', clock }),
    ).rejects.toThrow(CorpusError);
    await expect(
      approveSuggestion({ ...pending, kind: 'new_entry', entryId: 'resi', questions: ['posso rendere?'], answer: 'Sì.' }, { faqDir: corpus.faqDir, reviewer: 'Luca', clock }),
    ).rejects.toThrow(/negozio\.yaml:\d+:\d+: duplicate id "resi"/);
    expect(readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8')).toBe(before);
    expect(existsSync(join(corpus.faqDir, 'learned-it.yaml'))).toBe(false);
  });

  it('refuses a new entry without an answer, and a question for an entry that is gone', async () => {
    await expect(
      approveSuggestion({ ...pending, kind: 'new_entry', entryId: 'x-y', questions: ['domanda?'] }, { faqDir: corpus.faqDir, reviewer: 'Luca', clock }),
    ).rejects.toThrow(SuggestionError);
    await expect(
      approveSuggestion({ ...pending, kind: 'add_question', entryId: 'non-esiste', questions: ['domanda?'] }, { faqDir: corpus.faqDir, reviewer: 'Luca', clock }),
    ).rejects.toThrow(/no longer exists/);
  });
});

describe('editing a suggestion before approving it', () => {
  let corpus: ReturnType<typeof tempCorpus>;
  beforeEach(() => {
    corpus = tempCorpus();
    gitRepo(corpus.root);
  });
  afterEach(() => corpus.cleanup());
  const pending = { id: 'sg-2', caseId: 'case-10', locale: 'it' as const, status: 'pending' as const, createdAt: '2026-11-23T10:00:00Z', createdBy: 'op-marta' };
  const addQuestion: FaqSuggestion = { ...pending, kind: 'add_question', entryId: 'orari-apertura', questions: ['aprite a natale?'], operatorAnswer: 'A Natale siamo chiusi.' };
  const newEntry: FaqSuggestion = { ...pending, kind: 'new_entry', entryId: 'incisioni', questions: ['fate incisioni?'], answer: 'Sì.', operatorAnswer: 'Sì.' };

  it('edits questions, answer and answer_short of an add-question suggestion, which then replaces the entry\'s answer', async () => {
    const sample = await loadCorpus(corpus);
    const change = editSuggestion(addQuestion, { questions: [' aprite a natale? ', 'APRITE A NATALE', 'e a capodanno?'], answer: 'A Natale e Capodanno siamo chiusi.', answerShort: 'Chiusi a Natale.' }, sample);
    expect(change).toMatchObject({ kind: 'update_answer', entryId: 'orari-apertura', locale: 'it', questions: ['aprite a natale?', 'e a capodanno?'], answer: 'A Natale e Capodanno siamo chiusi.', answerShort: 'Chiusi a Natale.' });
    const edited = { ...addQuestion, ...change };
    const before = sample.faq.find((e) => e.id === 'orari-apertura')!.answer;
    expect(previewChange(edited, sample)).toMatchObject({ addedQuestions: ['aprite a natale?', 'e a capodanno?'], answer: { before, after: 'A Natale e Capodanno siamo chiusi.' }, answerShort: { before: 'Lun-ven 9-18, sabato 9-13, domenica chiusi.', after: 'Chiusi a Natale.' } });

    await approveSuggestion(edited, { faqDir: corpus.faqDir, reviewer: 'Luca', clock });
    const entry = (await loadCorpus(corpus)).faq.find((e) => e.id === 'orari-apertura')!;
    expect(entry.answer).toBe('A Natale e Capodanno siamo chiusi.');
    expect(entry.answer_short).toBe('Chiusi a Natale.');
    expect(entry.questions.slice(-2)).toEqual(['aprite a natale?', 'e a capodanno?']);
    const { added, removed } = diffLines(corpus.root, 'faq/negozio.yaml');
    expect(removed).toEqual([expect.stringMatching(/^ {4}answer: Il negozio/), '    answer_short: Lun-ven 9-18, sabato 9-13, domenica chiusi.']);
    expect(added).toEqual(expect.arrayContaining(['      - aprite a natale?', '      - e a capodanno?', '    answer: A Natale e Capodanno siamo chiusi.', '    answer_short: Chiusi a Natale.']));
  });

  it('moves a new entry into an existing one (questions only), or an entry\'s suggestion to a new id (with the operator\'s answer)', async () => {
    const sample = await loadCorpus(corpus);
    expect(editSuggestion(newEntry, { entryId: 'orari-apertura' }, sample)).toMatchObject({ kind: 'add_question', entryId: 'orari-apertura', answer: undefined });
    expect(editSuggestion(addQuestion, { entryId: 'chiusure-festive' }, sample)).toMatchObject({ kind: 'new_entry', entryId: 'chiusure-festive', answer: 'A Natale siamo chiusi.' });
    expect(editSuggestion(newEntry, { locale: 'en', answer: 'Yes.' }, sample)).toMatchObject({ kind: 'new_entry', locale: 'en', answer: 'Yes.' });
  });

  it('refuses bad edits with a clear message', async () => {
    const sample = await loadCorpus(corpus);
    expect(() => editSuggestion(newEntry, { questions: ['  ', ''] }, sample)).toThrow(/at least one question/);
    expect(() => editSuggestion(newEntry, { answer: '  ' }, sample)).toThrow(/a new entry needs an answer/);
    expect(() => editSuggestion(newEntry, { entryId: 'Not Kebab' }, sample)).toThrow(/must be kebab-case/);
    expect(() => editSuggestion(addQuestion, { locale: 'en' }, sample)).toThrow(/entry "orari-apertura" is in locale it/);
    expect(() => editSuggestion({ ...addQuestion, entryId: 'gone' }, { answer: 'x' }, sample)).toThrow(/no longer exists/);
    expect(() => editSuggestion({ ...newEntry, status: 'approved' }, { answer: 'x' }, sample)).toThrow(SuggestionError);
  });

  it('refuses an approval that changes nothing, and a question another entry already has', async () => {
    const before = readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8');
    const entry = (await loadCorpus(corpus)).faq.find((e) => e.id === 'orari-apertura')!;
    await expect(
      approveSuggestion({ ...pending, kind: 'update_answer', entryId: 'orari-apertura', questions: ['Quali sono i vostri orari?'], answer: entry.answer }, { faqDir: corpus.faqDir, reviewer: 'Luca', clock }),
    ).rejects.toThrow(/would change nothing/);
    await expect(
      approveSuggestion({ ...pending, kind: 'add_question', entryId: 'orari-apertura', questions: ['quanto costa la spedizione?'] }, { faqDir: corpus.faqDir, reviewer: 'Luca', clock }),
    ).rejects.toThrow(/already a question of entry "tempi-spedizione"/);
    expect(readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8')).toBe(before);
  });
});

describe('stable answers: every FAQ question is answered by its own entry', () => {
  /** The entries whose questions do not get their own entry first (at confidence 1). */
  function misanswered(k: LiveKnowledge): string[] {
    const wrong: string[] = [];
    for (const entry of k.current().corpus.faq) {
      for (const question of entry.questions) {
        const top = k.current().understander.understand(question).classification.ranked[0];
        if (top?.label !== faqLabel(entry.id) || top.confidence < 1) wrong.push(`${entry.id}: "${question}" -> ${top?.label} ${top?.confidence}`);
      }
    }
    return wrong;
  }

  it('after training, and again after approving a suggestion into another entry', async () => {
    const c = tempCorpus();
    const live = await createKnowledgeSource({
      faqDir: c.faqDir,
      intentsDir: c.intentsDir,
      watch: false,
      logger: createSilentLogger(),
      train: (corpus) => trainUnderstander(corpusToExamples(corpus), { defaultLanguage: 'it' }),
    });
    try {
      const questions = live.current().corpus.faq.reduce((n, e) => n + e.questions.length, 0);
      expect(questions).toBeGreaterThan(100);
      expect(misanswered(live)).toEqual([]);
      // An unrelated approval (a new way to ask about express shipping), then retraining.
      await approveSuggestion(
        { id: 'sg-3', caseId: 'case-11', locale: 'it', status: 'pending', createdAt: '2026-11-23T10:00:00Z', createdBy: 'op-marta', kind: 'add_question', entryId: 'spedizione-express', questions: ['quanto costa spedire con corriere espresso?'] },
        { faqDir: c.faqDir, reviewer: 'Luca', clock },
      );
      expect(await live.reload()).toMatchObject({ ok: true });
      expect(misanswered(live)).toEqual([]);
      const top = live.current().understander.understand('quanto costa la spedizione?').classification.ranked[0];
      expect(top).toEqual({ label: 'faq:tempi-spedizione', confidence: 1 });
    } finally {
      await live.close();
      c.cleanup();
    }
  });
});
