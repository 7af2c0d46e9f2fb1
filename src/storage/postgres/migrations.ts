/**
 * @module storage/postgres/migrations
 * The schema: tables in sql/schema.sql (schema version 1, applied once), the functions that write
 * turns in sql/functions.sql (re-created by every migrate, so the file is always what runs).
 * Applied at `init()` (or `sportello migrate`) under an advisory lock, recorded in
 * `schema_migrations`. A later change of the tables is a new version added to MIGRATIONS.
 *
 * The project's pre-release migrations 1–6 were squashed into version 1. A database migrated by
 * those (it has version 6, "a batch of turns as one set of statements") is brought to the squashed
 * schema in place; one stopped at an earlier one is refused: migrate it with the Sportello that
 * created it first, or export and import it (docs/storage.md).
 */
import { readFileSync } from 'node:fs';
import type { Pool, PoolClient } from 'pg';

/** One schema change. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const sqlFile = (name: string): string => readFileSync(new URL(`./sql/${name}`, import.meta.url), 'utf8');

/** All migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'schema', sql: sqlFile('schema.sql') },
  { version: 2, name: 'outbound event deliveries', sql: sqlFile('deliveries.sql') },
  { version: 3, name: 'outbox claims per channel', sql: sqlFile('outbox-by-channel.sql') },
  { version: 4, name: 'report indexes', sql: sqlFile('report-indexes.sql') },
  { version: 5, name: 'cases awaiting a survey', sql: sqlFile('survey-index.sql') },
  { version: 6, name: 'desk search', sql: sqlFile('desk-search.sql') },
  { version: 7, name: 'customer files and saved replies', sql: sqlFile('desk-records.sql') },
  { version: 8, name: 'posts heard by listening', sql: sqlFile('heard.sql') },
  { version: 10, name: 'audit trail', sql: sqlFile('audit.sql') },
  { version: 11, name: 'desk search folds text as JavaScript does', sql: sqlFile('search-fold.sql') },
  { version: 12, name: 'message search words written with the message', sql: sqlFile('message-words.sql') },
];

/** The turn functions, re-created at every migrate. */
export const FUNCTIONS_SQL = sqlFile('functions.sql');

/** The last version of the squashed pre-release numbering, and what it takes to reach version 1 from it. */
const OLD_LAST = { version: 6, name: 'a batch of turns as one set of statements' };
const FROM_OLD_SCHEMA = `
ALTER TABLE store_values ADD COLUMN IF NOT EXISTS expires_at timestamptz;
DROP FUNCTION IF EXISTS sportello_apply_turn(jsonb);
DROP FUNCTION IF EXISTS sportello_apply_one_turn(jsonb);
DROP FUNCTION IF EXISTS sportello_commit_turns_one_by_one(jsonb);
DELETE FROM schema_migrations;
INSERT INTO schema_migrations (version, name) VALUES (1, 'schema');
`;

/** The advisory lock key taken while migrating (an arbitrary constant: "sportello" in ASCII). */
export const MIGRATION_LOCK_KEY = '7309475736985652847';

/**
 * Applies every migration not yet recorded (in `schema` when given; the pool's sessions must
 * have it on their search_path), then re-creates the functions. Safe when several instances start
 * at once: they queue on one advisory lock and the later ones find nothing left to do.
 */
export async function migrate(
  pool: Pool,
  schema?: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ applied: number[]; current: number }> {
  const client: PoolClient = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      // The name was checked by the caller (lower-case letters, digits, _).
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      await adoptOldNumbering(client);
      const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const have = new Set(done.rows.map((r) => r.version));
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (have.has(m.version)) continue;
        await inTransaction(client, `migration ${m.version} (${m.name})`, async () => {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        });
        applied.push(m.version);
        have.add(m.version);
      }
      await inTransaction(client, 'creating the turn functions (sql/functions.sql)', () => client.query(FUNCTIONS_SQL));
      return { applied, current: Math.max(0, ...have) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

async function inTransaction(client: PoolClient, what: string, fn: () => Promise<unknown>): Promise<void> {
  await client.query('BEGIN');
  try {
    await fn();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw new Error(`${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** A database of the pre-release numbering: brought to version 1 when it reached the last one, else refused. */
async function adoptOldNumbering(client: PoolClient): Promise<void> {
  const rows = (await client.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
  // The old numbering started with "initial schema"; the squashed one with "schema" (then 2, 3…).
  const old = rows.some((r) => r.name === 'initial schema');
  if (!old) return;
  const last = rows[rows.length - 1]!;
  if (last.version === OLD_LAST.version && last.name === OLD_LAST.name) {
    await inTransaction(client, 'moving the schema to the squashed version 1', () => client.query(FROM_OLD_SCHEMA));
    return;
  }
  throw new Error(
    `this database has Sportello's pre-release schema version ${last.version} ("${last.name}"), which this version cannot upgrade: ` +
      'run `sportello migrate` with the Sportello version that created it (to its version 6), or export the store with it ' +
      '(`sportello export`) and import it into a new database (`sportello import`)',
  );
}
