/**
 * @module cli/audit
 * `sportello audit [--from YYYY-MM-DD|ISO] [--to YYYY-MM-DD|ISO] [--operator NAME|ID] [--action NAME] [--limit N]`: the audit trail
 * (issue 22), oldest first, one line per entry: `at<TAB>operator<TAB>action<TAB>target<TAB>from`.
 * A store command: on the embedded store with a server running, the server answers it.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Clock, Store } from '../core/ports.js';
import { newId } from '../util/ids.js';
import type { Io } from './run.js';

/** Who and where a CLI command acted from, in the audit trail: the server's machine. */
export const CLI_ACTOR = 'cli';

/** Appends a CLI command's action (`operator.add`, `faq.approve`, …) to the audit trail. */
export async function auditCli(deps: { store: Store; clock: Clock }, action: string, target?: string): Promise<void> {
  await deps.store.audit.append({ id: newId('aud'), at: deps.clock.now().toISOString(), operatorId: CLI_ACTOR, action, ...(target !== undefined ? { target } : {}), from: CLI_ACTOR });
}

export const AUDIT_USAGE = `usage: sportello audit [--from YYYY-MM-DD|ISO-TIME] [--to YYYY-MM-DD|ISO-TIME] [--operator NAME|ID] [--action NAME] [--limit N]
  the audit trail, oldest first: at<TAB>operator<TAB>action<TAB>target<TAB>from
  --from is inclusive, --to exclusive (a date is its midnight, UTC); --action matches exactly (e.g. customer.erase)
`;

const optionsSchema = z.object({
  from: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), '--from must be a date (YYYY-MM-DD) or an ISO time')
    .transform((v) => new Date(v).toISOString())
    .optional(),
  to: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), '--to must be a date (YYYY-MM-DD) or an ISO time')
    .transform((v) => new Date(v).toISOString())
    .optional(),
  operator: z.string().trim().min(1).optional(),
  action: z.string().trim().min(1, '--action must name an action').max(100).optional(),
  limit: z.coerce.number().int('--limit must be a whole number').min(1, '--limit must be at least 1').max(100_000).default(1000),
});

export async function runAudit(argv: string[], io: Io, deps: { store: Store; clock: Clock }): Promise<number> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' }, operator: { type: 'string' }, action: { type: 'string' }, limit: { type: 'string' } }, strict: true }).values;
  } catch (err) {
    io.stderr.write(`sportello audit: ${(err as Error).message}\n${AUDIT_USAGE}`);
    return 2;
  }
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) io.stderr.write(`sportello audit: ${issue.message}\n`);
    io.stderr.write(AUDIT_USAGE);
    return 2;
  }
  const { from, to, operator, action, limit } = parsed.data;
  const operators = await deps.store.directory.listOperators();
  const names = new Map(operators.map((o) => [o.id, o.name]));
  let operatorId: string | undefined;
  if (operator !== undefined) {
    operatorId = operators.find((o) => o.id === operator || o.name === operator)?.id ?? operator;
  }
  const { entries } = await deps.store.audit.page({ ...(from ? { from } : {}), ...(to ? { to } : {}), ...(operatorId ? { operatorId } : {}), ...(action ? { action } : {}), limit });
  for (const e of entries) io.stdout.write(`${e.at}\t${names.get(e.operatorId) ?? e.operatorId}\t${e.action}\t${e.target ?? ''}\t${e.from ?? ''}\n`);
  if (entries.length === 0) io.stderr.write('no audit entries\n');
  return 0;
}
