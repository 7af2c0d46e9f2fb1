import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CorpusError } from '../../src/core/errors.js';
import { lintCorpus } from '../../src/cli/faq.js';
import { loadCorpus, sameAnswerGroups } from '../../src/corpus/load.js';
import { tempCorpus } from './helpers.js';

const INTENTS = 'locale: it\nintents:\n  - name: greeting\n    action: greet\n    examples: [ciao]\n';
const IT = (sameAs = '') => `locale: it
entries:
  - id: orari-apertura
    questions: [quali sono i vostri orari?, a che ora aprite?, siete aperti il sabato?, orari del negozio]
    answer: 9-18.${sameAs ? `\n    same_as: ${sameAs}` : ''}
  - id: resi
    questions: [come faccio un reso?, posso restituire un prodotto?, il reso è gratuito?, voglio rendere una cosa]
    answer: 30 giorni.
`;
const EN = `locale: en
entries:
  - id: opening-hours
    questions: [what are your opening hours?, when do you open?, are you open on saturday?, shop opening times]
    answer: 9-18.
  - id: returns
    questions: [how do I return an item?, can I send a product back?, are returns free?, I want to return something]
    answer: 30 days.
`;

describe('same_as', () => {
  it('links an entry to its twin in both directions', async () => {
    const c = tempCorpus({ 'faq/it.yaml': IT('opening-hours'), 'faq/en.yaml': EN, 'intents/it.yaml': INTENTS });
    try {
      const corpus = await loadCorpus(c);
      expect(corpus.faq.find((e) => e.id === 'orari-apertura')?.same_as).toBe('opening-hours');
      const groups = sameAnswerGroups(corpus);
      expect(groups.get('faq:orari-apertura')).toBe(groups.get('faq:opening-hours'));
      expect(groups.has('faq:resi')).toBe(false);
    } finally {
      c.cleanup();
    }
  });

  it.each([
    ['opening-hourz', /same_as: no entry with id "opening-hourz"/],
    ['orari-apertura', /same_as: an entry cannot be its own twin/],
    ['resi', /same_as: "resi" is in the same language \(it\)/],
    ['Opening Hours', /same_as must be the id of another entry/],
  ])('rejects same_as: %s with its position', async (sameAs, message) => {
    const c = tempCorpus({ 'faq/it.yaml': IT(sameAs), 'faq/en.yaml': EN, 'intents/it.yaml': INTENTS });
    try {
      const error = await loadCorpus(c).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(CorpusError);
      const problems = (error as CorpusError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).toMatch(message);
      expect(problems[0]!.file).toMatch(/faq\/it\.yaml$/);
      expect(problems[0]!.line).toBe(6);
    } finally {
      c.cleanup();
    }
  });

  it('faq lint suggests linking entries that look like translations, and stops once they are linked', async () => {
    // The sample corpus: its Italian and English files list the same answers in the same order.
    const sample = await loadCorpus({ faqDir: 'faq', intentsDir: 'intents' });
    const it = sample.faq.filter((e) => e.locale === 'it').map((e) => e.id);
    const en = sample.faq.filter((e) => e.locale === 'en').map((e) => e.id);
    expect(it.length).toBe(en.length);
    const c = tempCorpus();
    try {
      // The sample files link every pair: unlinked, the lint must find the pairs again.
      for (const name of ['negozio.yaml', 'shop.yaml']) {
        const file = path.join(c.faqDir, name);
        await writeFile(file, (await readFile(file, 'utf8')).replace(/^ {4}same_as: .*\n/gm, ''));
      }
      expect((await loadCorpus(c)).faq.every((e) => e.same_as === undefined)).toBe(true);
      const suggested = (await lintCorpus({ ...c, folds: 2 })).warnings
        .map((w) => /entry "([a-z0-9-]+)" and "([a-z0-9-]+)" \((?:it|en)\) look like translations/.exec(w.message))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!] as const);
      expect(suggested.length).toBeGreaterThanOrEqual(10);
      for (const [a, b] of suggested) expect(en.indexOf(b)).toBe(it.indexOf(a));
      // Linking the first pair silences its suggestion, and only its.
      const [a, b] = suggested[0]!;
      const file = path.join(c.faqDir, 'negozio.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace(`  - id: ${a}\n`, `  - id: ${a}\n    same_as: ${b}\n`));
      const after = (await lintCorpus({ ...c, folds: 2 })).warnings.filter((w) => w.message.includes('look like translations'));
      expect(after.some((w) => w.message.includes(`"${a}"`))).toBe(false);
      expect(after.length).toBe(suggested.length - 1);
    } finally {
      c.cleanup();
    }
  });
});
