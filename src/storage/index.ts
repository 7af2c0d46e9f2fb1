/**
 * @module storage
 * `createStore(config)`: the one place that chooses a store. PostgreSQL when `databaseUrl` is set
 * (several instances on one database), else the embedded lowdb file (one process). Both keep one
 * contract (docs/storage.md); callers see only the `Store` ports.
 */
import { createLowdbStore, type LowdbStore } from './lowdb/index.js';
import { createPostgresStore, type PostgresStore } from './postgres/index.js';

/** What chooses and places the store (a subset of the app's Config). */
export interface StoreConfig {
  /** postgres://… : the shared store. */
  databaseUrl?: string;
  /** The embedded store's file when there is no databaseUrl (default data/sportello.json). */
  dataFile?: string;
  /** PostgreSQL connections for queries (default 10). */
  poolSize?: number;
}

/** The store chosen by `config`, with what `sportello export/import` needs; call `init()` before use. */
export type AnyStore = LowdbStore | PostgresStore;

/** How the process opening a store runs (the embedded store's file lock names it; PostgreSQL needs none). */
export interface StoreOpening {
  /** Who holds the embedded store's file, and how long to wait for a short-lived holder (a CLI command). */
  lock?: { command?: string; waitMs?: number };
  /** Where start-up repairs are told (a stale lock taken over, a torn last journal line). */
  onWarning?: (message: string) => void;
}

/** Creates the store `config` chooses. */
export function createStore(config: StoreConfig, opening: StoreOpening = {}): AnyStore {
  if (config.databaseUrl) return createPostgresStore({ url: config.databaseUrl, ...(config.poolSize ? { poolSize: config.poolSize } : {}) });
  return createLowdbStore({ file: config.dataFile ?? 'data/sportello.json', ...opening });
}

/** Where `config`'s store is, for messages ("PostgreSQL at host/db", "data/sportello.json"). */
export function describeStore(config: StoreConfig): string {
  if (!config.databaseUrl) return config.dataFile ?? 'data/sportello.json';
  try {
    const url = new URL(config.databaseUrl);
    return `PostgreSQL at ${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}
