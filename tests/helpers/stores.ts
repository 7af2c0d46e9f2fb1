/**
 * Test helper for the store tests: accepting a message until it is durable, and a throw-away
 * database on the test PostgreSQL server (which must be running: these tests fail, not skip,
 * without it).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { InboundMessage } from '../../src/core/types.js';

/** Accepts a message and waits until it is durable; resolves with whether it was new. */
export async function acceptDurably(store: { inbox: { accept(m: InboundMessage): Promise<{ fresh: boolean; durable: Promise<void> }> } }, msg: InboundMessage): Promise<boolean> {
  const { fresh, durable } = await store.inbox.accept(msg);
  await durable;
  return fresh;
}

/** The test server's maintenance database (SPORTELLO_TEST_PG_URL, else the local server with trust auth). */
export const TEST_PG_ADMIN_URL = process.env.SPORTELLO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A new database name `sportello_test_<random>` and its URL on the test server (not created yet). */
export function testDatabaseName(): { database: string; url: string } {
  const database = `sportello_test_${randomBytes(6).toString('hex')}`;
  const u = new URL(TEST_PG_ADMIN_URL);
  u.pathname = `/${database}`;
  return { database, url: u.toString() };
}

/** Runs `fn` on a connection to the maintenance database; a server that does not answer fails with how to start it. */
export async function withPgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_PG_ADMIN_URL} (${(err as Error).message}). These tests need a running server: ` +
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
