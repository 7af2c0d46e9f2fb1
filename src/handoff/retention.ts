/**
 * @module handoff/retention
 * The retention job (issue 22, GDPR article 5: data kept no longer than needed). A customer record
 * whose channel has a retention period (`RETENTION_DAYS`, per channel; `RETENTION_DAYS_ANONYMOUS`
 * for web chat visitors who never gave a name) is anonymised as an erasure does it (the store's
 * own erasure code, `CustomerData.expire`) once the customer was last seen longer ago than the
 * period, every conversation of theirs is resolved and none changed or got a message within the
 * period. Open cases are never touched. What reports need is kept under a random pseudonym.
 *
 * Several instances may run it at once on one PostgreSQL database: the store takes each expired
 * record with FOR UPDATE SKIP LOCKED, so each is anonymised by one of them. Each run that
 * anonymised anything writes one audit entry by `system` with the counts; the log has counts only.
 * `sportello retention run [--dry-run]` runs it once (cli/retention.ts).
 */
import { createPeriodicJob } from '../util/periodic.js';
import type { Clock, ErasureResult, RetentionRule, Store } from '../core/ports.js';
import { newId } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { newPseudonym } from './customer-rights.js';

const DAY_MS = 86_400_000;
/** Records taken per store call (one PostgreSQL transaction holding their rows meanwhile; the embedded store: one file rewrite). */
const BATCH = 25;
/** Store calls per run at most: the next run goes on. */
const MAX_BATCHES = 400;

/** What the job is told (config.retention). */
export interface RetentionSettings {
  /** Days by channel name (null: kept). */
  days: Readonly<Record<string, number | null>>;
  /** Days of the channels not in `days` (undefined: kept). */
  otherDays?: number;
  /** Days for visitors without a name or handle on `anonymousChannels` (undefined: their channel's). */
  anonymousDays?: number;
  anonymousChannels: readonly string[];
  intervalMs: number;
}

/** What one run did (counts only: nothing that names anyone). */
export interface RetentionRun {
  /** Customer records anonymised (with a dry run: those that would be). */
  records: number;
  conversations: number;
  cases: number;
  messages: number;
  dryRun: boolean;
}

export interface RetentionJob {
  /** Does what is due now (tests call it with a fake clock; `start` calls it every interval). */
  runOnce(options?: { dryRun?: boolean; operatorId?: string; from?: string }): Promise<RetentionRun>;
  start(): void;
  stop(): Promise<void>;
}

/** Whether the settings keep anything for a limited time (else the job does nothing). */
export const retentionOn = (s: RetentionSettings): boolean =>
  s.otherDays !== undefined || Object.values(s.days).some((d) => d !== null) || (s.anonymousDays !== undefined && s.anonymousChannels.length > 0);

/** The store's rule for `now`: each channel's cutoff is `now` minus its days. */
export function retentionRule(settings: RetentionSettings, now: Date): RetentionRule {
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
  const channels: Record<string, string | null> = {};
  for (const [channel, days] of Object.entries(settings.days)) channels[channel] = days === null ? null : cutoff(days);
  return {
    channels,
    ...(settings.otherDays !== undefined ? { others: cutoff(settings.otherDays) } : {}),
    ...(settings.anonymousDays !== undefined && settings.anonymousChannels.length > 0 ? { anonymous: { channels: [...settings.anonymousChannels], before: cutoff(settings.anonymousDays) } } : {}),
  };
}

/** The audit entry's target: the counts, naming no one. */
export const retentionSummary = (r: RetentionRun): string => `records=${r.records} conversations=${r.conversations} cases=${r.cases} messages=${r.messages}`;

export function createRetentionJob(deps: { store: Store; clock: Clock; logger: Logger; settings: RetentionSettings }): RetentionJob {
  const { store, clock, logger, settings } = deps;

  async function runOnce(options: { dryRun?: boolean; operatorId?: string; from?: string } = {}): Promise<RetentionRun> {
    const dryRun = options.dryRun === true;
    const run: RetentionRun = { records: 0, conversations: 0, cases: 0, messages: 0, dryRun };
    if (!retentionOn(settings)) return run;
    const now = clock.now();
    const rule = retentionRule(settings, now);
    if (dryRun) {
      run.records = (await store.customerData.expired(rule, BATCH * MAX_BATCHES)).length;
      return run;
    }
    const add = (r: ErasureResult) => {
      run.records += 1;
      run.conversations += r.anonymised.conversations;
      run.cases += r.anonymised.cases;
      run.messages += r.anonymised.messages;
    };
    try {
      for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
        const done = await store.customerData.expire(rule, { limit: BATCH, at: now.toISOString(), pseudonym: newPseudonym });
        for (const d of done) add(d.result);
        if (done.length < BATCH) break;
      }
    } finally {
      // What was anonymised before a failure is audited too (then the failure goes on to the caller).
      if (run.records > 0) await record(run, options);
    }
    return run;
  }

  /** One audit entry by the system (or the CLI) with the run's counts, and the same counts in the log: nothing that names anyone. */
  async function record(run: RetentionRun, options: { operatorId?: string; from?: string }): Promise<void> {
    await store.audit.append({
      id: newId('aud'),
      at: clock.now().toISOString(),
      operatorId: options.operatorId ?? 'system',
      action: 'retention.anonymise',
      target: retentionSummary(run),
      ...(options.from !== undefined ? { from: options.from } : {}),
    });
    logger.info({ records: run.records, conversations: run.conversations, cases: run.cases, messages: run.messages }, 'retention: customer records anonymised');
  }

  const loop = createPeriodicJob({
    run: () => runOnce(),
    intervalMs: settings.intervalMs,
    onError: (err) => logger.warn({ err }, 'retention job failed; trying again at the next interval'),
  });

  return {
    runOnce,
    start() {
      if (!retentionOn(settings)) return;
      loop.start();
    },
    stop: () => loop.stop(),
  };
}
