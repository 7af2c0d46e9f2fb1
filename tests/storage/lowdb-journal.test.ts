/**
 * The embedded store's start-up checks: the journal's numbered lines (gaps, lines going
 * backwards, damage in the middle, a torn last line, `.prev` left by a compaction), a journal
 * without its main file, and the inter-process lock on the data file.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { acquireFileLock, LockHeldError, lockFileOf } from '../../src/storage/lowdb/file-lock.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-journal-'));
  dirs.push(dir);
  return join(dir, 'sportello.json');
}

/** A journal line as the store writes it: mutation number, then its puts. */
const line = (seq: number, name: string, value = name) => `${JSON.stringify([seq, [['value', { name: `t:${name}`, value }]]])}\n`;

/** A store file holding `values`, written and closed by the store itself (its journalSeq is `journalSeq`). */
async function mainFileWith(file: string, values: Record<string, string>): Promise<number> {
  const store = createLowdbStore({ file });
  await store.init();
  for (const [name, value] of Object.entries(values)) await store.values.set('t', name, value);
  await store.close();
  return (JSON.parse(readFileSync(file, 'utf8')) as { journalSeq: number }).journalSeq;
}

async function openStore(file: string) {
  const warnings: string[] = [];
  const store = createLowdbStore({ file, onWarning: (m) => warnings.push(m) });
  await store.init();
  return { store, warnings };
}

/** init() must fail with `message`, and leave the main file and the journal exactly as they were. */
async function expectRefused(file: string, message: RegExp): Promise<void> {
  const before = [file, `${file}.journal`, `${file}.journal.prev`].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined));
  const store = createLowdbStore({ file, onWarning: () => undefined });
  await expect(store.init()).rejects.toThrow(message);
  const after = [file, `${file}.journal`, `${file}.journal.prev`].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined));
  expect(after).toEqual(before);
  // The refused start released its lock: a later start (after a repair) is not blocked.
  expect(existsSync(lockFileOf(file))).toBe(false);
}

describe('the lowdb journal at start-up', () => {
  it('replays a journal whose numbers follow the main file without a gap', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal`, line(seq + 1, 'b') + line(seq + 2, 'c'));
    const { store, warnings } = await openStore(file);
    expect([await store.values.get('t', 'a'), await store.values.get('t', 'b'), await store.values.get('t', 'c')]).toEqual(['1', 'b', 'c']);
    expect(warnings).toEqual([]);
    await store.close();
  });

  it('cuts off a torn last line (a write never acknowledged) with a warning naming the file and line, keeping everything before it', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal`, `${line(seq + 1, 'b')}[${seq + 2},[["value",{"name":"t:torn","va`);
    const { store, warnings } = await openStore(file);
    expect(await store.values.get('t', 'b')).toBe('b');
    expect(await store.values.get('t', 'torn')).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/sportello\.json\.journal:2: incomplete last line \(\d+ bytes\).*never acknowledged; dropped/)]);
    // The next writes never follow the torn bytes.
    await store.values.set('t', 'after', 'ok');
    await store.close();
    expect(readFileSync(`${file}.journal`, 'utf8')).not.toContain('torn');
    const again = await openStore(file);
    expect(await again.store.values.get('t', 'after')).toBe('ok');
    expect(again.warnings).toEqual([]);
    await again.store.close();
  });

  it('refuses a line in the middle that is not JSON, or not an entry, naming the file and line', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal`, `${line(seq + 1, 'b')}{oops\n${line(seq + 2, 'c')}`);
    await expectRefused(file, /sportello\.json\.journal:2: not valid JSON .*the journal is damaged/);
    writeFileSync(`${file}.journal`, `${line(seq + 1, 'b')}[${seq + 2},[["value",{"name":"c"}]]]\n${line(seq + 3, 'd')}`);
    await expectRefused(file, /sportello\.json\.journal:2: not a journal entry \(1\.0: .*\); the journal is damaged/);
    // A complete last line that is damaged is not a torn write (every append ends with a newline): refused too.
    writeFileSync(`${file}.journal`, `${line(seq + 1, 'b')}{oops\n`);
    await expectRefused(file, /sportello\.json\.journal:2: not valid JSON/);
  });

  it('refuses a gap in the numbers: a missing line', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal`, line(seq + 1, 'b') + line(seq + 2, 'c') + line(seq + 4, 'e'));
    await expectRefused(file, new RegExp(`sportello\\.json\\.journal:3: entry ${seq + 4} follows entry ${seq + 2}: entry ${seq + 3} is missing`));
  });

  it('refuses a journal that starts after the entry following the main file', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal`, line(seq + 3, 'd') + line(seq + 4, 'e'));
    await expectRefused(file, new RegExp(`journal:1: the journal starts at entry ${seq + 3} but .*sportello\\.json holds entries up to ${seq}: entries ${seq + 1}–${seq + 2} are missing`));
  });

  it('refuses numbers that go backwards', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal`, line(seq + 1, 'b') + line(seq + 2, 'c') + line(seq + 2, 'c2'));
    await expectRefused(file, new RegExp(`journal:3: entry ${seq + 2} comes after entry ${seq + 2} \\(the numbers go backwards\\)`));
  });

  it('skips lines the main file already holds (a crash between writing it and emptying the journal)', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1', b: '2' });
    // Lines up to seq are in the file; a stale copy of one must not overwrite the newer value.
    writeFileSync(`${file}.journal`, line(seq, 'b', 'stale') + line(seq + 1, 'c'));
    const { store } = await openStore(file);
    expect(await store.values.get('t', 'b')).toBe('2');
    expect(await store.values.get('t', 'c')).toBe('c');
    await store.close();
  });

  it('refuses a journal without its main file, naming both, instead of starting on a partial store', async () => {
    const file = tempFile();
    await mainFileWith(file, { operator: 'marta' });
    writeFileSync(`${file}.journal`, line(5, 'b'));
    rmSync(file);
    await expectRefused(file, /sportello\.json\.journal exists but .*sportello\.json does not: .*partial store/);
    // A rotated-out journal alone counts too.
    rmSync(`${file}.journal`);
    writeFileSync(`${file}.journal.prev`, line(5, 'b'));
    await expectRefused(file, /sportello\.json\.journal\.prev exists but .*sportello\.json does not/);
  });

  it('starts a new store when only an empty journal is there (a crash right after creating it), writing the main file first', async () => {
    const file = tempFile();
    writeFileSync(`${file}.journal`, '');
    const { store } = await openStore(file);
    expect(existsSync(file)).toBe(true);
    await store.close();
    // A new store has its main file before any journal line, even when writes go to the journal.
    const other = tempFile();
    const s = createLowdbStore({ file: other, wholeFileBelowBytes: 0 });
    await s.init();
    expect(existsSync(other)).toBe(true);
    await s.values.set('t', 'x', '1');
    expect(readFileSync(`${other}.journal`, 'utf8')).toContain('"t:x"');
    await s.close();
  });

  it('replays .prev (left by a crash during a compaction) then the journal, and refuses a gap or a torn line between them', async () => {
    const file = tempFile();
    const seq = await mainFileWith(file, { a: '1' });
    writeFileSync(`${file}.journal.prev`, line(seq + 1, 'b') + line(seq + 2, 'c'));
    writeFileSync(`${file}.journal`, line(seq + 3, 'd'));
    const { store } = await openStore(file);
    expect([await store.values.get('t', 'b'), await store.values.get('t', 'c'), await store.values.get('t', 'd')]).toEqual(['b', 'c', 'd']);
    await store.close();
    expect(existsSync(`${file}.journal.prev`)).toBe(false);

    const seq2 = (JSON.parse(readFileSync(file, 'utf8')) as { journalSeq: number }).journalSeq;
    writeFileSync(`${file}.journal.prev`, line(seq2 + 1, 'e') + line(seq2 + 2, 'f'));
    writeFileSync(`${file}.journal`, line(seq2 + 4, 'h'));
    await expectRefused(file, new RegExp(`sportello\\.json\\.journal:1: entry ${seq2 + 4} follows entry ${seq2 + 2}: entry ${seq2 + 3} is missing`));
    writeFileSync(`${file}.journal.prev`, `${line(seq2 + 1, 'e')}[${seq2 + 2},[["val`);
    writeFileSync(`${file}.journal`, line(seq2 + 3, 'g'));
    await expectRefused(file, /sportello\.json\.journal\.prev:2: incomplete line followed by more entries/);
  });
});

describe('the lowdb file lock', () => {
  it('is taken at init and released at close; a second store on the file in the same process is refused', async () => {
    const file = tempFile();
    const store = createLowdbStore({ file });
    await store.init();
    const holder = JSON.parse(readFileSync(lockFileOf(file), 'utf8')) as { pid: number };
    expect(holder.pid).toBe(process.pid);
    await expect(createLowdbStore({ file }).init()).rejects.toThrow(/already open in this process/);
    await store.close();
    expect(existsSync(lockFileOf(file))).toBe(false);
  });

  it('takes over the lock of a process that died, saying so', async () => {
    const file = tempFile();
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    writeFileSync(lockFileOf(file), JSON.stringify({ pid: deadPid, since: '2026-12-01T10:00:00.000Z', command: 'start' }));
    const { store, warnings } = await openStore(file);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`sportello\\.json\\.lock was left by pid ${deadPid} \\(start\\).*no longer running; taken over by pid ${process.pid}`))]);
    expect((JSON.parse(readFileSync(lockFileOf(file), 'utf8')) as { pid: number }).pid).toBe(process.pid);
    await store.close();
  });

  it('takes over a damaged lock file once it is 2 s old (a younger one may be being written)', async () => {
    const file = tempFile();
    writeFileSync(lockFileOf(file), '{"pid":');
    const old = new Date(Date.now() - 10_000);
    utimesSync(lockFileOf(file), old, old);
    const { store, warnings } = await openStore(file);
    expect(warnings).toEqual([expect.stringMatching(/sportello\.json\.lock was unreadable .*taken over by pid/)]);
    await store.close();

    writeFileSync(lockFileOf(file), '');
    const started = Date.now();
    const again = await openStore(file);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(again.warnings).toEqual([expect.stringMatching(/was unreadable/)]);
    await again.store.close();
  });

  it('takes over a lock naming this very pid that this process did not take (a container restarted with the same pid)', async () => {
    const file = tempFile();
    writeFileSync(lockFileOf(file), JSON.stringify({ pid: process.pid, since: '2026-12-01T10:00:00.000Z' }));
    const { store, warnings } = await openStore(file);
    expect(warnings).toHaveLength(1);
    await store.close();
  });

  it('waits for a live holder that is not a server, then gives up naming it; refuses a live server at once', async () => {
    const file = tempFile();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      await new Promise((r) => child.once('spawn', r));
      writeFileSync(lockFileOf(file), JSON.stringify({ pid: child.pid, since: '2026-12-01T10:00:00.000Z', command: 'operator add' }));
      const started = Date.now();
      const waiting = createLowdbStore({ file, lock: { waitMs: 400 } }).init();
      await expect(waiting).rejects.toThrow(new RegExp(`sportello\\.json is in use by pid ${child.pid} \\(operator add\\).*gave up waiting`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);

      // The holder finishing within the wait lets the store start.
      const second = createLowdbStore({ file, lock: { waitMs: 5000 } });
      const opening = second.init();
      setTimeout(() => rmSync(lockFileOf(file)), 200);
      await opening;
      await second.close();

      writeFileSync(lockFileOf(file), JSON.stringify({ pid: child.pid, since: '2026-12-01T10:00:00.000Z', command: 'start', socket: '/tmp/x.sock' }));
      const at = Date.now();
      const refused = createLowdbStore({ file, lock: { waitMs: 5000 } }).init();
      await expect(refused).rejects.toThrow(LockHeldError);
      await expect(createLowdbStore({ file }).init()).rejects.toThrow(/in use by a running Sportello server .*admin socket \/tmp\/x\.sock.*stop it first, or use PostgreSQL/);
      expect(Date.now() - at).toBeLessThan(2000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('lets exactly one of several processes racing for a stale lock take it', async () => {
    const file = tempFile();
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    writeFileSync(lockFileOf(file), JSON.stringify({ pid: deadPid, since: 'x' }));
    // Their file operations interleave: the takeover guard lets one replace the stale lock.
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => acquireFileLock(file, { waitMs: 0, command: `racer ${i}` })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireFileLock>>>).value.release();
  });
});
