/**
 * Test helper: what a test started, stopped after it whether it passed or failed. A test pushes a
 * cleanup as soon as it has something to stop; after each test they run, last pushed first.
 */
import { afterEach } from '@jest/globals';

export type Cleanup = () => Promise<void> | void;

/** Registers the afterEach (bounded by `timeoutMs`) and returns the list the tests push onto. */
export function cleanupsAfterEach(timeoutMs?: number): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  }, timeoutMs);
  return cleanups;
}
