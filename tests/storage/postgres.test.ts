/**
 * The PostgreSQL store and event bus against a real server. PostgreSQL must be running (CI's
 * .ci/run starts it): when it is not reachable these tests fail, they are not skipped.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DomainEvent } from '../../src/core/events.js';
import { createPostgresEventBus, createPostgresStore, type PostgresEventBus, type PostgresStore } from '../../src/storage/postgres/index.js';
import { describeStoreContract, makeConversation, makeInbound, makeOutbox, makeTurn, type SnapshotStore } from './store-contract.js';

const ADMIN_URL = process.env.SPORTELLO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `sportello_test_${randomBytes(6).toString('hex')}`;
const url = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
})();

let schemaCounter = 0;
const schemas = new WeakMap<SnapshotStore, string>();
const opened: PostgresStore[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(err as Error).message}). These tests need a running server: ` +
        'start it (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or set SPORTELLO_TEST_PG_URL.',
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function open(schema: string, options: { poolSize?: number } = {}): Promise<PostgresStore> {
  const store = createPostgresStore({ url, schema, ...options });
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

describeStoreContract('postgres', {
  fresh: () => open(`contract_${++schemaCounter}`),
  async reopen(store) {
    const schema = schemas.get(store);
    if (!schema) throw new Error('not a store of this harness');
    await store.close();
    return open(schema);
  },
});

describe('the PostgreSQL store on its own', () => {
  it('forgets processed inbound ids after 30 days, never pending ones', async () => {
    const schema = `prune_${++schemaCounter}`;
    let store = await open(schema);
    await store.acceptInbound(makeInbound('done'));
    await store.acceptInbound(makeInbound('waiting'));
    await store.commitTurn(makeTurn({ inbound: { channel: 'test', id: 'done' } }));
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`UPDATE ${schema}.inbound SET processed_at = now() - interval '29 days' WHERE id = 'done'`);
      store = await open(schema);
      expect(await store.acceptInbound(makeInbound('done'))).toBe(false);
      await store.close();
      await client.query(`UPDATE ${schema}.inbound SET accepted_at = now() - interval '40 days'`);
      await client.query(`UPDATE ${schema}.inbound SET processed_at = now() - interval '31 days' WHERE id = 'done'`);
      store = await open(schema);
      expect((await store.pendingInbound(10)).map((m) => m.id)).toEqual(['waiting']);
      expect(await store.acceptInbound(makeInbound('done'))).toBe(true);
      await store.close();
    } finally {
      await client.end();
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
    expect(await a.migrate()).toEqual({ applied: [], current: 1 });
  });

  it('accepts a message delivered to both instances at once exactly once', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acceptInbound(makeInbound('dup'))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await a.pendingInbound(10)).map((m) => m.id)).toEqual(['dup']);
  });

  it('lets exactly one of 20 concurrent claims from two instances win', async () => {
    await a.commitTurn(makeTurn({ conversations: [makeConversation('cv1', { state: 'queued' })] }));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).compareAndSetConversation('cv1', { states: ['queued'], assignee: null }, { state: 'assigned', assignee: `op${i}` }),
      ),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('never hands the same outbox item to two instances claiming at once', async () => {
    await a.commitTurn(makeTurn({ outbox: Array.from({ length: 30 }, (_, i) => makeOutbox(`o${i}`, { conversationId: `cv${i}` })) }));
    const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).claimOutbox(Date.now(), 10, 60_000)));
    const ids = claims.flat().map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(30);
  });

  it('numbers outbox items without gaps or repeats when both instances write one conversation', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).commitTurn(makeTurn({ outbox: [makeOutbox(`o${i}`)] }))));
    const seqs = (await b.listOutbox({ conversationId: 'cv1' })).map((o) => o.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('serialises work on one conversation key across instances', async () => {
    const log: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const work = (store: PostgresStore, tag: string) =>
      store.withConversationLock('test:private:u1', async () => {
        log.push(`start ${tag}`);
        await sleep(50);
        log.push(`end ${tag}`);
      });
    await Promise.all([work(a, 'a'), work(b, 'b'), work(a, 'c'), work(b, 'd')]);
    for (let i = 0; i < log.length; i += 2) {
      expect(log[i]?.replace('start', 'end')).toBe(log[i + 1]);
    }
  });

  it('does not run out of connections when every lock holder also queries', async () => {
    const small = await open(`shared_${schemaCounter}`, { poolSize: 2 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => small.withConversationLock(`key${i}`, async () => small.setValue(`v${i}`, String(i)).then(() => i))),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await small.close();
  });
});

describe('the PostgreSQL event bus', () => {
  const buses: PostgresEventBus[] = [];
  const troubles: string[] = [];
  const bus = (channel = 'sportello_test_events') => {
    const b = createPostgresEventBus({ url, channel, maxReconnectDelayMs: 200, onError: (err, context) => troubles.push(`${context}: ${err.message}`) });
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

  it('delivers an event published by one instance to the other within a second, and to itself', async () => {
    const a = bus();
    const b = bus();
    await Promise.all([a.ready(), b.ready()]);
    const event: DomainEvent = { type: 'conversation.assigned', conversationId: 'cv1', operatorId: 'op1', at: '2026-03-02T09:00:00.000Z' };
    const seenByA = nextEvent(a);
    const seenByB = nextEvent(b);
    await b.publish(event);
    expect(await seenByA).toEqual(event);
    expect(await seenByB).toEqual(event);
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
