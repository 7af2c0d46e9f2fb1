/**
 * @module cli/report
 * `sportello report [--from DATE] [--to DATE] [--format json|csv|html] [--out FILE]`: the
 * period's figures (src/reports/report.ts) from the store's history. Dates are YYYY-MM-DD in the
 * team's TIMEZONE, `--from` inclusive, `--to` exclusive; by default the last 7 days up to now.
 * A store command: on the embedded store while a server runs, it runs in that server (read only).
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Clock, Store } from '../core/ports.js';
import type { Language } from '../core/types.js';
import type { BusinessHours } from '../handoff/business-hours.js';
import { reportHtml } from '../reports/html.js';
import { reportDate, reportPeriod } from '../reports/period.js';
import { computeReport, reportCsv, type ReportInput } from '../reports/report.js';
import type { Io } from './run.js';

export const REPORT_USAGE = 'usage: sportello report [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format json|csv|html] [--out FILE]';

const argsSchema = z.object({
  from: reportDate.optional(),
  to: reportDate.optional(),
  format: z.enum(['json', 'csv', 'html']).default('json'),
  out: z.string().min(1).optional(),
});
export type ReportArgs = z.infer<typeof argsSchema>;

/** Parses the options; an error message for wrong ones. */
export function parseReportArgs(args: readonly string[]): { ok: true; data: ReportArgs } | { ok: false; error: string } {
  const raw: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--(from|to|format|out)(?:=(.*))?$/.exec(arg);
    if (!m) return { ok: false, error: `unknown option "${arg}"` };
    const value = m[2] ?? args[++i];
    if (value === undefined) return { ok: false, error: `--${m[1]} needs a value` };
    raw[m[1]!] = value;
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ') };
  return { ok: true, data: parsed.data };
}

/** What the report command needs. */
export interface ReportDeps {
  store: Store;
  clock: Clock;
  hours: BusinessHours;
  /** The language of the HTML report (DEFAULT_LOCALE). */
  locale: Language;
}

/** Runs `sportello report`. */
export async function runReport(args: string[], io: Io, deps: ReportDeps): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${REPORT_USAGE}\n`);
    return 0;
  }
  const parsed = parseReportArgs(args);
  if (!parsed.ok) {
    io.stderr.write(`sportello report: ${parsed.error}\n${REPORT_USAGE}\n`);
    return 2;
  }
  const options = parsed.data;
  const now = deps.clock.now();
  const period = reportPeriod(options, now, deps.hours.timezone);
  if ('error' in period) {
    io.stderr.write(`sportello report: ${period.error}\n`);
    return 2;
  }
  const { from, to } = period;
  const history = await deps.store.conversations.history({ from: from.toISOString(), to: to.toISOString() });
  const input: ReportInput = { history, from, to, now, hours: deps.hours, operators: await deps.store.directory.listOperators() };
  const text =
    options.format === 'csv'
      ? reportCsv(input)
      : options.format === 'html'
        ? reportHtml(computeReport(input), deps.locale)
        : `${JSON.stringify(computeReport(input), null, 2)}\n`;
  if (options.out) {
    try {
      await writeFile(options.out, text, { mode: 0o600 });
    } catch (err) {
      io.stderr.write(`sportello report: cannot write ${options.out}: ${(err as Error).message}\n`);
      return 1;
    }
    io.stderr.write(`sportello report: wrote ${options.out} (${options.format}, ${from.toISOString()} – ${to.toISOString()})\n`);
  } else {
    io.stdout.write(text);
  }
  return 0;
}
