/** @module util/ids — random, sortable-enough ids. */
import { randomBytes } from 'node:crypto';

/** A new id like `cv_m1x2k3_9f8e7d6c5b4a`: prefix, time (base36), 48 random bits. */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;
}
