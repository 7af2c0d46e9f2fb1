/**
 * @module cli/operator
 * `sportello operator add --name NAME --initials MR --role agent|admin` (password read from
 * standard input, never echoed, never stored or printed in clear), `sportello operator role
 * --name NAME --role agent|admin`, `sportello operator remove --name NAME` and `sportello operator
 * list`. Adding, removing and changing a role are in the audit trail (`cli` as who and from where).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Clock, Store } from '../core/ports.js';
import type { Operator } from '../core/types.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../handoff/auth.js';
import { newId } from '../util/ids.js';
import { auditCli } from './audit.js';
import type { Io } from './run.js';

export const OPERATOR_USAGE = `usage: sportello operator add --name NAME --initials MR --role agent|admin   (password from stdin)
       sportello operator role --name NAME --role agent|admin
       sportello operator remove --name NAME
       sportello operator list
`;

/** What `operator add` accepts. */
const addSchema = z.object({
  name: z.string().trim().min(1, 'give a name with --name').max(80, 'keep names under 80 characters'),
  initials: z
    .string()
    .trim()
    .transform((v) => v.toUpperCase())
    .pipe(z.string().regex(/^[A-Z]{1,4}$/, '--initials must be 1 to 4 letters, like MR')),
  role: z.enum(['agent', 'admin'], { error: '--role must be agent or admin' }),
});

type TtyInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };

/** Reads one line from a terminal without echoing it (raw mode), or from a pipe. */
async function readSecretLine(io: Io, prompt: string): Promise<string | undefined> {
  const stdin = io.stdin as TtyInput;
  const tty = Boolean(stdin.isTTY && stdin.setRawMode);
  if (tty) io.stderr.write(prompt);
  if (tty) stdin.setRawMode!(true);
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      let buffer = '';
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString()) {
          if (ch === '\u0003') return finish(new Error('cancelled'));
          if (ch === '\r' || ch === '\n') return finish(undefined, buffer);
          if (ch === '\u007f' || ch === '\b') buffer = buffer.slice(0, -1);
          else buffer += ch;
        }
      };
      const onEnd = () => finish(undefined, buffer.length > 0 ? buffer : undefined);
      const finish = (err: Error | undefined, value?: string) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        if (err) reject(err);
        else resolve(value);
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    });
  } finally {
    if (tty) {
      stdin.setRawMode!(false);
      io.stderr.write('\n');
    }
  }
}

/** Checks `operator add`'s options; the messages say what is wrong (parseArgs throws on unknown options). */
export function parseAddArgs(args: string[]): { ok: true; data: z.infer<typeof addSchema> } | { ok: false; messages: string[] } {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, initials: { type: 'string' }, role: { type: 'string', default: 'agent' } },
    strict: true,
  });
  const parsed = addSchema.safeParse(values);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, messages: parsed.error.issues.map((i) => i.message) };
}

/**
 * Reads a new operator's password from stdin: prompted for twice, unechoed, on a terminal; one
 * line from a pipe. Returns an error message instead when it is too short or the two differ.
 * The CLI reads it before handing `operator add` to a running server (`store-commands.ts`).
 */
export async function readNewPassword(io: Io, name: string): Promise<{ password: string } | { error: string }> {
  const tty = Boolean((io.stdin as TtyInput).isTTY);
  const password = await readSecretLine(io, `Password for ${name} (at least ${MIN_PASSWORD_LENGTH} characters): `);
  if (password === undefined || password.length < MIN_PASSWORD_LENGTH) {
    return { error: `the password must be at least ${MIN_PASSWORD_LENGTH} characters; nothing was saved` };
  }
  if (tty) {
    const again = await readSecretLine(io, 'Repeat the password: ');
    if (again !== password) return { error: 'the two passwords differ; nothing was saved' };
  }
  return { password };
}

async function add(args: string[], io: Io, deps: { store: Store; clock: Clock }): Promise<number> {
  const parsed = parseAddArgs(args);
  if (!parsed.ok) {
    for (const message of parsed.messages) io.stderr.write(`sportello operator add: ${message}\n`);
    io.stderr.write(OPERATOR_USAGE);
    return 2;
  }
  const { name, initials, role } = parsed.data;
  if (await deps.store.directory.findOperatorByName(name)) {
    io.stderr.write(`sportello operator add: an operator named "${name}" already exists\n`);
    return 1;
  }
  const read = await readNewPassword(io, name);
  if ('error' in read) {
    io.stderr.write(`sportello operator add: ${read.error}\n`);
    return 1;
  }
  const operator: Operator = {
    id: newId('op'),
    name,
    initials,
    role,
    passwordHash: await hashPassword(read.password),
    createdAt: deps.clock.now().toISOString(),
  };
  await deps.store.directory.addOperator(operator);
  await auditCli(deps, 'operator.add', operator.id);
  io.stdout.write(`added ${role} ${name} (^${initials}), id ${operator.id}\n`);
  return 0;
}

/** What `operator role` accepts. */
const roleSchema = z.object({
  name: z.string().trim().min(1, 'give the operator\'s name with --name'),
  role: z.enum(['agent', 'admin'], { error: '--role must be agent or admin' }),
});

/** `operator role --name NAME --role agent|admin`: audited as `operator.role_admin` or `operator.role_agent`. */
async function role(args: string[], io: Io, deps: { store: Store; clock: Clock }): Promise<number> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, role: { type: 'string' } }, strict: true });
  const parsed = roleSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) io.stderr.write(`sportello operator role: ${issue.message}\n`);
    io.stderr.write(OPERATOR_USAGE);
    return 2;
  }
  const found = await deps.store.directory.findOperatorByName(parsed.data.name);
  if (!found) {
    io.stderr.write(`sportello operator role: no operator named "${parsed.data.name}" (see sportello operator list)\n`);
    return 1;
  }
  if (found.role === parsed.data.role) {
    io.stdout.write(`${found.name} is already ${found.role}: nothing changed\n`);
    return 0;
  }
  if (found.role === 'admin' && (await deps.store.directory.listOperators()).filter((o) => o.role === 'admin').length === 1) {
    io.stderr.write(`sportello operator role: ${found.name} is the last admin: make another operator admin first; nothing changed\n`);
    return 1;
  }
  await deps.store.directory.updateOperator(found.id, { role: parsed.data.role });
  await auditCli(deps, `operator.role_${parsed.data.role}`, found.id);
  // At once, their open sessions included: a session reads the operator as stored (handoff/auth.ts).
  io.stdout.write(`${found.name} is now ${parsed.data.role} (was ${found.role})\n`);
  return 0;
}

/**
 * `operator remove --name NAME`: the operator can no longer log in (their sessions end at once).
 * Refused while they hold conversations (an admin transfers them or returns them to the queue in
 * the console first: nobody's case is left with someone who is gone) and for the last admin.
 */
async function remove(args: string[], io: Io, deps: { store: Store; clock: Clock }): Promise<number> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' } }, strict: true });
  const name = values.name?.trim();
  if (!name) {
    io.stderr.write(`sportello operator remove: give the operator's name with --name\n${OPERATOR_USAGE}`);
    return 2;
  }
  const found = await deps.store.directory.findOperatorByName(name);
  if (!found) {
    io.stderr.write(`sportello operator remove: no operator named "${name}" (see sportello operator list)\n`);
    return 1;
  }
  const held = await deps.store.conversations.list({ states: ['assigned'], assignee: found.id });
  if (held.length > 0) {
    io.stderr.write(
      `sportello operator remove: ${found.name} holds ${held.length} conversation${held.length === 1 ? '' : 's'} (${held.slice(0, 5).map((c) => c.id).join(', ')}${held.length > 5 ? ', …' : ''}): ` +
        'an admin transfers them or returns them to the queue in the console first; nothing was removed\n',
    );
    return 1;
  }
  if (found.role === 'admin' && (await deps.store.directory.listOperators()).filter((o) => o.role === 'admin').length === 1) {
    io.stderr.write(`sportello operator remove: ${found.name} is the last admin: add another admin first; nothing was removed\n`);
    return 1;
  }
  if (!(await deps.store.directory.removeOperator(found.id))) {
    io.stderr.write(`sportello operator remove: no operator named "${name}"\n`);
    return 1;
  }
  await auditCli(deps, 'operator.remove', found.id);
  io.stdout.write(`removed ${found.role} ${found.name} (id ${found.id}): they can no longer log in\n`);
  return 0;
}

async function list(io: Io, store: Store): Promise<number> {
  const operators = await store.directory.listOperators();
  if (operators.length === 0) {
    io.stdout.write('no operators yet: add one with `sportello operator add --name NAME --initials MR --role admin`\n');
    return 0;
  }
  const rows = [['NAME', 'INITIALS', 'ROLE', 'ID', 'CREATED'], ...operators.map((o) => [o.name, o.initials, o.role, o.id, o.createdAt])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) io.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return 0;
}

/** Runs `sportello operator <add|role|remove|list> ...`; returns the exit code. */
export async function runOperator(argv: string[], io: Io, deps: { store: Store; clock: Clock }): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'add') return await add(rest, io, deps);
    if (sub === 'role') return await role(rest, io, deps);
    if (sub === 'remove') return await remove(rest, io, deps);
    if (sub === 'list') return await list(io, deps.store);
  } catch (err) {
    // parseArgs reports unknown options as TypeError with a clear message.
    io.stderr.write(`sportello operator: ${(err as Error).message}\n`);
    return 2;
  }
  io.stderr.write(OPERATOR_USAGE);
  return 2;
}
