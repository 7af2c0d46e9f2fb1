/**
 * @module cli/customer
 * `sportello customer find TEXT | export ID [--out FILE] | erase ID [--yes]`: a customer's data
 * rights (issue 22) from the command line (handoff/customer-rights.ts). Store commands: with the
 * embedded store and a running server they run in the server (store-commands.ts); the erasure's
 * confirmation is asked here, on the CLI's terminal, before anything is sent.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Clock, Store } from '../core/ports.js';
import { auditCustomerAction, eraseCustomer, exportCustomer } from '../handoff/customer-rights.js';
import { createLocalEventBus, type EventBus } from '../core/events.js';
import type { EventRecorder } from '../events/recorder.js';
import { createConversationWriter } from '../pipeline/conversation-writer.js';
import { createSilentLogger } from '../util/logger.js';
import type { Io } from './run.js';

export const CUSTOMER_USAGE = `usage: sportello customer find TEXT          customers whose name, handle or platform id contains TEXT:
                                                 ID<TAB>channel<TAB>name or handle<TAB>last seen
       sportello customer export ID [--out FILE]  everything held about the customer and the records linked to it (JSON, docs/formats.md)
       sportello customer erase ID [--yes]        erases them (asks on a terminal without --yes; refuses without one)
`;

const FIND_LIMIT = 200;

/** What `customer erase` asks on a terminal. */
export const erasePrompt = (id: string): string =>
  `Erase everything held about ${id} and the records linked to it? Their messages, profile, notes and files are removed for good; cases are kept anonymised for reports. Type "yes" to erase: `;

/** Reads one answer line from a terminal. */
export async function askLine(io: Io, prompt: string): Promise<string> {
  io.stderr.write(prompt);
  return new Promise<string>((resolve) => {
    let buffer = '';
    const onData = (chunk: Buffer | string) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl >= 0) finish(buffer.slice(0, nl));
    };
    const onEnd = () => finish(buffer);
    const finish = (line: string) => {
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.pause();
      resolve(line.trim());
    };
    io.stdin.on('data', onData);
    io.stdin.on('end', onEnd);
    io.stdin.resume();
  });
}

/**
 * Whether `customer erase` may go ahead: with --yes, or when a person answers "yes" on a terminal.
 * Without a terminal and without --yes it refuses (exit 1), saying why.
 */
export async function confirmErase(id: string, yes: boolean, io: Io): Promise<boolean> {
  if (yes) return true;
  if (!io.stdin.isTTY) {
    io.stderr.write(`sportello customer erase: refusing to erase ${id} without confirmation: run it on a terminal, or add --yes\n`);
    return false;
  }
  const answer = await askLine(io, erasePrompt(id));
  if (answer.toLowerCase() !== 'yes') {
    io.stderr.write('sportello customer erase: not confirmed; nothing was erased\n');
    return false;
  }
  return true;
}

/** Runs `sportello customer <find|export|erase> ...`; returns the exit code. */
export async function runCustomer(argv: string[], io: Io, deps: { store: Store; clock: Clock; recorder: EventRecorder; bus?: EventBus }): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: { out: { type: 'string' }; yes: { type: 'boolean' } }; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: rest, options: { out: { type: 'string' }, yes: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`sportello customer: ${(err as Error).message}\n${CUSTOMER_USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const target = positionals.join(' ').trim();
  if (!['find', 'export', 'erase'].includes(sub ?? '') || target === '' || (sub !== 'find' && positionals.length !== 1) || (values.out !== undefined && sub !== 'export') || (values.yes && sub !== 'erase')) {
    io.stderr.write(CUSTOMER_USAGE);
    return 2;
  }
  if (sub === 'find') {
    const found = await deps.store.customerData.find(target, FIND_LIMIT);
    for (const c of found) {
      const who = (c.name ?? c.handle ?? '').replace(/[\t\n\r]/g, ' ');
      io.stdout.write(`${c.id}\t${c.channel}\t${who}\t${c.lastSeenAt}\n`);
    }
    if (found.length === 0) io.stderr.write(`sportello customer find: no customer matches "${target}"\n`);
    return found.length === 0 ? 1 : 0;
  }
  if (sub === 'export') {
    const doc = await exportCustomer(deps.store, target, deps.clock);
    if (!doc) {
      io.stderr.write(`sportello customer export: no customer ${target}\n`);
      return 1;
    }
    await auditCustomerAction(deps.store, deps.clock, { action: 'customer.export', customerId: target, operatorId: 'cli', from: 'cli' });
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (values.out !== undefined) {
      // It holds the person's messages: readable by its owner only.
      await writeFile(values.out, text, { mode: 0o600 });
      const messages = doc.records.reduce((n, r) => n + r.messages.length, 0);
      io.stderr.write(`exported ${doc.records.length} customer record(s), ${messages} message(s) to ${values.out}\n`);
    } else {
      io.stdout.write(text);
    }
    return 0;
  }
  if (!(await deps.store.directory.getCustomer(target))) {
    io.stderr.write(`sportello customer erase: no customer ${target}\n`);
    return 1;
  }
  if (!(await confirmErase(target, values.yes === true, io))) return 1;
  // Their open conversations are resolved through the one write path (events on the server's bus when it runs the command).
  const writer = createConversationWriter({ store: deps.store, bus: deps.bus ?? createLocalEventBus(), logger: createSilentLogger(), recorder: deps.recorder });
  const done = await eraseCustomer(deps.store, target, deps.clock, writer);
  if (!done) {
    io.stderr.write(`sportello customer erase: no customer ${target}\n`);
    return 1;
  }
  await auditCustomerAction(deps.store, deps.clock, { action: 'customer.erase', customerId: target, operatorId: 'cli', from: 'cli' });
  const total = (k: 'conversations' | 'messages') => done.results.reduce((n, r) => n + r.anonymised[k], 0);
  io.stdout.write(`erased ${done.erased.join(', ')}: ${total('conversations')} conversation(s) and ${total('messages')} message(s) anonymised${done.closed > 0 ? `, ${done.closed} open conversation(s) resolved` : ''}, profiles, files and caches removed\n`);
  return 0;
}
