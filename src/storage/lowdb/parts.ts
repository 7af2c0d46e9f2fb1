/** @module storage/lowdb/parts — what each of the embedded store's ports is built from. */
import type { Memory } from './memory.js';
import type { LowdbFile } from './persistence.js';

export interface LowdbParts {
  mem: Memory;
  file: LowdbFile;
  /** Throws StoreError unless the store is open. */
  ensureOpen(): void;
  /** Epoch ms now. */
  now(): number;
}
