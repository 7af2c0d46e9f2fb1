/**
 * The conversation-test runner shares one trained model per corpus between the files of a run. A
 * file must see the FAQ as it would run alone: an edit made while the run goes on (the last
 * session saw a test pass in the full run and fail alone while the FAQ was being edited) is what
 * the next file is answered from.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runConversationTests, type TestFailure } from '../../src/testing/conversation-tests.js';
import { ROOT } from '../helpers/app.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sportello-runner-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const faq = (answer: string) =>
  stringify({
    locale: 'it',
    entries: [
      { id: 'orari-apertura', questions: ['Quali sono i vostri orari?', 'Siete aperti il sabato?', 'a che ora aprite?'], answer },
      { id: 'spedizione-costi', questions: ['Quanto costa la spedizione?', 'la spedizione è gratis?'], answer: 'La spedizione costa 5 euro, gratis sopra i 50.' },
    ],
  });

const test = (name: string, replyMatches: string | string[], forceFailure = false) =>
  stringify({
    name,
    channel: 'webchat',
    faq: '../corpus/faq',
    intents: '../corpus/intents',
    customer: { id: name },
    clock: '2026-11-24T11:00:00+01:00',
    turns: [{ say: 'Quali sono i vostri orari?', expect: { action: 'answer', faq: 'orari-apertura', reply_matches: replyMatches, ...(forceFailure ? { state: 'queued' } : {}) } }],
  });

describe('runConversationTests', () => {
  it('answers each file from the FAQ as it is when the file runs, not as it was at the first file', async () => {
    mkdirSync(join(dir, 'corpus/faq'), { recursive: true });
    mkdirSync(join(dir, 'corpus/intents'), { recursive: true });
    mkdirSync(join(dir, 'tests'), { recursive: true });
    writeFileSync(join(dir, 'corpus/intents/it.yaml'), readFileSync(join(ROOT, 'intents/it.yaml'), 'utf8'));
    const faqFile = join(dir, 'corpus/faq/negozio.yaml');
    writeFileSync(faqFile, faq('Siamo aperti dalle 9 alle 18.'));
    // The first file fails on purpose (its state), and the FAQ is edited then, while the run goes on.
    writeFileSync(join(dir, 'tests/a.yaml'), test('a', 'dalle 9 alle 18', true));
    writeFileSync(join(dir, 'tests/b.yaml'), test('b', 'dalle 10 alle 19'));
    const failures: TestFailure[] = [];
    const report = await runConversationTests([join(dir, 'tests')], {
      projectRoot: dir,
      env: {},
      onFailure: (f) => {
        failures.push(f);
        writeFileSync(faqFile, faq('Siamo aperti dalle 10 alle 19.'));
      },
    });
    // a: only the forced failure (the first version's answer matched); b: the edited answer.
    expect(failures.map((f) => [f.file, f.message.replace(/, got .*/, '')])).toEqual([['tests/a.yaml', 'expected state queued']]);
    expect(report).toMatchObject({ passed: 1, failed: 1 });
  });

  it('fails a file whose corpus no longer loads, instead of answering from the last version', async () => {
    const faqFile = join(dir, 'corpus/faq/negozio.yaml');
    writeFileSync(faqFile, faq('Siamo aperti dalle 9 alle 18.'));
    writeFileSync(join(dir, 'tests/a.yaml'), test('a', 'dalle 9 alle 18', true));
    writeFileSync(join(dir, 'tests/b.yaml'), test('b', 'dalle 9 alle 18'));
    const failures: TestFailure[] = [];
    await runConversationTests([join(dir, 'tests')], {
      projectRoot: dir,
      env: {},
      onFailure: (f) => {
        failures.push(f);
        writeFileSync(faqFile, 'locale: it\nentries:\n  - id: [broken\n');
      },
    });
    expect(failures.map((f) => f.file)).toEqual(['tests/a.yaml', 'tests/b.yaml']);
    expect(failures[1]!.message).toMatch(/could not run: the FAQ or the intents cannot be loaded/);
  });

  it('takes a list of patterns, each to be matched by some reply of the turn, and names the one no reply matched', async () => {
    const faqFile = join(dir, 'corpus/faq/negozio.yaml');
    writeFileSync(faqFile, faq('Siamo aperti dalle 9 alle 18, il sabato fino alle 13.'));
    writeFileSync(join(dir, 'tests/a.yaml'), test('a', ['dalle 9 alle 18', 'sabato']));
    writeFileSync(join(dir, 'tests/b.yaml'), test('b', ['dalle 9 alle 18', 'domenica']));
    const failures: TestFailure[] = [];
    const report = await runConversationTests([join(dir, 'tests')], { projectRoot: dir, env: {}, onFailure: (f) => failures.push(f) });
    expect(failures.map((f) => [f.file, f.message.replace(/, got .*/, '')])).toEqual([['tests/b.yaml', 'expected a reply matching /domenica/i']]);
    expect(report).toMatchObject({ passed: 1, failed: 1 });
  });
});
