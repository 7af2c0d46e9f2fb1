/**
 * Mistyped questions on the sample corpus, trained as the server trains it:
 * `node --import tsx bench/nlu/exp/typos.ts [--all]` prints the share answered with their entry at ≥ 0.5
 * for tests/classifier/fixtures/typos.yaml and the `misspelt` section of off-topic.yaml, and the misses.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { trainUnderstander } from '../../../src/classifier/index.js';
import { corpusToExamples, corpusTwins, loadCorpus } from '../../../src/corpus/load.js';
import { loadOffTopicFixture } from '../../../tests/helpers/off-topic.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const corpus = await loadCorpus({ faqDir: path.join(root, 'faq'), intentsDir: path.join(root, 'intents') });
const understander = await trainUnderstander(corpusToExamples(corpus), {
  orderNumberPattern: '\\b(?:BR|ORD)-?\\d{5,10}\\b',
  defaultLanguage: 'it',
  model: { twins: corpusTwins(corpus) },
});
type Sets = Record<'it' | 'en', Record<string, string[]>>;
const typos = parse(await readFile(path.join(root, 'tests/classifier/fixtures/typos.yaml'), 'utf8')) as Sets;
const misspelt = (await loadOffTopicFixture(root)).misspelt;
for (const [name, set] of [['typos.yaml', typos], ['off-topic.yaml misspelt', misspelt]] as const) {
  let n = 0;
  let right = 0;
  const lines: string[] = [];
  for (const l of ['it', 'en'] as const) {
    for (const [id, texts] of Object.entries(set[l])) {
      for (const text of texts) {
        n++;
        const top = understander.understand(text).classification.ranked[0];
        const ok = top?.label === `faq:${id}` && top.confidence >= 0.5;
        if (ok) right++;
        if (!ok || process.argv.includes('--all')) lines.push(`  ${ok ? '+' : '-'} [${l}] ${text} → ${top?.label ?? '-'} ${(top?.confidence ?? 0).toFixed(2)} (want ${id})`);
      }
    }
  }
  console.log(`${name}: right at ≥ 0.5 ${right}/${n} (${((100 * right) / n).toFixed(1)}%)`);
  for (const line of lines) console.log(line);
}
