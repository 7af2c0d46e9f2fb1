/**
 * @module storage/postgres/postgres-store
 * The shared store: several Sportello instances on one PostgreSQL database. Each port is a module
 * of its own (inbox, conversations, outbox, deliveries, directory, suggestions, values) over one connection
 * pool (connection.ts); the schema and the functions that write turns are in sql/. This module
 * opens, migrates, closes, exports and imports. See docs/storage.md.
 */
import type { Store } from '../../core/ports.js';
import { StoreError } from '../../core/errors.js';
import type { StoreSnapshot } from '../snapshot.js';
import { connect } from './connection.js';
import { postgresConversations } from './conversations.js';
import { postgresDirectory } from './directory.js';
import { postgresInbox } from './inbox.js';
import { migrate } from './migrations.js';
import { postgresOutbox } from './outbox.js';
import { postgresDeliveries } from './deliveries.js';
import { exportAll, importAll } from './snapshot-io.js';
import { postgresSuggestions } from './suggestions.js';
import { postgresHeard } from './heard.js';
import { postgresValues } from './values.js';
import { postgresCustomerFiles, postgresSavedReplies, postgresSearch } from './desk.js';
import { postgresAudit, postgresCustomerData } from './customer-data.js';

/** Options of the shared store. */
export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections for queries (default 10). */
  poolSize?: number;
  /** Calls of one kind (accept, turn context, commit, completion) sent as one statement, at most (default 200; commits 50). */
  maxBatch?: number;
  /** Batches of one kind in flight at once (default 2). */
  maxBatchesInFlight?: number;
  /**
   * How long an outbox completion waits for others to be written with it (default 30 ms): the
   * reply is already on the platform; what waits is the record of it, and the conversation's next
   * reply. Under load one statement then records a few dozen sends instead of a handful.
   */
  completionDelayMs?: number;
  /**
   * Below this many messages waiting for their turn's commit, a new message is recorded by that
   * commit instead of on its own (default 256; 0: every message is inserted when accepted). The
   * cap bounds the messages held in memory; `acceptInTurnMs` bounds how long an acknowledgement
   * waits for a turn queued behind others.
   */
  acceptInTurnBelow?: number;
  /** How long an accepted message waits for its turn's commit before it is inserted on its own (default 1000 ms). */
  acceptInTurnMs?: number;
  /** Processed inbound ids older than this many days are forgotten (default 30). */
  retainProcessedInboundDays?: number;
  /**
   * A PostgreSQL schema to keep the tables in (created if missing), so several deployments or
   * test runs can share one database. Default: the connection's search_path (usually public).
   */
  schema?: string;
}

/** The shared store, plus what `sportello migrate/export/import` needs. */
export interface PostgresStore extends Store {
  /** Applies pending migrations and re-creates the functions (init() does it too). */
  migrate(): Promise<{ applied: number[]; current: number }>;
  /** The whole store as one document, read in one consistent snapshot. */
  exportAll(): Promise<StoreSnapshot>;
  /** Merges a snapshot in, in one transaction (upsert by id; idempotent). */
  importAll(snapshot: StoreSnapshot): Promise<void>;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Creates the PostgreSQL store over `options.url`; `init()` migrates the schema. */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new StoreError(`invalid PostgreSQL schema name "${options.schema}": use lower-case letters, digits and _`);
  }
  const conn = connect({ url: options.url, poolSize: options.poolSize ?? 10, schema: options.schema });
  const batch = { maxBatch: options.maxBatch ?? 200, maxInFlight: options.maxBatchesInFlight ?? 2 };
  const retainDays = options.retainProcessedInboundDays ?? 30;
  let lastPrune = 0;

  /** Forgets old processed ids and expired values. */
  async function prune(): Promise<void> {
    lastPrune = Date.now();
    await conn.query(`DELETE FROM inbound WHERE processed_at < now() - make_interval(days => $1::int)`, [retainDays]);
    await conn.query('DELETE FROM store_values WHERE expires_at <= now()');
  }

  /** Prunes now and then, without holding up the caller. */
  function housekeeping(): void {
    if (Date.now() - lastPrune <= PRUNE_EVERY_MS) return;
    prune().catch((err: Error) => process.emitWarning(`sportello postgres store: pruning failed: ${err.message}`));
  }

  async function runMigrations(what: string): Promise<{ applied: number[]; current: number }> {
    try {
      return await migrate(conn.pool, options.schema);
    } catch (err) {
      throw new StoreError(`cannot ${what} the PostgreSQL database: ${(err as Error).message}`, { cause: err });
    }
  }

  const inbox = postgresInbox(conn, { ...batch, deferBelow: options.acceptInTurnBelow ?? 256, deferMs: options.acceptInTurnMs ?? 1000 });

  return {
    inbox,
    conversations: postgresConversations(conn, batch, inbox, housekeeping),
    outbox: postgresOutbox(conn, { ...batch, completionDelayMs: options.completionDelayMs ?? 30 }),
    deliveries: postgresDeliveries(conn),
    directory: postgresDirectory(conn),
    suggestions: postgresSuggestions(conn),
    values: postgresValues(conn, batch),
    heard: postgresHeard(conn),
    search: postgresSearch(conn),
    customerFiles: postgresCustomerFiles(conn),
    savedReplies: postgresSavedReplies(conn),
    customerData: postgresCustomerData(conn),
    audit: postgresAudit(conn),

    async init() {
      if (conn.state === 'open') return;
      if (conn.state === 'closed') throw new StoreError('postgres store cannot be reopened after close(); create a new one');
      await runMigrations('prepare');
      conn.state = 'open';
      await prune();
    },

    migrate: () => runMigrations('migrate'),

    async close() {
      if (conn.state === 'closed') return;
      if (conn.state === 'open') await inbox.drain();
      conn.state = 'closed';
      await conn.pool.end();
    },

    exportAll: () => exportAll(conn),
    importAll: (snapshot) => importAll(conn, snapshot),
  };
}
