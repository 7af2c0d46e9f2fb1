/**
 * @module cli/eval
 * `sportello eval [PATH] [--json] [--threshold N] [--lang it|en] [--kshot K [--seed S]]`: trains the
 * classifier on a dataset's train split (or K examples per label of it, drawn reproducibly with
 * seed S) and reports accuracy, macro-F1, out-of-scope recall/precision, the most confused pairs,
 * training time, classifications per second and peak memory. Without PATH it cross-validates the
 * project's own FAQ and intents, per language.
 */
import { z } from 'zod';
import { kShotDataset, loadDataset } from '../classifier/datasets.js';
import { crossValidate, evaluateSystem, sportelloSystem, type EvalReport } from '../classifier/evaluate.js';
import { loadConfig } from '../config/config.js';
import { corpusToExamples, loadCorpus, sameAnswerGroups } from '../corpus/load.js';

const argsSchema = z.object({
  path: z.string().optional(),
  json: z.boolean(),
  threshold: z.coerce.number().min(0).max(1).optional(),
  lang: z.enum(['it', 'en']).optional(),
  kshot: z.coerce.number().int().min(1).optional(),
  seed: z.coerce.number().int().min(0).optional(),
});

const VALUED = ['threshold', 'lang', 'kshot', 'seed'];
export const EVAL_USAGE = 'usage: sportello eval [PATH] [--json] [--threshold N] [--lang it|en] [--kshot K [--seed S]]';

function parseArgs(argv: readonly string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, unknown> = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') raw.json = true;
    else if (a.startsWith('--') && VALUED.includes(a.slice(2))) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      raw[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--') && a.includes('=') && VALUED.includes(a.slice(2, a.indexOf('=')))) {
      raw[a.slice(2, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (raw.path === undefined) raw.path = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--${String(issue?.path[0] ?? '?')}: ${issue?.message ?? 'invalid'}`);
  }
  if (parsed.data.seed !== undefined && parsed.data.kshot === undefined) throw new Error('--seed needs --kshot');
  return parsed.data;
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);

/** The report as people read it. */
export function formatReport(r: EvalReport): string {
  const lines = [
    `dataset            ${r.dataset} (train ${r.train_size}${r.validation_size ? `, validation ${r.validation_size} held out to calibrate` : ''}, test ${r.test_size})`,
    `accuracy           ${pct(r.accuracy)}`,
    `macro-F1           ${pct(r.macro_f1)}`,
  ];
  for (const [language, f] of Object.entries(r.by_language ?? {})) {
    lines.push(`  ${language}               ${pct(f.accuracy)} accuracy, ${pct(f.macro_f1)} macro-F1 (${f.test_size} questions)`);
  }
  if (r.oos_recall !== null || r.oos_precision !== null) {
    lines.push(
      `in-scope accuracy  ${pct(r.in_scope_accuracy)} (threshold ${r.threshold ?? 'none'})`,
      `out-of-scope       recall ${pct(r.oos_recall)}, precision ${pct(r.oos_precision)}`,
    );
  }
  lines.push(
    `training           ${r.train_seconds.toFixed(2)} s`,
    `speed              ${r.classify_per_second.toLocaleString('en')} classifications/s`,
    `peak memory        ${r.peak_rss_mb.toFixed(0)} MB`,
  );
  if (r.confused.length > 0) {
    lines.push('most confused (gold → predicted):');
    for (const c of r.confused) lines.push(`  ${c.count}× ${c.gold} → ${c.predicted}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `sportello eval`; returns the exit code. */
export async function runEval(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  let args: z.infer<typeof argsSchema>;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.stderr.write(`sportello eval: ${(e as Error).message}\n${EVAL_USAGE}\n`);
    return 2;
  }
  try {
    const config = loadConfig(process.env);
    const threshold = args.threshold ?? config.nlu.answerThreshold;
    let report: EvalReport;
    const kshot = args.kshot !== undefined ? { kshot: args.kshot, seed: args.seed ?? 1 } : undefined;
    if (args.path === undefined) {
      const corpus = await loadCorpus({ faqDir: config.faqDir, intentsDir: config.intentsDir });
      const examples = corpusToExamples(corpus).filter((e) => args.lang === undefined || e.language === args.lang);
      report = await crossValidate(`${config.faqDir}+${config.intentsDir}${kshot ? ` (${kshot.kshot}-shot, seed ${kshot.seed})` : ''}`, examples, sportelloSystem, {
        sameAnswer: sameAnswerGroups(corpus),
        ...kshot,
      });
    } else {
      let dataset = await loadDataset(args.path, args.lang ? { language: args.lang } : {});
      if (kshot) dataset = kShotDataset(dataset, kshot.kshot, kshot.seed);
      report = await evaluateSystem(dataset, sportelloSystem, { threshold });
    }
    if (args.json) {
      const { dataset, accuracy, macro_f1, in_scope_accuracy, oos_recall, oos_precision, train_seconds, classify_per_second, peak_rss_mb, train_size, by_language } = report;
      io.stdout.write(
        `${JSON.stringify({ dataset, accuracy, macro_f1, in_scope_accuracy, oos_recall, oos_precision, train_seconds, classify_per_second, peak_rss_mb, train_size, ...(by_language ? { by_language } : {}) })}\n`,
      );
    } else {
      io.stdout.write(formatReport(report));
    }
    return 0;
  } catch (e) {
    io.stderr.write(`sportello eval: ${(e as Error).message}\n`);
    return 1;
  }
}
