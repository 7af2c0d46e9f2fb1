/** @module storage/lowdb — the embedded store (one JSON file, one process). */
export { createLowdbStore } from './lowdb-store.js';
export type { LowdbStore, LowdbStoreOptions } from './lowdb-store.js';
