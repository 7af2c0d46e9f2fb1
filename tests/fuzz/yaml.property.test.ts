/**
 * Property-based tests of the YAML parsers care teams feed: FAQ and intent files (src/corpus/load.ts)
 * and conversation-test files (src/testing/conversation-tests.ts). Files are valid ones with
 * broken fields (wrong types, huge and odd strings, pollution keys), and real files cut short or
 * with characters flipped. Whatever comes, the answer is either a loaded corpus / a run, or a
 * clear problem naming the file and a line and column: never a stack trace, never another kind
 * of error. Seeded (`SEED=n`), bounded (`RUNS=n`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { CorpusError } from '../../src/core/errors.js';
import { loadCorpus } from '../../src/corpus/load.js';
import { runConversationTests, type TestFailure } from '../../src/testing/conversation-tests.js';
import { ROOT } from '../helpers/app.js';
import { fuzzOptions, mutated, nastyValue } from './arbitraries.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sportello-fuzz-yaml-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh corpus folder holding `faq` as its one FAQ file and the project's intents. */
function corpusWith(faqText: string, intentsText = readFileSync(join(ROOT, 'intents/it.yaml'), 'utf8')): { faqDir: string; intentsDir: string } {
  n += 1;
  const faqDir = join(dir, `c${n}`, 'faq');
  const intentsDir = join(dir, `c${n}`, 'intents');
  mkdirSync(faqDir, { recursive: true });
  mkdirSync(intentsDir, { recursive: true });
  writeFileSync(join(faqDir, 'voci.yaml'), faqText);
  writeFileSync(join(intentsDir, 'it.yaml'), intentsText);
  return { faqDir, intentsDir };
}

/** Real files, broken by hand the way editors break them: cut short, a character flipped, a tab. */
const damaged = (text: string) =>
  fc.tuple(fc.nat({ max: text.length }), fc.constantFrom('', ':', '\t', '- ', '"', "'", '{', '[', '&a', '*a', '!!binary ', '\u0000', '\n  - ', '<<: *x')).map(([at, insert]) =>
    insert === '' ? text.slice(0, at) : `${text.slice(0, at)}${insert}${text.slice(at + 1)}`,
  );

const faqSample = {
  locale: 'it',
  entries: [
    {
      id: 'orari-apertura',
      questions: ['Quali sono i vostri orari?', 'Siete aperti il sabato?'],
      answer: 'Siamo aperti dal lunedì al venerdì dalle 9 alle 18.',
      answer_short: 'Lun-ven 9-18.',
      private: false,
      escalate: false,
      tags: ['orari'],
    },
    { id: 'spedizione-costi', questions: ['Quanto costa la spedizione?'], answer: 'La spedizione costa 5 euro, gratis sopra i 50.' },
  ],
};
const intentsSample = { locale: 'it', intents: [{ name: 'greeting', action: 'greet', examples: ['ciao', 'buongiorno'] }] };

/** The corpus loads, or fails with problems each naming the file, a line and a column, and no stack trace. */
async function loadsOrExplains(location: { faqDir: string; intentsDir: string }): Promise<void> {
  try {
    await loadCorpus(location);
  } catch (err) {
    if (!(err instanceof CorpusError)) throw new Error(`not a CorpusError: ${(err as Error)?.stack ?? String(err)}`);
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.file).toMatch(/(voci|it)\.yaml$/);
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.column).toBeGreaterThanOrEqual(1);
      expect(p.message.length).toBeGreaterThan(0);
      expect(p.message).not.toMatch(/\n\s+at /);
    }
  }
}

describe('FAQ and intent YAML', () => {
  it('loads, or names file:line:column for FAQ files with broken fields', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(faqSample), async (faq) => {
        await loadsOrExplains(corpusWith(stringify(faq)));
      }),
      fuzzOptions(40),
    );
  });

  it('loads, or names file:line:column for intent files with broken fields', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(intentsSample), async (intents) => {
        await loadsOrExplains(corpusWith(stringify(faqSample), stringify(intents)));
      }),
      fuzzOptions(30),
    );
  });

  it('loads, or names file:line:column for the project FAQ cut short or with a character flipped', async () => {
    const real = readFileSync(join(ROOT, 'faq/negozio.yaml'), 'utf8');
    await fc.assert(
      fc.asyncProperty(damaged(real), async (text) => {
        await loadsOrExplains(corpusWith(text));
      }),
      fuzzOptions(60),
    );
  });
});

// ───────────────────────────── conversation tests ─────────────────────────────

const testSample = () => ({
  name: 'orari su X',
  channel: 'twitter',
  faq: '../tiny/faq',
  intents: '../tiny/intents',
  customer: { id: '1001', handle: 'mario_rossi', followers: 10, follows_brand: false },
  clock: '2026-11-24T10:00:00+01:00',
  settings: { timezone: 'Europe/Rome', business_hours: { mon: '09:00-18:00' }, holidays: ['2026-12-25'], vip_followers: 10000, answer_threshold: 0.5, queue_notice_minutes: 10 },
  turns: [
    { say: '@bottegarossi siete aperti sabato?', visibility: 'public', expect: { action: 'answer', faq: 'orari-apertura', visibility: 'public' } },
    { operator: 'claim' },
    { wait: 'PT5M' },
  ],
});

/** One failure of an invalid file: it names the file, a line and a column, and holds no stack trace. */
function explains(failure: TestFailure, file: string): void {
  expect(failure.file).toContain(file);
  expect(failure.message).not.toMatch(/\n\s+at /);
  if (failure.turn === 0) {
    expect(failure.line).toBeGreaterThanOrEqual(1);
    expect(failure.column).toBeGreaterThanOrEqual(1);
  }
}

describe('conversation-test YAML', () => {
  beforeAll(() => {
    // A small corpus beside the tests, so a test that is valid trains quickly.
    mkdirSync(join(dir, 'tiny/faq'), { recursive: true });
    mkdirSync(join(dir, 'tiny/intents'), { recursive: true });
    writeFileSync(join(dir, 'tiny/faq/voci.yaml'), stringify(faqSample));
    writeFileSync(join(dir, 'tiny/intents/it.yaml'), stringify(intentsSample));
    mkdirSync(join(dir, 'tests'), { recursive: true });
  });

  it('runs, or reports the file with line and column, for test files with broken fields (never throws)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: mutated(testSample()) }, { weight: 1, arbitrary: nastyValue }), async (test) => {
        n += 1;
        const file = join(dir, 'tests', `t${n}.yaml`);
        writeFileSync(file, stringify(test));
        const report = await runConversationTests([file], { projectRoot: dir, env: {} });
        expect(report.passed + report.failed).toBe(1);
        for (const failure of report.failures) explains(failure, `t${n}.yaml`);
      }),
      fuzzOptions(25),
    );
  }, 120_000);

  it('reports the line and column of bad YAML syntax', async () => {
    const real = readFileSync(join(ROOT, 'tests/conversations/01-faq-public-x.yaml'), 'utf8');
    await fc.assert(
      fc.asyncProperty(damaged(real), async (text) => {
        n += 1;
        const file = join(dir, 'tests', `t${n}.yaml`);
        writeFileSync(file, text.replace(/^faq:.*$/m, ''));
        const report = await runConversationTests([file], { projectRoot: dir, env: { FAQ_DIR: join(dir, 'tiny/faq'), INTENTS_DIR: join(dir, 'tiny/intents') } });
        for (const failure of report.failures) explains(failure, `t${n}.yaml`);
      }),
      fuzzOptions(12),
    );
  }, 120_000);
});
