/**
 * Migration 4: a turn's update of its conversation writes no index entry (a HOT update), so a
 * busy desk does not rewrite six indexes per customer message. Measured from PostgreSQL's own
 * table statistics after real turns through the pipeline.
 */
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../e2e/harness.js';
import { startTestApp } from '../helpers/app.js';

describe('PostgreSQL: turns update conversations in place (HOT)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sportello_hot');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('writes no index entry when a turn updates its conversation', async () => {
    const t = await startTestApp({ DATABASE_URL: db.url });
    for (let i = 0; i < 60; i++) {
      // Time moves on between messages, so updatedAt changes every turn (it used to be indexed).
      t.clock.advance(1000);
      await t.app.pipeline.receive(t.message(i % 2 ? 'come posso pagare?' : 'quali sono i vostri orari?', { customer: { platformId: `hot-${i % 10}` } }));
    }
    // Closing the instance ends its sessions, which report their statistics.
    await t.close();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      let row: { updates: number; hot: number } | undefined;
      for (let i = 0; i < 50; i++) {
        const r = await client.query<{ updates: string; hot: string }>("SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'conversations'");
        row = { updates: Number(r.rows[0]?.updates ?? 0), hot: Number(r.rows[0]?.hot ?? 0) };
        if (row.updates >= 50) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // 60 turns on 10 conversations: the first turn of each inserts it, the other 50 update it.
      expect(row!.updates).toBe(50);
      // Before migration 4 none could be HOT: an indexed column (updated_at) changed every turn.
      // How many are depends on free room on the page, which pruning frees only once no snapshot
      // still needs the old versions (usually all 50; 31 under a busy full test run).
      expect(row!.hot).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
