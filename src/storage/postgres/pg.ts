/**
 * @module storage/postgres/pg
 * The `pg` driver, loaded when a PostgreSQL pool or client is first made: a start on the
 * embedded store never loads it (about 45 ms of CPU). Through `require`: a CommonJS package, the
 * same module object an import gives.
 */
import { createRequire } from 'node:module';
import type Pg from 'pg';

let loaded: typeof Pg | undefined;

/** The pg module. */
export function pg(): typeof Pg {
  return (loaded ??= createRequire(import.meta.url)('pg') as typeof Pg);
}
