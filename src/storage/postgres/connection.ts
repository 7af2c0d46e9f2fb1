/**
 * @module storage/postgres/connection
 * The shared store's connection pool and how every port queries through it: named prepared
 * statements, errors wrapped as StoreError, transactions, and the store's open/closed state.
 */
import { createHash } from 'node:crypto';
import { pg } from './pg.js';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { ConflictError, StoreError } from '../../core/errors.js';
import { cleanText } from '../../core/inbound-text.js';

export const UNIQUE_VIOLATION = '23505';
/** Errors after which PostgreSQL has rolled a statement back whole, so running it again is safe. */
const TRANSIENT = new Set(['40P01' /* deadlock_detected */, '40001' /* serialization_failure */]);
/** How often a statement of its own (not inside a transaction) is run again after a transient error. */
const TRANSIENT_RETRIES = 4;

export interface PgError extends Error {
  code?: string;
  constraint?: string;
}

export const isPgError = (err: unknown, code: string): err is PgError => err instanceof Error && (err as PgError).code === code;

/**
 * A value as JSON for a jsonb parameter. PostgreSQL refuses NUL and lone UTF-16 surrogates in text
 * and jsonb ("unsupported Unicode escape sequence"), which would fail a whole batch of turns and
 * then its one turn at every try: strings lose their NULs and have lone surrogates replaced by
 * U+FFFD. Inbound messages come clean already (core/inbound-text.ts); this covers everything
 * else: operators' texts, names from profiles. JSON.stringify writes both as \u escapes (and no
 * other character but controls), so the common case costs one search for "\u".
 */
export function json(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u') && UNSTORABLE_ESCAPE.test(text) ? JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? cleanText(v) : v)) : text;
}
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/;

/** Splits a change into keys to set and keys to remove (those whose value is undefined). */
export function splitChange(change: object): { set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(change)) {
    if (k === 'id') continue;
    if (v === undefined) remove.push(k);
    else set[k] = v;
  }
  return { set, remove };
}

/** The pool and the query helpers every port of the shared store uses. */
export interface Connection {
  readonly pool: Pool;
  state: 'new' | 'open' | 'closed';
  ensureOpen(): void;
  query<R extends QueryResultRow>(text: string, params?: unknown[], client?: PoolClient): Promise<R[]>;
  docs<T>(text: string, params?: unknown[]): Promise<T[]>;
  firstDoc<T>(text: string, params?: unknown[]): Promise<T | undefined>;
  transaction<T>(fn: (client: PoolClient) => Promise<T>, isolation?: string): Promise<T>;
}

export function connect(options: { url: string; poolSize: number; schema?: string }): Connection {
  // Every session reads and writes timestamps in UTC, in the chosen schema, and runs single
  // statements (a whole batch of turns is one) at READ COMMITTED whatever the database's default:
  // the turn's inbound check relies on it (a concurrent duplicate waits, then sees "processed").
  // JIT is off: once a statement's estimated cost passed jit_above_cost (the turn context's grows
  // with the tables) PostgreSQL compiled it at every execution, 37–350 ms each (docs/storage.md).
  const sessionOptions = `-c TimeZone=UTC -c jit=off -c default_transaction_isolation=read\\ committed${options.schema ? ` -c search_path=${options.schema}` : ''}`;
  const pool: Pool = new (pg().Pool)({ connectionString: options.url, max: options.poolSize, options: sessionOptions });
  // An idle client that errors (server restart) must not crash the process; the pool drops it.
  pool.on('error', (err: Error) => process.emitWarning(`sportello postgres store: idle connection error: ${err.message}`));

  // Statement names, one per distinct SQL text (parameterised statements only), so each
  // connection parses and plans a statement once and then only binds and executes it. The texts
  // are the store's own (filters add at most a few variants), so the map stays small.
  const statementNames = new Map<string, string>();
  function statementName(text: string): string {
    let name = statementNames.get(text);
    if (name === undefined) {
      name = `sportello_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      statementNames.set(text, name);
    }
    return name;
  }

  function wrap(err: unknown): Error {
    if (err instanceof StoreError || err instanceof ConflictError) return err;
    const e = err as PgError;
    if (e.code === UNIQUE_VIOLATION) {
      return new StoreError(`postgres store: duplicate value violates ${e.constraint ?? 'a unique constraint'}: ${e.message}`, { cause: err });
    }
    return new StoreError(`postgres store: ${e.message}`, { cause: err });
  }

  const conn: Connection = {
    pool,
    state: 'new',

    ensureOpen() {
      if (conn.state !== 'open') throw new StoreError(conn.state === 'new' ? 'postgres store used before init()' : 'postgres store used after close()');
    },

    async query<R extends QueryResultRow>(text: string, params: unknown[] = [], client?: PoolClient): Promise<R[]> {
      conn.ensureOpen();
      for (let attempt = 0; ; attempt++) {
        try {
          const result = params.length
            ? await (client ?? pool).query<R>({ name: statementName(text), text, values: params })
            : await (client ?? pool).query<R>(text, params);
          return result.rows;
        } catch (err) {
          // A statement of its own that lost a deadlock (two instances inserting overlapping
          // rows, say) was rolled back whole: run it again after a short random pause. Inside a
          // transaction the whole transaction is lost, and its caller decides.
          if (!client && TRANSIENT.has((err as PgError).code ?? '') && attempt < TRANSIENT_RETRIES) {
            await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
            continue;
          }
          throw wrap(err);
        }
      }
    },

    async docs<T>(text: string, params: unknown[] = []): Promise<T[]> {
      const rows = await conn.query<{ doc: T }>(text, params);
      return rows.map((r) => r.doc);
    },

    async firstDoc<T>(text: string, params: unknown[] = []): Promise<T | undefined> {
      return (await conn.docs<T>(text, params))[0];
    },

    async transaction<T>(fn: (client: PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
      conn.ensureOpen();
      const client = await pool.connect();
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          process.emitWarning(`sportello postgres store: rollback failed: ${rollbackErr.message}`);
        });
        throw wrap(err);
      } finally {
        client.release();
      }
    },
  };
  return conn;
}

/** Options of batched statements (group commit). */
export interface BatchOptions {
  maxBatch: number;
  maxInFlight: number;
}
