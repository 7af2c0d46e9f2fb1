import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { runFaqLint, runFaqReview } from '../../src/cli/faq.js';
import { createEventRecorder, NO_SUBSCRIPTIONS } from '../../src/events/index.js';
import { createFakeClock } from '../../src/core/ports.js';
import type { FaqSuggestion } from '../../src/core/types.js';
import { loadCorpus } from '../../src/corpus/load.js';
import { createLowdbStore, type LowdbStore } from '../../src/storage/lowdb/index.js';
import { tempCorpus } from '../corpus/helpers.js';
import { capture } from '../helpers/capture.js';

const io = capture;

const LONG_ANSWER = 'Questa risposta è volutamente lunga per superare il limite di X. '.repeat(6).trim();

describe('sportello faq lint', () => {
  let corpus: ReturnType<typeof tempCorpus>;
  afterEach(() => corpus.cleanup());

  it('lists every error as file:line:column and exits 1', async () => {
    corpus = tempCorpus({
      'faq/a.yaml': 'locale: it\nentries:\n  - id: resi\n    questions: []\n    answer: ok\n    tag: [x]\n',
      'faq/b.yaml': 'locale: it\nentries:\n  - id: resi\n    questions: [reso?]\n    answer: ok\n',
      'intents/it.yaml': 'locale: it\nintents: [\n',
    });
    const t = io();
    const code = await runFaqLint([], t.io, { FAQ_DIR: corpus.faqDir, INTENTS_DIR: corpus.intentsDir });
    expect(code).toBe(1);
    const lines = t.out().trim().split('\n');
    expect(lines.filter((l) => / \d+ errors?, /.test(l))).toEqual([expect.stringMatching(/: [4-9] errors, 0 warnings$/)]);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/faq\/a\.yaml:4:16: entries\[0\]\.questions: at least one question is required$/),
        expect.stringMatching(/faq\/a\.yaml:6:5: entries\[0\]: unknown key "tag" \(did you mean "tags"\?\)$/),
        expect.stringMatching(/faq\/b\.yaml:3:9: duplicate id "resi": already used at .*faq\/a\.yaml:3:9$/),
        expect.stringMatching(/intents\/it\.yaml:\d+:\d+: YAML syntax error: /),
      ]),
    );
  });

  it('warns about repeated questions and answers too long for X, and exits 0', async () => {
    corpus = tempCorpus({
      'faq/a.yaml': `locale: it
entries:
  - id: orari
    questions: [a che ora aprite?, siete aperti sabato?]
    answer: 9-18.
  - id: negozio
    questions: [dove siete?, A che ora aprite!]
    answer: ${LONG_ANSWER}
`,
      'intents/it.yaml': 'locale: it\nintents:\n  - name: greeting\n    action: greet\n    examples: [ciao]\n',
    });
    const t = io();
    const code = await runFaqLint(['--no-cross-validation'], t.io, { FAQ_DIR: corpus.faqDir, INTENTS_DIR: corpus.intentsDir });
    expect(code).toBe(0);
    expect(t.out()).toMatch(/faq\/a\.yaml:7:30: warning: question "A che ora aprite!" is also a question of "orari"/);
    expect(t.out()).toMatch(/faq\/a\.yaml:6:9: warning: entry "negozio": the answer is \d+\/280 characters on X and has no answer_short \(it will be sent as a thread\)/);
    expect(t.out()).toMatch(/2 FAQ entries, 1 intent: 0 errors, 2 warnings\n$/);
    const strict = io();
    expect(await runFaqLint(['--no-cross-validation', '--strict'], strict.io, { FAQ_DIR: corpus.faqDir, INTENTS_DIR: corpus.intentsDir })).toBe(1);
  });

  it('warns about a question two entries share even across languages (neither is sure to answer it)', async () => {
    corpus = tempCorpus({
      'faq/it.yaml': 'locale: it\nentries:\n  - id: pagamenti\n    questions: [PayPal?, come posso pagare?]\n    answer: Carta o PayPal.\n',
      'faq/en.yaml': 'locale: en\nentries:\n  - id: payments\n    questions: [how can I pay?, paypal]\n    answer: Card or PayPal.\n',
      'intents/it.yaml': 'locale: it\nintents:\n  - name: greeting\n    action: greet\n    examples: [ciao]\n',
    });
    const t = io();
    expect(await runFaqLint(['--no-cross-validation'], t.io, { FAQ_DIR: corpus.faqDir, INTENTS_DIR: corpus.intentsDir })).toBe(0);
    expect(t.out()).toMatch(/faq\/(it|en)\.yaml:\d+:\d+: warning: question "(PayPal\?|paypal)" is also a question of "(pagamenti|payments)" \(two entries share it: neither is sure to answer it\)/);
  });

  it('warns about questions the classifier takes for another entry when left out of training', async () => {
    corpus = tempCorpus({
      'faq/a.yaml': `locale: it
entries:
  - id: spedizione-costi
    questions: [quanto costa la spedizione?, costi di spedizione?, la spedizione è gratis?, spese di spedizione?]
    answer: Gratis sopra 49 euro.
  - id: spedizione-prezzo
    questions: [prezzo della spedizione?, quanto costa spedire?, quanto costa la spedizione in Italia?, la spedizione costa?]
    answer: 5 euro.
  - id: resi
    questions: [come faccio un reso?, posso restituire un prodotto?, il reso è gratuito?, entro quanti giorni posso fare il reso?]
    answer: 30 giorni.
`,
      'intents/it.yaml': 'locale: it\nintents:\n  - name: greeting\n    action: greet\n    examples: [ciao, buongiorno, salve]\n',
    });
    const t = io();
    const code = await runFaqLint(['--folds', '4', '--threshold', '0.3'], t.io, { FAQ_DIR: corpus.faqDir, INTENTS_DIR: corpus.intentsDir });
    expect(code).toBe(0);
    const confused = t.out().split('\n').filter((l) => l.includes('when left out of training'));
    expect(confused.length).toBeGreaterThan(0);
    for (const line of confused) expect(line).toMatch(/faq\/a\.yaml:\d+:\d+: warning: question ".+" of "spedizione-(costi|prezzo)" is taken for entry spedizione-(costi|prezzo)/);
  });

  it('lints the sample corpus without errors', async () => {
    const t = io();
    const code = await runFaqLint(['--no-cross-validation'], t.io, { FAQ_DIR: 'faq', INTENTS_DIR: 'intents' });
    expect(t.out()).toMatch(/0 errors, 0 warnings\n$/);
    expect(code).toBe(0);
    corpus = tempCorpus({});
  });

  it('reports a handler that no action of ACTIONS_DIR provides, and a broken action file, as errors', async () => {
    corpus = tempCorpus({
      'faq/a.yaml': 'locale: en\nentries:\n  - id: order-status\n    private: true\n    handler: order-status\n    questions: [where is my order?]\n    answer: Send me your order number.\n  - id: stock\n    handler: stock-check\n    questions: [is it in stock?]\n    answer: I can check.\n  - id: loud\n    handler: stock-check\n    escalate: true\n    questions: [help now]\n    answer: ok\n',
      'intents/en.yaml': 'locale: en\nintents:\n  - name: greeting\n    action: greet\n    examples: [hi]\n',
      'actions/stock.mjs': "export default { name: 'stock-check', handle: () => ({ reply: 'yes' }) };\n",
    });
    const t = io();
    const env = { FAQ_DIR: corpus.faqDir, INTENTS_DIR: corpus.intentsDir, ACTIONS_DIR: join(corpus.root, 'actions') };
    expect(await runFaqLint(['--no-cross-validation'], t.io, env)).toBe(1);
    const lines = t.out().trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/faq\/a\.yaml:5:14: handler: no action named "order-status" \(actions: stock-check\)$/),
      expect.stringMatching(/faq\/a\.yaml:13:14: entries\[2\]\.handler: handler and escalate: true do not go together/),
      expect.stringMatching(/: 2 errors, 0 warnings$/),
    ]);

    corpus.write('actions/broken.mjs', 'export const nothing = 1;\n');
    const again = io();
    expect(await runFaqLint(['--no-cross-validation'], again.io, env)).toBe(1);
    expect(again.out()).toMatch(/actions\/broken\.mjs: exports no action/);
  });

  it('rejects a bad option with a usage error', async () => {
    corpus = tempCorpus({});
    const t = io();
    expect(await runFaqLint(['--folds', 'one'], t.io, {})).toBe(2);
    expect(t.err()).toMatch(/--folds must be a whole number/);
  });
});

describe('sportello faq review', () => {
  let corpus: ReturnType<typeof tempCorpus>;
  let store: LowdbStore;
  const clock = createFakeClock('2026-11-23T18:00:00Z');
  const base = { caseId: 'case-7', locale: 'it' as const, status: 'pending' as const, createdAt: '2026-11-23T17:00:00Z', createdBy: 'op-marta' };
  const addQuestion: FaqSuggestion = { ...base, id: 'sg-add', kind: 'add_question', entryId: 'orari-apertura', questions: ['a che ora aprite il sabato?'] };
  const newEntry: FaqSuggestion = { ...base, id: 'sg-new', kind: 'new_entry', entryId: 'incisioni-personalizzate', questions: ['fate incisioni personalizzate?'], answer: 'Sì, sulle borse in pelle.' };

  beforeEach(async () => {
    corpus = tempCorpus();
    store = createLowdbStore({ file: join(corpus.root, 'store.json') });
    await store.init();
    await store.suggestions.add(addQuestion);
    await store.suggestions.add(newEntry);
  });
  afterEach(async () => {
    await store.close();
    corpus.cleanup();
  });
  const deps = () => ({ store, faqDir: corpus.faqDir, clock, recorder: createEventRecorder({ subscriptions: NO_SUBSCRIPTIONS, clock }) });

  it('lists the pending suggestions', async () => {
    const t = io();
    expect(await runFaqReview([], t.io, deps())).toBe(0);
    expect(t.out()).toContain('sg-add  pending   it  add question to orari-apertura  "a che ora aprite il sabato?"');
    expect(t.out()).toContain('sg-new  pending   it  new entry incisioni-personalizzate  "fate incisioni personalizzate?"');
  });

  it('shows one suggestion in full', async () => {
    const t = io();
    expect(await runFaqReview(['show', 'sg-new'], t.io, deps())).toBe(0);
    expect(t.out()).toContain('answer:\n  Sì, sulle borse in pelle.');
  });

  it('approves a new entry with the reviewer edits, writes it and marks it approved', async () => {
    const t = io();
    const code = await runFaqReview(['approve', 'sg-new', '--reviewer', 'Luca', '--id', 'incisioni', '--answer', 'Sì, sulle borse in pelle (5 euro).'], t.io, deps());
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    expect(t.out()).toMatch(/approved sg-new: written to .*faq\/negozio\.yaml/);
    const entry = (await loadCorpus(corpus)).faq.find((e) => e.id === 'incisioni');
    expect(entry).toMatchObject({ answer: 'Sì, sulle borse in pelle (5 euro).', source: { kind: 'learned', case: 'case-7', approved_by: 'Luca', at: '2026-11-23T18:00:00.000Z' } });
    const [stored] = (await store.suggestions.list()).filter((s) => s.id === 'sg-new');
    expect(stored).toMatchObject({ status: 'approved', reviewedBy: 'Luca', reviewedAt: '2026-11-23T18:00:00.000Z', entryId: 'incisioni' });
    const again = io();
    expect(await runFaqReview(['approve', 'sg-new'], again.io, deps())).toBe(1);
    expect(again.err()).toMatch(/already approved/);
    // In the audit trail as the CLI's, once (the refused second approval is not).
    expect((await store.audit.list({ limit: 10 })).map((e) => [e.operatorId, e.action, e.target, e.from])).toEqual([['cli', 'faq.approve', 'sg-new', 'cli']]);
  });

  it('rejects a suggestion without touching the FAQ', async () => {
    const before = readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8');
    const t = io();
    expect(await runFaqReview(['reject', 'sg-add', '--reviewer', 'Luca'], t.io, deps())).toBe(0);
    expect((await store.suggestions.list({ status: 'pending' })).map((s) => s.id)).toEqual(['sg-new']);
    expect(readFileSync(join(corpus.faqDir, 'negozio.yaml'), 'utf8')).toBe(before);
    expect((await store.audit.list({ limit: 10 })).map((e) => [e.operatorId, e.action, e.target])).toEqual([['cli', 'faq.reject', 'sg-add']]);
  });

  it('does not approve into a FAQ that would not load, and keeps the suggestion pending', async () => {
    writeFileSync(join(corpus.faqDir, 'extra.yaml'), 'locale: it\nentries:\n  - id: incisioni-personalizzate\n    questions: [incisioni?]\n    answer: no.\n');
    const t = io();
    expect(await runFaqReview(['approve', 'sg-new'], t.io, deps())).toBe(1);
    expect(t.err()).toMatch(/not written, the FAQ would not load:\n.*duplicate id "incisioni-personalizzate"/);
    expect((await store.suggestions.list({ status: 'pending' })).map((s) => s.id).sort()).toEqual(['sg-add', 'sg-new']);
  });

  it('edits a suggestion before approval: questions, answer, answer_short; show tells what changes; approve writes it', async () => {
    const t = io();
    const code = await runFaqReview(
      ['edit', 'sg-add', '--question', 'a che ora aprite il sabato?', '--question', 'il sabato pomeriggio siete aperti?', '--answer', 'Sabato dalle 9 alle 13; il pomeriggio siamo chiusi.', '--answer-short', 'Sabato 9-13.'],
      t.io,
      deps(),
    );
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    expect(t.out()).toMatch(/^edited sg-add\n/);
    const [stored] = (await store.suggestions.list()).filter((s) => s.id === 'sg-add');
    expect(stored).toMatchObject({
      status: 'pending',
      kind: 'update_answer',
      questions: ['a che ora aprite il sabato?', 'il sabato pomeriggio siete aperti?'],
      answer: 'Sabato dalle 9 alle 13; il pomeriggio siamo chiusi.',
      answerShort: 'Sabato 9-13.',
    });
    const shown = io();
    expect(await runFaqReview(['show', 'sg-add'], shown.io, deps())).toBe(0);
    expect(shown.out()).toContain('approving changes entry "orari-apertura":\n  + question: a che ora aprite il sabato?\n  + question: il sabato pomeriggio siete aperti?\n  - answer (now):\n    Il negozio di Milano');
    expect(shown.out()).toContain('  + answer (after):\n    Sabato dalle 9 alle 13; il pomeriggio siamo chiusi.');
    expect(shown.out()).toContain('  - answer_short (now):\n    Lun-ven 9-18, sabato 9-13, domenica chiusi.\n  + answer_short (after):\n    Sabato 9-13.');

    expect(await runFaqReview(['approve', 'sg-add', '--reviewer', 'Luca'], io().io, deps())).toBe(0);
    const entry = (await loadCorpus(corpus)).faq.find((e) => e.id === 'orari-apertura')!;
    expect(entry).toMatchObject({ answer: 'Sabato dalle 9 alle 13; il pomeriggio siamo chiusi.', answer_short: 'Sabato 9-13.' });
    expect(entry.questions.slice(-2)).toEqual(['a che ora aprite il sabato?', 'il sabato pomeriggio siete aperti?']);
  });

  it('approves --answer into an existing entry, replacing its answer', async () => {
    const t = io();
    expect(await runFaqReview(['approve', 'sg-add', '--reviewer', 'Luca', '--answer', 'Sabato 9-13.'], t.io, deps())).toBe(0);
    expect(t.err()).toBe('');
    expect((await loadCorpus(corpus)).faq.find((e) => e.id === 'orari-apertura')!.answer).toBe('Sabato 9-13.');
  });

  it('moves a suggestion to another entry or a new id and locale with --entry and --locale', async () => {
    expect(await runFaqReview(['edit', 'sg-new', '--entry', 'orari-apertura'], io().io, deps())).toBe(0);
    expect((await store.suggestions.list()).find((s) => s.id === 'sg-new')).toMatchObject({ kind: 'add_question', entryId: 'orari-apertura' });
    expect(await runFaqReview(['edit', 'sg-add', '--entry', 'engraving', '--locale', 'en', '--question', 'do you engrave?', '--answer', 'Yes, leather bags.'], io().io, deps())).toBe(0);
    expect((await store.suggestions.list()).find((s) => s.id === 'sg-add')).toMatchObject({ kind: 'new_entry', entryId: 'engraving', locale: 'en', questions: ['do you engrave?'], answer: 'Yes, leather bags.' });
  });

  it('refuses a bad edit with a clear message and changes nothing', async () => {
    const before = await store.suggestions.list();
    const bad = io();
    expect(await runFaqReview(['edit', 'sg-new', '--entry', 'Not_Kebab'], bad.io, deps())).toBe(1);
    expect(bad.err()).toMatch(/must be kebab-case .*\(nothing changed\)/);
    const empty = io();
    expect(await runFaqReview(['edit', 'sg-new', '--answer', ''], empty.io, deps())).toBe(1);
    expect(empty.err()).toMatch(/a new entry needs an answer/);
    const none = io();
    expect(await runFaqReview(['edit', 'sg-new'], none.io, deps())).toBe(2);
    expect(none.err()).toMatch(/nothing to change/);
    const locale = io();
    expect(await runFaqReview(['edit', 'sg-add', '--locale', 'fr'], locale.io, deps())).toBe(1);
    expect(locale.err()).toMatch(/locale "fr" is not one of it, en/);
    expect(await store.suggestions.list()).toEqual(before);
  });

  it('approves a new question into its entry', async () => {
    const t = io();
    expect(await runFaqReview(['approve', 'sg-add', '--reviewer', 'Luca'], t.io, deps())).toBe(0);
    const entry = (await loadCorpus(corpus)).faq.find((e) => e.id === 'orari-apertura')!;
    expect(entry.questions[entry.questions.length - 1]).toBe('a che ora aprite il sabato?');
  });

  it('says so when the suggestion does not exist', async () => {
    const t = io();
    expect(await runFaqReview(['approve', 'sg-nope'], t.io, deps())).toBe(1);
    expect(t.err()).toMatch(/no suggestion with id sg-nope/);
  });
});
