/** @module util/ids — random, sortable-enough ids. */
import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the system in blocks: one system call serves hundreds of ids. */
const POOL_BYTES = 6 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** A new id like `cv_m1x2k3_9f8e7d6c5b4a`: prefix, time (base36), 48 random bits. */
export function newId(prefix: string): string {
  if (offset + 6 > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + 6);
  offset += 6;
  return `${prefix}_${Date.now().toString(36)}_${random}`;
}
