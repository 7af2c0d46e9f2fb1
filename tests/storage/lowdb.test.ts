import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLowdbStore, type LowdbStore } from '../../src/storage/lowdb/index.js';
import { acceptDurably } from '../helpers/stores.js';
import { describeStoreContract, makeConversation, makeCustomer, makeInbound, makeMessage, makeOutbox, makeTurn, type SnapshotStore } from './store-contract.js';

const dirs: string[] = [];
const files = new WeakMap<SnapshotStore, string>();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-lowdb-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function open(file: string, now?: () => number): Promise<LowdbStore> {
  const store = createLowdbStore(now ? { file, now } : { file });
  await store.init();
  files.set(store, file);
  return store;
}

describeStoreContract('lowdb', {
  fresh: () => open(join(tempDir(), 'nested', 'sportello.json')),
  async reopen(store) {
    const file = files.get(store);
    if (!file) throw new Error('not a store of this harness');
    await store.close();
    return open(file);
  },
});

describe('the lowdb store on disk', () => {
  it('creates the parent folders and writes a snapshot document', async () => {
    const file = join(tempDir(), 'a', 'b', 'sportello.json');
    const store = await open(file);
    await store.values.set('test', 'cursor', '7');
    await store.close();
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { format: string; values: Record<string, string> };
    expect(doc.format).toBe('sportello-store');
    expect(doc.values).toEqual({ 'test:cursor': '7' });
  });

  it('creates its file and journal readable by their owner only (0600), in a folder of its own (0700)', async () => {
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    const file = join(tempDir(), 'private', 'sportello.json');
    // Journal from the first write, compaction soon: every way the files are (re)created is taken.
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0, compactAfterBytes: 2048 });
    await store.init();
    await store.values.set('auth', 'session_secret', 'a-secret-nobody-else-may-read');
    expect(mode(file)).toBe('600');
    expect(mode(`${file}.journal`)).toBe('600');
    expect(mode(join(file, '..'))).toBe('700');
    for (let i = 0; i < 30; i++) await store.conversations.commit(makeTurn({ messages: [makeMessage(`m${i}`, { text: 'x'.repeat(200) })] }));
    await store.close();
    expect(mode(file)).toBe('600');
    expect(mode(`${file}.journal`)).toBe('600');
  });

  it('takes other users\' access away from a file and journal an older version created 0644, and says so', async () => {
    const file = join(tempDir(), 'sportello.json');
    const first = await open(file);
    await first.values.set('auth', 'session_secret', 'a-secret-nobody-else-may-read');
    await first.close();
    chmodSync(file, 0o644);
    writeFileSync(`${file}.journal`, '');
    chmodSync(`${file}.journal`, 0o644);
    const warnings: string[] = [];
    const again = createLowdbStore({ file, onWarning: (m) => warnings.push(m) });
    await again.init();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}.journal`).mode & 0o777).toBe(0o600);
    expect(warnings.join('\n')).toMatch(/was readable by other users \(mode 0644\); it is now 0600/);
    expect(await again.values.get('auth', 'session_secret')).toBe('a-secret-nobody-else-may-read');
    await again.close();
  });

  it('sends again at once, after a restart, the replies the previous run had claimed (one process owns the file)', async () => {
    const file = join(tempDir(), 'sportello.json');
    const store = await open(file);
    const t0 = Date.parse('2026-11-23T10:00:00.000Z');
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('b1', { conversationId: 'cv2' })] }));
    expect(await store.outbox.claim(t0, { test: 10 }, 30_000)).toHaveLength(2);
    await store.close();
    const reopened = await open(file);
    // Well inside the old lease: both are due again, once each.
    const again = await reopened.outbox.claim(t0 + 1000, { test: 10 }, 30_000);
    expect(again.map((o) => o.id).sort()).toEqual(['a1', 'b1']);
    expect(await reopened.outbox.claim(t0 + 2000, { test: 10 }, 30_000)).toEqual([]);
    await reopened.close();
  });

  it('never hands out a reply before the turn that wrote it is on disk (a crash could still undo the turn)', async () => {
    const store = await open(join(tempDir(), 'sportello.json'));
    const t0 = Date.parse('2026-11-23T10:00:00.000Z');
    const committing = store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1')] }));
    // Memory already has the turn (reads see it), the disk not yet: no claim.
    expect(await store.outbox.get('a1')).toMatchObject({ status: 'pending' });
    expect(await store.outbox.claim(t0, { test: 10 }, 30_000)).toEqual([]);
    await committing;
    expect((await store.outbox.claim(t0, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['a1']);
    // A retry is due again only once it is on disk too.
    const retrying = store.outbox.complete('a1', { status: 'retry', notBefore: t0, error: '503' });
    expect(await store.outbox.claim(t0, { test: 10 }, 30_000)).toEqual([]);
    await retrying;
    expect((await store.outbox.claim(t0, { test: 10 }, 30_000)).map((o) => [o.id, o.attempts])).toEqual([['a1', 2]]);
    await store.close();
  });

  it('writes nothing for a claim (a restart frees every lease anyway): the completion is the next write', async () => {
    const store = await open(join(tempDir(), 'sportello.json'));
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('a1'), makeOutbox('b1', { conversationId: 'cv2' })] }));
    const before = store.fileWrites();
    expect(await store.outbox.claim(Date.now(), { test: 10 }, 30_000)).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.fileWrites()).toBe(before);
    await store.outbox.complete('a1', { status: 'sent', platformId: 'p-a1', at: new Date().toISOString() });
    expect(store.fileWrites()).toBe(before + 1);
    await store.close();
  });

  it('journals a sent reply as a short line that a restart after a crash applies to the stored item', async () => {
    const dir = tempDir();
    const file = join(dir, 'sportello.json');
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0 });
    await store.init();
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('s1')] }));
    expect(await store.outbox.claim(Date.now(), { test: 10 }, 60_000)).toHaveLength(1);
    await store.outbox.complete('s1', { status: 'sent', platformId: 'mid.s1', at: '2026-11-24T10:00:00.000Z' });
    const lines = readFileSync(`${file}.journal`, 'utf8').split('\n').filter(Boolean);
    expect(JSON.parse(lines.at(-1)!)[1]).toEqual([['sent', { id: 's1', sentAt: '2026-11-24T10:00:00.000Z', platformId: 'mid.s1', attempts: 1 }]]);
    // As if the process died now: another store opens the files as they are on disk.
    const crashed = join(dir, 'copy.json');
    if (existsSync(file)) writeFileSync(crashed, readFileSync(file));
    writeFileSync(`${crashed}.journal`, readFileSync(`${file}.journal`));
    await store.close();
    const reopened = await open(crashed);
    expect(await reopened.outbox.get('s1')).toMatchObject({ status: 'sent', platformId: 'mid.s1', sentAt: '2026-11-24T10:00:00.000Z', attempts: 1 });
    expect(await reopened.outbox.claim(Date.now() + 120_000, { test: 10 }, 60_000)).toEqual([]);
    await reopened.close();
  });

  it('groups writes that arrive together into one file write', async () => {
    const store = await open(join(tempDir(), 'sportello.json'));
    const before = store.fileWrites();
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.values.set('test', `k${i}`, String(i))));
    expect(store.fileWrites() - before).toBeLessThanOrEqual(2);
    expect(await store.values.get('test', 'k99')).toBe('99');
    await store.close();
  });

  it('refuses to open a file that is not JSON, naming the file, and leaves it untouched', async () => {
    const file = join(tempDir(), 'sportello.json');
    writeFileSync(file, '{"format": "sportello-store", trunc');
    const store = createLowdbStore({ file });
    await expect(store.init()).rejects.toThrow(/sportello\.json is not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{"format": "sportello-store", trunc');
  });

  it('refuses to open a JSON file that is not a store, saying which field is wrong', async () => {
    const file = join(tempDir(), 'sportello.json');
    writeFileSync(file, JSON.stringify({ format: 'sportello-store', version: 1, exportedAt: 'x', customers: [], conversations: [{ id: 'c' }] }));
    await expect(createLowdbStore({ file }).init()).rejects.toThrow(/conversations\.0\.key/);
  });

  it('refuses use before init and after close', async () => {
    const store = createLowdbStore({ file: join(tempDir(), 'sportello.json') });
    await expect(store.values.get('test', 'x')).rejects.toThrow(/before init/);
    await store.init();
    await store.close();
    await expect(store.values.get('test', 'x')).rejects.toThrow(/after close/);
  });

  it('appends writes to a journal once the file is large, folds it in, and reads both on open', async () => {
    const file = join(tempDir(), 'sportello.json');
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0, compactAfterBytes: 4096 });
    await store.init();
    await store.values.set('test', 'first', '1');
    // The first write found an empty main file smaller than the journal threshold: it went to the journal.
    expect(readFileSync(`${file}.journal`, 'utf8')).toContain('"test:first"');
    for (let i = 0; i < 40; i++) {
      await store.conversations.commit(makeTurn({ messages: [makeMessage(`m${i}`, { text: 'x'.repeat(200) })] }));
    }
    // 40 turns of ~400 bytes passed 4 KiB: the journal was folded into the main file at least once.
    const main = JSON.parse(readFileSync(file, 'utf8')) as { messages: unknown[]; values: Record<string, string> };
    expect(main.values).toEqual({ 'test:first': '1' });
    expect(main.messages.length).toBeGreaterThan(0);
    expect(main.messages.length).toBeLessThan(40);
    // Reopen without close() (as after a crash, whose lock goes with the process): main file + journal give everything.
    await store.lock()!.release();
    const again = createLowdbStore({ file });
    await again.init();
    expect((await again.conversations.listMessages({ conversationId: 'cv1' })).length).toBe(40);
    // Opening folded the journal in: the main file alone is complete now.
    expect((JSON.parse(readFileSync(file, 'utf8')) as { messages: unknown[] }).messages.length).toBe(40);
    expect(readFileSync(`${file}.journal`, 'utf8')).toBe('');
    await again.close();
    await store.close();
  });

  it('replays the desk records from the journal after a crash: customer files, saved replies (and a deletion), the search index', async () => {
    const file = join(tempDir(), 'sportello.json');
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0 });
    await store.init();
    await store.conversations.commit(makeTurn({ customer: makeCustomer(), conversations: [makeConversation('cv1')], messages: [makeMessage('m1', { text: 'La fattura di marzo' })] }));
    await store.customerFiles.setTags('test:u1', ['vip'], '2026-03-02T09:00:00.000Z');
    await store.customerFiles.addNote('test:u1', { id: 'n1', text: 'nota', operatorId: 'op1', at: '2026-03-02T09:00:01.000Z' });
    await store.customerFiles.link('test:u1', 'other:1', '2026-03-02T09:00:02.000Z');
    const reply = { id: 'r1', language: 'it' as const, shortcut: 'orari', title: 'Orari', text: 'x', createdBy: 'op1', createdAt: '2026-03-02T09:00:00.000Z', updatedAt: '2026-03-02T09:00:00.000Z' };
    await store.savedReplies.put(reply);
    await store.savedReplies.put({ ...reply, id: 'r2', shortcut: 'grazie' });
    await store.savedReplies.delete('r2');
    expect(readFileSync(`${file}.journal`, 'utf8')).toContain('"customer-file"');
    // Reopen without close(), as after a crash: the journal holds them.
    await store.lock()!.release();
    const again = createLowdbStore({ file });
    await again.init();
    expect(await again.customerFiles.get('test:u1')).toMatchObject({ tags: ['vip'], notes: [{ id: 'n1' }], links: ['other:1'] });
    expect((await again.customerFiles.get('other:1')).links).toEqual(['test:u1']);
    expect(await again.customerFiles.withTag('vip')).toEqual(['test:u1']);
    expect((await again.savedReplies.list()).map((r) => r.id)).toEqual(['r1']);
    expect((await again.search.find({ text: 'fattura', offset: 0, limit: 5 })).hits.map((h) => h.conversation.id)).toEqual(['cv1']);
    await again.close();
    await store.close();
  });

  it('ignores a torn last journal line (a write never acknowledged) and refuses a damaged one in the middle', async () => {
    const file = join(tempDir(), 'sportello.json');
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0 });
    await store.init();
    await store.values.set('test', 'kept', 'yes');
    const journal = readFileSync(`${file}.journal`, 'utf8');
    writeFileSync(`${file}.journal`, `${journal}[2,[["value",{"name":"torn","va`);
    await store.lock()!.release();
    const reopened = await open(file);
    expect(await reopened.values.get('test', 'kept')).toBe('yes');
    expect(await reopened.values.get('test', 'torn')).toBeUndefined();
    await reopened.values.set('test', 'after', 'ok');
    await reopened.close();
    expect(await (await open(file)).values.get('test', 'after')).toBe('ok');

    const damaged = join(tempDir(), 'sportello.json');
    await (await open(damaged)).close();
    writeFileSync(`${damaged}.journal`, `[1,[["value",{"name":"a","value":"1"}]]]\n{oops\n[3,[["value",{"name":"b","value":"2"}]]]\n`);
    await expect(createLowdbStore({ file: damaged }).init()).rejects.toThrow(/sportello\.json\.journal:2: not valid JSON/);
    writeFileSync(`${damaged}.journal`, `[1,[["value",{"name":"a"}]]]\n`);
    await expect(createLowdbStore({ file: damaged }).init()).rejects.toThrow(/journal:1: not a journal entry/);
  });

  it('does not replay journal lines the file already holds (a crash between compacting and emptying the journal)', async () => {
    const file = join(tempDir(), 'sportello.json');
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0 });
    await store.init();
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o1')] }));
    await store.outbox.claim(Date.now(), { test: 10 }, 60_000);
    await store.outbox.complete('o1', { status: 'retry', notBefore: 0, error: 'HTTP 503' });
    const stale = readFileSync(`${file}.journal`, 'utf8');
    expect(stale.split('\n').filter(Boolean)).toHaveLength(2);
    expect(await store.outbox.claim(Date.now(), { test: 10 }, 60_000)).toHaveLength(1);
    await store.outbox.complete('o1', { status: 'sent', platformId: 'p1', at: new Date().toISOString() });
    await store.close();
    // The file now says "sent"; put back journal lines that say "pending" (the turn, then the retry).
    writeFileSync(`${file}.journal`, stale);
    const reopened = await open(file);
    expect(await reopened.outbox.get('o1')).toMatchObject({ status: 'sent', platformId: 'p1' });
    expect(await reopened.outbox.claim(Date.now() + 120_000, { test: 10 }, 60_000)).toEqual([]);
    await reopened.close();
  });

  it('compacts in the background while writes go on, and a reopened store holds every write', async () => {
    const file = join(tempDir(), 'sportello.json');
    // Tiny thresholds: the journal is folded into the file again and again during the run.
    const store = createLowdbStore({ file, wholeFileBelowBytes: 0, compactAfterBytes: 4096 });
    await store.init();
    const padding = 'x'.repeat(200);
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.values.set('test', `k${round}-${i}`, `${round}-${i}-${padding}`)));
    }
    await store.flush();
    // Some compaction happened: the main file holds more than the first write.
    expect(readFileSync(file, 'utf8').length).toBeGreaterThan(40 * 200);
    await store.close();
    expect(existsSync(`${file}.journal.prev`)).toBe(false);
    const reopened = await open(file);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) expect(await reopened.values.get('test', `k${round}-${i}`)).toBe(`${round}-${i}-${padding}`);
    }
    await reopened.close();
  });

  it('recovers from a crash during a background compaction: the rotated journal, then the new one, over the old file', async () => {
    const file = join(tempDir(), 'sportello.json');
    const store = await open(file);
    await store.values.set('test', 'in-file', 'old');
    await store.close();
    // As a crash would leave it: the old main file, the rotated journal (lines 1–2) and the new one (line 3).
    writeFileSync(`${file}.journal.prev`, `[1,[["value",{"name":"test:a","value":"1"}]]]\n[2,[["value",{"name":"test:in-file","value":"new"}]]]\n`);
    writeFileSync(`${file}.journal`, `[3,[["value",{"name":"test:a","value":"3"}]]]\n`);
    const reopened = await open(file);
    expect(await reopened.values.get('test', 'a')).toBe('3');
    expect(await reopened.values.get('test', 'in-file')).toBe('new');
    // Folded into the file at once: both journals are gone.
    expect(existsSync(`${file}.journal.prev`)).toBe(false);
    expect(readFileSync(`${file}.journal`, 'utf8')).toBe('');
    await reopened.close();
    const again = await open(file);
    expect(await again.values.get('test', 'a')).toBe('3');
    await again.close();
  });

  it('forgets processed inbound ids after 30 days, never pending ones', async () => {
    const file = join(tempDir(), 'sportello.json');
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => now;
    let store = await open(file, clock);
    await acceptDurably(store, makeInbound('done'));
    await acceptDurably(store, makeInbound('waiting'));
    await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'done' } }));
    await store.close();
    now += 29 * 24 * 3600 * 1000;
    store = await open(file, clock);
    expect(await acceptDurably(store, makeInbound('done'))).toBe(false);
    await store.close();
    now += 2 * 24 * 3600 * 1000;
    store = await open(file, clock);
    expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['waiting']);
    expect(await acceptDurably(store, makeInbound('done'))).toBe(true);
    await store.close();
  });

  it.each([
    ['rewriting the whole file', 'whole'],
    ['appending to the journal and compacting', 'journal'],
  ])('keeps every acknowledged turn when the process is killed mid-burst (%s)', async (_label, mode) => {
    const file = join(tempDir(), 'sportello.json');
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lowdb-crash-child.ts'), file, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Set<number>();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
        if (acked.size >= 300) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => (acked.size >= 300 ? resolve() : reject(new Error(`child exited early: ${stderr}`))));
    });
    expect(await exited).toBe('SIGKILL');
    // Acknowledgements printed before the kill may still be in the pipe: they count too.
    expect(existsSync(mode === 'whole' ? file : `${file}.journal`)).toBe(true);
    const store = await open(file);
    const stored = new Set((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => Number(m.id.slice(3))));
    const missing = [...acked].filter((i) => !stored.has(i));
    expect(missing).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(300);
    await store.close();
  });
});
