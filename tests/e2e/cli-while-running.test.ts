/**
 * CLI commands while `sportello start` runs on the embedded store (real processes: the server is
 * `bin/sportello.js start`, each command `bin/sportello.js …`). Before, `operator add` printed
 * "added" and the server's next write erased the operator; now the command is run by the server
 * through its admin socket, so the operator can log in, survives the server's next writes and a
 * restart. The same for `faq review approve/reject`. And a damaged journal, a journal without
 * its main file, or a second server on the same file stop `sportello start` with exit code 1
 * and a message naming the file and the reason.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runStoreCommandFromCli } from '../../src/cli/store-commands.js';
import type { FaqSuggestion } from '../../src/core/types.js';
import { acquireFileLock, lockFileOf } from '../../src/storage/lowdb/file-lock.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import {
  ROOT,
  cli,
  deliver,
  graphAndDataDir,
  freePort,
  instanceEnv,
  login,
  operatorGet,
  repliesTo,
  signedDelivery,
  startInstance,
  tempDataDir,
  waitUntil,
  type DeploymentEnv,
  type Instance,
} from './harness.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';

const BIN = join(ROOT, 'bin/sportello.js');
const PASSWORD = 'tramonto-sul-po-42';

const cleanups = cleanupsAfterEach(120_000);

interface Setup {
  deployment: DeploymentEnv;
  dataFile: string;
  dir: string;
  /** The CLI's environment: the server's, without its port. */
  env: Record<string, string>;
}

async function setUp(extra: Record<string, string> = {}): Promise<Setup> {
  const { graph, data } = await graphAndDataDir(cleanups);
  const deployment: DeploymentEnv = { dataFile: data.dataFile, graphOrigin: graph.origin, extra: { LOG_LEVEL: 'info', ...extra } };
  return { deployment, dataFile: data.dataFile, dir: data.dir, env: instanceEnv(deployment, 0) };
}

async function start(setup: Setup, name: string): Promise<Instance> {
  const instance = await startInstance(name, setup.deployment, { timeoutMs: 60_000 });
  cleanups.push(() => instance.stop());
  return instance;
}

/** A customer's message through the Messenger webhook, answered: the server has written its store again. */
async function serverWrites(instance: Instance, psid: string): Promise<void> {
  const status = await deliver(instance.url, signedDelivery(psid, 'come posso pagare?', `mid.${psid}.${Date.now()}`));
  expect(status).toBe(200);
}

describe('CLI store commands while the server runs on the embedded store', () => {
  it('operator add: the operator logs in, survives the server\'s next writes and a restart', async () => {
    const { graph, data } = await graphAndDataDir(cleanups);
    const deployment: DeploymentEnv = { dataFile: data.dataFile, graphOrigin: graph.origin, extra: { LOG_LEVEL: 'info' } };
    const env = instanceEnv(deployment, 0);
    let server = await startInstance('server', deployment, { timeoutMs: 60_000 });
    cleanups.push(() => server.stop());

    const added = await cli(['operator', 'add', '--name', 'Marta Rossi', '--initials', 'MR', '--role', 'admin'], env, `${PASSWORD}\n`);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/^added admin Marta Rossi \(\^MR\), id op_/);
    expect(added.code).toBe(0);
    // The server ran it (its log names the command, never the password).
    expect(await waitUntil(() => server.output().includes('"command":"operator add"'), 5000)).toBe(true);
    expect(server.output()).not.toContain(PASSWORD);

    const session = await login(server.url, 'Marta Rossi', PASSWORD);
    expect(session.operatorId).toMatch(/^op_/);

    // The server writes again: a customer's turn and its reply.
    expect(await deliver(server.url, signedDelivery('psid-a', 'come posso pagare?', 'mid.a.1'))).toBe(200);
    expect(await waitUntil(() => repliesTo(graph, 'psid-a').length > 0, 20_000)).toBe(true);
    const second = await cli(['operator', 'add', '--name', 'Luca Bianchi', '--initials', 'LB'], env, `${PASSWORD}-2\n`);
    expect(second.code).toBe(0);
    const listed = await cli(['operator', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/Marta Rossi\s+MR\s+admin/);
    expect(listed.stdout).toMatch(/Luca Bianchi\s+LB\s+agent/);
    await login(server.url, 'Marta Rossi', PASSWORD);

    // A restart reads the file: both operators are there.
    await server.stop();
    expect(existsSync(lockFileOf(data.dataFile))).toBe(false);
    expect(readFileSync(data.dataFile, 'utf8')).toContain('Marta Rossi');
    // With no server running, the command opens the file itself (under the lock, released after).
    const offline = await cli(['operator', 'list'], env);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/Luca Bianchi/);
    expect(existsSync(lockFileOf(data.dataFile))).toBe(false);
    server = await startInstance('server again', deployment, { timeoutMs: 60_000 });
    cleanups.push(() => server.stop());
    await login(server.url, 'Marta Rossi', PASSWORD);
    await login(server.url, 'Luca Bianchi', `${PASSWORD}-2`);

    // Refusals come back as the command's own: a taken name, exit 1, nothing printed as added.
    const taken = await cli(['operator', 'add', '--name', 'Marta Rossi', '--initials', 'MR'], env, `${PASSWORD}\n`);
    expect(taken.code).toBe(1);
    expect(taken.stdout).toBe('');
    expect(taken.stderr).toMatch(/an operator named "Marta Rossi" already exists/);
    const short = await cli(['operator', 'add', '--name', 'Anna', '--initials', 'AN'], env, 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 10 characters; nothing was saved/);
  }, 180_000);

  it('faq review edit/approve/reject: the server records the reviews, which survive its next writes and a restart', async () => {
    const { graph, data } = await graphAndDataDir(cleanups);
    // A FAQ folder of its own: approving writes into it.
    const faqDir = join(data.dir, 'faq');
    cpSync(join(ROOT, 'faq'), faqDir, { recursive: true });
    const deployment: DeploymentEnv = { dataFile: data.dataFile, graphOrigin: graph.origin, extra: { LOG_LEVEL: 'info', FAQ_DIR: faqDir } };
    const env = instanceEnv(deployment, 0);
    // Suggestions as resolved cases leave them, written through the store before the server starts.
    const base = { caseId: 'case-7', locale: 'it' as const, status: 'pending' as const, createdAt: '2026-11-23T17:00:00Z', createdBy: 'op-marta' };
    const suggestions: FaqSuggestion[] = [
      { ...base, id: 'sg-add', kind: 'add_question', entryId: 'orari-apertura', questions: ['a che ora aprite il sabato?'] },
      { ...base, id: 'sg-new', kind: 'new_entry', entryId: 'incisioni-personalizzate', questions: ['fate incisioni personalizzate?'], answer: 'Sì, sulle borse in pelle.' },
    ];
    const seed = createLowdbStore({ file: data.dataFile });
    await seed.init();
    for (const s of suggestions) await seed.suggestions.add(s);
    await seed.close();

    let server = await startInstance('server', deployment, { timeoutMs: 60_000 });
    cleanups.push(() => server.stop());
    expect((await cli(['operator', 'add', '--name', 'Admin', '--initials', 'AD', '--role', 'admin'], env, `${PASSWORD}\n`)).code).toBe(0);

    const rejected = await cli(['faq', 'review', 'reject', 'sg-add', '--reviewer', 'Luca'], env);
    expect(rejected).toMatchObject({ code: 0, stdout: 'rejected sg-add\n', stderr: '' });
    // Edited before approval, through the server too.
    const edited = await cli(['faq', 'review', 'edit', 'sg-new', '--answer', 'Sì, incidiamo le borse in pelle (5 euro).'], env);
    expect(edited.stderr).toBe('');
    expect(edited).toMatchObject({ code: 0, stdout: expect.stringMatching(/^edited sg-new\n/) });
    const approved = await cli(['faq', 'review', 'approve', 'sg-new', '--reviewer', 'Luca'], env);
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^approved sg-new: written to .*negozio\.yaml/);
    expect(readFileSync(join(faqDir, 'negozio.yaml'), 'utf8')).toContain('incisioni-personalizzate');
    expect(readFileSync(join(faqDir, 'negozio.yaml'), 'utf8')).toContain('Sì, incidiamo le borse in pelle (5 euro).');

    // The server's own API sees the reviews at once, and after it has written again.
    const admin = await login(server.url, 'Admin', PASSWORD);
    expect(await deliver(server.url, signedDelivery('psid-b', 'quali sono i vostri orari?', 'mid.b.1'))).toBe(200);
    expect(await waitUntil(() => repliesTo(graph, 'psid-b').length > 0, 20_000)).toBe(true);
    const seen = await operatorGet(admin, '/suggestions');
    const statuses = Object.fromEntries((seen.body.suggestions as FaqSuggestion[]).map((s) => [s.id, s.status]));
    expect(statuses).toEqual({ 'sg-add': 'rejected', 'sg-new': 'approved' });
    const pending = await cli(['faq', 'review', 'list'], env);
    expect(pending).toMatchObject({ code: 0, stdout: 'no pending suggestions\n' });
    const twice = await cli(['faq', 'review', 'reject', 'sg-new'], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already approved/);

    await server.stop();
    server = await startInstance('server again', deployment, { timeoutMs: 60_000 });
    cleanups.push(() => server.stop());
    const afterRestart = await operatorGet(await login(server.url, 'Admin', PASSWORD), '/suggestions');
    expect(Object.fromEntries((afterRestart.body.suggestions as FaqSuggestion[]).map((s) => [s.id, [s.status, s.reviewedBy]]))).toEqual({
      'sg-add': ['rejected', 'Luca'],
      'sg-new': ['approved', 'Luca'],
    });
  }, 180_000);

  it('export and import go through the server too', async () => {
    const setup = await setUp();
    const server = await start(setup, 'server');
    expect((await cli(['operator', 'add', '--name', 'Marta', '--initials', 'MR'], setup.env, `${PASSWORD}\n`)).code).toBe(0);
    const exported = await cli(['export', 'exported.json'], { ...setup.env }, '');
    // A relative FILE is the CLI's, not the server's: resolved before it is sent.
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/Exported .*1 operators.* to \/.*exported\.json/);
    const file = join(ROOT, 'exported.json');
    cleanups.push(() => rmSync(file, { force: true }));
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { operators: Array<{ name: string }>; values: Record<string, string> };
    expect(doc.operators.map((o) => o.name)).toEqual(['Marta']);
    doc.values = { 'test:imported-through-server': 'yes' };
    const imported = await cli(['import', '-'], setup.env, JSON.stringify(doc));
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/Imported .* into lowdb file /);
    await serverWrites(server, 'psid-c');
    await server.stop();
    const store = createLowdbStore({ file: setup.dataFile });
    await store.init();
    expect(await store.values.get('test', 'imported-through-server')).toBe('yes');
    expect((await store.directory.listOperators()).map((o) => o.name)).toEqual(['Marta']);
    await store.close();
  }, 120_000);
});

describe('sportello retention run while the server runs on the embedded store', () => {
  it('counts (--dry-run) and anonymises the records past their period in the server, with its settings, and audits the run', async () => {
    const setup = await setUp({ RETENTION_DAYS: '30' });
    // A customer served two months ago, case resolved, written before the server starts.
    const seed = createLowdbStore({ file: setup.dataFile });
    await seed.init();
    const old = new Date(Date.now() - 60 * 86_400_000).toISOString();
    await seed.conversations.commit({
      expect: { conversations: {}, cases: {} },
      customer: { id: 'messenger:psid-old', channel: 'messenger', platformId: 'psid-old', name: 'Ornella Vecchi', firstSeenAt: old, lastSeenAt: old },
      conversations: [{ id: 'cv-old', key: 'messenger:private:psid-old', channel: 'messenger', visibility: 'private', customerId: 'messenger:psid-old', caseId: 'case-old', state: 'resolved', missStreak: 0, flags: [], createdAt: old, updatedAt: old }],
      case: { id: 'case-old', customerId: 'messenger:psid-old', status: 'resolved', conversationIds: ['cv-old'], openedAt: old, resolvedAt: old, resolvedBy: 'bot' },
      messages: [{ id: 'm-old', conversationId: 'cv-old', caseId: 'case-old', direction: 'in', author: { kind: 'customer' }, text: 'dove è il mio ordine, sono Ornella', visibility: 'private', at: old }],
      outbox: [],
      events: [],
    });
    await seed.close();
    const server = await start(setup, 'server');
    // Someone writing now is kept.
    await serverWrites(server, 'psid-new');

    const dry = await cli(['retention', 'run', '--dry-run'], setup.env);
    expect(dry).toMatchObject({ code: 0, stdout: '1 customer record(s) past their retention period would be anonymised (dry run: nothing changed)\n' });
    expect((await cli(['customer', 'find', 'Ornella'], setup.env)).code).toBe(0);
    const done = await cli(['retention', 'run'], setup.env);
    expect(done).toMatchObject({ code: 0, stdout: 'anonymised 1 customer record(s): 1 conversation(s), 1 case(s), 1 message(s)\n' });
    expect((await cli(['customer', 'find', 'Ornella'], setup.env)).code).toBe(1);
    expect((await cli(['customer', 'find', 'psid-new'], setup.env)).code).toBe(0);
    expect((await cli(['audit'], setup.env)).stdout).toMatch(/\tcli\tretention\.anonymise\trecords=1 conversations=1 cases=1 messages=1\tcli\n/);
    await server.stop();
    // In the server's file: nothing of hers, after its own writes.
    const file = readFileSync(setup.dataFile, 'utf8') + (existsSync(`${setup.dataFile}.journal`) ? readFileSync(`${setup.dataFile}.journal`, 'utf8') : '');
    expect(file).not.toMatch(/Ornella|psid-old/);
    expect(file).toContain('psid-new');
  }, 120_000);
});

describe('when the server cannot take the command', () => {
  it('exits 1 saying why, printing nothing as done, when the holder\'s admin socket cannot be reached', async () => {
    const data = tempDataDir();
    cleanups.push(() => data.cleanup());
    const seed = createLowdbStore({ file: data.dataFile });
    await seed.init();
    await seed.close();
    // A live process holds the lock and names a socket nobody listens on (a stuck or half-dead server).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    cleanups.push(() => void holder.kill('SIGKILL'));
    await new Promise((r) => holder.once('spawn', r));
    writeFileSync(lockFileOf(data.dataFile), JSON.stringify({ pid: holder.pid, since: new Date().toISOString(), command: 'sportello start', socket: join(data.dir, '.gone.sock') }));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    let ran = false;
    const io = { stdin: Readable.from([`${PASSWORD}\n`]), stdout, stderr };
    const run = runStoreCommandFromCli(['operator', 'add', '--name', 'Marta', '--initials', 'MR'], io, data.dataFile, async () => {
      ran = true;
      return 0;
    }, { answerWithinMs: 1500 });
    await expect(run).rejects.toThrow(new RegExp(`Sportello server \\(pid ${holder.pid}\\) holds the store, but its admin socket .*\\.gone\\.sock cannot be reached \\((ENOENT|ECONNREFUSED)\\); nothing was changed`));
    expect(ran).toBe(false);
    expect(out).toBe('');

    // The same through the real command (it tries for 10 s): exit 1, the reason on stderr, nothing on stdout.
    const env = instanceEnv({ dataFile: data.dataFile, graphOrigin: 'http://127.0.0.1:9' }, 0);
    const result = await cli(['operator', 'add', '--name', 'Marta', '--initials', 'MR'], env, `${PASSWORD}\n`);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^sportello operator: the Sportello server \(pid \d+\) holds the store, but its admin socket .*\.gone\.sock cannot be reached \((ENOENT|ECONNREFUSED)\); nothing was changed/);
    expect(result.code).toBe(1);
    const store = createLowdbStore({ file: data.dataFile, lock: { waitMs: 0 } });
    rmSync(lockFileOf(data.dataFile));
    await store.init();
    expect(await store.directory.listOperators()).toEqual([]);
    await store.close();

  }, 60_000);
});

describe('sportello start refuses to start on a store it cannot trust', () => {
  async function startRefused(setup: Setup): Promise<string> {
    const port = await freePort();
    const result = await cli(['start'], { ...instanceEnv(setup.deployment, port) });
    expect(result.code).toBe(1);
    return result.stderr;
  }

  it('a journal with a missing line: exit 1, naming the file, the line and the missing entry', async () => {
    const setup = await setUp();
    const store = createLowdbStore({ file: setup.dataFile });
    await store.init();
    await store.values.set('test', 'a', '1');
    await store.close();
    const seq = (JSON.parse(readFileSync(setup.dataFile, 'utf8')) as { journalSeq: number }).journalSeq;
    const line = (n: number) => `${JSON.stringify([n, [['value', { name: `v${n}`, value: 'x' }]]])}\n`;
    writeFileSync(`${setup.dataFile}.journal`, line(seq + 1) + line(seq + 3));
    const before = readFileSync(setup.dataFile, 'utf8');
    const stderr = await startRefused(setup);
    expect(stderr).toContain(`${setup.dataFile}.journal:2: entry ${seq + 3} follows entry ${seq + 1}: entry ${seq + 2} is missing; the journal is damaged`);
    expect(readFileSync(setup.dataFile, 'utf8')).toBe(before);
    expect(existsSync(lockFileOf(setup.dataFile))).toBe(false);
  }, 60_000);

  it('a journal without its main file: exit 1, naming both files', async () => {
    const setup = await setUp();
    const store = createLowdbStore({ file: setup.dataFile });
    await store.init();
    await store.values.set('test', 'operator', 'marta');
    await store.close();
    const seq = (JSON.parse(readFileSync(setup.dataFile, 'utf8')) as { journalSeq: number }).journalSeq;
    // The writes since the last full write are in the journal; the main file is lost.
    writeFileSync(`${setup.dataFile}.journal`, `${JSON.stringify([seq + 1, [['value', { name: 'b', value: '2' }]]])}\n`);
    rmSync(setup.dataFile);
    const stderr = await startRefused(setup);
    expect(stderr).toContain(`${setup.dataFile}.journal exists but ${setup.dataFile} does not`);
    expect(stderr).toMatch(/partial store/);
    expect(existsSync(setup.dataFile)).toBe(false);
  }, 60_000);

  it('a second server on the same file: exit 1, naming the running one', async () => {
    const setup = await setUp();
    const first = await start(setup, 'first');
    const stderr = await startRefused(setup);
    expect(stderr).toMatch(new RegExp(`is in use by a running Sportello server \\(pid ${first.child.pid} \\(sportello start\\).*stop it first, or use PostgreSQL`));
    // The first one is unharmed.
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
  }, 120_000);

  it('a server starting while a CLI command holds the file waits for it, then starts', async () => {
    const setup = await setUp();
    // This test process plays a CLI command holding the file (as `sportello import` does while it runs).
    const held = await acquireFileLock(setup.dataFile, { command: 'sportello import' });
    const port = await freePort();
    const child = spawn(process.execPath, ['--disable-warning=DEP0111', BIN, 'start'], { cwd: ROOT, env: instanceEnv(setup.deployment, port), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    // The server reaches the store, finds it held, and says it waits (up to 10 s).
    expect(await waitUntil(() => output.includes('waiting up to 10 s'), 30_000)).toBe(true);
    expect(output).toMatch(/sportello\.json is in use by pid \d+ \(sportello import\).*waiting up to 10 s for it to finish/);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)).not.toBe(200);
    await held.release();
    const healthy = await waitUntil(() => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false), 60_000, 100);
    expect(healthy).toBe(true);
    expect((JSON.parse(readFileSync(lockFileOf(setup.dataFile), 'utf8')) as { pid: number }).pid).toBe(child.pid);
  }, 120_000);

  it('takes over the lock of a server that was killed, saying so', async () => {
    const setup = await setUp();
    const first = await start(setup, 'first');
    await first.kill();
    expect(existsSync(lockFileOf(setup.dataFile))).toBe(true);
    const second = await start(setup, 'second');
    expect(second.output()).toMatch(new RegExp(`sportello\\.json\\.lock was left by pid ${first.child.pid} .*no longer running; taken over by pid ${second.child.pid}`));
  }, 120_000);
});
