/**
 * `sportello migrate | export | import` against a real lowdb file and a real PostgreSQL
 * database (which must be running: these tests fail, not skip, without it).
 */
import { MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runExport, runImport, runMigrate } from '../../src/cli/store-admin.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import type { StoreSnapshot } from '../../src/storage/snapshot.js';
import { makeCase, makeConversation, makeCustomer, makeInbound, makeMessage, makeOperator, makeOutbox, makeTurn } from '../storage/store-contract.js';
import { capture } from '../helpers/capture.js';
import { acceptDurably, testDatabaseName, withPgAdmin } from '../helpers/stores.js';

const { database, url: DATABASE_URL } = testDatabaseName();
const dir = mkdtempSync(join(tmpdir(), 'sportello-admin-'));

const admin = (sql: string) => withPgAdmin((client) => client.query(sql));

beforeAll(() => admin(`CREATE DATABASE ${database}`));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

const io = capture;

async function seedLowdb(file: string): Promise<void> {
  const store = createLowdbStore({ file });
  await store.init();
  await acceptDurably(store, makeInbound('m1'));
  await acceptDurably(store, makeInbound('m2'));
  await store.conversations.commit(
    makeTurn({
      inbound: { channel: 'test', id: 'm1' },
      customer: makeCustomer(),
      conversations: [makeConversation('cv1')],
      case: makeCase('case1', { conversationIds: ['cv1'] }),
      messages: [makeMessage('msg1'), makeMessage('msg2')],
      outbox: [makeOutbox('o1'), makeOutbox('o2')],
    }),
  );
  await store.directory.addOperator(makeOperator('op1', 'Marta'));
  await store.values.set('twitter', 'since_id', '99');
  await store.close();
}

const strip = (s: StoreSnapshot) => ({ ...s, exportedAt: '', inbound: s.inbound.map((r) => ({ channel: r.channel, id: r.id, processed: r.processedAt !== undefined, message: r.message })) });

describe('sportello migrate, export and import', () => {
  it('says there is nothing to migrate for the embedded store', async () => {
    const t = io();
    expect(await runMigrate([], t.io, { SPORTELLO_DATA: join(dir, 'x.json') })).toBe(0);
    expect(t.out()).toMatch(/Nothing to migrate/);
  });

  it('applies PostgreSQL migrations once and then reports the schema up to date', async () => {
    const first = io();
    expect(await runMigrate([], first.io, { DATABASE_URL })).toBe(0);
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    expect(first.out()).toMatch(new RegExp(`Applied migrations? ${MIGRATIONS.map((m) => m.version).join(', ')} .* schema version ${latest}\\.`));
    const second = io();
    expect(await runMigrate([], second.io, { DATABASE_URL })).toBe(0);
    expect(second.out()).toMatch(new RegExp(`up to date \\(schema version ${latest}\\)`));
  });

  it('moves an embedded install to PostgreSQL: export the lowdb file, import it twice, export the same data', async () => {
    const data = join(dir, 'sportello.json');
    await seedLowdb(data);
    const exportFile = join(dir, 'export.json');
    const ex = io();
    expect(await runExport([exportFile], ex.io, { SPORTELLO_DATA: data })).toBe(0);
    expect(ex.err()).toMatch(/Exported 1 conversations, 1 customers, 1 cases, 2 messages, 2 outbox items, 1 operators/);
    expect(statSync(exportFile).mode & 0o777).toBe(0o600);
    const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as StoreSnapshot;

    for (let i = 0; i < 2; i++) {
      const im = io();
      expect(await runImport([exportFile], im.io, { DATABASE_URL })).toBe(0);
      expect(im.out()).toMatch(/Imported 1 conversations/);
    }
    const back = io();
    expect(await runExport([], back.io, { DATABASE_URL })).toBe(0);
    const fromPostgres = JSON.parse(back.out()) as StoreSnapshot;
    expect(strip(fromPostgres)).toEqual(strip(exported));
  });

  it('reads an import from stdin', async () => {
    const data = join(dir, 'from-stdin.json');
    const doc = JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8')) as StoreSnapshot;
    const t = io(JSON.stringify(doc));
    expect(await runImport(['-'], t.io, { SPORTELLO_DATA: data })).toBe(0);
    const store = createLowdbStore({ file: data });
    await store.init();
    expect((await store.directory.findOperatorByName('Marta'))?.id).toBe('op1');
    expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m2']);
    await store.close();
  });

  it('refuses a file that is not JSON or not an export, saying why, and writes nothing', async () => {
    const data = join(dir, 'untouched.json');
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ nope');
    const a = io();
    expect(await runImport([notJson], a.io, { SPORTELLO_DATA: data })).toBe(1);
    expect(a.err()).toMatch(/bad\.json is not valid JSON/);
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ format: 'sportello-store', version: 1, exportedAt: 'x', customers: [], conversations: [{ id: 'c1' }] }));
    const b = io();
    expect(await runImport([wrong], b.io, { SPORTELLO_DATA: data })).toBe(1);
    expect(b.err()).toMatch(/conversations\.0\.key/);
    expect(() => statSync(data)).toThrow();
  });

  it('refuses an import that would move a stored conversation against the state table (resolved → assigned), importing nothing', async () => {
    const data = join(dir, 'state-table.json');
    const store = createLowdbStore({ file: data });
    await store.init();
    const resolved = makeConversation('cv-r', { key: 'test:private:r', state: 'resolved' });
    await store.conversations.commit(makeTurn({ conversations: [resolved], case: makeCase('case-r', { conversationIds: ['cv-r'] }) }));
    const older = await store.exportAll();
    await store.close();
    const doc = {
      ...older,
      conversations: older.conversations.map((c) => ({ ...c, state: 'assigned', assignee: 'op1' })),
      operators: [makeOperator('op9', 'Nuovo')],
    };
    const file = join(dir, 'state-table-export.json');
    writeFileSync(file, JSON.stringify(doc));
    const t = io();
    expect(await runImport([file], t.io, { SPORTELLO_DATA: data })).toBe(1);
    expect(t.err()).toMatch(/nothing was imported[\s\S]*cv-r would move from resolved to assigned/);
    expect(t.out()).toBe('');
    const after = createLowdbStore({ file: data });
    await after.init();
    expect((await after.conversations.get('cv-r'))?.state).toBe('resolved');
    expect(await after.directory.findOperatorByName('Nuovo')).toBeUndefined();
    await after.close();
  });

  it('rejects wrong usage and a malformed DATABASE_URL with exit code 2', async () => {
    const a = io();
    expect(await runImport([], a.io, {})).toBe(2);
    const b = io();
    expect(await runExport(['a', 'b'], b.io, {})).toBe(2);
    const c = io();
    expect(await runMigrate([], c.io, { DATABASE_URL: 'mysql://x' })).toBe(2);
    expect(c.err()).toMatch(/DATABASE_URL must start with postgres:\/\//);
  });

  it('reports an unreachable database without printing its password', async () => {
    const t = io();
    expect(await runMigrate([], t.io, { DATABASE_URL: 'postgres://u:s3cret@127.0.0.1:5999/db' })).toBe(1);
    expect(t.err()).toMatch(/ECONNREFUSED/);
    expect(t.err()).not.toMatch(/s3cret/);
  });
});
