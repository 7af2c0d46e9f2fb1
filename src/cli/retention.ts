/**
 * @module cli/retention
 * `sportello retention run [--dry-run]`: the retention job run once, now (handoff/retention.ts,
 * docs/data-protection.md "Retention"), with the server's settings (RETENTION_DAYS…). A store
 * command: on the embedded store with a server running, the server runs it. Prints counts only;
 * a run that anonymised anything is in the audit trail (operator `cli`).
 */
import { parseArgs } from 'node:util';
import type { Clock, Store } from '../core/ports.js';
import { createRetentionJob, retentionOn, type RetentionSettings } from '../handoff/retention.js';
import { createSilentLogger } from '../util/logger.js';
import type { Io } from './run.js';

export const RETENTION_USAGE = `usage: sportello retention run [--dry-run]
  anonymises the customer records past their retention period now (RETENTION_DAYS,
  RETENTION_DAYS_ANONYMOUS); --dry-run counts them and changes nothing
`;

export async function runRetention(argv: string[], io: Io, deps: { store: Store; clock: Clock; retention?: RetentionSettings }): Promise<number> {
  let parsed: { values: { 'dry-run'?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { 'dry-run': { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`sportello retention: ${(err as Error).message}\n${RETENTION_USAGE}`);
    return 2;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'run') {
    io.stderr.write(RETENTION_USAGE);
    return 2;
  }
  const settings = deps.retention;
  if (!settings || !retentionOn(settings)) {
    io.stderr.write('sportello retention: no retention period is set (RETENTION_DAYS, RETENTION_DAYS_ANONYMOUS): everything is kept; nothing to do\n');
    return 0;
  }
  const job = createRetentionJob({ store: deps.store, clock: deps.clock, logger: createSilentLogger(), settings });
  const dryRun = parsed.values['dry-run'] === true;
  const run = await job.runOnce({ dryRun, operatorId: 'cli', from: 'cli' });
  io.stdout.write(
    dryRun
      ? `${run.records} customer record(s) past their retention period would be anonymised (dry run: nothing changed)\n`
      : `anonymised ${run.records} customer record(s): ${run.conversations} conversation(s), ${run.cases} case(s), ${run.messages} message(s)\n`,
  );
  return 0;
}
