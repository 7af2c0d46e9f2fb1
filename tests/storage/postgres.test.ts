/**
 * The PostgreSQL store and event bus against a real server. PostgreSQL must be running (CI's
 * .ci/run starts it): when it is not reachable these tests fail, they are not skipped.
 */
import pg from 'pg';
import type { DomainEvent, EventMeta } from '../../src/core/events.js';
import { AlreadyProcessedError, StoreError, TurnConflictError } from '../../src/core/errors.js';
import { createPostgresEventBus, createPostgresStore, MIGRATIONS, migrate, type PostgresEventBus, type PostgresStore, type PostgresStoreOptions } from '../../src/storage/postgres/index.js';
import {
  describeStoreContract,
  expectSeen,
  makeCase,
  makeConversation,
  makeCustomer,
  makeInbound,
  makeMessage,
  makeOutbox,
  makeTurn,
  type SnapshotStore,
} from './store-contract.js';
import type { TurnRecord } from '../../src/core/ports.js';
import { acceptDurably, testDatabaseName, withPgAdmin } from '../helpers/stores.js';

const { database, url } = testDatabaseName();

let schemaCounter = 0;
const schemas = new WeakMap<SnapshotStore, string>();
const opened: PostgresStore[] = [];

const admin = withPgAdmin;

/**
 * A store on its own schema. Unless a test asks otherwise, a message is inserted when accepted
 * (no deferral to its turn's commit), so tests can count statements.
 */
async function open(schema: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = createPostgresStore({ url, schema, acceptInTurnBelow: 0, ...options });
  opened.push(store);
  await store.init();
  schemas.set(store, schema);
  return store;
}

beforeAll(async () => {
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
});

// The contract runs with messages left for their turn's commit (as in production), falling back
// to an insert of their own after 50 ms.
const contractOptions = { acceptInTurnBelow: 16, acceptInTurnMs: 50 };
describeStoreContract('postgres', {
  fresh: () => open(`contract_${++schemaCounter}`, contractOptions),
  async reopen(store) {
    const schema = schemas.get(store);
    if (!schema) throw new Error('not a store of this harness');
    await store.close();
    return open(schema, contractOptions);
  },
});

/** Runs `fn` while recording every query the pg clients send (text and statement name). */
async function recordQueries(fn: () => Promise<void>): Promise<{ text: string; name?: string }[]> {
  const seen: { text: string; name?: string }[] = [];
  const original = pg.Client.prototype.query;
  const probe = function (this: pg.Client, ...args: Parameters<typeof original>) {
    const [first] = args as unknown[];
    seen.push(typeof first === 'string' ? { text: first } : (first as { text: string; name?: string }));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  pg.Client.prototype.query = probe as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}

describe('the PostgreSQL store on its own', () => {
  it('forgets processed inbound ids after 30 days, never pending ones', async () => {
    const schema = `prune_${++schemaCounter}`;
    let store = await open(schema);
    await acceptDurably(store, makeInbound('done'));
    await acceptDurably(store, makeInbound('waiting'));
    await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'done' } }));
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`UPDATE ${schema}.inbound SET processed_at = now() - interval '29 days' WHERE id = 'done'`);
      store = await open(schema);
      expect(await acceptDurably(store, makeInbound('done'))).toBe(false);
      await store.close();
      await client.query(`UPDATE ${schema}.inbound SET accepted_at = now() - interval '40 days'`);
      await client.query(`UPDATE ${schema}.inbound SET processed_at = now() - interval '31 days' WHERE id = 'done'`);
      store = await open(schema);
      expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['waiting']);
      expect(await acceptDurably(store, makeInbound('done'))).toBe(true);
      await store.close();
    } finally {
      await client.end();
    }
  });

  it('commits a whole turn in one round trip, sent as a named prepared statement', async () => {
    const store = await open(`one_trip_${++schemaCounter}`);
    await acceptDurably(store, makeInbound('m1'));
    const turn = makeTurn({
      inbound: { channel: 'test', id: 'm1' },
      customer: makeCustomer(),
      conversations: [makeConversation('cv1')],
      case: makeCase('case1', { conversationIds: ['cv1'] }),
      messages: [makeMessage('msg1'), makeMessage('msg2', { direction: 'out', author: { kind: 'bot' } })],
      outbox: [makeOutbox('o1'), makeOutbox('o2')],
    });
    const sent = await recordQueries(async () => void (await store.conversations.commit(turn)));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.name).toMatch(/^sportello_[0-9a-f]{20}$/);
    expect(await store.directory.getCustomer('test:u1')).toEqual(turn.customer);
    expect(await store.conversations.getCase('case1')).toEqual(turn.case);
    expect((await store.conversations.listMessages({ conversationId: 'cv1' })).map((m) => m.id)).toEqual(['msg1', 'msg2']);
    expect((await store.outbox.list({ conversationId: 'cv1' })).map((o) => [o.id, o.seq])).toEqual([['o1', 1], ['o2', 2]]);
    expect(await store.inbox.pending(10)).toEqual([]);
  });

  it('commits turns made at the same moment in one round trip, each with its own outcome', async () => {
    const store = await open(`group_${++schemaCounter}`);
    await acceptDurably(store, makeInbound('m1'));
    await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' } }));
    let results: PromiseSettledResult<unknown>[] = [];
    const sent = await recordQueries(async () => {
      results = await Promise.allSettled([
        store.conversations.commit(makeTurn({ outbox: [makeOutbox('a')] })),
        store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' }, outbox: [makeOutbox('b')] })),
        store.conversations.commit(makeTurn({ outbox: [makeOutbox('a', { conversationId: 'cv2' })] })),
        store.conversations.commit(makeTurn({ outbox: [makeOutbox('c')] })),
      ]);
    });
    expect(sent).toHaveLength(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(AlreadyProcessedError);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
    expect((results[2] as PromiseRejectedResult).reason.message).toMatch(/outbox_pkey/);
    expect((await store.outbox.list({})).map((o) => [o.id, o.seq])).toEqual([['a', 1], ['c', 2]]);
  });

  /** Distinct transaction ids that wrote the rows of `table`: 1 when a batch was applied as one set. */
  async function writers(schema: string, table: string): Promise<number> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await client.query<{ n: string }>(`SELECT count(DISTINCT xmin::text) AS n FROM ${schema}.${table}`);
      return Number(rows.rows[0]?.n);
    } finally {
      await client.end();
    }
  }

  /** A whole turn of one customer on one new conversation: inbound, customer, conversation, case, two messages, a reply. */
  function customerTurn(k: number): TurnRecord {
    const cv = `cv${k}`;
    return makeTurn({
      inbound: { channel: 'test', id: `m${k}` },
      customer: makeCustomer(`test:u${k}`),
      conversations: [makeConversation(cv, { customerId: `test:u${k}`, caseId: `case${k}` })],
      case: makeCase(`case${k}`, { customerId: `test:u${k}`, conversationIds: [cv] }),
      messages: [makeMessage(`in${k}`, { conversationId: cv, caseId: `case${k}` }), makeMessage(`out${k}`, { conversationId: cv, caseId: `case${k}`, direction: 'out' })],
      outbox: [makeOutbox(`o${k}`, { conversationId: cv })],
    });
  }

  it('applies a batch of turns that write different rows as one set (one subtransaction), as if one after the other', async () => {
    const schema = `set_${++schemaCounter}`;
    const store = await open(schema);
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('x1', { conversationId: 'cv2' })] }));
    await Promise.all([1, 2, 3, 4].map((k) => acceptDurably(store, makeInbound(`m${k}`))));
    const before = await writers(schema, 'outbox');
    const sent = await recordQueries(async () => {
      await Promise.all([1, 2, 3, 4].map((k) => store.conversations.commit(customerTurn(k))));
    });
    expect(sent).toHaveLength(1);
    expect(await writers(schema, 'messages')).toBe(1);
    expect(await writers(schema, 'outbox')).toBe(before + 1);
    expect(await store.inbox.pending(10)).toEqual([]);
    expect((await store.conversations.listMessages({})).map((m) => m.id)).toEqual(['in1', 'out1', 'in2', 'out2', 'in3', 'out3', 'in4', 'out4']);
    expect((await store.outbox.list({})).map((o) => [o.id, o.seq])).toEqual([['x1', 1], ['o1', 1], ['o2', 2], ['o3', 1], ['o4', 1]]);
    expect(await store.conversations.get('cv3')).toEqual(customerTurn(3).conversations[0]);
    expect(await store.conversations.getCase('case4')).toEqual(customerTurn(4).case);
    expect(await store.directory.getCustomer('test:u2')).toEqual(makeCustomer('test:u2'));

    // Second turns on the same conversations, at the revisions read, one changing its case: one set again.
    await Promise.all([5, 6].map((k) => acceptDurably(store, makeInbound(`m${k}`))));
    const contexts = await Promise.all([1, 2].map((k) => store.conversations.loadContext({ key: `test:private:cv${k}`, customerId: `test:u${k}` })));
    await Promise.all(
      [1, 2].map((k, i) =>
        store.conversations.commit(
          makeTurn({
            expect: contexts[i]!.revisions,
            inbound: { channel: 'test', id: `m${k + 4}` },
            conversations: [{ ...contexts[i]!.conversation!, missStreak: k }],
            case: k === 1 ? { ...contexts[i]!.case!, status: 'resolved' } : contexts[i]!.case!,
            messages: [makeMessage(`again${k}`, { conversationId: `cv${k}`, caseId: `case${k}` })],
            outbox: [makeOutbox(`p${k}`, { conversationId: `cv${k}` })],
          }),
        ),
      ),
    );
    expect(await writers(schema, 'messages')).toBe(2);
    expect((await store.conversations.get('cv1'))?.missStreak).toBe(1);
    expect((await store.conversations.get('cv2'))?.missStreak).toBe(2);
    expect((await store.conversations.getCase('case1'))?.status).toBe('resolved');
    expect((await store.outbox.list({ conversationId: 'cv2' })).map((o) => [o.id, o.seq])).toEqual([['x1', 1], ['o2', 2], ['p2', 3]]);
  });

  it('applies a batch turn by turn when two of its turns write one conversation: the later one, which read it before, is refused', async () => {
    const schema = `set_conflict_${++schemaCounter}`;
    const store = await open(schema);
    await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1')] }));
    const read = await store.conversations.loadContext({ key: 'test:private:cv1', customerId: 'test:u1' });
    const results = await Promise.allSettled([
      // Two turns that read cv1 at the same revision: in sequence, the second is refused.
      store.conversations.commit(makeTurn({ expect: read.revisions, conversations: [makeConversation('cv1', { state: 'queued' })], messages: [makeMessage('a')] })),
      store.conversations.commit(makeTurn({ expect: read.revisions, conversations: [makeConversation('cv1', { missStreak: 3 })], messages: [makeMessage('b')] })),
      store.conversations.commit(makeTurn({ conversations: [makeConversation('cv2')], messages: [makeMessage('c', { conversationId: 'cv2' })] })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(TurnConflictError);
    expect(await store.conversations.get('cv1')).toMatchObject({ state: 'queued', missStreak: 0 });
    expect((await store.conversations.listMessages({})).map((m) => m.id)).toEqual(['a', 'c']);
    // Each written turn in a subtransaction of its own.
    expect(await writers(schema, 'messages')).toBe(2);
  });

  it.each([
    ['the turn that changes the case first: the other, which read it before, is refused', true, ['fulfilled', 'rejected']],
    ['the turn that hands the case back unchanged first: both are written', false, ['fulfilled', 'fulfilled']],
  ])('checks a case two turns of one batch read as one after the other would: %s', async (_how, changeFirst, outcome) => {
    const schema = `set_case_${++schemaCounter}`;
    const store = await open(schema);
    const kase = makeCase('case1', { customerId: 'test:u1', conversationIds: ['cv1', 'cv2'] });
    await store.conversations.commit(
      makeTurn({ conversations: [makeConversation('cv1', { customerId: 'test:u1', caseId: 'case1' }), makeConversation('cv2', { customerId: 'test:u1', caseId: 'case1' })], case: kase }),
    );
    const [one, two] = await Promise.all(['cv1', 'cv2'].map((cv) => store.conversations.loadContext({ key: `test:private:${cv}`, customerId: 'test:u1' })));
    const changing = makeTurn({ expect: one!.revisions, conversations: [{ ...one!.conversation!, missStreak: 1 }], case: { ...one!.case!, status: 'resolved' }, messages: [makeMessage('changes', { conversationId: 'cv1' })] });
    const unchanged = makeTurn({ expect: two!.revisions, conversations: [{ ...two!.conversation!, missStreak: 2 }], case: two!.case!, messages: [makeMessage('keeps', { conversationId: 'cv2' })] });
    const sent = await recordQueries(async () => {
      const turns = changeFirst ? [changing, unchanged] : [unchanged, changing];
      const results = await Promise.allSettled(turns.map((t) => store.conversations.commit(t)));
      expect(results.map((r) => r.status)).toEqual(outcome);
      if (changeFirst) expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(TurnConflictError);
    });
    expect(sent).toHaveLength(1);
    expect((await store.conversations.getCase('case1'))?.status).toBe('resolved');
    expect((await store.conversations.get('cv1'))?.missStreak).toBe(1);
    expect((await store.conversations.get('cv2'))?.missStreak).toBe(changeFirst ? 0 : 2);
  });

  it('applies a batch turn by turn when one of its messages was already processed, writing the others', async () => {
    const schema = `set_processed_${++schemaCounter}`;
    const store = await open(schema);
    await Promise.all([1, 2, 3].map((k) => acceptDurably(store, makeInbound(`m${k}`))));
    await store.conversations.commit(customerTurn(2));
    const results = await Promise.allSettled([1, 2, 3].map((k) => store.conversations.commit({ ...customerTurn(k), outbox: [makeOutbox(`again${k}`, { conversationId: `cv${k}` })] })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(AlreadyProcessedError);
    expect((await store.outbox.list({})).map((o) => o.id)).toEqual(['o2', 'again1', 'again3']);
  });

  it.each([
    ['in one turn (written turn by turn)', 1],
    ['in three turns at once (written as one set)', 3],
  ])('claims in the commit the replies a claim would hand out now, and leaves the others for a claim: %s', async (_how, turns) => {
    const store = await open(`lease_${++schemaCounter}`);
    const T = Date.parse('2026-03-02T09:00:00.000Z');
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o0', { conversationId: 'cv2' })] }));
    const items = [
      makeOutbox('a', { conversationId: 'cv1', notBefore: T }),
      makeOutbox('b', { conversationId: 'cv1', notBefore: T }),
      makeOutbox('c', { conversationId: 'cv2', notBefore: T }),
      makeOutbox('d', { conversationId: 'cv3', notBefore: T + 60_000 }),
      makeOutbox('e', { conversationId: 'cv4', notBefore: T - 5 }),
    ];
    // One turn with all five, or three turns (a+b, c+d, e) committed at the same moment.
    const split = turns === 1 ? [items] : [items.slice(0, 2), items.slice(2, 4), items.slice(4)];
    const claimed = (await Promise.all(split.map((outbox) => store.conversations.commit(makeTurn({ outbox }), { claim: { now: T, leaseMs: 30_000 } })))).flat();
    // a and e: first in line and due. b waits behind a, c behind o0 (unsent), d until its time.
    expect(claimed.map((o) => o.id)).toEqual(['a', 'e']);
    expect(claimed[0]).toEqual({ ...items[0], seq: 1, status: 'sending', attempts: 1, notBefore: T + 30_000 });
    for (const item of claimed) expect(await store.outbox.get(item.id)).toEqual(item);
    expect(await store.outbox.get('b')).toMatchObject({ status: 'pending', seq: 2, attempts: 0 });
    // The leased ones are nobody else's to claim; o0 is.
    expect((await store.outbox.claim(T, { test: 10 }, 30_000)).map((o) => o.id)).toEqual(['o0']);
    expect(await store.outbox.complete('a', { status: 'sent', platformId: 'p-a', at: '2026-03-02T09:00:01.000Z' })).toEqual({ more: true });
    expect(await store.outbox.complete('o0', { status: 'sent', platformId: 'p-o0', at: '2026-03-02T09:00:01.000Z' })).toEqual({ more: true });
    expect((await store.outbox.claim(T, { test: 10 }, 30_000)).map((o) => o.id).sort()).toEqual(['b', 'c']);
  });

  it('claims in a commit that falls back to one turn at a time, for the turns written', async () => {
    const store = await open(`lease_fallback_${++schemaCounter}`);
    const T = Date.parse('2026-03-02T09:00:00.000Z');
    await Promise.all([1, 2, 3].map((k) => acceptDurably(store, makeInbound(`m${k}`))));
    await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' } }));
    const results = await Promise.allSettled(
      [1, 2, 3].map((k) =>
        store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: `m${k}` }, outbox: [makeOutbox(`x${k}`, { conversationId: `cv${k}`, notBefore: T })] }), { claim: { now: T, leaseMs: 30_000 } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(results.slice(1).map((r) => (r as PromiseFulfilledResult<{ id: string }[]>).value.map((o) => o.id))).toEqual([['x2'], ['x3']]);
    expect(await store.outbox.get('x1')).toBeUndefined();
    expect(await store.outbox.claim(T, { test: 10 }, 30_000)).toEqual([]);
  });

  it('leaves a new message to its turn: one statement for both, acknowledged once the turn is committed', async () => {
    const store = await open(`defer_${++schemaCounter}`, { acceptInTurnBelow: 16, acceptInTurnMs: 5_000 });
    const msg = makeInbound('m1');
    let durable = false;
    const sent = await recordQueries(async () => {
      const acceptance = await store.inbox.accept(msg);
      expect(acceptance.fresh).toBe(true);
      void acceptance.durable.then(() => (durable = true));
      // A second delivery while the first waits for its turn: not fresh, durable with it.
      expect((await store.inbox.accept(msg)).fresh).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
      expect(durable).toBe(false);
      await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'm1' }, outbox: [makeOutbox('o1')] }));
      await acceptance.durable;
    });
    expect(durable).toBe(true);
    expect(sent.filter((q) => /inbound|sportello_commit_turns/.test(q.text))).toHaveLength(1);
    expect(await store.inbox.pending(10)).toEqual([]);
    await expectSeen(store, msg);
  });

  it('inserts a message on its own when its turn fails or does not commit in time, and then acknowledges it', async () => {
    const store = await open(`defer_fallback_${++schemaCounter}`, { acceptInTurnBelow: 16, acceptInTurnMs: 100 });
    // No turn at all: inserted after acceptInTurnMs.
    const late = await store.inbox.accept(makeInbound('late'));
    const started = Date.now();
    await late.durable;
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    // A turn that fails for good (an outbox id already used): inserted at once.
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('taken')] }));
    const failed = await store.inbox.accept(makeInbound('failed'));
    await expect(store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'failed' }, outbox: [makeOutbox('taken')] }))).rejects.toThrow();
    await failed.durable;
    expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['late', 'failed']);
    // Above acceptInTurnBelow, messages are inserted when accepted.
    const busy = await open(`defer_busy_${++schemaCounter}`, { acceptInTurnBelow: 1, acceptInTurnMs: 60_000 });
    const first = await busy.inbox.accept(makeInbound('b1'));
    const second = await busy.inbox.accept(makeInbound('b2'));
    await second.durable;
    expect((await busy.inbox.pending(10)).map((m) => m.id)).toEqual(['b2']);
    await busy.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'b1' } }));
    await first.durable;
    expect((await busy.inbox.pending(10)).map((m) => m.id)).toEqual(['b2']);
  });

  it('writes deferred messages before it closes', async () => {
    const schema = `defer_close_${++schemaCounter}`;
    const store = await open(schema, { acceptInTurnBelow: 16, acceptInTurnMs: 60_000 });
    const acceptance = await store.inbox.accept(makeInbound('kept'));
    await store.close();
    await acceptance.durable;
    const reopened = await open(schema);
    expect((await reopened.inbox.pending(10)).map((m) => m.id)).toEqual(['kept']);
  });

  it('accepts, reads turn contexts and completes outbox items made at the same moment in one round trip each', async () => {
    const store = await open(`group_reads_${++schemaCounter}`);
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o1'), makeOutbox('o2', { conversationId: 'cv2' })] }));
    const accepts = await recordQueries(async () => {
      expect(await Promise.all(['m1', 'm2', 'm3'].map((id) => acceptDurably(store, makeInbound(id))))).toEqual([true, true, true]);
    });
    expect(accepts).toHaveLength(1);
    const reads = await recordQueries(async () => {
      await Promise.all(['k1', 'k2', 'k3'].map((key) => store.conversations.loadContext({ key, customerId: 'test:u1' })));
    });
    expect(reads).toHaveLength(1);
    const completions = await recordQueries(async () => {
      await Promise.all(['o1', 'o2'].map((id) => store.outbox.complete(id, { status: 'sent', platformId: `p-${id}`, at: '2026-03-02T09:00:00.000Z' })));
    });
    expect(completions).toHaveLength(1);
  });

  it('completes an outbox item in one round trip', async () => {
    const store = await open(`complete_${++schemaCounter}`);
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('o1')] }));
    const sent = await recordQueries(async () => {
      await store.outbox.complete('o1', { status: 'sent', platformId: 'p1', at: '2026-03-02T09:00:00.000Z' });
    });
    expect(sent).toHaveLength(1);
    expect(await store.outbox.get('o1')).toMatchObject({ status: 'sent', platformId: 'p1' });
  });

  it('numbers the outbox items of several conversations in one turn in turn order, each after its last seq', async () => {
    const store = await open(`seq_${++schemaCounter}`);
    await store.conversations.commit(makeTurn({ outbox: [makeOutbox('x1', { conversationId: 'cv2' })] }));
    await store.conversations.commit(
      makeTurn({
        outbox: [
          makeOutbox('a', { conversationId: 'cv2' }),
          makeOutbox('b', { conversationId: 'cv1' }),
          makeOutbox('c', { conversationId: 'cv2' }),
          makeOutbox('d', { conversationId: 'cv1' }),
        ],
      }),
    );
    const all = (await store.outbox.list({})).map((o) => [o.id, o.conversationId, o.seq]);
    expect(all).toEqual([['x1', 'cv2', 1], ['a', 'cv2', 2], ['b', 'cv1', 1], ['c', 'cv2', 3], ['d', 'cv1', 2]]);
  });

  it('reports a taken conversation key as a StoreError, not as an already processed message', async () => {
    const store = await open(`key_${++schemaCounter}`);
    await store.conversations.commit(makeTurn({ conversations: [makeConversation('cv1')] }));
    await acceptDurably(store, makeInbound('m1'));
    const bad = makeTurn({ inbound: { channel: 'test', id: 'm1' }, conversations: [makeConversation('cv9', { key: 'test:private:cv1' })] });
    const err = await store.conversations.commit(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).not.toBeInstanceOf(AlreadyProcessedError);
    expect((err as Error).message).toMatch(/conversations_key/);
    expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['m1']);
  });

  it('moves a database of the pre-release numbering (version 6) to the squashed schema, keeping its data, and refuses an older one', async () => {
    const schema = `upgrade_${++schemaCounter}`;
    const oldPool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
    try {
      expect(await migrate(oldPool, schema, MIGRATIONS.slice(0, 1))).toEqual({ applied: [1], current: 1 });
      // As migrations 1–6 left it: no expiry column, their own numbering and functions.
      await oldPool.query(`ALTER TABLE store_values DROP COLUMN expires_at;
        CREATE FUNCTION sportello_apply_turn(turn jsonb) RETURNS void LANGUAGE sql AS 'SELECT 1';
        DELETE FROM schema_migrations;
        INSERT INTO schema_migrations (version, name) VALUES (1, 'initial schema'), (2, 'commit a turn in one call'), (3, 'revisions and batched turns'),
          (4, 'fewer index writes per turn and per sent reply'), (5, 'one subtransaction per batch of turns'), (6, 'a batch of turns as one set of statements')`);
      await oldPool.query(`INSERT INTO inbound (channel, id, message) VALUES ('test', 'old', $1::jsonb)`, [JSON.stringify(makeInbound('old'))]);
      await oldPool.query(`INSERT INTO store_values (name, value) VALUES ('twitter:cursor', '7')`);
    } finally {
      await oldPool.end();
    }
    const store = await open(schema);
    // init() applied the later migrations on top of the squashed version 1.
    expect(await store.migrate()).toEqual({ applied: [], current: Math.max(...MIGRATIONS.map((m) => m.version)) });
    expect((await store.inbox.pending(10)).map((m) => m.id)).toEqual(['old']);
    expect(await store.values.get('twitter', 'cursor')).toBe('7');
    await store.values.set('twitter', 'short', 'x', { ttlMs: 60_000 });
    await store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'old' }, outbox: [makeOutbox('o1')] }));
    await expect(store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'old' }, outbox: [makeOutbox('o2')] }))).rejects.toBeInstanceOf(AlreadyProcessedError);
    expect((await store.outbox.list({})).map((o) => [o.id, o.seq])).toEqual([['o1', 1]]);

    const older = `upgrade_old_${++schemaCounter}`;
    const olderPool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${older}` });
    try {
      await olderPool.query(`CREATE SCHEMA ${older}; CREATE TABLE ${older}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO ${older}.schema_migrations (version, name) VALUES (1, 'initial schema'), (2, 'commit a turn in one call')`);
    } finally {
      await olderPool.end();
    }
    const refused = createPostgresStore({ url, schema: older });
    opened.push(refused);
    await expect(refused.init()).rejects.toThrow(/pre-release schema version 2.*export/);
  });

  it('refuses duplicate turns with AlreadyProcessedError even where the database defaults to SERIALIZABLE', async () => {
    const strictDb = `${database}_strict`;
    await admin(async (c) => {
      await c.query(`CREATE DATABASE ${strictDb}`);
      await c.query(`ALTER DATABASE ${strictDb} SET default_transaction_isolation = 'serializable'`);
    });
    try {
      const u = new URL(url);
      u.pathname = `/${strictDb}`;
      const store = createPostgresStore({ url: u.toString(), schema: 'strict' });
      await store.init();
      const blocker = new pg.Client({ connectionString: u.toString() });
      await blocker.connect();
      try {
        await acceptDurably(store, makeInbound('race'));
        // Holding the inbound row makes the three turns really overlap: they all queue on it.
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM strict.inbound WHERE id = 'race' FOR UPDATE`);
        const turns = ['a', 'b', 'c'].map((tag) => store.conversations.commit(makeTurn({ inbound: { channel: 'test', id: 'race' }, outbox: [makeOutbox(`o-${tag}`)] })));
        await new Promise((r) => setTimeout(r, 300));
        await blocker.query('COMMIT');
        const results = await Promise.allSettled(turns);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyProcessedError);
        expect(await store.outbox.list({})).toHaveLength(1);
      } finally {
        await blocker.end();
        await store.close();
      }
    } finally {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${strictDb} WITH (FORCE)`));
    }
  });

  it('refuses an unsafe schema name before connecting', () => {
    expect(() => createPostgresStore({ url, schema: 'x; DROP TABLE y' })).toThrow(/invalid PostgreSQL schema name/);
  });
});

describe('several PostgreSQL store instances on one database', () => {
  let a: PostgresStore;
  let b: PostgresStore;
  beforeEach(async () => {
    const schema = `shared_${++schemaCounter}`;
    // Both start at once: migrations must not collide.
    [a, b] = await Promise.all([open(schema), open(schema)]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('applies the migrations once when two instances start at the same time', async () => {
    expect(await a.migrate()).toEqual({ applied: [], current: Math.max(...MIGRATIONS.map((m) => m.version)) });
  });

  it('accepts a message delivered to both instances at once exactly once', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => acceptDurably(i % 2 ? a : b, makeInbound('dup'))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await a.inbox.pending(10)).map((m) => m.id)).toEqual(['dup']);
  });

  it('gives each of 60 increments made at once through two instances its own number', async () => {
    const got = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).values.increment('auth', 'tries', { ttlMs: 60_000 })));
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await b.values.get('auth', 'tries')).toBe('60');
  });

  it('lets exactly one of 20 concurrent claims from two instances win', async () => {
    await a.conversations.commit(makeTurn({ conversations: [makeConversation('cv1', { state: 'queued' })] }));
    const query = { key: 'test:private:cv1', customerId: 'test:u1' };
    const reads = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).conversations.loadContext(query)));
    const results = await Promise.allSettled(
      reads.map((read, i) =>
        (i % 2 ? a : b).conversations.commit(makeTurn({ expect: read.revisions, conversations: [{ ...read.conversation!, state: 'assigned', assignee: `op${i}` }] })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof TurnConflictError)).toBe(true);
  });

  it('never hands the same outbox item to two instances claiming at once', async () => {
    await a.conversations.commit(makeTurn({ outbox: Array.from({ length: 30 }, (_, i) => makeOutbox(`o${i}`, { conversationId: `cv${i}` })) }));
    const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).outbox.claim(Date.now(), { test: 10 }, 60_000)));
    const ids = claims.flat().map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(30);
  });

  it('numbers outbox items without gaps or repeats when both instances write one conversation', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).conversations.commit(makeTurn({ outbox: [makeOutbox(`o${i}`)] }))));
    const seqs = (await b.outbox.list({ conversationId: 'cv1' })).map((o) => o.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('lets only one of two turns on one conversation that read the same state commit; the other is refused whole', async () => {
    await a.conversations.commit(makeTurn({ conversations: [makeConversation('cv1')], case: makeCase('case1', { conversationIds: ['cv1'] }) }));
    await acceptDurably(a, makeInbound('ma'));
    await acceptDurably(a, makeInbound('mb'));
    const query = { key: 'test:private:cv1', customerId: 'test:u1' };
    const [ctxA, ctxB] = await Promise.all([a.conversations.loadContext(query), b.conversations.loadContext(query)]);
    const turn = (ctx: typeof ctxA, tag: string) =>
      makeTurn({
        expect: ctx.revisions,
        inbound: { channel: 'test', id: tag },
        conversations: [{ ...ctx.conversation!, lastInboundId: tag }],
        case: ctx.case,
        messages: [makeMessage(tag)],
        outbox: [makeOutbox(tag)],
      });
    const results = await Promise.allSettled([a.conversations.commit(turn(ctxA, 'ma')), b.conversations.commit(turn(ctxB, 'mb'))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(TurnConflictError);
    expect(await a.conversations.listMessages({ conversationId: 'cv1' })).toHaveLength(1);
    expect(await a.inbox.pending(10)).toHaveLength(1);
  });

  it('applies every turn of one conversation, in sequence, when two instances run them at once', async () => {
    // Like two processes of the pipeline: read the context, decide (here: count), commit with
    // the revisions read, and run the turn again when it is refused as a conflict.
    await a.conversations.commit(makeTurn({ customer: makeCustomer(), conversations: [makeConversation('cv1')], case: makeCase('case1', { conversationIds: ['cv1'] }) }));
    let conflicts = 0;
    const runTurn = async (store: PostgresStore, tag: string): Promise<void> => {
      await acceptDurably(store, makeInbound(tag));
      for (;;) {
        const ctx = await store.conversations.loadContext({ key: 'test:private:cv1', customerId: 'test:u1' });
        const conversation = ctx.conversation!;
        const kase = ctx.case!;
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        try {
          await store.conversations.commit(
            makeTurn({
              expect: ctx.revisions,
              inbound: { channel: 'test', id: tag },
              conversations: [{ ...conversation, missStreak: conversation.missStreak + 1, flags: [...conversation.flags, tag] }],
              case: { ...kase, conversationIds: [...kase.conversationIds, tag] },
              messages: [makeMessage(tag)],
              outbox: [makeOutbox(tag)],
            }),
          );
          return;
        } catch (err) {
          if (!(err instanceof TurnConflictError)) throw err;
          conflicts += 1;
        }
      }
    };
    const tags = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await Promise.all(tags.map((tag, i) => (i % 2 ? a : b).conversations.withLock('test:private:cv1', () => runTurn(i % 2 ? a : b, tag))));
    const conversation = await b.conversations.get('cv1');
    expect(conversation?.missStreak).toBe(20);
    expect([...(conversation?.flags ?? [])].sort()).toEqual([...tags].sort());
    expect((await b.conversations.getCase('case1'))?.conversationIds).toHaveLength(21);
    // Each turn saw the one before: the order of flags is the order of commits, as is the outbox's.
    const order = (await b.outbox.list({ conversationId: 'cv1' })).sort((x, y) => x.seq - y.seq).map((o) => o.id);
    expect(order).toEqual(conversation?.flags);
    expect(await b.inbox.pending(30)).toEqual([]);
    expect(conflicts).toBeGreaterThan(0);
  });

  it('does not run out of connections when every lock holder also queries', async () => {
    const small = await open(`shared_${schemaCounter}`, { poolSize: 2 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => small.conversations.withLock(`key${i}`, async () => small.values.set('test', `v${i}`, String(i)).then(() => i))),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await small.close();
  });
});

describe('the PostgreSQL event bus', () => {
  const buses: PostgresEventBus[] = [];
  const troubles: string[] = [];
  const channel = 'sportello_test_events';
  const bus = (name = channel) => {
    const b = createPostgresEventBus({ url, channel: name, maxReconnectDelayMs: 200, onError: (err, context) => troubles.push(`${context}: ${err.message}`) });
    buses.push(b);
    return b;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  const nextEvent = (b: PostgresEventBus, ms = 1000) =>
    new Promise<DomainEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
      const off = b.subscribe((e) => {
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  const nextMeta = (b: PostgresEventBus, ms = 1000) =>
    new Promise<EventMeta>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
      const off = b.subscribe((_e, meta) => {
        clearTimeout(timer);
        off();
        resolve(meta);
      });
    });

  it('sends events published together in few statements and notifications, and every one arrives in publishing order', async () => {
    const a = bus();
    const b = bus();
    await Promise.all([a.ready(), b.ready()]);
    // A plain listener on the channel sees what travels: packets of events, under NOTIFY's limit.
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    const payloads: string[] = [];
    let carried = 0;
    let allCarried: () => void = () => undefined;
    const carriedAll = new Promise<void>((resolve) => (allCarried = resolve));
    raw.on('notification', (n) => {
      payloads.push(n.payload ?? '');
      carried += (JSON.parse(n.payload ?? '') as { e: unknown[] }).e.length;
      if (carried === 301) allCarried();
    });
    await raw.query(`LISTEN ${channel}`);
    try {
      const events: DomainEvent[] = Array.from({ length: 300 }, (_, i) => ({
        type: 'conversation.assigned',
        conversationId: `cv${i}`,
        operatorId: 'op1',
        at: '2026-03-02T09:00:00.000Z',
      }));
      // The same event twice in a row arrives twice (PostgreSQL folds identical notifications of
      // one transaction: packets must never be identical).
      events.splice(30, 0, events[29]!);
      const seen: DomainEvent[] = [];
      const all = new Promise<void>((resolve) => b.subscribe((e) => seen.push(e) === events.length && resolve()));
      const own: DomainEvent[] = [];
      a.subscribe((e, meta) => meta.local && own.push(e));
      const sent = await recordQueries(async () => {
        await Promise.all(events.map((e) => a.publish(e)));
      });
      await all;
      expect(seen).toEqual(events);
      // The publishing instance's own subscribers had every event once, in order.
      expect(own).toEqual(events);
      const notifies = sent.filter((q) => q.text.includes('pg_notify'));
      expect(notifies.length).toBeGreaterThanOrEqual(1);
      expect(notifies.length).toBeLessThanOrEqual(3);
      await carriedAll;
      expect(payloads.length).toBeGreaterThanOrEqual(Math.ceil(events.length / 80));
      expect(payloads.length).toBeLessThanOrEqual(Math.ceil(events.length / 40));
      for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8000);
    } finally {
      await raw.end();
    }
  });

  it('reads events published one per notification, as earlier versions do (a rolling upgrade)', async () => {
    const a = bus();
    await a.ready();
    const seen = nextEvent(a);
    const metaSeen = nextMeta(a);
    const event: DomainEvent = { type: 'conversation.assigned', conversationId: 'cv9', operatorId: 'op1', at: '2026-03-02T09:00:00.000Z' };
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      await raw.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ ...event, _origin: 'olderver' })]);
    } finally {
      await raw.end();
    }
    expect(await seen).toEqual(event);
    expect(await metaSeen).toEqual({ local: false });
  });

  it('delivers an event published by one instance to the other within a second, and to itself', async () => {
    const a = bus();
    const b = bus();
    await Promise.all([a.ready(), b.ready()]);
    const event: DomainEvent = { type: 'conversation.assigned', conversationId: 'cv1', operatorId: 'op1', at: '2026-03-02T09:00:00.000Z' };
    const seenByA = nextEvent(a);
    const seenByB = nextEvent(b);
    const metaOfA = nextMeta(a);
    const metaOfB = nextMeta(b);
    await b.publish(event);
    expect(await seenByA).toEqual(event);
    expect(await seenByB).toEqual(event);
    // Each listener is told whether its own instance published the event (once-only effects).
    expect(await metaOfA).toEqual({ local: false });
    expect(await metaOfB).toEqual({ local: true });
  });

  it('refuses an event too large for NOTIFY', async () => {
    const a = bus();
    await a.ready();
    const huge: DomainEvent = { type: 'corpus.failed', problems: ['x'.repeat(9000)], at: '2026-03-02T09:00:00.000Z' };
    await expect(a.publish(huge)).rejects.toThrow(/bytes/);
  });

  it('listens again after its connection is dropped', async () => {
    const a = bus('sportello_test_reconnect');
    const b = bus('sportello_test_reconnect');
    await Promise.all([a.ready(), b.ready()]);
    troubles.length = 0;
    await admin((c) =>
      c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN sportello_test_reconnect'`, [database]),
    );
    // Wait until both have noticed and come back.
    const deadline = Date.now() + 5000;
    let listening = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      listening = await admin(async (c) => Number((await c.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND query = 'LISTEN sportello_test_reconnect'`, [database])).rows[0].n));
      if (listening === 2 && troubles.length >= 2) break;
    }
    await Promise.all([a.ready(), b.ready()]);
    const event: DomainEvent = { type: 'conversation.updated', conversationId: 'cv9', at: '2026-03-02T09:00:00.000Z' };
    const seen = nextEvent(a, 2000);
    await b.publish(event);
    expect(await seen).toEqual(event);
    expect(troubles.filter((t) => /reconnecting/.test(t))).toHaveLength(2);
  });
});
