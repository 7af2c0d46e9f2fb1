/**
 * @module listening/crisis-rules
 * Crisis by rule (docs/listening.md, "Crisis by rule"): the listening file's `crisis_rules` open
 * crisis mode on an alert's topic, without waiting for an operator, when the alert is strong
 * enough: its volume against the baseline, its volume, its negative share, words in its topic or
 * sample posts; every condition a rule gives must hold. The crisis is opened through the crisis
 * desk like an operator's (the same holding statements, tags, queue, `crisis.opened` event and
 * console bar), by `system`, and written to the audit trail with the topic and the rule. A rule
 * never replaces a crisis that is already open (an operator's choice stands).
 */
import { z } from 'zod';
import type { AuditTrail, Clock } from '../core/ports.js';
import { newId } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { fold } from '../classifier/normalise.js';
import type { CrisisDesk, OpenCrisis } from './crisis.js';
import type { SpikeAlert } from './detector.js';

/** One rule of the listening file (snake_case, like the rest of it). */
export const crisisRuleSchema = z
  .object({
    /** Named in the audit trail, the logs, the event and the console's bar. */
    name: z.string().trim().regex(/^[\p{L}\p{N}_. -]{1,60}$/u, 'a short name: letters, digits, spaces, _ . -'),
    /** The window's volume is at least this many times its baseline (a baseline of 0 meets any ratio). */
    min_ratio: z.number().min(1).optional(),
    /** At least this many posts in the window. */
    min_volume: z.number().int().min(1).optional(),
    /** At least this share of the window's posts is negative (0 … 1). */
    min_negative_share: z.number().min(0).max(1).optional(),
    /** One of these words or phrases is in the topic or a sample post (accents and case folded, whole words). */
    keywords: z.array(z.string().trim().min(1)).min(1).optional(),
    /** Whether an update of a spike (it grew) may open the crisis too; default yes. */
    on_updates: z.boolean().default(true),
  })
  .strict()
  .refine((r) => r.min_ratio !== undefined || r.min_volume !== undefined || r.min_negative_share !== undefined || r.keywords !== undefined, {
    message: 'a rule needs at least one condition (min_ratio, min_volume, min_negative_share, keywords): without one it would open a crisis on every alert',
  });

/** The rules, names unique. */
export const crisisRulesSchema = z
  .array(crisisRuleSchema)
  .default([])
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `a second rule named "${r.name}"` });
      seen.add(r.name);
    });
  });

/** A rule as listening runs it. */
export interface CrisisRule {
  name: string;
  minRatio?: number;
  minVolume?: number;
  minNegativeShare?: number;
  keywords?: string[];
  onUpdates: boolean;
}

/** The rules of a parsed file. */
export function crisisRulesFrom(rules: z.infer<typeof crisisRulesSchema>): CrisisRule[] {
  return rules.map((r) => ({
    name: r.name,
    ...(r.min_ratio !== undefined ? { minRatio: r.min_ratio } : {}),
    ...(r.min_volume !== undefined ? { minVolume: r.min_volume } : {}),
    ...(r.min_negative_share !== undefined ? { minNegativeShare: r.min_negative_share } : {}),
    ...(r.keywords ? { keywords: r.keywords } : {}),
    onUpdates: r.on_updates,
  }));
}

/** Lower case, accents folded, words separated by single spaces and framed by spaces. */
function words(text: string): string {
  return ` ${fold(text.toLowerCase()).replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;
}

/** The first rule an alert meets, if any (pure). */
export function matchCrisisRule(alert: SpikeAlert, rules: readonly CrisisRule[]): CrisisRule | undefined {
  return rules.find((r) => {
    if (alert.update && !r.onUpdates) return false;
    if (r.minRatio !== undefined && alert.volume < r.minRatio * alert.baseline) return false;
    if (r.minVolume !== undefined && alert.volume < r.minVolume) return false;
    if (r.minNegativeShare !== undefined && alert.negativeShare < r.minNegativeShare) return false;
    if (r.keywords) {
      const text = words([alert.topic, ...alert.samples].join(' \n '));
      if (!r.keywords.some((k) => text.includes(words(k)))) return false;
    }
    return true;
  });
}

/** What a rule did with an alert. */
export interface RuleOutcome {
  rule: string;
  crisis: OpenCrisis;
}

/** Applies the rules to alerts. */
export interface CrisisRules {
  /** Opens a crisis on the alert's topic when a rule says so and none is open; never throws (a failure is logged). */
  onAlert(alert: SpikeAlert): Promise<RuleOutcome | undefined>;
}

/** The operator id of what Sportello does by itself (rules), in the audit trail and the events. */
export const SYSTEM_OPERATOR = 'system';

/** Creates the rules' runner over the crisis desk and the audit trail. */
export function createCrisisRules(deps: { rules: readonly CrisisRule[]; desk: CrisisDesk; audit: AuditTrail; clock: Clock; logger: Logger }): CrisisRules {
  return {
    async onAlert(alert) {
      const rule = matchCrisisRule(alert, deps.rules);
      if (!rule) return undefined;
      try {
        // Another instance (or an operator) may have opened one meanwhile: the store says.
        await deps.desk.refresh();
        const open = deps.desk.current();
        if (open) {
          deps.logger.info({ rule: rule.name, topic: alert.topic, open: open.topic }, 'crisis rule met, but a crisis is already open: left as it is');
          return undefined;
        }
        const crisis = await deps.desk.open(alert.topic, SYSTEM_OPERATOR, { rule: rule.name });
        try {
          await deps.audit.append({ id: newId('aud'), at: deps.clock.now().toISOString(), operatorId: SYSTEM_OPERATOR, action: 'crisis.open', target: crisis.topic, from: `rule:${rule.name}` });
        } catch (err) {
          deps.logger.error({ err, rule: rule.name, topic: crisis.topic }, 'could not write the audit trail');
        }
        return { rule: rule.name, crisis };
      } catch (err) {
        deps.logger.error({ err, rule: rule.name, topic: alert.topic }, 'a crisis rule could not open the crisis');
        return undefined;
      }
    },
  };
}
