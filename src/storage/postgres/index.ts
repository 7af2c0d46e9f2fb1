/** @module storage/postgres — the shared store and event bus (several instances, one database). */
export { createPostgresStore } from './postgres-store.js';
export type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';
export { createPostgresEventBus, MAX_EVENT_BYTES } from './event-bus.js';
export type { PostgresEventBus, PostgresEventBusOptions } from './event-bus.js';
export { MIGRATIONS, migrate } from './migrations.js';
export type { Migration } from './migrations.js';
