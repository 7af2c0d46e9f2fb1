/**
 * `sportello customer find/export/erase` and `sportello audit` in-process on a real lowdb store
 * (the while-the-server-runs path, both stores, is tests/e2e/customer-rights.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreCommand, type StoreCommandDeps } from '../../src/cli/store-commands.js';
import { createFakeClock } from '../../src/core/ports.js';
import { createLowdbStore, type LowdbStore } from '../../src/storage/lowdb/index.js';
import { customerRef } from '../../src/handoff/customer-rights.js';
import { capture } from '../helpers/capture.js';
import { createEventRecorder } from '../../src/events/recorder.js';
import { NO_SUBSCRIPTIONS } from '../../src/events/subscriptions.js';
import { makeCase, makeConversation, makeCustomer, makeMessage, makeOperator, makeTurn } from '../storage/store-contract.js';

let dir: string;
let store: LowdbStore;
let deps: StoreCommandDeps;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sportello-customer-'));
  store = createLowdbStore({ file: join(dir, 'store.json') });
  await store.init();
  const clock = createFakeClock('2026-03-05T10:00:00Z');
  // A real recorder (no subscriptions): an erasure resolves the customer's open conversations through the writer.
  deps = { store, faqDir: '', intentsDir: '', clock, recorder: createEventRecorder({ subscriptions: NO_SUBSCRIPTIONS, clock }), where: 'test', hours: undefined as never, locale: 'it' };
  await store.conversations.commit(
    makeTurn({
      customer: makeCustomer('test:ugo42', { name: 'Ugo Tabs\tInside', handle: undefined, lastSeenAt: '2026-03-02T09:00:00.000Z' }),
      conversations: [makeConversation('cv1', { customerId: 'test:ugo42' })],
      case: makeCase('case1', { customerId: 'test:ugo42', conversationIds: ['cv1'] }),
      messages: [makeMessage('m1', { text: 'il mio ordine 11223344' })],
    }),
  );
  await store.directory.addOperator(makeOperator('op1', 'Marta'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = async (argv: string[], input = '') => {
  const t = capture(input);
  const code = await runStoreCommand(argv, t.io, deps);
  return { code, out: t.out(), err: t.err() };
};

describe('sportello customer', () => {
  it('finds by name or platform id, one tab-separated line per customer with the id first; exit 1 when none', async () => {
    expect(await run(['customer', 'find', 'UGO'])).toEqual({ code: 0, out: 'test:ugo42\ttest\tUgo Tabs Inside\t2026-03-02T09:00:00.000Z\n', err: '' });
    expect((await run(['customer', 'find', 'ugo42'])).out.split('\t')[0]).toBe('test:ugo42');
    expect(await run(['customer', 'find', 'nobody'])).toMatchObject({ code: 1, out: '' });
  });

  it('exports to a file readable by its owner only, and to stdout', async () => {
    const out = join(dir, 'ugo.json');
    const r = await run(['customer', 'export', 'test:ugo42', '--out', out]);
    expect(r).toMatchObject({ code: 0, out: '' });
    expect(r.err).toMatch(/exported 1 customer record\(s\), 1 message\(s\)/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(out, 'utf8')).records[0].messages[0].text).toBe('il mio ordine 11223344');
    expect(JSON.parse((await run(['customer', 'export', 'test:ugo42'])).out).format).toBe('sportello-customer-export');
    expect(await run(['customer', 'export', 'test:nobody'])).toMatchObject({ code: 1 });
  });

  it('refuses to erase without --yes and without a terminal, then erases with --yes; both audited', async () => {
    const refused = await run(['customer', 'erase', 'test:ugo42']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/without confirmation/);
    expect(await store.directory.getCustomer('test:ugo42')).toBeDefined();
    const done = await run(['customer', 'erase', 'test:ugo42', '--yes']);
    expect(done.code).toBe(0);
    expect(done.out).toMatch(/^erased test:ugo42: 1 conversation\(s\) and 1 message\(s\) anonymised, 1 open conversation\(s\) resolved/);
    expect(await store.directory.getCustomer('test:ugo42')).toBeUndefined();
    // Their open conversation was resolved (through the writer), the case with it: nothing of theirs waits anywhere.
    expect(await store.conversations.get('cv1')).toMatchObject({ state: 'resolved' });
    expect(await store.conversations.getCase('case1')).toMatchObject({ status: 'resolved', resolvedBy: 'erased' });
    expect(await run(['customer', 'erase', 'test:ugo42', '--yes'])).toMatchObject({ code: 1 });
    const audit = await run(['audit']);
    expect(audit.code).toBe(0);
    expect(audit.out).toBe(`2026-03-05T10:00:00.000Z\tcli\tcustomer.erase\t${customerRef('test:ugo42')}\tcli\n`);
    expect(audit.out).not.toContain('ugo42');
  });

  it('rejects wrong usage with exit 2', async () => {
    for (const argv of [['customer'], ['customer', 'find'], ['customer', 'erase', 'a', 'b'], ['customer', 'find', 'x', '--yes'], ['customer', 'export', 'x', '--bogus'], ['audit', '--limit', 'x'], ['audit', '--from', 'yesterday']]) {
      expect([argv.join(' '), (await run(argv)).code]).toEqual([argv.join(' '), 2]);
    }
  });
});

describe('sportello audit', () => {
  it('lists entries oldest first, by operator name or id, action, from and to a date', async () => {
    await store.audit.append({ id: 'a1', at: '2026-03-01T08:00:00.000Z', operatorId: 'op1', action: 'customer.export', target: 'customer#x', from: '10.1.2.3' });
    await store.audit.append({ id: 'a2', at: '2026-03-03T08:00:00.000Z', operatorId: 'op9', action: 'customer.erase', target: 'customer#y' });
    expect((await run(['audit'])).out).toBe('2026-03-01T08:00:00.000Z\tMarta\tcustomer.export\tcustomer#x\t10.1.2.3\n2026-03-03T08:00:00.000Z\top9\tcustomer.erase\tcustomer#y\t\n');
    expect((await run(['audit', '--operator', 'Marta'])).out.split('\n')).toHaveLength(2);
    expect((await run(['audit', '--operator', 'op9'])).out).toMatch(/^2026-03-03/);
    expect((await run(['audit', '--from', '2026-03-02'])).out).toMatch(/^2026-03-03T08:00:00.000Z\top9/);
    expect(await run(['audit', '--from', '2026-04-01'])).toEqual({ code: 0, out: '', err: 'no audit entries\n' });
    expect((await run(['audit', '--to', '2026-03-02'])).out).toBe('2026-03-01T08:00:00.000Z\tMarta\tcustomer.export\tcustomer#x\t10.1.2.3\n');
    expect((await run(['audit', '--action', 'customer.erase'])).out).toMatch(/^2026-03-03T08:00:00.000Z\top9\tcustomer.erase\t/);
    expect((await run(['audit', '--action', 'customer.erase'])).out.split('\n')).toHaveLength(2);
    expect((await run(['audit', '--to', 'someday'])).code).toBe(2);
  });
});

describe('sportello retention run', () => {
  it('says so when no period is set; with one, counts (--dry-run) or anonymises the expired records, never an open case, and audits the run', async () => {
    // Pia's case is resolved and she was last seen four days ago; Ugo's case is still open.
    await store.conversations.commit(
      makeTurn({
        customer: makeCustomer('test:pia7', { name: 'Pia Sole', lastSeenAt: '2026-03-01T09:00:00.000Z' }),
        conversations: [makeConversation('cv-pia', { key: 'test:private:pia7', customerId: 'test:pia7', caseId: 'case-pia', state: 'resolved', updatedAt: '2026-03-01T09:30:00.000Z' })],
        case: makeCase('case-pia', { customerId: 'test:pia7', status: 'resolved', conversationIds: ['cv-pia'], resolvedAt: '2026-03-01T09:30:00.000Z' }),
        messages: [makeMessage('m-pia', { conversationId: 'cv-pia', caseId: 'case-pia', text: 'grazie, Pia', at: '2026-03-01T09:00:00.000Z' })],
      }),
    );
    expect(await run(['retention', 'run'])).toMatchObject({ code: 0, out: '', err: expect.stringMatching(/no retention period is set/) });
    deps = { ...deps, retention: { days: {}, otherDays: 2, anonymousChannels: [], intervalMs: 3_600_000 } };
    expect(await run(['retention', 'run', '--dry-run'])).toEqual({ code: 0, out: '1 customer record(s) past their retention period would be anonymised (dry run: nothing changed)\n', err: '' });
    expect(await store.directory.getCustomer('test:pia7')).toBeDefined();
    expect(await run(['retention', 'run'])).toEqual({ code: 0, out: 'anonymised 1 customer record(s): 1 conversation(s), 1 case(s), 1 message(s)\n', err: '' });
    expect(await store.directory.getCustomer('test:pia7')).toBeUndefined();
    expect((await store.conversations.listMessages({ conversationId: 'cv-pia' })).map((m) => m.text)).toEqual(['']);
    expect(await store.directory.getCustomer('test:ugo42')).toBeDefined();
    expect(await run(['retention', 'run'])).toMatchObject({ code: 0, out: 'anonymised 0 customer record(s): 0 conversation(s), 0 case(s), 0 message(s)\n' });
    expect((await run(['audit'])).out).toBe('2026-03-05T10:00:00.000Z\tcli\tretention.anonymise\trecords=1 conversations=1 cases=1 messages=1\tcli\n');
    for (const argv of [['retention'], ['retention', 'go'], ['retention', 'run', '--now'], ['retention', 'run', 'x']]) {
      expect([argv.join(' '), (await run(argv)).code]).toEqual([argv.join(' '), 2]);
    }
  });
});
