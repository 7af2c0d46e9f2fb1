/**
 * bench/faq — a generated corpus of 10,000 FAQ entries (50,000 questions) in 20 YAML files:
 * how long it takes to load (parse + validate) and train, and how long answering one message
 * takes (understand + pick the entry + fit the answer to X). Targets: load + train ≤ 10 s,
 * answering ≤ 2 ms at p99. Writes bench/results/faq.md.
 *
 *   npm run bench:faq [-- --entries 10000,1000 --questions 5 --messages 5000 --timeout 180 --heap-mb 4096]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { stringify } from 'yaml';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000,1000' },
    questions: { type: 'string', default: '5' },
    messages: { type: 'string', default: '5000' },
    files: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/faq.md' },
    timeout: { type: 'string', default: '180' },
    'heap-mb': { type: 'string', default: '4096' },
  },
});
/** Corpus sizes to measure: the first is the target (10,000 entries), the others show the trend. */
const SIZES = values.entries!.split(',').map(Number);
const QUESTIONS = Number(values.questions);
const MESSAGES = Number(values.messages);
const FILES = Number(values.files);
const TIMEOUT_S = Number(values.timeout);
const LIMIT_MB = Number(values['heap-mb']);

/** A deterministic pseudo-random generator, so every run builds the same corpus. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(42);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

// Product names made of syllables: each entry gets its own words, like a real catalogue's.
const SYLLABLES = ['ba', 'lo', 'ri', 'ne', 'ta', 'mu', 'so', 'vi', 'ca', 'de', 'fo', 'gu', 'pe', 'zi', 'ro', 'la', 'mi', 'no', 'tu', 've'];
const productName = (i: number): string => {
  let n = i + 7;
  let word = '';
  for (let k = 0; k < 3; k++) {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length) + k * 3;
  }
  return word;
};

const IT = {
  topics: ['spedizione', 'reso', 'garanzia', 'taglia', 'disponibilità', 'prezzo', 'colore', 'materiale', 'lavaggio', 'montaggio'],
  templates: [
    (p: string, t: string) => `com'è la ${t} del ${p}?`,
    (p: string, t: string) => `info sulla ${t} per il ${p}`,
    (p: string, t: string) => `ciao, mi dite la ${t} del modello ${p}?`,
    (p: string, t: string) => `${p}: che ${t} ha?`,
    (p: string, t: string) => `vorrei sapere la ${t} di ${p} per favore`,
    (p: string, t: string) => `ma il ${p} che ${t} ha??`,
  ],
  answer: (p: string, t: string) => `Per il ${p} la ${t} è indicata nella scheda prodotto del sito. Se hai altri dubbi scrivici qui e ti rispondiamo entro un giorno lavorativo.`,
};
const EN = {
  topics: ['shipping', 'return', 'warranty', 'size', 'availability', 'price', 'colour', 'material', 'washing', 'assembly'],
  templates: [
    (p: string, t: string) => `what's the ${t} of the ${p}?`,
    (p: string, t: string) => `info on ${t} for the ${p}`,
    (p: string, t: string) => `hi, can you tell me the ${t} of model ${p}?`,
    (p: string, t: string) => `${p}: which ${t}?`,
    (p: string, t: string) => `I'd like to know the ${t} of ${p} please`,
    (p: string, t: string) => `so what ${t} does the ${p} have??`,
  ],
  answer: (p: string, t: string) => `The ${t} of the ${p} is on its product page on our website. Anything else, write to us here and we reply within one working day.`,
};

interface Generated {
  id: string;
  locale: 'it' | 'en';
  questions: string[];
  answer: string;
}

function generate(ENTRIES: number): Generated[] {
  const entries: Generated[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const locale = i % 2 === 0 ? 'it' : 'en';
    const lang = locale === 'it' ? IT : EN;
    const product = productName(i);
    const topic = lang.topics[Math.floor(i / 2) % lang.topics.length]!;
    const questions = new Set<string>();
    let k = 0;
    while (questions.size < QUESTIONS) questions.add(lang.templates[(i + k++) % lang.templates.length]!(product, topic));
    entries.push({ id: `${product}-${topic.normalize('NFD').replace(/\p{M}/gu, '')}-${i}`, locale, questions: [...questions], answer: lang.answer(product, topic) });
  }
  return entries;
}

function writeCorpus(root: string, entries: Generated[]): void {
  const faqDir = join(root, 'faq');
  const intentsDir = join(root, 'intents');
  mkdirSync(faqDir, { recursive: true });
  mkdirSync(intentsDir, { recursive: true });
  const perFile = Math.ceil(entries.length / FILES);
  for (let f = 0; f < FILES; f++) {
    const slice = entries.slice(f * perFile, (f + 1) * perFile);
    for (const locale of ['it', 'en'] as const) {
      const mine = slice.filter((e) => e.locale === locale).map(({ locale: _l, ...rest }) => rest);
      if (mine.length === 0) continue;
      writeFileSync(join(faqDir, `catalogo-${String(f).padStart(2, '0')}-${locale}.yaml`), `# generated by bench/faq\n${stringify({ locale, entries: mine }, { lineWidth: 0 })}`);
    }
  }
  // The project's own intents, so the classifier sees them as in production.
  writeFileSync(join(intentsDir, 'it.yaml'), 'locale: it\nintents:\n  - name: greeting\n    action: greet\n    examples: [ciao, buongiorno, salve, buonasera]\n  - name: human_request\n    action: escalate\n    examples: [voglio parlare con un operatore, passami una persona]\n');
  writeFileSync(join(intentsDir, 'en.yaml'), 'locale: en\nintents:\n  - name: greeting\n    action: greet\n    examples: [hi, hello, good morning, hey there]\n  - name: human_request\n    action: escalate\n    examples: [I want to talk to a person, get me a human]\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Messages: unseen phrasings (a template not used for training where possible) of random entries. */
function makeMessages(generated: readonly Generated[]): { text: string; label: string }[] {
  const messages: { text: string; label: string }[] = [];
  for (let m = 0; m < MESSAGES; m++) {
    const e = pick(generated);
    const lang = e.locale === 'it' ? IT : EN;
    const product = e.id.split('-')[0]!;
    const topic = e.questions[0]!.match(/(?:la|the) (\S+) (?:del|of)/)?.[1] ?? '';
    const template = lang.templates[(QUESTIONS + m) % lang.templates.length]!;
    messages.push({ text: m % 10 === 0 ? `@bottegarossi ${template(product, topic)}` : template(product, topic), label: `faq:${e.id}` });
  }
  return messages;
}

/** What the worker reports, phase by phase (a phase that never comes did not finish in time). */
type Report =
  | { phase: 'loaded'; loadMs: number; entries: number; examples: number }
  | { phase: 'trained'; trainMs: number; heapUsed: number; rss: number }
  | { phase: 'answered'; timings: number[]; fitTimings: number[]; correct: number }
  | { phase: 'error'; message: string };

interface SizeResult {
  entries: number;
  timedOut: boolean;
  loaded?: Extract<Report, { phase: 'loaded' }>;
  trained?: Extract<Report, { phase: 'trained' }>;
  answered?: Extract<Report, { phase: 'answered' }>;
  failed?: Extract<Report, { phase: 'error' }>;
}

/** Generates a corpus of `entries` entries, then loads, trains and answers in a time-limited worker. */
async function measure(entries: number): Promise<SizeResult> {
  const root = mkdtempSync(join(tmpdir(), 'sportello-bench-faq-'));
  const reports: Report[] = [];
  let timedOut = false;
  try {
    const generated = generate(entries);
    writeCorpus(root, generated);
    const messages = makeMessages(generated);
    // The worker is TypeScript too: register tsx inside it before importing it.
    const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); });`;
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: { faqDir: join(root, 'faq'), intentsDir: join(root, 'intents'), messages },
      resourceLimits: { maxOldGenerationSizeMb: LIMIT_MB },
    });
    await new Promise<void>((done) => {
      const timer = setTimeout(() => {
        timedOut = true;
        void worker.terminate().then(() => done());
      }, TIMEOUT_S * 1000);
      worker.on('message', (r: Report) => reports.push(r));
      worker.on('error', (err) => reports.push({ phase: 'error', message: err.message }));
      worker.on('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return {
    entries,
    timedOut,
    loaded: reports.find((r): r is Extract<Report, { phase: 'loaded' }> => r.phase === 'loaded'),
    trained: reports.find((r): r is Extract<Report, { phase: 'trained' }> => r.phase === 'trained'),
    answered: reports.find((r): r is Extract<Report, { phase: 'answered' }> => r.phase === 'answered'),
    failed: reports.find((r): r is Extract<Report, { phase: 'error' }> => r.phase === 'error'),
  };
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const results: SizeResult[] = [];
  for (const size of SIZES) results.push(await measure(size));

  const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const notDone = (r: SizeResult) => (r.timedOut ? `not done in ${TIMEOUT_S} s` : r.failed ? `failed: ${r.failed.message}` : 'not done');
  const sorted = (xs: number[] | undefined) => (xs ? [...xs].sort((a, b) => a - b) : []);
  const ms = (xs: number[], p: number) => (xs.length ? `${percentile(xs, p).toFixed(3)} ms` : '—');
  const row = (label: string, cell: (r: SizeResult) => string, target = '', verdict = '') =>
    `| ${label} | ${results.map(cell).join(' | ')} | ${target} | ${verdict} |`;
  const target = results[0]!;
  const targetTimings = sorted(target.answered?.timings);
  const loadTrainOk = target.loaded && target.trained ? target.loaded.loadMs + target.trained.trainMs <= 10_000 : false;
  const answerOk = targetTimings.length ? percentile(targetTimings, 99) <= 2 : false;
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

  const report = `# bench/faq: a large FAQ

Generated by \`npm run bench:faq\` (bench/faq/run.ts, bench/faq/worker.ts) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average
${loadStart.map((l) => l.toFixed(1)).join(' / ')} when the run started (shared with other work: above ${cpus().length} the figures, tails above all, are upper bounds).

Corpora: ${SIZES.map((n) => n.toLocaleString('en')).join(' and ')} FAQ entries with ${QUESTIONS} questions each, half Italian and half English,
in ${FILES * 2} YAML files generated from templates and made-up product names (each entry has its own words, like a catalogue).
Each size is loaded, trained and answered in a worker limited to ${TIMEOUT_S} s and ${LIMIT_MB} MiB of heap. Targets apply to
${target.entries.toLocaleString('en')} entries (${(target.entries * QUESTIONS).toLocaleString('en')} questions).

| measure | ${results.map((r) => `${r.entries.toLocaleString('en')} entries`).join(' | ')} | target | ${target.entries.toLocaleString('en')} entries |
| --- | ${results.map(() => '---').join(' | ')} | --- | --- |
${row('load: read, parse (yaml Document + LineCounter), validate (zod)', (r) => (r.loaded ? secs(r.loaded.loadMs) : notDone(r)))}
${row('train the classifier (trainUnderstander)', (r) => (r.trained ? secs(r.trained.trainMs) : notDone(r)))}
${row('**load + train**', (r) => (r.loaded && r.trained ? `**${secs(r.loaded.loadMs + r.trained.trainMs)}**` : notDone(r)), '≤ 10 s', verdict(loadTrainOk))}
${row('answer one message: understand + pick entry + fit to X (p50)', (r) => ms(sorted(r.answered?.timings), 50))}
${row('answer one message (p95)', (r) => ms(sorted(r.answered?.timings), 95))}
${row('**answer one message (p99)**', (r) => ms(sorted(r.answered?.timings), 99), '≤ 2 ms', verdict(answerOk))}
${row('answer one message (max)', (r) => ms(sorted(r.answered?.timings), 100))}
${row('of which entry lookup + \`fitAnswer\` (p99)', (r) => ms(sorted(r.answered?.fitTimings), 99))}
${row('messages answered with their own entry', (r) => (r.answered ? `${((100 * r.answered.correct) / r.answered.timings.length).toFixed(1)} %` : '—'))}
${row('heap used / resident set after training', (r) => (r.trained ? `${(r.trained.heapUsed / 2 ** 20).toFixed(0)} / ${(r.trained.rss / 2 ** 20).toFixed(0)} MiB` : '—'))}

"Answering" is the part of a turn that depends on the corpus size: the understander (language,
classification, entities, sentiment) on the message, the entry lookup and \`fitAnswer\` with X's
weighted measure (twitter-text), on ${MESSAGES.toLocaleString('en')} messages phrased unlike the training questions. Storage and
network are measured in their own benchmarks. The accuracy line is a sanity check on template-made
questions, not a measure of the classifier (bench/results/nlu.md measures that on real datasets).
`;
  mkdirSync(resolve(values.out!, '..'), { recursive: true });
  writeFileSync(values.out!, report);
  process.stdout.write(report);
  if (!loadTrainOk || !answerOk) process.exitCode = 1;
}

await main();
